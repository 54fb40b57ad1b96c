package dashboard_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/events"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// scheduler stands in for vigil serve's server (whose scan-now is tested
// end to end in cmd/vigil's TestServeScanNow): one schedule, "nightly",
// whose scan starts by being recorded as running in the store, as the
// server records it, and expects the demo's five active accounts.
type scheduler struct {
	st      store.Store
	mu      sync.Mutex
	running bool
}

func (s *scheduler) Schedules(ctx context.Context) ([]api.ScheduleInfo, error) {
	next := testclock.Ref().Add(3 * time.Hour)
	return []api.ScheduleInfo{{Name: "nightly", Target: "organisation", When: "cron 0 2 * * *", Next: &next}}, nil
}

func (s *scheduler) ScanNow(ctx context.Context, name string) (store.Scan, error) {
	if name != "nightly" {
		return store.Scan{}, fmt.Errorf("schedule %q: %w", name, api.ErrNoSchedule)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return store.Scan{}, fmt.Errorf("schedule %q: %w", name, api.ErrScanRunning)
	}
	s.running = true
	now := testclock.Ref()
	return s.st.StartScan(ctx, store.Scan{Schedule: name, Tick: now, StartedAt: now, Target: "organisation"})
}

func (s *scheduler) Expected(int64) int { return 5 }

func withScheduler(st store.Store) api.Scheduler { return &scheduler{st: st} }

// recordRootEvents stores the emulator's EventBridge fixtures (real
// CloudTrail shapes) as events of the demo's production account, read by
// the same parser as the service's consumer: the root-activity timeline's
// data.
func recordRootEvents(t *testing.T, st store.Store) []store.RootEvent {
	t.Helper()
	files, err := filepath.Glob("../awsemu/testdata/eventbridge/root-*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("the EventBridge fixtures: %v %v", files, err)
	}
	var out []store.RootEvent
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		raw = bytes.ReplaceAll(raw, []byte("444455556666"), []byte("333333333333"))
		e, err := events.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := store.RootEvent{EventID: e.ID, Kind: string(e.Kind), Account: e.Account, Region: e.Region, Time: e.Time, Source: e.Source,
			Name: e.Name, IdentityARN: e.IdentityARN, SourceIP: e.SourceIP, UserAgent: e.UserAgent, AccessKeyID: e.AccessKeyID, MFA: e.MFA,
			ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, NewAccessKeyID: e.NewAccessKeyID, Summary: e.Summary(),
			ReceivedAt: e.Time.Add(time.Second), Alert: store.AlertQueued}
		got, _, err := st.RecordRootEvent(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	return out
}

var scanNowForm = regexp.MustCompile(`action="/scans"`)

// The pages beside the overview, over HTTP as a browser without
// JavaScript: each answers a viewer, shows what the issue lists, and
// offers its forms (scan now, remove a suppression) to admins only;
// those forms are refused without the session's CSRF token, from
// another origin and to viewers.
func TestPages(t *testing.T) {
	f, srv := serveWith(t, withScheduler)
	evs := recordRootEvents(t, f.Store)
	now := testclock.Ref()
	exp := now.Add(30 * 24 * time.Hour)
	sp, err := f.Store.AddSuppression(t.Context(), store.Suppression{RuleID: "root-mfa", AccountID: "444444444444", Reason: "sandbox, no console use",
		Owner: "carol@example.com", Expires: &exp, Ticket: "SEC-9", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	signin := func(token string) *http.Client {
		c := client(t)
		if resp, _ := send(t, c, "POST", srv.URL+"/signin", url.Values{"token": {token}}, srv.URL); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		return c
	}
	viewer, admin := signin(f.Viewer), signin(f.Admin)

	for path, want := range map[string][]string{
		"/scans":                             {"nightly", "cron 0 2 * * *", "complete"},
		"/suppressions":                      {"carol@example.com", "sandbox, no console use", "SEC-9", "444444444444"},
		"/compliance":                        {"CIS", "/compliance/cis-aws?version="},
		"/compliance/cis-aws":                {"root-access-key", "FAIL", "111111111111"},
		"/events":                            {"CreateAccessKey", "ConsoleLogin", "333333333333", "203.0.113"},
		"/events?account=111111111111":       {"No root activity recorded in 111111111111"},
		"/accounts/333333333333":             {"production", "Root activity", "CreateAccessKey"},
		"/accounts/111111111111":             {"management", "root-access-key", "No root activity recorded in this account"},
		"/accounts?ou=Root%2FWorkloads":      {"333333333333"},
		"/deliveries":                        {"Alert deliveries"},
		"/compliance/cis-aws?version=nope":   nil,
		"/accounts/999999999999":             nil,
		"/events?account=12":                 {"want a 12-digit account ID"},
		"/events?before=%21":                 {"the page link is damaged"},
		"/accounts?after=%21":                {"the page link is damaged"},
		"/compliance/no-such-framework-here": nil,
	} {
		resp, body := send(t, viewer, "GET", srv.URL+path, nil, "")
		if want == nil {
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
			continue
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
		if scanNowForm.MatchString(body) || strings.Contains(body, "/remove\"") {
			t.Errorf("GET %s offers a viewer an admin's form", path)
		}
	}
	if _, body := send(t, viewer, "GET", srv.URL+"/events?account=333333333333", nil, ""); strings.Count(body, `class="event`) != len(evs) {
		t.Errorf("the account's timeline shows %d events, want %d", strings.Count(body, `class="event`), len(evs))
	}

	// The admin's forms.
	_, scans := send(t, admin, "GET", srv.URL+"/scans", nil, "")
	m := csrfField.FindStringSubmatch(scans)
	if m == nil || !scanNowForm.MatchString(scans) {
		t.Fatal("the admin is not offered scan now")
	}
	csrf := m[1]
	removePath := fmt.Sprintf("/suppressions/%d/remove", sp.ID)
	if _, body := send(t, admin, "GET", srv.URL+"/suppressions", nil, ""); !strings.Contains(body, `action="`+removePath+`"`) {
		t.Fatal("the admin is not offered to remove the suppression")
	}
	_, vpage := send(t, viewer, "GET", srv.URL+"/scans", nil, "")
	vcsrf := csrfField.FindStringSubmatch(vpage)[1]
	for name, c := range map[string]struct {
		client *http.Client
		form   url.Values
		origin string
	}{
		"viewer":        {viewer, url.Values{"csrf": {vcsrf}, "schedule": {"nightly"}}, srv.URL},
		"no CSRF":       {admin, url.Values{"schedule": {"nightly"}}, srv.URL},
		"other origin":  {admin, url.Values{"csrf": {csrf}, "schedule": {"nightly"}}, "http://evil.example"},
		"viewer's CSRF": {admin, url.Values{"csrf": {vcsrf}, "schedule": {"nightly"}}, srv.URL},
	} {
		for _, path := range []string{"/scans", removePath} {
			if resp, _ := send(t, c.client, "POST", srv.URL+path, c.form, c.origin); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", name, path, resp.StatusCode)
			}
		}
	}
	if sps, _ := f.Store.Suppressions(t.Context()); len(sps) != 1 {
		t.Fatalf("a refused form removed the suppression: %+v", sps)
	}
	if ss, _ := f.Store.Scans(t.Context(), 10); len(ss) != 1 {
		t.Fatalf("a refused form started a scan: %+v", ss)
	}
	if resp, body := send(t, admin, "POST", srv.URL+"/scans", url.Values{"csrf": {csrf}, "schedule": {"hourly"}}, srv.URL); resp.StatusCode != 404 || !strings.Contains(body, "No schedule") {
		t.Errorf("unknown schedule: %d", resp.StatusCode)
	}
	resp, _ := send(t, admin, "POST", srv.URL+"/scans", url.Values{"csrf": {csrf}, "schedule": {"nightly"}}, srv.URL)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/scans?started=") {
		t.Fatalf("scan now: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := send(t, admin, "GET", srv.URL+resp.Header.Get("Location"), nil, ""); !strings.Contains(body, "started") || !strings.Contains(body, `<progress max="5" value="0"`) {
		t.Errorf("the started scan is not shown running with its progress:\n%s", body)
	}
	if resp, body := send(t, admin, "POST", srv.URL+"/scans", url.Values{"csrf": {csrf}, "schedule": {"nightly"}}, srv.URL); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "running already") {
		t.Errorf("second scan now: %d", resp.StatusCode)
	}
	if resp, _ := send(t, admin, "POST", srv.URL+removePath, url.Values{"csrf": {csrf}}, srv.URL); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("remove: %d", resp.StatusCode)
	}
	if sps, _ := f.Store.Suppressions(t.Context()); len(sps) != 0 {
		t.Errorf("the suppression is still stored: %+v", sps)
	}
	if resp, _ := send(t, admin, "POST", srv.URL+removePath, url.Values{"csrf": {csrf}}, srv.URL); resp.StatusCode != http.StatusNotFound {
		t.Errorf("second remove: %d", resp.StatusCode)
	}
}

// A person in headless Chromium goes through every page of the
// navigation and the root-activity timeline of an account, starts a
// scan, and the screenshots are written as artefacts.
func TestBrowserPages(t *testing.T) {
	bin := chromium(t)
	f, srv := serveWith(t, withScheduler)
	recordRootEvents(t, f.Store)
	exp := testclock.Ref().Add(30 * 24 * time.Hour)
	if _, err := f.Store.AddSuppression(t.Context(), store.Suppression{RuleID: "root-mfa", AccountID: "444444444444", Reason: "sandbox, no console use",
		Owner: "carol@example.com", Expires: &exp, Ticket: "SEC-9", CreatedAt: testclock.Ref()}); err != nil {
		t.Fatal(err)
	}
	b := openBrowser(t, bin, artefacts(t))
	b.step("open the dashboard", chromedp.Navigate(srv.URL+"/"))
	b.step("the sign-in form", chromedp.WaitVisible(chromedp.CSS("#token")))
	b.step("type the token", chromedp.SendKeys(chromedp.CSS("#token"), f.Admin))
	b.step("sign in", chromedp.Click(chromedp.CSS("section.card form button")))
	b.step("the overview", chromedp.WaitVisible(chromedp.CSS(".tiles")))
	for _, p := range []struct {
		nav, shot string
		want      []string
	}{
		{"/accounts", "accounts.png", []string{"Root/Workloads", "333333333333"}},
		{"/compliance", "compliance.png", []string{"CIS"}},
		{"/events", "events.png", []string{"CreateAccessKey", "ConsoleLogin", "UnauthorizedOperation"}},
		{"/scans", "scans.png", []string{"nightly", "Scan now"}},
		{"/suppressions", "suppressions.png", []string{"carol@example.com", "Remove"}},
		{"/deliveries", "deliveries.png", []string{"Alert deliveries"}},
	} {
		b.step("open "+p.nav, chromedp.Click(chromedp.CSS(`header nav a[href="`+p.nav+`"]`)))
		b.step("wait for "+p.nav, chromedp.WaitVisible(chromedp.CSS("main h1")))
		main := b.get("read "+p.nav, chromedp.Text(chromedp.CSS("main")))
		b.shot(p.shot)
		for _, w := range p.want {
			if !strings.Contains(main, w) {
				t.Errorf("%s lacks %q:\n%s", p.nav, w, main)
			}
		}
	}
	b.step("a framework", chromedp.Navigate(srv.URL+"/compliance/cis-aws"))
	b.step("its controls", chromedp.WaitVisible(chromedp.CSS("table.controls")))
	b.shot("framework.png")
	b.step("an account", chromedp.Navigate(srv.URL+"/accounts/333333333333"))
	b.step("its root activity", chromedp.WaitVisible(chromedp.CSS("ol.events")))
	acct := b.get("read the account", chromedp.Text(chromedp.CSS("main")))
	b.shot("account.png")
	if !strings.Contains(acct, "production") || !strings.Contains(acct, "CreateAccessKey") {
		t.Errorf("the account page lacks its name or its root activity:\n%s", acct)
	}
	b.step("the scans page", chromedp.Navigate(srv.URL+"/scans"))
	b.step("scan now", chromedp.Click(chromedp.CSS(`form[action="/scans"] button`)))
	b.step("the scan started", chromedp.WaitVisible(chromedp.CSS("p.notice")))
	started := b.get("read the scans", chromedp.Text(chromedp.CSS("main")))
	b.shot("scan-started.png")
	if !strings.Contains(started, "running") || !strings.Contains(started, "0 of 5") {
		t.Errorf("the started scan is not shown running with its progress:\n%s", started)
	}
}
