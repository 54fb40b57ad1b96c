package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestToSecurityHub: an organisation scan with --to securityhub imports
// one finding per result into the caller's account, in calls of at most
// 100, retrying a throttled one; a re-scan updates the same findings;
// vigil report send sends a saved result the same way and names a
// finding Security Hub refused (exit 1).
func TestToSecurityHub(t *testing.T) {
	w := awsemu.OrgWorld(40, awsemu.OrgWorldOptions{Now: testclock.Ref()})
	srv := awsemutest.Start(t, w, awsemu.WithFaults(awsemu.Fault{Service: "securityhub", Action: "BatchImportFindings", Code: "LimitExceededException", Times: 1}))
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.OrgWorldAdminKey, "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "eu-west-1"}
	out := filepath.Join(t.TempDir(), "org.json")
	r := vigil(t, env, "scan", "--org", "--to", "securityhub", "--format", "json", "--output", out).want(t, 0)
	rep := parseReport(t, mustRead(t, out))
	n := len(rep.Results)
	if n <= 200 {
		t.Fatalf("only %d results; the test needs more than two batches", n)
	}
	if !strings.Contains(r.stderr, "findings imported in") || !strings.Contains(r.stderr, "eu-west-1") {
		t.Errorf("stderr does not say what was imported:\n%s", r.stderr)
	}
	calls, throttled := 0, 0
	for _, c := range srv.Calls() {
		if c.Service != "securityhub" {
			continue
		}
		calls++
		if c.ErrorCode == "LimitExceededException" {
			throttled++
		}
		if k, err := strconv.Atoi(strings.TrimSuffix(c.Params["Findings"], " findings")); err != nil || k < 1 || k > 100 {
			t.Errorf("a call of %s", c.Params["Findings"])
		}
	}
	if throttled != 1 || calls != (n+99)/100+1 {
		t.Errorf("%d calls, %d throttled, for %d findings", calls, throttled, n)
	}
	stored := srv.Findings()
	if len(stored) != n {
		t.Fatalf("%d findings stored for %d results", len(stored), n)
	}
	mgmt := stored[0].AwsAccountID
	for _, f := range stored {
		if f.AwsAccountID != mgmt || !strings.HasPrefix(f.ID, "vigil/") || f.Imports != 1 {
			t.Errorf("finding %+v", f)
		}
	}

	// The saved result sent again: the same findings, updated; one refused.
	srv.RejectFinding(stored[3].ID, "InvalidInput", "refused for the test")
	s := vigil(t, env, "report", "send", "--to", "securityhub", "--from", out).want(t, 1)
	if !strings.Contains(s.stderr, stored[3].ID) || !strings.Contains(s.stderr, "InvalidInput: refused for the test") ||
		!strings.Contains(s.stdout, "findings imported") {
		t.Errorf("the refused finding is not named:\nstdout %s\nstderr %s", s.stdout, s.stderr)
	}
	again := srv.Findings()
	if len(again) != n {
		t.Fatalf("the second import left %d findings, want %d", len(again), n)
	}
	for i, f := range again {
		want := 2
		if i == 3 {
			want = 1
		}
		if f.Imports != want {
			t.Errorf("finding %s imported %d times, want %d", f.ID, f.Imports, want)
		}
	}
}

// TestToSecurityHubUsage: --to needs the scan's own single identity.
func TestToSecurityHubUsage(t *testing.T) {
	for _, args := range [][]string{
		{"scan", "--from", "testdata/snapshot.json", "--to", "securityhub"},
		{"scan", "--demo", "--to", "splunk"},
		{"report", "send", "--to", "securityhub"},
		{"report", "send", "--from", "testdata/snapshot.json"},
	} {
		vigil(t, nil, args...).want(t, 2)
	}
	// A snapshot is not a result.
	r := vigil(t, nil, "report", "send", "--to", "securityhub", "--from", "testdata/snapshot.json", "--demo").want(t, 1)
	if !strings.Contains(r.stderr, "not a report") || !strings.Contains(r.stderr, "vigil scan --from testdata/snapshot.json") {
		t.Errorf("%s", r.stderr)
	}
	p := vigil(t, nil, "policy", "--for", "securityhub").want(t, 0)
	if !strings.Contains(p.stdout, `"securityhub:BatchImportFindings"`) || strings.Count(p.stdout, `"Action"`) != 1 {
		t.Errorf("policy:\n%s", p.stdout)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
