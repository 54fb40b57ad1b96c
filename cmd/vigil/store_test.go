package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestScanDBAndFindings records the demo organisation into a store twice
// and reads it back the ways a user does.
func TestScanDBAndFindings(t *testing.T) {
	db := filepath.Join(t.TempDir(), "vigil.db")
	r := vigil(t, nil, "scan", "--org", "--demo", "--db", db, "--format", "json").want(t, 0)
	if !strings.Contains(r.stderr, "recorded scan 1 of 5 account(s)") || !strings.Contains(r.stderr, " new") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	r = vigil(t, nil, "scan", "--org", "--demo", "--database", db).want(t, 0)
	if !strings.Contains(r.stderr, "recorded scan 2 of 5 account(s)") || !strings.Contains(r.stderr, "no finding changed") {
		t.Fatalf("second scan stderr: %s", r.stderr)
	}
	r = vigil(t, nil, "findings", "--db", db, "--format", "json", "--rule", "root-access-key").want(t, 0)
	var doc struct {
		Schema   string `json:"schema"`
		Findings []struct {
			ID, AccountID, State, Status, Severity string
			FirstSeen                              time.Time `json:"first_seen"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "vigil.findings" || len(doc.Findings) != 2 {
		t.Fatalf("findings: %s", r.stdout)
	}
	for _, f := range doc.Findings {
		if f.State != "open" || f.Status != "FAIL" || !f.FirstSeen.Equal(testclock.Ref()) {
			t.Errorf("finding %+v", f)
		}
	}
	id := doc.Findings[0].ID
	r = vigil(t, nil, "findings", "show", id, "--db", db).want(t, 0)
	if !strings.Contains(r.stdout, "History:") || !strings.Contains(r.stdout, " new ") || !strings.Contains(r.stdout, doc.Findings[0].AccountID) {
		t.Fatalf("show: %s", r.stdout)
	}
	vigil(t, nil, "findings", "show", "f-0000000000000000", "--db", db).want(t, 1)
	r = vigil(t, nil, "findings", "--db", db, "--severity", "critical", "--account", "333333333333").want(t, 0)
	if !strings.Contains(r.stdout, "root-access-key") || strings.Contains(r.stdout, "root-member-password") {
		t.Fatalf("filtered: %s", r.stdout)
	}
	r = vigil(t, nil, "findings", "--db", db, "--status", "resolved").want(t, 0)
	if !strings.Contains(r.stdout, "No findings.") {
		t.Fatalf("resolved: %s", r.stdout)
	}
	r = vigil(t, nil, "scans", "--db", db).want(t, 0)
	if !strings.Contains(r.stdout, "complete") || strings.Count(r.stdout, "(one-shot)") != 2 {
		t.Fatalf("scans: %s", r.stdout)
	}
	r = vigil(t, nil, "findings", "stats", "--db", db).want(t, 0)
	if !strings.Contains(r.stdout, "MEAN TIME TO RESOLVE") || !strings.Contains(r.stdout, "root-access-key") || !strings.Contains(r.stdout, "333333333333") {
		t.Fatalf("stats: %s", r.stdout)
	}
	vigil(t, nil, "findings", "--db", db, "--status", "closed").want(t, 2)
	vigil(t, nil, "findings", "--db", filepath.Join(t.TempDir(), "none.db")).want(t, 1)

	// --config names the store too.
	cfg := filepath.Join(t.TempDir(), "vigil.yaml")
	os.WriteFile(cfg, []byte("version: 1\ndatabase: "+db+"\n"), 0o600)
	r = vigil(t, nil, "findings", "--config", cfg, "--rule", "root-access-key").want(t, 0)
	if !strings.Contains(r.stdout, "2 finding(s)") {
		t.Fatalf("findings --config: %s", r.stdout)
	}
	os.WriteFile(cfg, []byte("version: 1\ndatabase: [a, b]\n"), 0o600)
	r = vigil(t, nil, "findings", "--config", cfg).want(t, 2)
	if !strings.Contains(r.stderr, cfg+":2:") {
		t.Fatalf("config error without file and line: %s", r.stderr)
	}
}

func TestSuppressCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "vigil.db")
	vigil(t, nil, "scan", "--org", "--demo", "--db", db).want(t, 0)
	exp := testclock.Days(30).Format(time.DateOnly)
	base := []string{"suppress", "add", "--db", db, "--rule", "root-access-key", "--account", "333333333333"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no reason", []string{"--owner", "a", "--expires", exp}, "--reason is required"},
		{"no owner", []string{"--reason", "r", "--expires", exp}, "--owner is required"},
		{"no expiry", []string{"--reason", "r", "--owner", "a"}, "--expires is required"},
		{"past", []string{"--reason", "r", "--owner", "a", "--expires", testclock.Days(-1).Format(time.DateOnly)}, "not in the future"},
		{"too far", []string{"--reason", "r", "--owner", "a", "--expires", "400d"}, "more than a year"},
		{"bad rule", []string{"--rule", "nope", "--reason", "r", "--owner", "a", "--expires", exp}, "no such rule"},
	} {
		r := vigil(t, nil, append(append([]string{}, base...), c.args...)...).want(t, 2)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: %s", c.name, r.stderr)
		}
	}
	r := vigil(t, nil, append(base, "--reason", "break-glass", "--owner", "alice", "--expires", exp, "--ticket", "SEC-1")...).want(t, 0)
	if !strings.Contains(r.stdout, "Suppression 1 added") {
		t.Fatalf("add: %s", r.stdout)
	}
	vigil(t, nil, append(base, "--reason", "permanent exception approved by the board", "--owner", "bob", "--no-expiry", "--resource", "arn:aws:iam::333333333333:root")...).want(t, 0)
	r = vigil(t, nil, "findings", "--db", db, "--account", "333333333333", "--rule", "root-access-key").want(t, 0)
	if !strings.Contains(r.stdout, "open (suppressed)") {
		t.Fatalf("suppressed finding not shown as suppressed: %s", r.stdout)
	}
	r = vigil(t, nil, "suppress", "list", "--db", db).want(t, 0)
	if !strings.Contains(r.stdout, "SEC-1") || !strings.Contains(r.stdout, "never") {
		t.Fatalf("list: %s", r.stdout)
	}
	vigil(t, nil, "suppress", "remove", "1", "--db", db).want(t, 0)
	vigil(t, nil, "suppress", "remove", "1", "--db", db).want(t, 1)
	vigil(t, nil, "suppress", "remove", "x", "--db", db).want(t, 2)
}

func TestStoreBadInput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "vigil.db")
	vigil(t, nil, "scan", "--demo", "--db", db).want(t, 0)
	r := vigil(t, nil, "scan", "--demo", "--db", filepath.Join(dir, "missing", "vigil.db"))
	if r.code == 0 || !strings.Contains(r.stderr, filepath.Join(dir, "missing")) {
		t.Fatalf("missing directory: %d %s", r.code, r.stderr)
	}
	// A database from a newer Vigil.
	setUserVersion(t, db, 99)
	r = vigil(t, nil, "findings", "--db", db).want(t, 1)
	if !strings.Contains(r.stderr, "newer Vigil") {
		t.Fatalf("newer database: %s", r.stderr)
	}
}

// TestScanSuppressions: an accepted risk keeps its status, carries its
// suppression in JSON, shows muted in text and does not fail the gate;
// an expired entry is ignored with a warning.
func TestScanSuppressions(t *testing.T) {
	dir := t.TempDir()
	exp := testclock.Days(30).Format(time.DateOnly)
	entry := func(rule, acct string) string {
		return "  - {rule: " + rule + ", account: \"" + acct + "\", reason: accepted, owner: alice, expires: " + exp + "}\n"
	}
	all := "version: 1\nsuppressions:\n" + entry("root-access-key", "111111111111") + entry("root-hardware-mfa", "111111111111") +
		entry("root-access-key", "333333333333") + entry("root-mfa", "333333333333") +
		// The management account's analyzers fail one step up: critical.
		entry("iam-access-analyzer", "111111111111") +
		"  - {rule: root-recent-use, account: \"111111111111\", reason: old, owner: bob, expires: " + testclock.Days(-1).Format(time.DateOnly) + "}\n"
	path := filepath.Join(dir, "suppressions.yaml")
	os.WriteFile(path, []byte(all), 0o600)
	vigil(t, nil, "scan", "--org", "--demo", "--fail-on", "critical").want(t, 3)
	r := vigil(t, nil, "scan", "--org", "--demo", "--fail-on", "critical", "--suppressions", path, "--show", "all").want(t, 0)
	if !strings.Contains(r.stdout, "(suppressed by alice, until "+exp) || !strings.Contains(r.stderr, "expired on") {
		t.Fatalf("text:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	r = vigil(t, nil, "scan", "--org", "--demo", "--suppressions", path, "--format", "json").want(t, 0)
	var doc struct {
		Results []struct {
			RuleID, Status string
			AccountID      string `json:"account_id"`
			Suppression    *struct {
				Owner  string `json:"owner"`
				Source string `json:"source"`
			} `json:"suppression"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	// Four root results and the management account's three regions of
	// analyzers (two FAIL, one not opted in: NOT_APPLICABLE, muted too,
	// since the entry names the rule and account, not a region).
	muted, mutedFail := 0, 0
	for _, res := range doc.Results {
		if res.Suppression != nil {
			muted++
			if res.Status == "FAIL" {
				mutedFail++
			}
			if (res.Status != "FAIL" && res.Status != "NOT_APPLICABLE") || res.Suppression.Owner != "alice" || !strings.HasPrefix(res.Suppression.Source, path+":") {
				t.Errorf("muted result %+v", res)
			}
		}
	}
	if muted != 7 || mutedFail != 6 {
		t.Errorf("%d results muted (%d FAIL), want 7 (6 FAIL)", muted, mutedFail)
	}
	os.WriteFile(path, []byte("version: 1\nsuppressions:\n  - {rule: root-mfa, account: \"333333333333\", owner: o, expires: "+exp+"}\n"), 0o600)
	r = vigil(t, nil, "scan", "--org", "--demo", "--suppressions", path).want(t, 2)
	if !strings.Contains(r.stderr, path+":3: reason is required") {
		t.Fatalf("bad file: %s", r.stderr)
	}
}
