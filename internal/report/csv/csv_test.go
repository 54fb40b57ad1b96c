package csv

import (
	"bytes"
	stdcsv "encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestConformance: the CSV writer keeps the writer contract.
func TestConformance(t *testing.T) {
	reporttest.Run(t, New(), read)
}

// read parses the output as strict RFC 4180 (CRLF line ends, the same
// number of fields in every record, the header first); its text is every
// field, one a line.
func read(out []byte) (string, error) {
	records, err := parse(out)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, rec := range records {
		for _, f := range rec {
			b.WriteString(f + "\n")
		}
	}
	return b.String(), nil
}

func parse(out []byte) ([][]string, error) {
	if len(out) < 2 || !bytes.HasSuffix(out, []byte("\r\n")) {
		return nil, fmt.Errorf("the last record does not end with CRLF")
	}
	// Outside quotes every line break is CRLF.
	quoted := false
	for i, c := range out {
		switch {
		case c == '"':
			quoted = !quoted
		case c == '\n' && !quoted && (i == 0 || out[i-1] != '\r'):
			return nil, fmt.Errorf("a bare LF ends a record at byte %d", i)
		}
	}
	r := stdcsv.NewReader(bytes.NewReader(out))
	r.FieldsPerRecord = len(Columns)
	records, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(records) == 0 || strings.Join(records[0], ",") != strings.Join(Columns, ",") {
		return nil, fmt.Errorf("the header is not the documented columns")
	}
	return records, nil
}

// TestRows: one row per result, in the document's order, the columns as
// documented, evidence a line each; quoting survives commas, quotes and
// line breaks.
func TestRows(t *testing.T) {
	snap := snapshot.New(testclock.Ref(), "test", snapshot.Source{Kind: snapshot.SourceAWS})
	snap.Accounts = []snapshot.Account{{ID: "111122223333", Name: `pay, "prod"`, Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleManagement, OrganizationID: "o-1", ManagementAccountID: "111122223333"}}}
	asOf := testclock.Ref().Add(-3600e9)
	results := []rule.Result{
		{Meta: &rule.Meta{RuleID: "root-mfa", Title: "Root has MFA", RuleSeverity: rule.Critical, Category: "Identity", Service: "iam", AccountID: "111122223333", Partition: "aws"},
			Status: rule.Pass, Severity: rule.Critical, Resource: "arn:aws:iam::111122223333:root", Message: "MFA is on.\nTwo devices.",
			Evidence: []rule.Evidence{{Source: "credential report", Key: "mfa_active", Value: "true", AsOf: &asOf}, {Source: "iam:ListMFADevices", Error: "AccessDenied: no"}}},
		{Meta: &rule.Meta{RuleID: "root-access-key", Title: "No root key", RuleSeverity: rule.High, Category: "Identity", Service: "iam", AccountID: "111122223333", Partition: "aws", ManagementAccount: true},
			Status: rule.Fail, Severity: rule.Critical, Resource: "arn:aws:iam::111122223333:root", Message: "=HYPERLINK(\"http://evil\")"},
	}
	d := report.Build(snap, results, report.Tool{Name: "vigil", Version: "t"}, testclock.Ref())
	var b bytes.Buffer
	if err := New().Write(&b, d); err != nil {
		t.Fatal(err)
	}
	records, err := parse(b.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(records) != 3 {
		t.Fatalf("%d records, want the header and 2", len(records))
	}
	at := func(rec []string, col string) string {
		for i, c := range Columns {
			if c == col {
				return rec[i]
			}
		}
		t.Fatalf("no column %s", col)
		return ""
	}
	key, mfa := records[1], records[2]
	for col, want := range map[string]string{"account_name": `pay, "prod"`, "rule_id": "root-access-key", "status": "FAIL", "severity": "critical",
		"rule_severity": "high", "management_account": "true", "message": `'=HYPERLINK("http://evil")`, "evidence": "", "resource": "arn:aws:iam::111122223333:root",
		"collected_at": testclock.Ref().UTC().Format("2006-01-02T15:04:05Z07:00")} {
		if got := at(key, col); got != want {
			t.Errorf("%s = %q, want %q", col, got, want)
		}
	}
	wantEv := "credential report: mfa_active = true (as of " + asOf.UTC().Format("2006-01-02T15:04:05Z07:00") + ")\r\niam:ListMFADevices: error: AccessDenied: no"
	if got := at(mfa, "evidence"); got != strings.ReplaceAll(wantEv, "\r\n", "\n") && got != wantEv {
		t.Errorf("evidence %q, want %q", got, wantEv)
	}
	if got := at(mfa, "message"); !strings.Contains(got, "MFA is on.") || !strings.Contains(got, "Two devices.") {
		t.Errorf("message %q", got)
	}
}

// TestNeutralise: every formula trigger is neutralised, nothing else is
// touched.
func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "plain": "plain", "a=b": "a=b", "'quoted": "'quoted", "1-2": "1-2", "é=": "é=",
	} {
		if got := Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}
