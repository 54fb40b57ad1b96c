package compliance_test

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/rule"
)

// TestPasswordPolicyControls: Security Hub's IAM.7 and IAM.10 judge the
// password policy as a whole, each against its own thresholds, so each is
// decided by the one rule that reads those thresholds. A single-setting
// rule mapped there would be wrong both ways: iam-password-length (14)
// fails a 10-character policy IAM.7 (8) passes, and a class rule's pass
// would say nothing of the length.
func TestPasswordPolicyControls(t *testing.T) {
	c := catalog(t)
	for _, tc := range []struct{ spec, control, rule string }{
		{"aws-fsbp:1.0.0", "IAM.7", "iam-password-strong"},
		{"aws-security-hub:2026-12", "IAM.7", "iam-password-strong"},
		{"aws-security-hub:2026-12", "IAM.10", "iam-password-pci"},
	} {
		v, err := c.Resolve(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		ms := c.ControlMappings(v, tc.control)
		if len(ms) != 1 || ms[0].Rule != tc.rule || ms[0].Coverage != compliance.Full {
			t.Errorf("%s %s: mappings %+v, want %s alone with full coverage", tc.spec, tc.control, ms, tc.rule)
		}
		// The rule's verdict is the control's, both ways.
		for _, s := range []rule.Status{rule.Pass, rule.Fail, rule.Unknown} {
			a := c.Assess(v, []rule.Result{res(tc.rule, "1", s)}, nil, nil)
			want := map[rule.Status]compliance.ControlStatus{rule.Pass: compliance.ControlPass, rule.Fail: compliance.ControlFail, rule.Unknown: compliance.ControlUnknown}[s]
			if got := control(t, a, tc.control); got.Status != want || got.Automation != compliance.Automated || got.ManualCheck != "" {
				t.Errorf("%s %s with %s %s: %s (%s, manual %q), want %s, automated", tc.spec, tc.control, tc.rule, s, got.Status, got.Automation, got.ManualCheck, want)
			}
		}
	}
}
