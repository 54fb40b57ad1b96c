package report

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/rule"
)

func TestUndecided(t *testing.T) {
	denied := func(acct, call string) rule.Evidence {
		return rule.Evidence{Source: call, Error: "AccessDenied: User: arn:aws:iam::" + acct + ":user/a is not authorized to perform: " + call}
	}
	d := &Document{Results: []rule.Result{
		{Meta: &rule.Meta{RuleID: "root-access-key", AccountID: "111111111111"},
			Status: rule.Unknown, Severity: rule.Critical,
			Evidence: []rule.Evidence{denied("111111111111", "iam:GetAccountSummary"), denied("111111111111", "iam:GenerateCredentialReport")}},
		{Meta: &rule.Meta{RuleID: "root-mfa", AccountID: "222222222222"},
			Status: rule.Unknown, Severity: rule.Critical,
			Evidence: []rule.Evidence{denied("222222222222", "iam:GetAccountSummary")}},
		{Meta: &rule.Meta{RuleID: "root-recent-use", AccountID: "222222222222"},
			Status: rule.Unknown, Severity: rule.Critical,
			Evidence: []rule.Evidence{{Source: "credential report", Key: "password_last_used", Value: "N/A"}}},
		{Meta: &rule.Meta{RuleID: "root-signing-certificate", AccountID: "111111111111"},
			Status: rule.Unknown, Severity: rule.High,
			Evidence: []rule.Evidence{denied("111111111111", "iam:GetAccountSummary")}},
		{Meta: &rule.Meta{RuleID: "root-mfa", AccountID: "111111111111"}, Status: rule.Fail, Severity: rule.Critical},
		{Meta: &rule.Meta{RuleID: "root-access-key", AccountID: "222222222222"}, Status: rule.Pass, Severity: rule.Critical},
		{Meta: &rule.Meta{RuleID: "org", AccountID: "333333333333"},
			Status: rule.Unknown, Severity: rule.Critical,
			Evidence: []rule.Evidence{{Source: "organizations:ListPolicies", Error: "the call did not answer within --account-timeout 3m, and nothing more"}}},
	}}
	n, causes := d.Undecided(rule.Critical)
	if n != 4 {
		t.Errorf("%d undecided, want 4", n)
	}
	want := []Cause{
		{Text: "iam:GetAccountSummary: AccessDenied", Results: 2, Accounts: 2},
		{Text: "iam:GenerateCredentialReport: AccessDenied", Results: 1, Accounts: 1},
		{Text: "organizations:ListPolicies: the call did not answer within --account-timeout 3m, and nothing more", Results: 1, Accounts: 1},
		{Text: "root-recent-use: no source failed; the result's message says what is missing", Results: 1, Accounts: 1},
	}
	if diff := cmp.Diff(want, causes); diff != "" {
		t.Errorf("causes (-want +got):\n%s", diff)
	}
	if n, _ := d.Undecided(rule.High); n != 5 {
		t.Errorf("at high: %d, want 5", n)
	}
}
