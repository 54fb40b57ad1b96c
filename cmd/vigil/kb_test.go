package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// Tests of the knowledge base commands (explain, rules, docs) and of
// scan --compliance, run through the built binary.

func TestExplain(t *testing.T) {
	// Not a terminal: the page as Markdown.
	r := vigil(t, nil, "explain", "root-access-key").want(t, 0)
	golden(t, "explain-root-access-key.md", r.stdout)
	if !strings.HasPrefix(r.stdout, "# Root user has access keys\n") || !strings.Contains(r.stdout, "```sh id=root-access-key/delete\naws iam delete-access-key --access-key-id <ACCESS_KEY_ID>\n```") {
		t.Errorf("markdown page:\n%.400s", r.stdout)
	}
	// Rendered, plain: no escape codes when stdout is not a terminal.
	rt := vigil(t, nil, "explain", "root-access-key", "--format", "terminal", "--width", "100").want(t, 0)
	golden(t, "explain-root-access-key.txt", rt.stdout)
	if strings.Contains(rt.stdout, "\x1b[") {
		t.Error("escape codes in a rendering that is not on a terminal")
	}
	if !strings.Contains(rt.stdout, "vigil explain root-recent-use") {
		t.Error("links between pages are not turned into explain commands")
	}
	// However narrow the terminal, commands are never wrapped: a wrapped
	// command breaks when pasted.
	narrow := vigil(t, nil, "explain", "root-access-key", "--format", "terminal", "--width", "40").want(t, 0).stdout
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "aws ") || strings.HasPrefix(line, "until aws ") {
			if !strings.Contains(narrow, line) {
				t.Errorf("command wrapped or lost at width 40: %s", line)
			}
		}
	}
	for _, r := range ruleIDs(t) {
		vigil(t, nil, "explain", r).want(t, 0)
		vigil(t, nil, "explain", r, "--format", "terminal").want(t, 0)
	}
}

func TestExplainBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"explain"}, "takes one rule ID"},
		{[]string{"explain", "root-access-key", "root-mfa"}, "takes one rule ID"},
		{[]string{"explain", "root-keys"}, `unknown rule "root-keys"; valid: account-security-contact, ec2-instance-role, iam-access-analyzer, iam-access-key-rotation, iam-analyzer-tags, iam-cloudshell-full-access, iam-expired-server-certificate, iam-identity-federation, iam-password-expiry, iam-password-length, iam-password-lowercase, iam-password-numbers, iam-password-pci, iam-password-reuse, iam-password-strong, iam-password-symbols, iam-password-uppercase, iam-policy-full-admin, iam-policy-service-wildcard, iam-role-tags, iam-support-access, iam-support-role, iam-unused-credentials, iam-unused-credentials-90d, iam-user-console-mfa, iam-user-direct-policies, iam-user-mfa, iam-user-one-active-key, iam-user-tags, org-root-credentials-management, org-root-scp-coverage, root-access-key`},
		{[]string{"explain", "root-mfa", "--format", "html"}, "--format \"html\": want auto, terminal or markdown"},
		{[]string{"explain", "root-mfa", "--width", "10"}, "--width 10: want 40 or more"},
	} {
		r := vigil(t, nil, c.args...).want(t, 2)
		if !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%v: stderr %q, stdout %q", c.args, r.stderr, r.stdout)
		}
	}
}

func ruleIDs(t *testing.T) []string {
	t.Helper()
	r := vigil(t, nil, "rules", "--format", "json").want(t, 0)
	var out struct{ Rules []struct{ ID string } }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range out.Rules {
		ids = append(ids, x.ID)
	}
	return ids
}

func TestRules(t *testing.T) {
	golden(t, "rules.txt", vigil(t, nil, "rules").want(t, 0).stdout)
	golden(t, "rules.json", vigil(t, nil, "rules", "--format", "json").want(t, 0).stdout)
	golden(t, "rules.md", vigil(t, nil, "rules", "--format", "markdown").want(t, 0).stdout)
	golden(t, "rules-cis-5.txt", vigil(t, nil, "rules", "--framework", "cis-aws:5.0.0").want(t, 0).stdout)

	var out struct {
		Framework string
		Rules     []struct {
			ID, Severity, Service string
			Compliance            []struct{ Framework, Version, Control, Coverage string }
		}
	}
	r := vigil(t, nil, "rules", "--framework", "cis-aws:1.2.0", "--severity", "critical", "--format", "json").want(t, 0)
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range out.Rules {
		for _, c := range x.Compliance {
			got = append(got, x.ID+" "+c.Control+" "+c.Coverage)
		}
	}
	sort.Strings(got)
	want := "root-access-key 1.12 full|root-mfa 1.13 full|root-mfa 1.14 partial"
	if out.Framework != "cis-aws:1.2.0" || strings.Join(got, "|") != want {
		t.Errorf("framework %s, controls %v, want %s", out.Framework, got, want)
	}
	// The latest version is the default.
	if r := vigil(t, nil, "rules", "--framework", "cis-aws").want(t, 0); !strings.Contains(r.stdout, "CIS Amazon Web Services Foundations Benchmark 7.0.0") ||
		!strings.Contains(r.stdout, "org-root-credentials-management") {
		t.Errorf("default version:\n%s", r.stdout)
	}
	out.Rules = nil
	if err := json.Unmarshal([]byte(vigil(t, nil, "rules", "--service", "organizations", "--format", "json").want(t, 0).stdout), &out); err != nil ||
		len(out.Rules) != 2 || out.Rules[0].ID != "org-root-credentials-management" || out.Rules[1].ID != "org-root-scp-coverage" {
		t.Errorf("--service organizations: %+v, %v", out.Rules, err)
	}
}

func TestRulesBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rules", "--framework", "cis"}, `unknown framework "cis"; valid: cis-aws (1.2.0, 1.4.0, 3.0.0, 5.0.0, 6.0.0, 7.0.0)`},
		{[]string{"rules", "--framework", "cis-aws:2.0.0"}, `framework cis-aws has no version "2.0.0"`},
		{[]string{"rules", "--severity", "urgent"}, `unknown severity "urgent"`},
		{[]string{"rules", "--service", "s3"}, `--service "s3": want one of account, ec2, iam, organizations`},
		{[]string{"rules", "--format", "yaml"}, "--format \"yaml\": want text, json or markdown"},
		{[]string{"rules", "extra"}, "takes no arguments"},
	} {
		r := vigil(t, nil, c.args...).want(t, 2)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: stderr %q", c.args, r.stderr)
		}
	}
}

func TestDocs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	r := vigil(t, nil, "docs", "--out", dir).want(t, 0)
	if r.stdout != "" || !strings.Contains(r.stderr, "wrote 54 files to "+dir) {
		t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("site", e.Name()), string(data))
	}
	// Every golden file is still produced: a page that disappears fails.
	golds, _ := filepath.Glob(filepath.Join("testdata", "golden", "site", "*"))
	if len(golds) != len(names) && !*update {
		t.Errorf("%d files written, %d golden files", len(names), len(golds))
	}
	// Writing again over the same directory works and changes nothing.
	vigil(t, nil, "docs", "--out", dir).want(t, 0)
}

func TestDocsBadInput(t *testing.T) {
	vigil(t, nil, "docs").want(t, 2)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if r := vigil(t, nil, "docs", "--out", file).want(t, 1); !strings.Contains(r.stderr, "--out "+file+": exists and is not a directory") {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestScanCompliance(t *testing.T) {
	r := vigil(t, nil, "scan", "--from", "testdata/snapshot.json", "--compliance", "cis-aws:5.0.0").want(t, 0)
	golden(t, "scan-compliance-cis-5.txt", r.stdout)
	rj := vigil(t, nil, "scan", "--from", "testdata/snapshot.json", "--compliance", "cis-aws:5.0.0", "--format", "json").want(t, 0)
	golden(t, "scan-compliance-cis-5.json", rj.stdout)
	var doc struct {
		Compliance struct {
			Framework, Version string
			Coverage           map[string]int
			Controls           []struct {
				ID, Status, Automation string
				Rules                  []struct {
					RuleID, Status string
					Results        []struct{ AccountID, Status, Message string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(rj.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Compliance
	status := map[string]string{}
	for _, ctl := range c.Controls {
		status[ctl.ID] = ctl.Status
	}
	// The snapshot predates the contacts' evidence: the contact items are
	// UNKNOWN (nothing read), never MANUAL as if it had been, nor PASS.
	if c.Framework != "cis-aws" || c.Version != "5.0.0" || status["1.3"] != "FAIL" || status["1.1"] != "UNKNOWN" || status["4.3"] != "MANUAL" ||
		c.Coverage["controls"] != 22 || c.Coverage["manual"] != 5 || c.Coverage["partly_automated"] != 2 {
		t.Errorf("compliance %+v", c)
	}
	// The --fail-on gate is unchanged by the view.
	vigil(t, nil, "scan", "--from", "testdata/snapshot.json", "--compliance", "soc2", "--fail-on", "critical").want(t, 3)

	// Every input works: a credential report (the organisation is then
	// unknown, so an organisation control cannot pass), and the demo.
	// The report file's dates are fixed data, judged at the fixed time
	// they were written for, wherever the reference time is.
	fixed := map[string]string{clock.SourceDateEpoch: testclock.EpochAt(testclock.Default)}
	rc := vigil(t, fixed, "scan", "--credential-report", "testdata/credential-report.csv", "--max-report-age", "0", "--compliance", "cis-aws:7.0.0").want(t, 0)
	if !strings.Contains(rc.stdout, "UNKNOWN  2.1.1") || !strings.Contains(rc.stdout, "organisation's settings were not") {
		t.Errorf("credential report view:\n%s", rc.stdout)
	}
	rd := vigil(t, nil, "scan", "--demo", "--compliance", "hitrust-csf").want(t, 0)
	if !strings.Contains(rd.stdout, "Compliance: HITRUST CSF 11") {
		t.Errorf("demo view:\n%s", rd.stdout)
	}
	out := filepath.Join(t.TempDir(), "c.json")
	vigil(t, nil, "scan", "--demo", "--compliance", "pci-dss:4.0.1", "--format", "json", "--output", out).want(t, 0)
	if data, _ := os.ReadFile(out); !strings.Contains(string(data), `"framework": "pci-dss"`) || !strings.Contains(string(data), `"version": "4.0"`) {
		t.Errorf("PCI DSS 4.0.1 (an alias of 4.0) not in %s", out)
	}
}

func TestScanComplianceBadInput(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"iso", `--compliance: unknown framework "iso"; valid: cis-aws`},
		{"iso-27001:2005", `--compliance: framework iso-27001 has no version "2005"; valid: 2013, 2022`},
	} {
		r := vigil(t, nil, "scan", "--from", "testdata/snapshot.json", "--compliance", c.spec).want(t, 2)
		if !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%s: stderr %q stdout %q", c.spec, r.stderr, r.stdout)
		}
	}
}
