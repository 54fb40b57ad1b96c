package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func sampleDoc() *Document {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	snap := snapshot.New(now, "test", snapshot.Source{Kind: snapshot.SourceAWS})
	snap.Accounts = []snapshot.Account{{ID: "111122223333", Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleStandalone}}}
	results := []rule.Result{
		{RuleID: "root-access-key", Title: "Root user has access keys", Status: rule.Fail, Severity: rule.Critical, AccountID: "111122223333", Resource: "arn:aws:iam::111122223333:root", Message: "The root user has an access key.", Evidence: []rule.Evidence{{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"}}},
		{RuleID: "root-mfa", Title: "Root user has no MFA", Status: rule.Pass, Severity: rule.Critical, AccountID: "111122223333", Resource: "arn:aws:iam::111122223333:root", Message: "The root user has MFA."},
	}
	return Build(snap, results, Tool{Name: "vigil", Version: "test"}, now)
}

func TestTextColour(t *testing.T) {
	var plain, colour bytes.Buffer
	if err := WriteText(&plain, sampleDoc(), TextOptions{Profile: termenv.Ascii}); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&colour, sampleDoc(), TextOptions{Profile: termenv.ANSI256}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("escape codes with the Ascii profile")
	}
	if !strings.Contains(colour.String(), "\x1b[") {
		t.Error("no escape codes with a colour profile")
	}
	for _, want := range []string{"FAIL", "CRITICAL", "root-access-key", "Summary: 1 account · 2 results · 1 FAIL (1 critical) · 0 UNKNOWN · 1 PASS · 0 NOT_APPLICABLE"} {
		if !strings.Contains(plain.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, plain.String())
		}
	}
}

func TestBuildCounts(t *testing.T) {
	d := sampleDoc()
	if d.Summary.Counts.Fail != 1 || d.Summary.Counts.Pass != 1 || d.Summary.FailedBySeverity["critical"] != 1 || d.Accounts[0].Counts.Fail != 1 {
		t.Errorf("counts wrong: %+v %+v", d.Summary, d.Accounts[0].Counts)
	}
	if d.Failures(rule.Critical) != 1 || d.Failures(rule.Info) != 1 {
		t.Error("Failures wrong")
	}
}

// failingWriter fails after n bytes, to check errors are returned.
type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, bytes.ErrTooLarge
	}
	return len(p), nil
}

func TestWritersReturnErrors(t *testing.T) {
	if err := WriteText(&failingWriter{n: 10}, sampleDoc(), TextOptions{}); err == nil {
		t.Error("WriteText swallowed a write error")
	}
	if err := WriteJSON(&failingWriter{n: 10}, sampleDoc()); err == nil {
		t.Error("WriteJSON swallowed a write error")
	}
}
