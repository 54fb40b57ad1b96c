package compliance_test

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/rule"
)

// TestEachReadingHasItsOwnRule: where frameworks judge the same item
// differently (unused credentials at 45 or 90 days; the support policy on a
// role, or on any identity), each control maps to the rule that judges it
// its way, and never to the other.
func TestEachReadingHasItsOwnRule(t *testing.T) {
	c := catalog(t)
	has := func(ruleID, spec, control string) bool {
		for _, m := range c.RuleMappings(ruleID) {
			if m.Framework+":"+m.Version == spec && m.Control == control {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		rule, other, spec, control string
	}{
		{"iam-unused-credentials-90d", "iam-unused-credentials", "aws-security-hub:2026-12", "IAM.8"},
		{"iam-unused-credentials-90d", "iam-unused-credentials", "aws-fsbp:1.0.0", "IAM.8"},
		{"iam-unused-credentials-90d", "iam-unused-credentials", "cis-aws:1.2.0", "1.3"},
		{"iam-unused-credentials-90d", "iam-unused-credentials", "pci-dss:4.0", "8.2.6"},
		{"iam-unused-credentials", "iam-unused-credentials-90d", "aws-security-hub:2026-12", "IAM.22"},
		{"iam-unused-credentials", "iam-unused-credentials-90d", "cis-aws:5.0.0", "1.11"},
		{"iam-unused-credentials", "iam-unused-credentials-90d", "cis-aws:6.0.0", "2.11"},
		{"iam-support-access", "iam-support-role", "aws-security-hub:2026-12", "IAM.18"},
		{"iam-support-role", "iam-support-access", "cis-aws:1.2.0", "1.20"},
		{"iam-support-role", "iam-support-access", "cis-aws:3.0.0", "1.17"},
		{"iam-support-role", "iam-support-access", "cis-aws:5.0.0", "1.16"},
		{"iam-support-role", "iam-support-access", "cis-aws:6.0.0", "2.16"},
	} {
		if !has(tc.rule, tc.spec, tc.control) {
			t.Errorf("%s should map to %s %s", tc.rule, tc.spec, tc.control)
		}
		if has(tc.other, tc.spec, tc.control) {
			t.Errorf("%s maps to %s %s, which %s judges", tc.other, tc.spec, tc.control, tc.rule)
		}
	}
	// The controls these rules now decide say nothing about a manual check.
	v, err := c.Resolve("aws-security-hub:2026-12")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"IAM.8", "IAM.18"} {
		ctl, ok := v.Control(id)
		if !ok {
			t.Fatalf("aws-security-hub lacks %s", id)
		}
		if ctl.Manual != "" {
			t.Errorf("%s still has a manual check though a rule decides it: %s", id, ctl.Manual)
		}
	}
}

// TestSupportReadingsAssessed: an account whose only holder of
// AWSSupportAccess is a user passes Security Hub IAM.18 and fails CIS
// 5.0.0 1.16, each control assessed from its own rule's result.
func TestSupportReadingsAssessed(t *testing.T) {
	c := catalog(t)
	results := []rule.Result{
		{Meta: &rule.Meta{AccountID: "111122223333", RuleID: "iam-support-access"}, Status: rule.Pass, Resource: "arn:aws:iam::111122223333:root"},
		{Meta: &rule.Meta{AccountID: "111122223333", RuleID: "iam-support-role"}, Status: rule.Fail, Resource: "arn:aws:iam::111122223333:root"},
	}
	for _, tc := range []struct {
		spec, control string
		want          compliance.ControlStatus
	}{{"aws-security-hub:2026-12", "IAM.18", compliance.ControlPass}, {"cis-aws:5.0.0", "1.16", compliance.ControlFail}} {
		v, err := c.Resolve(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		a := c.Assess(v, results, nil, func(string) (rule.Status, string) { return rule.NotApplicable, "not run" })
		for _, ca := range a.Controls {
			if ca.ID != tc.control {
				continue
			}
			found = true
			if ca.Status != tc.want {
				t.Errorf("%s %s = %s, want %s", tc.spec, tc.control, ca.Status, tc.want)
			}
		}
		if !found {
			t.Errorf("%s has no control %s", tc.spec, tc.control)
		}
	}
}
