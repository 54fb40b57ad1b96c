package rules

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func TestCatalogMetadata(t *testing.T) {
	idPattern := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)+$`)
	seen := map[string]bool{}
	for _, r := range All() {
		if !idPattern.MatchString(r.ID) {
			t.Errorf("rule ID %q is not a lower-case slug", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("duplicate rule ID %q", r.ID)
		}
		seen[r.ID] = true
		if r.Title == "" || r.Category == "" || r.Service == "" || r.Check == nil {
			t.Errorf("rule %q lacks metadata or a check", r.ID)
		}
		if got, ok := ByID(r.ID); !ok || got.ID != r.ID {
			t.Errorf("ByID(%q) failed", r.ID)
		}
	}
	if r, _ := ByID("root-access-key"); r.Severity != rule.Critical {
		t.Errorf("root-access-key severity = %s, want critical", r.Severity)
	}
}

// TestNoSilentPass: with nothing known about an account — every source
// missing or denied — no rule may PASS, in any partition or org role.
func TestNoSilentPass(t *testing.T) {
	allSections := []string{snapshot.SectionCaller, snapshot.SectionOrganization, snapshot.SectionOrgFeatures, snapshot.SectionSummary,
		snapshot.SectionCredentialReport, snapshot.SectionRootVirtualMFA, snapshot.SectionRootCredentials, snapshot.SectionIAM, snapshot.SectionPasswordPolicy,
		snapshot.SectionRegions, snapshot.SectionServerCertificates, snapshot.SectionAccessAnalyzer, snapshot.SectionInstances,
		snapshot.SectionAlternateContact + snapshot.ContactSecurity, snapshot.SectionAlternateContact + snapshot.ContactBilling,
		snapshot.SectionAlternateContact + snapshot.ContactOperations, snapshot.SectionSAMLProviders, snapshot.SectionOIDCProviders}
	for _, partition := range []string{"aws", "aws-us-gov", "aws-cn", ""} {
		for _, org := range []*snapshot.Membership{nil, {Role: snapshot.RoleMember}, {Role: snapshot.RoleManagement}, {Role: snapshot.RoleStandalone},
			{Role: snapshot.RoleMember, Features: &snapshot.OrgFeatures{RootCredentialsManagement: true}}} {
			for _, withGaps := range []bool{false, true} {
				a := snapshot.Account{ID: "111122223333", Partition: partition, Org: org}
				if withGaps {
					for _, s := range allSections {
						a.AddGap(snapshot.Gap{Section: s, Call: "iam:Something", Code: "AccessDenied", Message: "denied"})
					}
				}
				// Empty but non-nil sections are "known to be empty" only
				// where the snapshot says so; nil summary fields are unknown.
				for _, sum := range []*snapshot.Summary{nil, {}} {
					a.Summary = sum
					doc := &snapshot.Document{Schema: snapshot.Schema, Version: snapshot.Version, Accounts: []snapshot.Account{a}, Organization: &snapshot.Organization{ID: "o-aa111bb222", ManagementAccountID: "111122223333"}}
					results := rule.Evaluate(All(), doc, now, rule.DefaultOptions())
					judged := map[string]bool{}
					for _, res := range results {
						judged[res.RuleID] = true
					}
					if len(judged) != len(All()) {
						// A rule that produced no result cannot be caught passing.
						t.Errorf("partition %q org %+v: %d of %d rules produced a result", partition, org, len(judged), len(All()))
					}
					for _, res := range results {
						if res.Status == rule.Pass {
							t.Errorf("partition %q org %+v gaps %v summary %v: %s passed on no data: %s", partition, org, withGaps, sum, res.RuleID, res.Message)
						}
					}
				}
			}
		}
	}
}

func TestManagementAccountRanksHigher(t *testing.T) {
	a := account(func(a *snapshot.Account) {
		a.Org = &snapshot.Membership{Role: snapshot.RoleManagement}
		a.Summary = summary(true, false, true, true)
	})
	doc := &snapshot.Document{Accounts: []snapshot.Account{*a}}
	for _, res := range rule.Evaluate(All(), doc, now, rule.DefaultOptions()) {
		if res.Status != rule.Fail {
			continue
		}
		if !res.ManagementAccount {
			t.Errorf("%s: management_account not set", res.RuleID)
		}
		want := res.RuleSeverity + 1
		if want > rule.Critical {
			want = rule.Critical
		}
		if res.Severity != want {
			t.Errorf("%s: severity %s, want %s (raised from %s)", res.RuleID, res.Severity, want, res.RuleSeverity)
		}
		if !regexp.MustCompile(`management account: no SCP`).MatchString(res.Message) {
			t.Errorf("%s: message does not call out the management account: %s", res.RuleID, res.Message)
		}
	}
}

func TestResultsAreSorted(t *testing.T) {
	doc := &snapshot.Document{Accounts: []snapshot.Account{{ID: "999999999999"}, {ID: "111111111111"}}}
	res := rule.Evaluate(All(), doc, now.Add(time.Hour), rule.DefaultOptions())
	for i := 1; i < len(res); i++ {
		a, b := res[i-1], res[i]
		if a.AccountID > b.AccountID || (a.AccountID == b.AccountID && a.RuleID > b.RuleID) {
			t.Fatalf("results out of order at %d: %s/%s then %s/%s", i, a.AccountID, a.RuleID, b.AccountID, b.RuleID)
		}
	}
}

// TestIAMRulesNeverPassUnread: in an AssumeRoot session, with a report
// whose user rows were not kept, or with the password policy unread, no
// IAM rule passes.
func TestIAMRulesNeverPassUnread(t *testing.T) {
	old := withReport(rootRow(), time.Hour)
	old.Users = 5 // counted, rows not kept
	for name, a := range map[string]snapshot.Account{
		"assume-root":   {ID: "111122223333", Partition: "aws", Access: &snapshot.Access{Method: snapshot.AccessAssumeRoot}, CredentialReport: withReport(rootRow(), time.Hour)},
		"rows-not-kept": {ID: "111122223333", Partition: "aws", CredentialReport: old},
		"nothing-read":  {ID: "111122223333", Partition: "aws"},
	} {
		doc := &snapshot.Document{Accounts: []snapshot.Account{a}}
		for _, res := range rule.Evaluate(All(), doc, now, rule.DefaultOptions()) {
			if strings.HasPrefix(res.RuleID, "iam-") && res.Status == rule.Pass {
				t.Errorf("%s: %s passed: %s", name, res.RuleID, res.Message)
			}
			if name == "assume-root" && strings.HasPrefix(res.RuleID, "iam-") && (res.Status != rule.NotApplicable || !strings.Contains(res.Message, "sts:AssumeRoot")) {
				t.Errorf("%s: %s is %s, want NOT_APPLICABLE naming the AssumeRoot session: %s", name, res.RuleID, res.Status, res.Message)
			}
		}
	}
}
