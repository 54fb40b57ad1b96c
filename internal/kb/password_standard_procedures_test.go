package kb_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The procedures of the two pages that judge the password policy as a
// whole (iam-password-strong, Security Hub IAM.7; iam-password-pci,
// IAM.10). After each step the policy is read as a scan reads it and the
// rule judges it, so a fix that looks right but leaves the control failing
// fails here.

// passwordRuleSays reads accountID's password policy through the collector
// as the identity key and checks the rule's verdict on it.
func passwordRuleSays(r rule.Rule, accountID, key string, want rule.Status) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		pp, gap := collect.PasswordPolicy(context.Background(), iam.NewFromConfig(awsemutest.ConfigFor(t, p.srv, key)))
		if gap != nil {
			t.Fatalf("reading the password policy: %s", gap.Text())
		}
		doc := &snapshot.Document{CollectedAt: now, Accounts: []snapshot.Account{{ID: accountID, Partition: "aws", PasswordPolicy: pp}}}
		res := rule.Evaluate([]rule.Rule{r}, doc, now, rule.DefaultOptions())
		if len(res) != 1 || res[0].Status != want {
			t.Errorf("%s on %s's policy %+v: %+v, want %s", r.ID, accountID, pp, res, want)
		}
	}
}

func passwordStandardProcedures() []procedure {
	standalone, member := kbtest.StandaloneAuditor, kbtest.MemberAuditorKey
	strong := func(want rule.Status) func(*testing.T, *procRun) {
		return passwordRuleSays(rules.IAMPasswordStrong, kbtest.StandaloneID, standalone, want)
	}
	pci := func(want rule.Status) func(*testing.T, *procRun) {
		return passwordRuleSays(rules.IAMPasswordPCI, kbtest.MemberID, member, want)
	}
	return []procedure{
		{
			name: "iam-password-strong",
			steps: []step{
				{block: "iam-password-strong/find", as: standalone, wantErr: "NoSuchEntity", state: strong(rule.Fail)},
				// The CIS length and reuse alone, as a narrow command sets
				// them: no character type is required, so IAM.7 fails.
				{probe: "aws iam update-account-password-policy --minimum-password-length 14 --password-reuse-prevention 24", as: standalone, state: strong(rule.Fail)},
				{block: "iam-password-strong/find", as: standalone, want: equals("False\tFalse\tFalse\tFalse\t14")},
				{block: "iam-password-strong/fix", as: standalone, state: func(t *testing.T, p *procRun) {
					strong(rule.Pass)(t, p)
					passwordPolicyIs(kbtest.StandaloneID, 14, 24)(t, p)
				}},
				{block: "iam-password-strong/find", as: standalone, want: equals("True\tTrue\tTrue\tTrue\t14")},
			},
		},
		{
			name: "iam-password-pci",
			steps: []step{
				{block: "iam-password-pci/find", as: member, wantErr: "NoSuchEntity", state: pci(rule.Fail)},
				// A CIS policy with every character type: it never expires
				// passwords, so PCI DSS 3.2.1 still fails.
				{probe: "aws iam update-account-password-policy --minimum-password-length 14 --password-reuse-prevention 24 " +
					"--require-uppercase-characters --require-lowercase-characters --require-numbers --require-symbols", as: member, state: pci(rule.Fail)},
				{block: "iam-password-pci/find", as: member, want: equals("True\tTrue\tTrue\t14\t24\tNone")},
				{block: "iam-password-pci/fix", as: member, state: func(t *testing.T, p *procRun) {
					pci(rule.Pass)(t, p)
					passwordPolicyIs(kbtest.MemberID, 14, 24)(t, p)
					if age := p.account(t, kbtest.MemberID).PasswordPolicy.MaxPasswordAge; age != 90 {
						t.Errorf("MaxPasswordAge %d, want 90", age)
					}
				}},
				{block: "iam-password-pci/find", as: member, want: equals("True\tTrue\tTrue\t14\t24\t90")},
			},
		},
	}
}

func pyPasswordStandardProcedures() []pyProcedure {
	standalone := kbtest.StandaloneAuditor
	says := func(r rule.Rule, want rule.Status) func(*testing.T, *procRun) {
		return passwordRuleSays(r, kbtest.StandaloneID, standalone, want)
	}
	block := "password-standard-py/standard-py"
	return []pyProcedure{
		{
			name: "iam-password-standard",
			steps: []pyStep{
				{block: block, as: standalone, args: []string{"iam7"}, want: contains("no password policy", "Security Hub IAM.7: not met (5 short)")},
				{block: block, as: standalone, args: []string{"iam10"}, want: contains("Security Hub IAM.10 (PCI DSS 3.2.1): not met (6 short)")},
				{block: block, as: standalone, args: []string{"iam8"}, wantErr: "usage"},
				{block: block, as: standalone, args: []string{"iam7", "apply", "now"}, wantErr: "usage"},
				{block: block, as: standalone, args: []string{"iam7", "apply"}, want: equals("Security Hub IAM.7: met"), state: func(t *testing.T, p *procRun) {
					says(rules.IAMPasswordStrong, rule.Pass)(t, p)
					says(rules.IAMPasswordPCI, rule.Fail)(t, p)
					if pp := p.account(t, kbtest.StandaloneID).PasswordPolicy; pp.MinimumPasswordLength != 8 || !pp.AllowUsersToChangePassword {
						t.Errorf("policy after IAM.7: %+v", pp)
					}
				}},
				// IAM.7's defaults leave reuse and expiry alone: those are
				// what PCI DSS 3.2.1 still misses.
				{block: block, as: standalone, args: []string{"iam10"},
					want: equals("PasswordReusePrevention is 0, below 4\nMaxPasswordAge is 0, want 1 to 90\nSecurity Hub IAM.10 (PCI DSS 3.2.1): not met (2 short)")},
				{block: block, as: standalone, args: []string{"iam10", "apply"}, want: equals("Security Hub IAM.10 (PCI DSS 3.2.1): met"), state: func(t *testing.T, p *procRun) {
					says(rules.IAMPasswordPCI, rule.Pass)(t, p)
					// What IAM.7 set is kept: symbols, and 8 characters over IAM.10's 7.
					says(rules.IAMPasswordStrong, rule.Pass)(t, p)
					if pp := p.account(t, kbtest.StandaloneID).PasswordPolicy; pp.MinimumPasswordLength != 8 || pp.PasswordReusePrevention != 4 || pp.MaxPasswordAge != 90 {
						t.Errorf("policy after IAM.10: %+v", pp)
					}
				}},
			},
		},
	}
}
