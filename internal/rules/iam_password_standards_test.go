package rules

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// strongPolicy meets IAM.7 with its defaults and nothing more: it is the
// policy the "each setting alone" cases weaken one setting of.
func strongPolicy(mod func(*snapshot.PasswordPolicy)) *snapshot.Account {
	pp := &snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 8,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, RequireSymbols: true, RequireNumbers: true}
	if mod != nil {
		mod(pp)
	}
	return withPolicy(pp)
}

// pciPolicy meets IAM.10 at its boundaries and nothing more.
func pciPolicy(mod func(*snapshot.PasswordPolicy)) *snapshot.Account {
	pp := &snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 7, PasswordReusePrevention: 4, MaxPasswordAge: 90, ExpirePasswords: true,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, RequireNumbers: true}
	if mod != nil {
		mod(pp)
	}
	return withPolicy(pp)
}

func TestIAMPasswordStrong(t *testing.T) {
	runCases(t, IAMPasswordStrong, []ruleCase{
		{name: "all good at the boundary", status: rule.Pass, contains: []string{"meets Security Hub IAM.7", "8 characters"}, acct: strongPolicy(nil)},
		// The CIS settings pass too: IAM.7 asks less, never more.
		{name: "CIS policy passes", status: rule.Pass, acct: strongPolicy(func(p *snapshot.PasswordPolicy) {
			p.MinimumPasswordLength, p.PasswordReusePrevention = 14, 24
		})},
		// Reuse and expiry have no default parameter: Security Hub ignores
		// them, so a policy that allows reuse and never expires passes.
		{name: "reuse and expiry not judged", status: rule.Pass, acct: strongPolicy(func(p *snapshot.PasswordPolicy) {
			p.PasswordReusePrevention, p.MaxPasswordAge = 0, 0
		})},
		{name: "length 7 fails", status: rule.Fail, contains: []string{"MinimumPasswordLength is 7, below 8", "on 1 of its settings"},
			acct: strongPolicy(func(p *snapshot.PasswordPolicy) { p.MinimumPasswordLength = 7 })},
		{name: "uppercase alone fails", status: rule.Fail, contains: []string{"RequireUppercaseCharacters is false"}, excludes: []string{"RequireLowercaseCharacters", "MinimumPasswordLength"},
			acct: strongPolicy(func(p *snapshot.PasswordPolicy) { p.RequireUppercaseCharacters = false })},
		{name: "lowercase alone fails", status: rule.Fail, contains: []string{"RequireLowercaseCharacters is false"}, excludes: []string{"RequireUppercaseCharacters"},
			acct: strongPolicy(func(p *snapshot.PasswordPolicy) { p.RequireLowercaseCharacters = false })},
		{name: "symbols alone fails", status: rule.Fail, contains: []string{"RequireSymbols is false"}, excludes: []string{"RequireNumbers"},
			acct: strongPolicy(func(p *snapshot.PasswordPolicy) { p.RequireSymbols = false })},
		{name: "numbers alone fails", status: rule.Fail, contains: []string{"RequireNumbers is false"}, excludes: []string{"RequireSymbols"},
			acct: strongPolicy(func(p *snapshot.PasswordPolicy) { p.RequireNumbers = false })},
		// A policy set by CLI with only --minimum-password-length 14: long
		// enough for CIS, yet no character type, so IAM.7 fails on four.
		{name: "long but no types", status: rule.Fail, contains: []string{"on 4 of its settings"},
			acct: withPolicy(&snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 14})},
		{name: "no policy fails", status: rule.Fail, contains: []string{"no IAM password policy", "Security Hub IAM.7"}, acct: withPolicy(&snapshot.PasswordPolicy{Present: false})},
		{name: "denied is unknown", status: rule.Unknown, contains: []string{"iam:GetAccountPasswordPolicy: AccessDenied"}, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionPasswordPolicy, "iam:GetAccountPasswordPolicy", "AccessDenied"))
		})},
		{name: "not collected is unknown", status: rule.Unknown, acct: account(nil)},
		{name: "assume-root session", status: rule.NotApplicable, contains: []string{"sts:AssumeRoot"}, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})
}

func TestIAMPasswordPCI(t *testing.T) {
	runCases(t, IAMPasswordPCI, []ruleCase{
		{name: "all good at the boundaries", status: rule.Pass, contains: []string{"meets PCI DSS 3.2.1", "7 characters", "last 4", "after 90 days"}, acct: pciPolicy(nil)},
		// PCI DSS 3.2.1 does not ask for symbols.
		{name: "symbols not needed", status: rule.Pass, acct: pciPolicy(func(p *snapshot.PasswordPolicy) { p.RequireSymbols = false })},
		{name: "stricter passes", status: rule.Pass, acct: pciPolicy(func(p *snapshot.PasswordPolicy) {
			p.MinimumPasswordLength, p.PasswordReusePrevention, p.MaxPasswordAge, p.RequireSymbols = 14, 24, 1, true
		})},
		{name: "length 6 fails", status: rule.Fail, contains: []string{"MinimumPasswordLength is 6, below 7", "on 1 of its settings"},
			acct: pciPolicy(func(p *snapshot.PasswordPolicy) { p.MinimumPasswordLength = 6 })},
		{name: "reuse 3 fails", status: rule.Fail, contains: []string{"PasswordReusePrevention is 3, below 4"}, excludes: []string{"MaxPasswordAge"},
			acct: pciPolicy(func(p *snapshot.PasswordPolicy) { p.PasswordReusePrevention = 3 })},
		{name: "reuse unset fails", status: rule.Fail, contains: []string{"PasswordReusePrevention is 0, below 4"},
			acct: pciPolicy(func(p *snapshot.PasswordPolicy) { p.PasswordReusePrevention = 0 })},
		{name: "max age 91 fails", status: rule.Fail, contains: []string{"MaxPasswordAge is 91 days, above 90"}, excludes: []string{"PasswordReusePrevention"},
			acct: pciPolicy(func(p *snapshot.PasswordPolicy) { p.MaxPasswordAge = 91 })},
		{name: "never expiring fails", status: rule.Fail, contains: []string{"passwords never expire"},
			acct: pciPolicy(func(p *snapshot.PasswordPolicy) { p.MaxPasswordAge, p.ExpirePasswords = 0, false })},
		// Security Hub asks for both cases of letter, not either.
		{name: "uppercase alone fails", status: rule.Fail, contains: []string{"RequireUppercaseCharacters is false"}, excludes: []string{"RequireLowercaseCharacters"},
			acct: pciPolicy(func(p *snapshot.PasswordPolicy) { p.RequireUppercaseCharacters = false })},
		{name: "lowercase alone fails", status: rule.Fail, contains: []string{"RequireLowercaseCharacters is false"}, excludes: []string{"RequireUppercaseCharacters"},
			acct: pciPolicy(func(p *snapshot.PasswordPolicy) { p.RequireLowercaseCharacters = false })},
		{name: "numbers alone fails", status: rule.Fail, contains: []string{"RequireNumbers is false"},
			acct: pciPolicy(func(p *snapshot.PasswordPolicy) { p.RequireNumbers = false })},
		// The CIS policy without expiry (as CIS v1.4 and later advise)
		// fails PCI DSS 3.2.1 on expiry alone.
		{name: "CIS policy without expiry fails", status: rule.Fail, contains: []string{"on 1 of its settings", "never expire"}, acct: strongPolicy(func(p *snapshot.PasswordPolicy) {
			p.MinimumPasswordLength, p.PasswordReusePrevention = 14, 24
		})},
		{name: "no policy fails", status: rule.Fail, contains: []string{"no IAM password policy", "PCI DSS 3.2.1"}, acct: withPolicy(&snapshot.PasswordPolicy{Present: false})},
		{name: "denied is unknown", status: rule.Unknown, contains: []string{"iam:GetAccountPasswordPolicy: AccessDenied"}, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionPasswordPolicy, "iam:GetAccountPasswordPolicy", "AccessDenied"))
		})},
		{name: "not collected is unknown", status: rule.Unknown, acct: account(nil)},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})
}

// TestPasswordStandardEvidence: the evidence lists every setting read, in
// a fixed order, each with its verdict, so a reader sees which failed and
// which the control does not judge.
func TestPasswordStandardEvidence(t *testing.T) {
	check := func(r rule.Rule, acct *snapshot.Account) rule.Outcome {
		doc := &snapshot.Document{Accounts: []snapshot.Account{*acct}}
		return r.Check(rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: rule.DefaultOptions()})
	}
	keys := []string{"RequireUppercaseCharacters", "RequireLowercaseCharacters", "RequireSymbols", "RequireNumbers",
		"MinimumPasswordLength", "PasswordReusePrevention", "MaxPasswordAge"}
	for _, tc := range []struct {
		rule rule.Rule
		acct *snapshot.Account
		want map[string]string // key → what its value must hold
	}{
		{IAMPasswordStrong, strongPolicy(func(p *snapshot.PasswordPolicy) { p.RequireSymbols, p.MinimumPasswordLength = false, 6 }), map[string]string{
			"RequireUppercaseCharacters": "true; meets", "RequireSymbols": "false; FAILS", "MinimumPasswordLength": "6; FAILS",
			"PasswordReusePrevention": "0 (any earlier password may be reused); not judged", "MaxPasswordAge": "0 (passwords never expire); not judged"}},
		{IAMPasswordPCI, pciPolicy(func(p *snapshot.PasswordPolicy) { p.MaxPasswordAge = 91 }), map[string]string{
			"RequireSymbols": "false; not judged", "MinimumPasswordLength": "7; meets", "PasswordReusePrevention": "4; meets", "MaxPasswordAge": "91 days; FAILS"}},
	} {
		out := check(tc.rule, tc.acct)
		if len(out.Evidence) != len(keys) {
			t.Fatalf("%s: %d evidence items, want %d: %+v", tc.rule.ID, len(out.Evidence), len(keys), out.Evidence)
		}
		for i, e := range out.Evidence {
			if e.Key != keys[i] || e.Source != srcPasswordPolicy {
				t.Errorf("%s: evidence %d is %s from %s, want %s from %s", tc.rule.ID, i, e.Key, e.Source, keys[i], srcPasswordPolicy)
			}
			if w, ok := tc.want[e.Key]; ok && !strings.HasPrefix(e.Value, w) {
				t.Errorf("%s: %s = %q, want it to begin %q", tc.rule.ID, e.Key, e.Value, w)
			}
		}
	}
}
