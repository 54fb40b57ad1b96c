package dashboard_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// client is a browser without JavaScript: a cookie jar, no redirects
// followed, so that each answer is seen.
func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func send(t *testing.T, c *http.Client, method, u string, form url.Values, origin string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// Every page and form with no session, a wrong token, a viewer's and an
// admin's session; the cookie's attributes; CSRF and origin checks.
func TestSessionsAndForms(t *testing.T) {
	f, srv := serve(t)
	crit := criticalFinding(t, f.Store)
	signin := func(token string) (*http.Client, int, string) {
		c := client(t)
		resp, _ := send(t, c, "POST", srv.URL+"/signin", url.Values{"token": {token}, "next": {"/findings"}}, srv.URL)
		return c, resp.StatusCode, resp.Header.Get("Set-Cookie")
	}
	pages := []string{"/", "/findings", "/findings?status=all&severity=high", "/findings/" + crit.ID, "/accounts", "/accounts/111111111111",
		"/compliance", "/compliance/cis-aws", "/events", "/scans", "/suppressions", "/deliveries", "/autofix"}

	anon := client(t)
	for _, p := range pages {
		resp, _ := send(t, anon, "GET", srv.URL+p, nil, "")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
			t.Errorf("GET %s without a session: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, form := range []string{"/findings/" + crit.ID + "/suppress", "/scans", "/suppressions/1/remove", "/autofix/root-access-key", "/autofix/root-access-key/reset"} {
		if resp, _ := send(t, anon, "POST", srv.URL+form, url.Values{"owner": {"x"}, "schedule": {"nightly"}}, srv.URL); resp.StatusCode != 401 {
			t.Errorf("POST %s without a session: %d", form, resp.StatusCode)
		}
	}
	for _, bad := range []string{"", "nonsense", f.Revoked, "vigil_0123456789ab_" + strings.Repeat("A", 43)} {
		if _, code, cookie := signin(bad); code != 401 || cookie != "" {
			t.Errorf("sign-in with %q: %d, cookie %q", bad, code, cookie)
		}
	}

	viewer, code, cookie := signin(f.Viewer)
	if code != http.StatusSeeOther {
		t.Fatalf("viewer sign-in: %d", code)
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	if strings.Contains(cookie, f.Viewer) {
		t.Error("the cookie carries the token")
	}
	for _, p := range pages {
		if resp, body := send(t, viewer, "GET", srv.URL+p, nil, ""); resp.StatusCode != 200 || !strings.Contains(body, "Vigil") {
			t.Errorf("viewer GET %s: %d", p, resp.StatusCode)
		}
	}
	_, page := send(t, viewer, "GET", srv.URL+"/findings/"+crit.ID, nil, "")
	if strings.Contains(page, `action="/findings/`+crit.ID+`/suppress"`) {
		t.Error("a viewer is offered the suppress form")
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	form := url.Values{"csrf": {m[1]}, "owner": {"bob"}, "reason": {"r"}, "expires": {testclock.Ref().Add(48 * time.Hour).Format(time.DateOnly)}}
	if resp, _ := send(t, viewer, "POST", srv.URL+"/findings/"+crit.ID+"/suppress", form, srv.URL); resp.StatusCode != 403 {
		t.Errorf("viewer suppress: %d", resp.StatusCode)
	}

	admin, code, _ := signin(f.Admin)
	if code != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d", code)
	}
	_, page = send(t, admin, "GET", srv.URL+"/findings/"+crit.ID, nil, "")
	m = csrfField.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `action="/findings/`+crit.ID+`/suppress"`) {
		t.Fatal("the admin has no suppress form")
	}
	form.Set("csrf", m[1])
	noCSRF := url.Values{"owner": form["owner"], "reason": form["reason"], "expires": form["expires"]}
	wrongCSRF := url.Values{"csrf": {strings.Repeat("0", 64)}, "owner": form["owner"], "reason": form["reason"], "expires": form["expires"]}
	for name, c := range map[string]struct {
		form   url.Values
		origin string
	}{
		"no CSRF token":    {noCSRF, srv.URL},
		"wrong CSRF token": {wrongCSRF, srv.URL},
		"other origin":     {form, "http://evil.example"},
	} {
		if resp, _ := send(t, admin, "POST", srv.URL+"/findings/"+crit.ID+"/suppress", c.form, c.origin); resp.StatusCode != 403 {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	bad := url.Values{"csrf": form["csrf"], "owner": {"bob"}, "reason": {"r"}, "expires": {testclock.Ref().Add(-time.Hour).Format(time.RFC3339)}}
	if resp, body := send(t, admin, "POST", srv.URL+"/findings/"+crit.ID+"/suppress", bad, srv.URL); resp.StatusCode != 422 || !strings.Contains(body, "not in the future") {
		t.Errorf("past expiry: %d", resp.StatusCode)
	}
	if sps, _ := f.Store.Suppressions(t.Context()); len(sps) != 0 {
		t.Fatalf("refused forms stored %+v", sps)
	}
	if resp, _ := send(t, admin, "POST", srv.URL+"/findings/"+crit.ID+"/suppress", form, srv.URL); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("admin suppress: %d", resp.StatusCode)
	}
	if got := criticalFinding(t, f.Store); got.Suppression == nil || got.Suppression.Owner != "bob" {
		t.Errorf("not suppressed: %+v", got.Suppression)
	}

	// Revoking the token ends its sessions at once.
	if err := f.Store.RevokeToken(t.Context(), "viewer", testclock.Ref()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := send(t, viewer, "GET", srv.URL+"/", nil, ""); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("session of a revoked token: %d", resp.StatusCode)
	}
	// Sign-out ends the session.
	_, page = send(t, admin, "GET", srv.URL+"/", nil, "")
	m = csrfField.FindStringSubmatch(page)
	send(t, admin, "POST", srv.URL+"/signout", url.Values{"csrf": {m[1]}}, srv.URL)
	if resp, _ := send(t, admin, "GET", srv.URL+"/", nil, ""); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", resp.StatusCode)
	}
}

// Failed sign-ins are limited per address: after ten, even the right
// token is refused for a while.
func TestSignInRateLimit(t *testing.T) {
	f, srv := serve(t)
	c := client(t)
	for i := 0; i < 10; i++ {
		send(t, c, "POST", srv.URL+"/signin", url.Values{"token": {"wrong"}}, srv.URL)
	}
	if resp, _ := send(t, c, "POST", srv.URL+"/signin", url.Values{"token": {f.Admin}}, srv.URL); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after ten failures: %d, want 429", resp.StatusCode)
	}
}

// The auto-fix form: an admin's change lands in the store with the
// token's name and shows in force; a viewer is not offered the form and
// may not post it; another origin may not either; a bad policy is
// refused with the reason beside the form.
func TestAutoFixForm(t *testing.T) {
	f, srv := serve(t)
	signin := func(token string) *http.Client {
		c := client(t)
		if resp, _ := send(t, c, "POST", srv.URL+"/signin", url.Values{"token": {token}, "next": {"/autofix"}}, srv.URL); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		return c
	}
	viewer, admin := signin(f.Viewer), signin(f.Admin)
	_, page := send(t, viewer, "GET", srv.URL+"/autofix", nil, "")
	if strings.Contains(page, `action="/autofix/`) || !strings.Contains(page, "every account") {
		t.Errorf("viewer's auto-fix page:\n%s", page)
	}
	csrf := func(c *http.Client) string {
		_, page := send(t, c, "GET", srv.URL+"/autofix", nil, "")
		m := csrfField.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token:\n%s", page)
		}
		return m[1]
	}
	if resp, _ := send(t, viewer, "POST", srv.URL+"/autofix/root-access-key", url.Values{"csrf": {csrf(viewer)}, "mode": {"off"}}, srv.URL); resp.StatusCode != 403 {
		t.Errorf("viewer post: %d", resp.StatusCode)
	}
	tok := csrf(admin)
	if resp, _ := send(t, admin, "POST", srv.URL+"/autofix/root-access-key", url.Values{"csrf": {tok}, "mode": {"off"}}, "https://evil.example"); resp.StatusCode != 403 {
		t.Errorf("cross-origin post: %d", resp.StatusCode)
	}
	if resp, body := send(t, admin, "POST", srv.URL+"/autofix/root-access-key", url.Values{"csrf": {tok}, "mode": {"apply"}}, srv.URL); resp.StatusCode != 422 || !strings.Contains(body, "audit log") {
		t.Errorf("apply without an audit log: %d %s", resp.StatusCode, body)
	}
	if resp, _ := send(t, admin, "POST", srv.URL+"/autofix/root-mfa", url.Values{"csrf": {tok}, "mode": {"plan"}}, srv.URL); resp.StatusCode != 404 {
		t.Errorf("a rule the fix engine does not fix: %d", resp.StatusCode)
	}
	if cs, _ := f.Store.AutoFixChanges(context.Background()); len(cs) != 0 {
		t.Fatalf("refused posts changed the store: %+v", cs)
	}
	resp, _ := send(t, admin, "POST", srv.URL+"/autofix/root-access-key", url.Values{"csrf": {tok}, "mode": {"plan"}, "min_idle_days": {"45"}, "accounts": {"222222222222, 333333333333"}}, srv.URL)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/autofix?changed=root-access-key") {
		t.Fatalf("admin post: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	cs, err := f.Store.AutoFixChanges(context.Background())
	if err != nil || len(cs) != 1 || cs[0].Mode != "plan" || cs[0].MinIdle != 45*24*time.Hour || len(cs[0].Accounts) != 2 || !strings.HasPrefix(cs[0].By, "token ") {
		t.Fatalf("stored: %+v %v", cs, err)
	}
	_, page = send(t, admin, "GET", srv.URL+resp.Header.Get("Location"), nil, "")
	if !strings.Contains(page, "was changed") || !strings.Contains(page, "accounts 222222222222, 333333333333") || !strings.Contains(page, "idle 45 days") {
		t.Errorf("the page after the change:\n%s", page)
	}

	// Reset to the config's policy: offered to admins for a changed rule
	// alone, refused to viewers and other origins, recorded with who and
	// when, and the config's policy (plan everywhere) in force again.
	reset := `action="/autofix/root-access-key/reset"`
	if !strings.Contains(page, reset) || strings.Contains(page, `action="/autofix/root-signing-certificate/reset"`) {
		t.Errorf("the reset button is not offered for the changed rule alone:\n%s", page)
	}
	if _, page := send(t, viewer, "GET", srv.URL+"/autofix", nil, ""); strings.Contains(page, reset) {
		t.Error("a viewer is offered the reset")
	}
	if resp, _ := send(t, viewer, "POST", srv.URL+"/autofix/root-access-key/reset", url.Values{"csrf": {csrf(viewer)}}, srv.URL); resp.StatusCode != 403 {
		t.Errorf("viewer reset: %d", resp.StatusCode)
	}
	if resp, _ := send(t, admin, "POST", srv.URL+"/autofix/root-access-key/reset", url.Values{"csrf": {tok}}, "https://evil.example"); resp.StatusCode != 403 {
		t.Errorf("cross-origin reset: %d", resp.StatusCode)
	}
	if resp, _ := send(t, admin, "POST", srv.URL+"/autofix/root-access-key/reset", url.Values{"csrf": {"forged"}}, srv.URL); resp.StatusCode != 403 {
		t.Errorf("reset without the CSRF token: %d", resp.StatusCode)
	}
	if resp, _ := send(t, admin, "POST", srv.URL+"/autofix/root-mfa/reset", url.Values{"csrf": {tok}}, srv.URL); resp.StatusCode != 404 {
		t.Errorf("reset of a rule the fix engine does not fix: %d", resp.StatusCode)
	}
	if cs, _ := f.Store.AutoFixChanges(context.Background()); len(cs) != 1 {
		t.Fatalf("refused resets changed the store: %+v", cs)
	}
	resp, _ = send(t, admin, "POST", srv.URL+"/autofix/root-access-key/reset", url.Values{"csrf": {tok}}, srv.URL)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/autofix?reset=root-access-key") {
		t.Fatalf("admin reset: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if cs, err := f.Store.AutoFixChanges(context.Background()); err != nil || len(cs) != 0 {
		t.Fatalf("in force after the reset: %+v %v", cs, err)
	}
	h, err := f.Store.AutoFixHistory(context.Background(), 10)
	if err != nil || len(h) != 2 || h[0].Mode != store.AutoFixConfig || !strings.HasPrefix(h[0].By, "token ") || !h[0].At.Equal(testclock.Ref()) {
		t.Fatalf("history after the reset: %+v %v", h, err)
	}
	_, page = send(t, admin, "GET", srv.URL+resp.Header.Get("Location"), nil, "")
	if !strings.Contains(page, "is the serve config's again") || strings.Contains(page, reset) || !strings.Contains(page, "<strong>reset</strong>") ||
		!strings.Contains(page, "idle 45 days") || !strings.Contains(page, "idle 30 days or more · every account") {
		t.Errorf("the page after the reset:\n%s", page)
	}
}

// The scans page lists a page of scans, newest first, with a link to
// the older ones and back: every scan is on one page and one only.
func TestScansPaged(t *testing.T) {
	f, srv := serve(t)
	ctx := context.Background()
	for i := range 60 {
		if _, err := f.Store.StartScan(ctx, store.Scan{Target: "paged", StartedAt: testclock.Ref().Add(time.Duration(i+1) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := f.Store.Scans(ctx, 1000)
	if err != nil || len(all) != 61 {
		t.Fatalf("%d scans, %v", len(all), err)
	}
	c := client(t)
	if resp, _ := send(t, c, "POST", srv.URL+"/signin", url.Values{"token": {f.Viewer}, "next": {"/scans"}}, srv.URL); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	row := regexp.MustCompile(`<tr><td>([0-9]+)</td>`)
	older := regexp.MustCompile(`<a href="(/scans\?before=[0-9]+)">Older</a>`)
	seen := map[string]int{}
	path, pages := "/scans", 0
	for path != "" {
		if pages++; pages > 3 {
			t.Fatal("paging does not end")
		}
		resp, body := send(t, c, "GET", srv.URL+path, nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			seen[m[1]]++
		}
		if pages > 1 && !strings.Contains(body, `<a href="/scans">Newest</a>`) {
			t.Errorf("page %d has no link back to the newest", pages)
		}
		path = ""
		if m := older.FindStringSubmatch(body); m != nil {
			path = m[1]
		}
	}
	if pages != 2 || len(seen) != 61 {
		t.Errorf("%d pages, %d scans seen; want 2 pages and 61 scans", pages, len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("scan %s listed %d times", id, n)
		}
	}
}

// The deliveries page lists the latest a page at a time, with a link to
// the older ones: every delivery is on one page and one only.
func TestDeliveriesPaged(t *testing.T) {
	f, srv := serve(t)
	ctx := context.Background()
	var routes []store.Route
	for i := range 130 {
		routes = append(routes, store.Route{Channel: fmt.Sprintf("channel-%03d", i), Kinds: lifecycle.Kinds})
	}
	if _, err := f.Store.FlushOutbox(ctx, routes, testclock.Ref()); err != nil {
		t.Fatal(err)
	}
	all, err := f.Store.Deliveries(ctx, false, 1000)
	if err != nil || len(all) <= 100 {
		t.Fatalf("%d deliveries, %v; want more than a page", len(all), err)
	}
	c := client(t)
	if resp, _ := send(t, c, "POST", srv.URL+"/signin", url.Values{"token": {f.Viewer}, "next": {"/deliveries"}}, srv.URL); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	row := regexp.MustCompile(`<tr><td><code>([^<]+)</code></td>`)
	older := regexp.MustCompile(`<a href="(/deliveries\?after=[^"]+)">Older</a>`)
	seen := map[string]int{}
	path, pages := "/deliveries", 0
	for path != "" {
		if pages++; pages > 3 {
			t.Fatal("paging does not end")
		}
		resp, body := send(t, c, "GET", srv.URL+path, nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			seen[m[1]]++
		}
		path = ""
		if m := older.FindStringSubmatch(body); m != nil {
			path = m[1]
		}
	}
	if pages != 2 || len(seen) != len(all) {
		t.Errorf("%d pages, %d deliveries seen; want 2 pages and %d", pages, len(seen), len(all))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %s listed %d times", id, n)
		}
	}
}

// The suppressions page lists them a page at a time: every suppression
// is on one page and one only.
func TestSuppressionsPaged(t *testing.T) {
	f, srv := serve(t)
	ctx := context.Background()
	for i := range 130 {
		exp := testclock.Ref().Add(time.Duration(i-10) * time.Hour) // the first ten expired
		if _, err := f.Store.AddSuppression(ctx, store.Suppression{RuleID: "root-mfa", AccountID: "222222222222", Resource: fmt.Sprintf("arn:x:%03d", i),
			Reason: "r", Owner: "o", Expires: &exp, CreatedAt: testclock.Ref().Add(-24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	c := client(t)
	if resp, _ := send(t, c, "POST", srv.URL+"/signin", url.Values{"token": {f.Viewer}, "next": {"/suppressions"}}, srv.URL); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	res := regexp.MustCompile(`arn:x:[0-9]{3}`)
	more := regexp.MustCompile(`<a href="(/suppressions\?after=[0-9]+)">More suppressions</a>`)
	seen := map[string]int{}
	path, pages := "/suppressions", 0
	for path != "" {
		if pages++; pages > 3 {
			t.Fatal("paging does not end")
		}
		resp, body := send(t, c, "GET", srv.URL+path, nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		for _, m := range res.FindAllString(body, -1) {
			seen[m]++
		}
		path = ""
		if m := more.FindStringSubmatch(body); m != nil {
			path = m[1]
		}
	}
	if pages != 2 || len(seen) != 130 {
		t.Errorf("%d pages, %d suppressions seen; want 2 pages and 130", pages, len(seen))
	}
	for r, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", r, n)
		}
	}
}

// The stylesheet's address names its content (it is cached for an hour:
// a browser kept the old rules for the new pages after an upgrade), and
// times are one unbroken <time> element with the time in RFC 3339.
func TestStylesheetAndTimes(t *testing.T) {
	f, srv := serve(t)
	c := client(t)
	_, page := send(t, c, "GET", srv.URL+"/signin", nil, "")
	m := regexp.MustCompile(`<link rel="stylesheet" href="(/static/style\.css\?v=([0-9a-f]{12}))">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no versioned stylesheet link:\n%s", page)
	}
	resp, css := send(t, c, "GET", srv.URL+m[1], nil, "")
	sum := sha256.Sum256([]byte(css))
	if resp.StatusCode != 200 || hex.EncodeToString(sum[:6]) != m[2] || !strings.Contains(css, "time, .nowrap") {
		t.Fatalf("the stylesheet at %s: %d, hash %x", m[1], resp.StatusCode, sum[:6])
	}
	if resp, _ := send(t, c, "POST", srv.URL+"/signin", url.Values{"token": {f.Viewer}, "next": {"/findings"}}, srv.URL); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	_, page = send(t, c, "GET", srv.URL+"/findings", nil, "")
	ref := testclock.Ref().UTC()
	want := `<time datetime="` + ref.Format(time.RFC3339) + `">` + ref.Format("2006-01-02 15:04") + ` UTC</time>`
	if !strings.Contains(page, want) {
		t.Errorf("no %s in the findings page:\n%s", want, page)
	}
}
