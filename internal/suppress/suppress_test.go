package suppress

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/testclock"
)

func known(id string) bool { return id == "root-access-key" || id == "root-mfa" }

func TestParse(t *testing.T) {
	now := testclock.Ref()
	in30 := now.Add(30 * 24 * time.Hour).Format(time.DateOnly)
	ago := now.Add(-24 * time.Hour).Format(time.DateOnly)
	far := now.Add(400 * 24 * time.Hour).Format(time.DateOnly)
	cases := []struct {
		name, yaml, err string
		entries         int
		warnings        int
	}{
		{"empty file", "", "", 0, 0},
		{"one", "version: 1\nsuppressions:\n  - rule: root-access-key\n    account: \"111111111111\"\n    reason: vault\n    owner: alice\n    expires: " + in30 + "\n", "", 1, 0},
		{"no expiry with reason", "version: 1\nsuppressions:\n  - {rule: root-mfa, account: \"111111111111\", reason: r, owner: o, no_expiry: true}\n", "", 1, 0},
		{"expired is ignored with a warning", "version: 1\nsuppressions:\n  - {rule: root-mfa, account: \"111111111111\", reason: r, owner: o, expires: " + ago + "}\n", "", 0, 1},
		{"wrong version", "version: 2\n", "version: want 1", 0, 0},
		{"unknown key", "version: 1\nsuppressions:\n  - {rule: root-mfa, acount: \"111111111111\"}\n", "t.yaml:3:", 0, 0},
		{"unknown rule", "version: 1\nsuppressions:\n  - {rule: nope, account: \"111111111111\", reason: r, owner: o, expires: " + in30 + "}\n", "t.yaml:3: rule \"nope\"", 0, 0},
		{"unquoted account", "version: 1\nsuppressions:\n  - {rule: root-mfa, account: 0111, reason: r, owner: o, expires: " + in30 + "}\n", "12-digit", 0, 0},
		{"no reason", "version: 1\nsuppressions:\n  - {rule: root-mfa, account: \"111111111111\", owner: o, expires: " + in30 + "}\n", "reason is required", 0, 0},
		{"no owner", "version: 1\nsuppressions:\n  - {rule: root-mfa, account: \"111111111111\", reason: r, expires: " + in30 + "}\n", "owner is required", 0, 0},
		{"no expiry", "version: 1\nsuppressions:\n  - {rule: root-mfa, account: \"111111111111\", reason: r, owner: o}\n", "expires is required", 0, 0},
		{"too far", "version: 1\nsuppressions:\n  - {rule: root-mfa, account: \"111111111111\", reason: r, owner: o, expires: " + far + "}\n", "more than a year", 0, 0},
		{"both", "version: 1\nsuppressions:\n  - {rule: root-mfa, account: \"111111111111\", reason: r, owner: o, expires: " + in30 + ", no_expiry: true}\n", "cannot both", 0, 0},
		{"bad date", "version: 1\nsuppressions:\n  - {rule: root-mfa, account: \"111111111111\", reason: r, owner: o, expires: soon}\n", "t.yaml:3: expires", 0, 0},
		{"not yaml", "version: [1\n", "t.yaml", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse([]byte(c.yaml), "t.yaml", now, known)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Entries) != c.entries || len(f.Warnings) != c.warnings {
				t.Fatalf("entries %d warnings %v", len(f.Entries), f.Warnings)
			}
		})
	}
}

func TestApply(t *testing.T) {
	now := testclock.Ref()
	f, err := Parse([]byte("version: 1\nsuppressions:\n  - {rule: root-access-key, account: \"111111111111\", resource: \"arn:aws:iam::111111111111:root\", reason: \"vault\\x1b[31m\", owner: alice, ticket: SEC-1, expires: "+now.Add(time.Hour).Format(time.RFC3339)+"}\n"), "s.yaml", now, known)
	if err != nil {
		t.Fatal(err)
	}
	rs := []rule.Result{
		{Meta: &rule.Meta{RuleID: "root-access-key", AccountID: "111111111111"}, Resource: "arn:aws:iam::111111111111:root", Status: rule.Fail, Severity: rule.Critical},
		{Meta: &rule.Meta{RuleID: "root-access-key", AccountID: "222222222222"}, Resource: "arn:aws:iam::222222222222:root", Status: rule.Fail},
		{Meta: &rule.Meta{RuleID: "root-mfa", AccountID: "111111111111"}, Resource: "arn:aws:iam::111111111111:root", Status: rule.Fail},
	}
	if n := f.Apply(rs); n != 1 {
		t.Fatalf("muted %d", n)
	}
	s := rs[0].Suppression
	if s == nil || s.Owner != "alice" || s.Ticket != "SEC-1" || s.Source != "s.yaml:3" || strings.ContainsRune(s.Reason, 0x1b) || rs[0].Status != rule.Fail {
		t.Fatalf("suppression %+v", s)
	}
	if rs[1].Suppression != nil || rs[2].Suppression != nil {
		t.Fatal("muted the wrong results")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\nsuppressions:\n  - {rule: root-mfa, account: \"111111111111\", reason: r, owner: o, expires: 2027-01-01}\n"))
	f.Add([]byte("version: 1\nsuppressions: [{}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse(data, "f.yaml", testclock.Ref(), known)
	})
}
