package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRulesFrameworkControls: every control of the CIS IAM section shows,
// automated or not, and a manual one says what the auditor checks.
func TestRulesFrameworkControls(t *testing.T) {
	for spec, n := range map[string]int{"cis-aws:5.0.0": 21, "cis-aws:6.0.0": 21} {
		r := vigil(t, nil, "rules", "--framework", spec, "--format", "json").want(t, 0)
		var out struct {
			Controls []struct {
				ID, Section, Automation string
				ManualCheck             string `json:"manual_check"`
				Rules                   []string
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatal(err)
		}
		iam := 0
		for _, c := range out.Controls {
			if !strings.Contains(c.Section, "Identity and Access Management") {
				continue
			}
			iam++
			// A manual control may list the rules that show its evidence.
			if c.Automation == "manual" && c.ManualCheck == "" {
				t.Errorf("%s %s: manual control %+v lacks what to check", spec, c.ID, c)
			}
		}
		if iam != n {
			t.Errorf("%s: %d IAM controls listed, want %d", spec, iam, n)
		}
	}
	text := vigil(t, nil, "rules", "--framework", "cis-aws:6.0.0").want(t, 0).stdout
	for _, want := range []string{"2.1      MANUAL", "2.19     automated         iam-access-analyzer", "2.18     automated         iam-expired-server-certificate", "2.17     automated         ec2-instance-role"} {
		if !strings.Contains(text, want) {
			t.Errorf("vigil rules --framework cis-aws:6.0.0 lacks %q:\n%s", want, text)
		}
	}
}

// TestScanSelectRules: --rules and --skip-rules choose what runs, and a
// wrong name is a usage error naming the valid ones.
func TestScanSelectRules(t *testing.T) {
	r := vigil(t, nil, "scan", "--demo", "--rules", "iam-access-analyzer, root-mfa", "--format", "json").want(t, 0)
	var doc struct {
		Results []struct {
			RuleID string `json:"rule_id"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, x := range doc.Results {
		seen[x.RuleID] = true
	}
	if len(seen) != 2 || !seen["iam-access-analyzer"] || !seen["root-mfa"] {
		t.Errorf("--rules: results of %v", seen)
	}
	r = vigil(t, nil, "scan", "--demo", "--skip-rules", "ec2-instance-role", "--format", "json").want(t, 0)
	if strings.Contains(r.stdout, `"ec2-instance-role"`) {
		t.Error("--skip-rules: the skipped rule still ran")
	}
	r = vigil(t, nil, "scan", "--demo", "--rules", "root-mfa,no-such-rule").want(t, 2)
	if !strings.Contains(r.stderr, `unknown rule "no-such-rule"`) || !strings.Contains(r.stderr, "valid rules: root-access-key, ") {
		t.Errorf("unknown rule: stderr %q", r.stderr)
	}
}
