package rules

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func withPolicy(pp *snapshot.PasswordPolicy) *snapshot.Account {
	return account(func(a *snapshot.Account) { a.PasswordPolicy = pp })
}

func TestIAMPasswordLength(t *testing.T) {
	runCases(t, IAMPasswordLength, []ruleCase{
		{name: "14 passes", status: rule.Pass, acct: withPolicy(&snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 14})},
		{name: "20 passes", status: rule.Pass, acct: withPolicy(&snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 20})},
		{name: "13 fails", status: rule.Fail, contains: []string{"13 characters", "CIS asks for 14"}, acct: withPolicy(&snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 13, PasswordReusePrevention: 24})},
		// NoSuchEntity is an answer: IAM's default policy is weak.
		{name: "no policy fails", status: rule.Fail, contains: []string{"no IAM password policy", "8 characters"}, acct: withPolicy(&snapshot.PasswordPolicy{Present: false})},
		{name: "denied is unknown", status: rule.Unknown, contains: []string{"iam:GetAccountPasswordPolicy: AccessDenied"}, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionPasswordPolicy, "iam:GetAccountPasswordPolicy", "AccessDenied"))
		})},
		{name: "not collected is unknown", status: rule.Unknown, acct: account(nil)},
		{name: "assume-root session", status: rule.NotApplicable, contains: []string{"sts:AssumeRoot"}, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})
}

func TestIAMPasswordReuse(t *testing.T) {
	runCases(t, IAMPasswordReuse, []ruleCase{
		{name: "24 passes", status: rule.Pass, acct: withPolicy(&snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 8, PasswordReusePrevention: 24})},
		{name: "5 fails", status: rule.Fail, contains: []string{"only the last 5", "CIS asks for 24"}, acct: withPolicy(&snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 14, PasswordReusePrevention: 5})},
		{name: "unset fails", status: rule.Fail, contains: []string{"any earlier password"}, acct: withPolicy(&snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 14})},
		{name: "no policy fails", status: rule.Fail, acct: withPolicy(&snapshot.PasswordPolicy{Present: false})},
		{name: "denied is unknown", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionPasswordPolicy, "iam:GetAccountPasswordPolicy", "AccessDenied"))
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})
}
