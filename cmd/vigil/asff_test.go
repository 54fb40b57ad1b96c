package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// demoMilli masks the seconds of the demo's ASFF timestamps, which carry
// milliseconds (see demoSecond for why they move).
var (
	demoMilli     = regexp.MustCompile(regexp.QuoteMeta(testclock.Ref().Format("2006-01-02T15:04:")) + `[0-9]{2}(?:\.[0-9]+)?Z`)
	demoMilliMask = testclock.Ref().Format("2006-01-02T15:04:") + "0N.NNNZ"
)

// TestGoldenASFF: the Security Hub findings of a saved single-account
// snapshot and of the demo organisation, golden; every result is one
// finding with a unique ID.
func TestGoldenASFF(t *testing.T) {
	r := vigil(t, nil, "scan", "--from", "testdata/snapshot.json", "--format", "asff").want(t, 0)
	golden(t, "scan-asff.json", r.stdout)
	checkFindings(t, r.stdout)

	o := vigil(t, nil, "scan", "--org", "--demo", "--format", "asff").want(t, 0)
	checkFindings(t, o.stdout)
	if demoHistoryPredatesSCPs() {
		t.Logf("golden file not compared: with the reference time at %s the demo's accounts joined before 2017-09-15", testclock.Ref())
		return
	}
	golden(t, "org-demo-asff.json", demoMilli.ReplaceAllString(o.stdout, demoMilliMask))
}

func checkFindings(t *testing.T, out string) {
	t.Helper()
	var fs []struct {
		ID           string `json:"Id"`
		AwsAccountID string `json:"AwsAccountId"`
	}
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("not a JSON array of findings: %v", err)
	}
	if len(fs) == 0 {
		t.Fatalf("no findings")
	}
	seen := map[string]bool{}
	for _, f := range fs {
		if seen[f.ID] {
			t.Errorf("finding ID %s twice", f.ID)
		}
		seen[f.ID] = true
	}
}

// TestGoldenHTML: the HTML reports of a saved single-account snapshot and
// of the demo organisation, golden.
func TestGoldenHTML(t *testing.T) {
	r := vigil(t, nil, "scan", "--from", "testdata/snapshot.json", "--format", "html").want(t, 0)
	golden(t, "scan.html", r.stdout)
	o := vigil(t, nil, "scan", "--org", "--demo", "--format", "html").want(t, 0)
	if demoHistoryPredatesSCPs() {
		t.Logf("golden file not compared: with the reference time at %s the demo's accounts joined before 2017-09-15", testclock.Ref())
		return
	}
	golden(t, "org-demo.html", demoURL.ReplaceAllString(demoSecond.ReplaceAllString(o.stdout, demoSecondMask), "http://127.0.0.1:PORT"))
}

// TestGoldenCredentialReportASFFAndHTML: a credential report file, judged
// at the golden files' time (as TestGoldenCredentialReport does), in ASFF
// and HTML.
func TestGoldenCredentialReportASFFAndHTML(t *testing.T) {
	data, err := os.ReadFile("testdata/credential-report.csv")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "credential-report.csv")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	at := map[string]string{clock.SourceDateEpoch: testclock.EpochAt(testclock.Default)}
	generated := testclock.Default.Add(-time.Hour).Format(time.RFC3339)
	for format, name := range map[string]string{"asff": "credential-report-asff.json", "html": "credential-report.html"} {
		r := vigil(t, at, "scan", "--credential-report", file, "--report-time", generated, "--max-report-age", "0", "--format", format).want(t, 0)
		out := strings.ReplaceAll(r.stdout, file, "FILE")
		if format == "asff" {
			checkFindings(t, out)
		}
		golden(t, name, out)
	}
}
