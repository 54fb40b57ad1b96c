package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/slowtest"
)

// apiClient calls a running vigil serve's API with a token.
type apiClient struct {
	t     *testing.T
	s     *served
	token string
}

func (c apiClient) call(method, path string, body any, out any) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+c.s.addr+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

func newToken(t *testing.T, db, name, role string) string {
	t.Helper()
	r := vigil(t, nil, "token", "create", "--name", name, "--role", role, "--db", db).want(t, 0)
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	return lines[len(lines)-1]
}

type apiScan struct {
	ID       int64  `json:"id"`
	Schedule string `json:"schedule"`
	Outcome  string `json:"outcome"`
	Accounts int    `json:"accounts"`
}

// An admin starts the schedule's scan now through the API: the scan is
// queued as a job of the service, runs, and ends complete, long before
// the schedule's own next tick; a viewer may not start one.
func TestServeScanNow(t *testing.T) {
	slowtest.Skip(t, "the service's scan-now end to end")
	db := filepath.Join(t.TempDir(), "vigil.db")
	admin := apiClient{t: t, token: newToken(t, db, "ops", "admin")}
	viewer := apiClient{t: t, token: newToken(t, db, "ro", "viewer")}
	s := startServe(t, nil, "--demo", "--every", "24h", "--db", db)
	admin.s, viewer.s = s, s
	scanOf := func(id string) apiScan {
		var out struct{ Scan apiScan }
		if code, body := admin.call("GET", "/api/v1/scans/"+id, nil, &out); code != 200 {
			t.Fatalf("scan %s: %d %s", id, code, body)
		}
		return out.Scan
	}
	waitFor(t, "the first tick's scan", s, func() bool {
		var out struct{ Scans []apiScan }
		admin.call("GET", "/api/v1/scans", nil, &out)
		return len(out.Scans) == 1 && out.Scans[0].Outcome == "complete"
	})
	if code, body := viewer.call("POST", "/api/v1/scans", map[string]string{"schedule": "demo"}, nil); code != 403 {
		t.Errorf("a viewer started a scan: %d %s", code, body)
	}
	var started struct{ Scan apiScan }
	code, body := admin.call("POST", "/api/v1/scans", map[string]string{"schedule": "demo"}, &started)
	if code != 202 || started.Scan.ID < 2 || started.Scan.Schedule != "demo" {
		t.Fatalf("start: %d %s", code, body)
	}
	id := strconv.FormatInt(started.Scan.ID, 10)
	waitFor(t, "the scan started now to finish", s, func() bool { return scanOf(id).Outcome == "complete" })
	if sc := scanOf(id); sc.Accounts < 5 {
		t.Errorf("the scan started now recorded %d accounts", sc.Accounts)
	}
	var sch struct {
		Schedules []struct {
			Name string
			Next string
			Last *apiScan
		}
	}
	if code, body := viewer.call("GET", "/api/v1/schedules", nil, &sch); code != 200 || len(sch.Schedules) != 1 || sch.Schedules[0].Next == "" ||
		sch.Schedules[0].Last == nil || sch.Schedules[0].Last.ID != started.Scan.ID {
		t.Errorf("schedules: %d %s", code, body)
	}
	if code, body := admin.call("POST", "/api/v1/scans", map[string]string{"schedule": "nope"}, nil); code != 404 {
		t.Errorf("unknown schedule: %d %s", code, body)
	}

	// Prometheus metrics, behind a token of any role.
	if resp, err := http.Get("http://" + s.addr + "/metrics"); err != nil || resp.StatusCode != 401 {
		t.Errorf("metrics without a token: %v %v", resp, err)
	}
	code, metrics := viewer.call("GET", "/metrics", nil, nil)
	if code != 200 {
		t.Fatalf("metrics: %d %s", code, metrics)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^vigil_open_findings\{severity="critical",suppressed="false"\} [1-9]`),
		regexp.MustCompile(`(?m)^vigil_scans_total\{outcome="complete",schedule="demo"\} [1-9]`),
		regexp.MustCompile(`(?m)^vigil_scan_duration_seconds_count\{schedule="demo"\} [1-9]`),
		regexp.MustCompile(`(?m)^vigil_account_job_phase_seconds_count\{phase="scan"\} [1-9]`),
		regexp.MustCompile(`(?m)^vigil_account_job_phase_seconds_count\{phase="record"\} [1-9]`),
		regexp.MustCompile(`(?m)^vigil_aws_calls_total\{error_code="",operation="GetAccountSummary",service="iam"\} [1-9]`),
		regexp.MustCompile(`(?m)^vigil_job_queue_jobs\{state="available"\} [0-9]`),
		regexp.MustCompile(`(?m)^vigil_alert_deliveries_failing 0$`),
		regexp.MustCompile(`(?m)^vigil_metrics_read_errors 0$`),
	} {
		if !want.MatchString(metrics) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
