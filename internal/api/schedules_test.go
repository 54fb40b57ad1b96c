package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/sqlite"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// scheduler stands in for vigil serve's server (tested end to end in
// cmd/vigil's TestServeScanNow): one schedule, "nightly", whose scan
// starts by being recorded as running, as the server records it.
type scheduler struct {
	st      *sqlite.DB
	started []string
}

func (s *scheduler) Schedules(ctx context.Context) ([]api.ScheduleInfo, error) {
	next := testclock.Ref().Add(time.Hour)
	return []api.ScheduleInfo{{Name: "nightly", Target: "organisation (schedule nightly)", When: "cron 0 2 * * *", Next: &next}}, nil
}

func (s *scheduler) ScanNow(ctx context.Context, name string) (store.Scan, error) {
	if name != "nightly" {
		return store.Scan{}, fmt.Errorf("schedule %q: %w", name, api.ErrNoSchedule)
	}
	for _, n := range s.started {
		if n == name {
			return store.Scan{}, fmt.Errorf("schedule %q: %w", name, api.ErrScanRunning)
		}
	}
	s.started = append(s.started, name)
	now := testclock.Ref()
	return s.st.StartScan(ctx, store.Scan{Schedule: name, Tick: now, StartedAt: now, Target: "organisation (schedule nightly)"})
}

func (s *scheduler) Expected(scanID int64) int { return 5 }

// concretePath fills the path parameters the findings and suppressions
// tests do not: a scan and a rule that exist.
func concretePath(p string) string {
	p = strings.Replace(p, "/scans/{id}", "/scans/1", 1)
	p = strings.Replace(p, "/compliance/{framework}", "/compliance/cis-aws", 1)
	p = strings.Replace(p, "/autofix/{rule}", "/autofix/root-access-key", 1)
	return strings.Replace(p, "/rules/{id}", "/rules/root-access-key", 1)
}

// bodyFor is a valid body for each route that takes one.
func bodyFor(method, path string) any {
	switch method + " " + path {
	case "POST /api/v1/suppressions":
		return validSuppression(testclock.Ref())
	case "POST /api/v1/scans":
		return map[string]string{"schedule": "nightly"}
	case "PUT /api/v1/autofix/{rule}":
		return map[string]any{"mode": "plan", "min_idle_days": 60}
	}
	return nil
}

// adminStatus is what an admin's valid request to a route answers.
func adminStatus(method, path string) int {
	switch method + " " + path {
	case "POST /api/v1/suppressions":
		return 201
	case "POST /api/v1/scans":
		return 202
	case "DELETE /api/v1/autofix/{rule}":
		// Answered with the rule as it now stands.
		return 200
	}
	return map[string]int{"GET": 200, "PUT": 200, "DELETE": 204}[method]
}

// An admin starts a schedule's scan: 202, the scan running, its
// progress at its Location; a second start while it runs is a conflict;
// an unknown schedule is a 404; a viewer may not.
func TestStartScan(t *testing.T) {
	f := start(t)
	if code, raw := f.do(t, "POST", "/api/v1/scans", f.Viewer, map[string]string{"schedule": "nightly"}, nil); code != 403 {
		t.Errorf("viewer: %d %s", code, raw)
	}
	var out struct{ Scan api.Scan }
	code, raw := f.do(t, "POST", "/api/v1/scans", f.Admin, map[string]string{"schedule": "nightly"}, &out)
	if code != 202 || out.Scan.ID == 0 || out.Scan.Outcome != store.Running || out.Scan.Schedule != "nightly" || out.Scan.Expected != 5 {
		t.Fatalf("%d %s", code, raw)
	}
	var got struct{ Scan api.Scan }
	if code, raw := f.do(t, "GET", fmt.Sprintf("/api/v1/scans/%d", out.Scan.ID), f.Viewer, nil, &got); code != 200 || got.Scan.ID != out.Scan.ID || got.Scan.Outcome != store.Running {
		t.Errorf("the started scan: %d %s", code, raw)
	}
	for _, c := range []struct {
		body any
		code int
		err  string
	}{
		{map[string]string{"schedule": "nightly"}, 409, "scan_running"},
		{map[string]string{"schedule": "weekly"}, 404, "not_found"},
		{map[string]string{"schedule": " "}, 422, "invalid_scan"},
		{map[string]any{"schedule": "nightly", "now": true}, 400, "invalid_json"},
	} {
		code, raw := f.do(t, "POST", "/api/v1/scans", f.Admin, c.body, nil)
		if code != c.code || !strings.Contains(string(raw), `"`+c.err+`"`) {
			t.Errorf("%v: %d %s, want %d %s", c.body, code, raw, c.code, c.err)
		}
	}
	for path, code := range map[string]int{"/api/v1/scans/99": 404, "/api/v1/scans/x": 400} {
		if got, raw := f.do(t, "GET", path, f.Viewer, nil, nil); got != code {
			t.Errorf("%s: %d %s", path, got, raw)
		}
	}
	var ss struct{ Schedules []api.ScheduleInfo }
	if code, raw := f.do(t, "GET", "/api/v1/schedules", f.Viewer, nil, &ss); code != 200 || len(ss.Schedules) != 1 || ss.Schedules[0].Next == nil {
		t.Errorf("schedules: %d %s", code, raw)
	}
}

// Outside vigil serve no scan can start: a 503 with a code, not a crash.
func TestStartScanWithoutScheduler(t *testing.T) {
	f := startWith(t, nil)
	if code, raw := f.do(t, "POST", "/api/v1/scans", f.Admin, map[string]string{"schedule": "nightly"}, nil); code != 503 || !strings.Contains(string(raw), `"no_scheduler"`) {
		t.Errorf("%d %s", code, raw)
	}
	var ss struct{ Schedules []api.ScheduleInfo }
	if code, _ := f.do(t, "GET", "/api/v1/schedules", f.Viewer, nil, &ss); code != 200 || ss.Schedules == nil || len(ss.Schedules) != 0 {
		t.Errorf("schedules without a service: %d %+v", code, ss)
	}
}

// Every rule is listed with its compliance mappings; one rule carries
// its knowledge base page.
func TestRules(t *testing.T) {
	f := start(t)
	var list struct{ Rules []api.Rule }
	if code, raw := f.do(t, "GET", "/api/v1/rules", f.Viewer, nil, &list); code != 200 {
		t.Fatalf("%d %s", code, raw)
	}
	var root *api.Rule
	for i, r := range list.Rules {
		if r.ID == "root-access-key" {
			root = &list.Rules[i]
		}
		if r.Page != "" {
			t.Errorf("%s: the list carries the page", r.ID)
		}
	}
	if root == nil || root.Severity.String() != "critical" || len(root.Compliance) == 0 || root.Compliance[0].Framework == "" || root.Scope != "account" {
		t.Fatalf("root-access-key: %+v", root)
	}
	var one struct{ Rule api.Rule }
	if code, raw := f.do(t, "GET", "/api/v1/rules/root-access-key", f.Viewer, nil, &one); code != 200 || len(one.Rule.Compliance) != len(root.Compliance) {
		t.Errorf("%d %.300s", code, raw)
	}
	// The page is there whenever the knowledge base loads (its own
	// tests fail a build where a rule lacks its page).
	if k, _ := api.LoadKnowledge(); k.PagesErr == nil && !strings.Contains(one.Rule.Page, "## Remediation") {
		t.Errorf("root-access-key without its page: %.300s", one.Rule.Page)
	} else if k.PagesErr != nil {
		t.Logf("pages not checked: %v", k.PagesErr)
	}
	if code, raw := f.do(t, "GET", "/api/v1/rules/no-such-rule", f.Viewer, nil, nil); code != 404 || !strings.Contains(string(raw), `"not_found"`) {
		t.Errorf("%d %s", code, raw)
	}
}
