package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func at(s string) snapshot.Stamp {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return snapshot.StampOf(t)
}

var na = snapshot.SentinelStamp(snapshot.NotApplicable)

func summary(keys, mfa, password, certs bool) *snapshot.Summary {
	return &snapshot.Summary{AccessKeysPresent: ptr(keys), MFAEnabled: ptr(mfa), PasswordPresent: ptr(password), SigningCertificatesPresent: ptr(certs)}
}

// rootRow is a credential report root row with nothing in it.
func rootRow() *snapshot.CredentialRow {
	return &snapshot.CredentialRow{
		User: "<root_account>", ARN: "arn:aws:iam::111122223333:root",
		PasswordEnabled: "not_supported", PasswordLastUsed: snapshot.SentinelStamp(snapshot.NoInformation),
		AccessKeys:   [2]snapshot.KeySlot{{LastRotated: na, LastUsedDate: na}, {LastRotated: na, LastUsedDate: na}},
		Certificates: [2]snapshot.CertSlot{{LastRotated: na}, {LastRotated: na}},
	}
}

func withReport(row *snapshot.CredentialRow, age time.Duration) *snapshot.CredentialReport {
	t := now.Add(-age)
	return &snapshot.CredentialReport{GeneratedTime: &t, TimeSource: "GetCredentialReport", Columns: 22, Root: row}
}

func gap(section, call, code string) snapshot.Gap {
	return snapshot.Gap{Section: section, Call: call, Code: code, Message: "User is not authorized"}
}

func account(mod func(*snapshot.Account)) *snapshot.Account {
	a := &snapshot.Account{ID: "111122223333", Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleStandalone}}
	if mod != nil {
		mod(a)
	}
	return a
}

type ruleCase struct {
	name   string
	acct   *snapshot.Account
	opts   *rule.Options
	status rule.Status
	// contains are fragments the message must hold; excludes, fragments
	// it must not.
	contains, excludes []string
}

func runCases(t *testing.T, r rule.Rule, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := rule.DefaultOptions()
			if c.opts != nil {
				opts = *c.opts
			}
			doc := &snapshot.Document{Accounts: []snapshot.Account{*c.acct}}
			out := r.Check(rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: opts})
			if out.Status != c.status {
				t.Errorf("status = %s, want %s; message: %s", out.Status, c.status, out.Message)
			}
			for _, frag := range c.contains {
				if !strings.Contains(out.Message, frag) {
					t.Errorf("message %q does not contain %q", out.Message, frag)
				}
			}
			for _, frag := range c.excludes {
				if strings.Contains(out.Message, frag) {
					t.Errorf("message %q contains %q", out.Message, frag)
				}
			}
			if out.Message == "" {
				t.Error("empty message")
			}
			if len(out.Evidence) == 0 {
				t.Error("no evidence")
			}
		})
	}
}
