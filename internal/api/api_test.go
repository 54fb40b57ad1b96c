package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/api/apitest"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/store/sqlite"
	"github.com/vigil-sec/vigil/internal/testclock"
)

type fixture struct {
	apitest.Filled
	url string
}

func start(t *testing.T) fixture {
	t.Helper()
	return startWith(t, func(st *sqlite.DB) api.Scheduler { return &scheduler{st: st} })
}

// startWith serves the API with the scheduler sched makes (none when
// sched is nil).
func startWith(t *testing.T, sched func(*sqlite.DB) api.Scheduler) fixture {
	t.Helper()
	f := apitest.Fill(t)
	mux := http.NewServeMux()
	cfg := api.Config{Store: f.Store, Clock: clock.Pinned{T: testclock.Ref()}, AutoFix: testAutoFix}
	if sched != nil {
		cfg.Scheduler = sched(f.Store)
	}
	api.Mount(mux, cfg)
	srv := httptest.NewServer(api.Secure(mux))
	t.Cleanup(srv.Close)
	return fixture{Filled: f, url: srv.URL}
}

// do sends a request over HTTP and decodes a JSON answer into out (when
// not nil); it returns the status and the raw body.
func (f fixture) do(t *testing.T, method, path, token string, body any, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	checkResponse(t, req, resp, raw)
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
		if resp.Header.Get(h) != want {
			t.Errorf("%s %s: %s = %q", method, path, h, resp.Header.Get(h))
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s %s: CSP %q", method, path, csp)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(raw, &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Errorf("%s %s: error %d without a JSON code: %s", method, path, resp.StatusCode, raw)
		}
	}
	if out != nil && resp.StatusCode < 300 && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, raw
}

type findingsPage struct {
	Findings   []api.Finding `json:"findings"`
	NextCursor string        `json:"next_cursor"`
}

func (f fixture) critical(t *testing.T) api.Finding {
	t.Helper()
	var p findingsPage
	f.do(t, "GET", "/api/v1/findings?severity=critical&rule=root-access-key&account=111111111111", f.Viewer, nil, &p)
	if len(p.Findings) != 1 {
		t.Fatalf("the demo's critical root-access-key finding in 111111111111: %+v", p.Findings)
	}
	return p.Findings[0]
}

func validSuppression(now time.Time) map[string]string {
	return map[string]string{"rule_id": "root-access-key", "account_id": "111111111111", "reason": "break-glass key in the vault",
		"owner": "alice@example.com", "expires": now.Add(30 * 24 * time.Hour).Format(time.RFC3339), "ticket": "SEC-1"}
}

// Every route, with no token, a malformed one, one of the right shape
// that was never made, a revoked one, a viewer's and an admin's: only a
// valid token passes, and only an admin's writes.
func TestAuthorization(t *testing.T) {
	f := start(t)
	id := f.critical(t).ID
	wrong := "vigil_0123456789ab_" + strings.Repeat("A", 43)
	// The admin's own suppression for each DELETE, so that the admin's
	// DELETE finds one.
	var created struct{ Suppression api.Suppression }
	if code, raw := f.do(t, "POST", "/api/v1/suppressions", f.Admin, validSuppression(testclock.Ref()), &created); code != 201 {
		t.Fatalf("setup: %d %s", code, raw)
	}
	concrete := func(p string) string {
		p = strings.Replace(p, "/findings/{id}", "/findings/"+id, 1)
		return concretePath(strings.Replace(p, "/suppressions/{id}", "/suppressions/"+itoa(created.Suppression.ID), 1))
	}
	for _, r := range api.Routes {
		path := concrete(r.Path)
		body := bodyFor(r.Method, r.Path)
		for _, c := range []struct {
			who   string
			token string
			want  int
		}{
			{"no token", "", 401},
			{"garbage", "hunter2", 401},
			{"unknown", wrong, 401},
			{"revoked", f.Revoked, 401},
			{"viewer", f.Viewer, map[bool]int{false: 200, true: 403}[r.Admin]},
			{"admin", f.Admin, adminStatus(r.Method, r.Path)},
		} {
			code, raw := f.do(t, r.Method, path, c.token, body, nil)
			if code != c.want {
				t.Errorf("%s %s as %s: %d, want %d: %s", r.Method, path, c.who, code, c.want, raw)
			}
			if c.token != "" && bytes.Contains(raw, []byte(c.token)) {
				t.Errorf("%s %s as %s: the token is echoed back", r.Method, path, c.who)
			}
		}
	}
	// An unknown route under /api/ is told apart only after sign-in.
	if code, _ := f.do(t, "GET", "/api/v1/nothing", "", nil, nil); code != 401 {
		t.Errorf("unknown route without a token: %d", code)
	}
	if code, _ := f.do(t, "GET", "/api/v1/nothing", f.Viewer, nil, nil); code != 404 {
		t.Errorf("unknown route: %d", code)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Pages of two walk every open finding once, in the store's order, the
// same as one big page; filters narrow as the CLI's flags do.
func TestFindingsPagination(t *testing.T) {
	f := start(t)
	var all findingsPage
	if code, raw := f.do(t, "GET", "/api/v1/findings?status=all&limit=500", f.Viewer, nil, &all); code != 200 || all.NextCursor != "" {
		t.Fatalf("%d %s", code, raw)
	}
	if len(all.Findings) < 3 {
		t.Fatalf("the demo organisation should have several findings, got %d", len(all.Findings))
	}
	key := func(x api.Finding) string { return x.AccountID + "\x00" + x.RuleID + "\x00" + x.Resource }
	if !sort.SliceIsSorted(all.Findings, func(i, j int) bool { return key(all.Findings[i]) < key(all.Findings[j]) }) {
		t.Error("findings not sorted by account, rule, resource")
	}
	var walked []api.Finding
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > len(all.Findings) {
			t.Fatal("pagination does not end")
		}
		var p findingsPage
		if code, raw := f.do(t, "GET", "/api/v1/findings?status=all&limit=2&cursor="+cursor, f.Viewer, nil, &p); code != 200 {
			t.Fatalf("%d %s", code, raw)
		}
		walked = append(walked, p.Findings...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(walked) != len(all.Findings) {
		t.Fatalf("walked %d findings, one page holds %d", len(walked), len(all.Findings))
	}
	for i := range walked {
		if walked[i].ID != all.Findings[i].ID {
			t.Fatalf("finding %d: %s, want %s", i, walked[i].ID, all.Findings[i].ID)
		}
	}
	var crit findingsPage
	f.do(t, "GET", "/api/v1/findings?severity=critical", f.Viewer, nil, &crit)
	for _, x := range crit.Findings {
		if x.Severity.String() != "critical" || x.State != "open" {
			t.Errorf("severity=critical gave %+v", x)
		}
	}
	if len(crit.Findings) == 0 {
		t.Error("no critical finding")
	}
	for q, code := range map[string]string{"status=nope": "invalid_filter", "severity=huge": "invalid_filter", "limit=0": "invalid_limit", "cursor=%21%21": "invalid_cursor"} {
		status, raw := f.do(t, "GET", "/api/v1/findings?"+q, f.Viewer, nil, nil)
		if status != 400 || !strings.Contains(string(raw), `"`+code+`"`) {
			t.Errorf("%s: %d %s, want 400 %s", q, status, raw, code)
		}
	}
}

// A finding comes with its history and evidence; an unknown ID is a
// JSON 404.
func TestFinding(t *testing.T) {
	f := start(t)
	c := f.critical(t)
	var out struct{ Finding api.Finding }
	if code, raw := f.do(t, "GET", "/api/v1/findings/"+c.ID, f.Viewer, nil, &out); code != 200 {
		t.Fatalf("%d %s", code, raw)
	}
	if len(out.Finding.History) == 0 || out.Finding.History[0].Transition != "new" || len(out.Finding.Evidence) == 0 || out.Finding.Status != "FAIL" {
		t.Errorf("%+v", out.Finding)
	}
	if code, raw := f.do(t, "GET", "/api/v1/findings/f-nothing", f.Viewer, nil, nil); code != 404 || !strings.Contains(string(raw), `"not_found"`) {
		t.Errorf("%d %s", code, raw)
	}
}

// A suppression is checked as `vigil suppress add` checks it, mutes the
// finding, and goes away with DELETE.
func TestSuppressions(t *testing.T) {
	f := start(t)
	now := testclock.Ref()
	bad := map[string]func(m map[string]string){
		"no owner":        func(m map[string]string) { delete(m, "owner") },
		"blank reason":    func(m map[string]string) { m["reason"] = "  " },
		"unknown rule":    func(m map[string]string) { m["rule_id"] = "no-such-rule" },
		"short account":   func(m map[string]string) { m["account_id"] = "1111" },
		"past expiry":     func(m map[string]string) { m["expires"] = now.Add(-time.Hour).Format(time.RFC3339) },
		"two years":       func(m map[string]string) { m["expires"] = now.Add(2 * 365 * 24 * time.Hour).Format(time.DateOnly) },
		"no expiry":       func(m map[string]string) { delete(m, "expires") },
		"garbled expires": func(m map[string]string) { m["expires"] = "soon" },
	}
	for name, mutate := range bad {
		body := validSuppression(now)
		mutate(body)
		if code, raw := f.do(t, "POST", "/api/v1/suppressions", f.Admin, body, nil); code != 422 || !strings.Contains(string(raw), `"invalid_suppression"`) {
			t.Errorf("%s: %d %s", name, code, raw)
		}
	}
	if code, raw := f.do(t, "POST", "/api/v1/suppressions", f.Admin, map[string]any{"rule_id": "root-access-key", "extra": 1}, nil); code != 400 || !strings.Contains(string(raw), `"invalid_json"`) {
		t.Errorf("unknown field: %d %s", code, raw)
	}
	var created struct{ Suppression api.Suppression }
	if code, raw := f.do(t, "POST", "/api/v1/suppressions", f.Admin, validSuppression(now), &created); code != 201 || !created.Suppression.Active || created.Suppression.Owner != "alice@example.com" {
		t.Fatalf("%d %s", code, raw)
	}
	if c := f.critical(t); !c.Suppressed || c.Suppression == nil || c.Suppression.ID != created.Suppression.ID {
		t.Errorf("the finding is not muted: %+v", c)
	}
	var list struct{ Suppressions []api.Suppression }
	if f.do(t, "GET", "/api/v1/suppressions", f.Viewer, nil, &list); len(list.Suppressions) != 1 {
		t.Errorf("%+v", list)
	}
	path := "/api/v1/suppressions/" + itoa(created.Suppression.ID)
	if code, raw := f.do(t, "DELETE", path, f.Admin, nil, nil); code != 204 {
		t.Fatalf("%d %s", code, raw)
	}
	if code, _ := f.do(t, "DELETE", path, f.Admin, nil, nil); code != 404 {
		t.Errorf("second delete: %d", code)
	}
	if code, _ := f.do(t, "DELETE", "/api/v1/suppressions/x", f.Admin, nil, nil); code != 400 {
		t.Errorf("bad ID: %d", code)
	}
	if c := f.critical(t); c.Suppressed {
		t.Error("still muted after the delete")
	}
}

func TestScans(t *testing.T) {
	f := start(t)
	var out struct{ Scans []api.Scan }
	if code, raw := f.do(t, "GET", "/api/v1/scans", f.Viewer, nil, &out); code != 200 || len(out.Scans) != 1 || out.Scans[0].Outcome != "complete" || out.Scans[0].Accounts < 5 {
		t.Errorf("%d %s", code, raw)
	}
}

// The OpenAPI document describes exactly the routes served: every route
// is in it, every operation in it is served and answers with a status
// it documents.
func TestOpenAPI(t *testing.T) {
	f := start(t)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct{ Title, Version string }
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Responses   map[string]json.RawMessage
		}
		Components struct {
			Schemas map[string]json.RawMessage
		}
	}
	code, raw := f.do(t, "GET", "/api/v1/openapi.json", f.Viewer, nil, &doc)
	if code != 200 || doc.OpenAPI != "3.1.0" || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Fatalf("%d %.200s", code, raw)
	}
	// Every $ref points at something the document holds.
	for _, m := range regexpAll(`"\$ref": "#/components/(schemas|responses)/([A-Za-z]+)"`, string(raw)) {
		if !strings.Contains(string(raw), `"`+m+`": {`) {
			t.Errorf("dangling $ref to %s", m)
		}
	}
	served := map[string]bool{}
	for _, r := range api.Routes {
		served[r.Method+" "+r.Path] = true
		if _, ok := doc.Paths[r.Path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("%s %s is served but not in the OpenAPI document", r.Method, r.Path)
		}
	}
	id := f.critical(t).ID
	ops := map[string]bool{}
	for path, methods := range doc.Paths {
		for m, op := range methods {
			method := strings.ToUpper(m)
			if !served[method+" "+path] {
				t.Errorf("%s %s is in the document but not served", method, path)
			}
			if op.OperationID == "" || ops[op.OperationID] {
				t.Errorf("%s %s: operationId %q missing or repeated", method, path, op.OperationID)
			}
			ops[op.OperationID] = true
			// A request the document describes gets a status it lists.
			p := concretePath(strings.Replace(strings.Replace(path, "/findings/{id}", "/findings/"+id, 1), "/suppressions/{id}", "/suppressions/999", 1))
			body := bodyFor(method, path)
			code, _ := f.do(t, method, p, f.Admin, body, nil)
			if _, ok := op.Responses[itoa(int64(code))]; !ok {
				t.Errorf("%s %s answered %d, which the document does not list", method, p, code)
			}
		}
	}
}

func regexpAll(pattern, s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(s, -1) {
		out = append(out, m[2])
	}
	return out
}
