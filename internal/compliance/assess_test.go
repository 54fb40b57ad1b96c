package compliance_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/rule"
)

func res(id string, acct string, s rule.Status) rule.Result {
	return rule.Result{Meta: &rule.Meta{RuleID: id, AccountID: acct}, Status: s, Severity: rule.High, Resource: "arn:aws:iam::" + acct + ":root", Message: id + " " + string(s)}
}

func control(t *testing.T, a compliance.Assessment, id string) compliance.ControlAssessment {
	t.Helper()
	for _, c := range a.Controls {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("control %s not in assessment", id)
	return compliance.ControlAssessment{}
}

func TestAssess(t *testing.T) {
	c := catalog(t)
	v, err := c.Resolve("cis-aws:5.0.0")
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]string{"root-access-key": "Root user has access keys"}
	for _, tc := range []struct {
		name    string
		results []rule.Result
		missing compliance.Missing
		control string
		want    compliance.ControlStatus
	}{
		{"all pass", []rule.Result{res("root-access-key", "1", rule.Pass), res("root-access-key", "2", rule.Pass)}, nil, "1.3", compliance.ControlPass},
		{"pass and not applicable", []rule.Result{res("root-access-key", "1", rule.Pass), res("root-access-key", "2", rule.NotApplicable)}, nil, "1.3", compliance.ControlPass},
		{"only not applicable", []rule.Result{res("root-access-key", "1", rule.NotApplicable)}, nil, "1.3", compliance.ControlNotApplicable},
		{"one account fails", []rule.Result{res("root-access-key", "1", rule.Pass), res("root-access-key", "2", rule.Fail)}, nil, "1.3", compliance.ControlFail},
		{"unknown is never pass", []rule.Result{res("root-access-key", "1", rule.Pass), res("root-access-key", "2", rule.Unknown)}, nil, "1.3", compliance.ControlUnknown},
		{"fail outranks unknown", []rule.Result{res("root-access-key", "1", rule.Unknown), res("root-access-key", "2", rule.Fail)}, nil, "1.3", compliance.ControlFail},
		{"no result is unknown", nil, nil, "1.3", compliance.ControlUnknown},
		{"no result explained away", nil, func(string) (rule.Status, string) { return rule.NotApplicable, "not in an organisation" }, "1.3", compliance.ControlNotApplicable},
		{"manual control", []rule.Result{res("root-access-key", "1", rule.Fail)}, nil, "1.1", compliance.ControlManual},
		// 1.5 (hardware MFA) is decided by root-hardware-mfa, with root-mfa in part.
		{"hardware passes but partial rule fails", []rule.Result{res("root-hardware-mfa", "1", rule.Pass), res("root-mfa", "1", rule.Fail)}, nil, "1.5", compliance.ControlFail},
		{"hardware rule missing", []rule.Result{res("root-mfa", "1", rule.Pass)}, nil, "1.5", compliance.ControlUnknown},
		// Evidence of a manual item: what was read never passes it, what
		// could not be read or fails does reach it.
		{"evidence read", []rule.Result{res("account-security-contact", "1", rule.Pass)}, nil, "1.2", compliance.ControlManual},
		{"evidence fails", []rule.Result{res("account-security-contact", "1", rule.Pass), res("account-security-contact", "2", rule.Fail)}, nil, "1.2", compliance.ControlFail},
		{"evidence denied", []rule.Result{res("account-security-contact", "1", rule.Unknown)}, nil, "1.1", compliance.ControlUnknown},
		{"evidence not gathered", nil, func(string) (rule.Status, string) { return rule.Unknown, "not selected" }, "1.1", compliance.ControlManual},
		{"federation evidence not applicable", []rule.Result{res("iam-identity-federation", "1", rule.NotApplicable)}, nil, "1.20", compliance.ControlManual},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := c.Assess(v, tc.results, titles, tc.missing)
			got := control(t, a, tc.control)
			if got.Status != tc.want {
				t.Errorf("control %s = %s, want %s (%+v)", tc.control, got.Status, tc.want, got)
			}
		})
	}

	a := c.Assess(v, []rule.Result{res("root-access-key", "1", rule.Fail)}, titles, nil)
	key := control(t, a, "1.3")
	if key.Automation != compliance.Automated || len(key.Rules) != 1 || key.Rules[0].Title != titles["root-access-key"] ||
		len(key.Rules[0].Results) != 1 || key.Rules[0].Results[0].Message != "root-access-key FAIL" {
		t.Errorf("1.3 assessment lacks its evidence: %+v", key)
	}
	eliminate := control(t, a, "1.6")
	if eliminate.Automation != compliance.PartlyAutomated || eliminate.ManualCheck == "" {
		t.Errorf("1.6 should be partly automated with a manual check: %+v", eliminate)
	}
	// A manual item says what the auditor checks.
	if contacts := control(t, a, "1.1"); contacts.Status != compliance.ControlManual || !strings.Contains(contacts.ManualCheck, "contact") {
		t.Errorf("1.1 should be MANUAL with what to check: %+v", contacts)
	}
	// Manual: no mapping, or only evidence (which produced no result here).
	unmapped := 0
	for _, ctl := range v.Controls {
		if !slices.ContainsFunc(c.ControlMappings(v, ctl.ID), func(m compliance.Mapping) bool { return m.Coverage != compliance.Evidence }) {
			unmapped++
		}
	}
	cov := a.Coverage
	if cov.Controls != len(v.Controls) || cov.Automated+cov.PartlyAutomated+cov.Manual != cov.Controls ||
		cov.Pass+cov.Fail+cov.Unknown+cov.NotApplicable+cov.Manual != cov.Controls || cov.Manual != unmapped || cov.Manual < 3 || cov.Fail != 1 {
		t.Errorf("coverage %+v", cov)
	}
}
