package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/api/apitest"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/dashboard"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// serve runs the API and the dashboard over a filled store, as vigil
// serve mounts them.
func serve(t *testing.T) (apitest.Filled, *httptest.Server) {
	t.Helper()
	return serveWith(t, nil)
}

// serveWith is serve with the schedules sched makes (none when nil).
func serveWith(t *testing.T, sched func(st store.Store) api.Scheduler) (apitest.Filled, *httptest.Server) {
	t.Helper()
	f := apitest.Fill(t)
	mux := http.NewServeMux()
	c := clock.Pinned{T: testclock.Ref()}
	var s api.Scheduler
	if sched != nil {
		s = sched(f.Store)
	}
	// The serve config's auto-fix: root-access-key planned everywhere.
	fixes := api.AutoFix{Baseline: []store.AutoFixPolicy{{Rule: "root-access-key", Mode: store.AutoFixPlan, MinIdle: 30 * 24 * time.Hour}}}
	api.Mount(mux, api.Config{Store: f.Store, Clock: c, Scheduler: s, AutoFix: fixes})
	dashboard.Mount(mux, dashboard.Config{Store: f.Store, Clock: c, Scheduler: s, AutoFix: fixes})
	srv := httptest.NewServer(api.Secure(mux))
	t.Cleanup(srv.Close)
	return f, srv
}

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("VIGIL_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("no chromium on PATH and VIGIL_REQUIRE_CHROMIUM=1")
	}
	t.Skip("no chromium on PATH")
	return ""
}

// artefacts is where screenshots go: $VIGIL_ARTIFACTS when set (CI keeps
// it), else the test's temporary directory.
func artefacts(t *testing.T) string {
	if d := os.Getenv("VIGIL_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func criticalFinding(t *testing.T, st store.Store) store.Finding {
	t.Helper()
	fs, err := st.Findings(context.Background(), store.Filter{States: []lifecycle.State{lifecycle.Open}, MinSeverity: int(rule.Critical),
		Rules: []string{"root-access-key"}, Accounts: []string{"111111111111"}, Now: testclock.Ref()})
	if err != nil || len(fs) != 1 {
		t.Fatalf("the demo's critical finding: %v %v", fs, err)
	}
	return fs[0]
}

// browser is a headless Chromium tab the tests drive as a person would.
type browser struct {
	t   *testing.T
	ctx context.Context
	out string
}

// openBrowser starts Chromium at bin; screenshots go to out.
func openBrowser(t *testing.T, bin, out string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// Wide: a loaded two-core machine starts Chromium slowly.
	ctx, cancelT := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(cancelT)
	return &browser{t: t, ctx: ctx, out: out}
}

func (b *browser) step(what string, a chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, a); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

func (b *browser) get(what string, a chromedp.Action[string]) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// shot writes a full-page screenshot to the artefacts.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(b.out, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// A person in headless Chromium: signs in with a token, sees the demo's
// critical finding on the overview, opens it, suppresses it through the
// form with an expiry and sees it muted; a form posted from another
// origin changes nothing.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	f, srv := serve(t)
	out := artefacts(t)
	crit := criticalFinding(t, f.Store)

	b := openBrowser(t, bin, out)
	step, get, shot := b.step, b.get, b.shot
	step("open the dashboard", chromedp.Navigate(srv.URL+"/"))
	step("the sign-in form", chromedp.WaitVisible(chromedp.CSS("#token")))
	step("type the token", chromedp.SendKeys(chromedp.CSS("#token"), f.Admin))
	step("sign in", chromedp.Click(chromedp.CSS("section.card form button")))
	step("the overview", chromedp.WaitVisible(chromedp.CSS(".tiles")))
	overview := get("read the overview", chromedp.OuterHTML(chromedp.CSS("main")))
	shot("overview.png")
	step("open the critical finding", chromedp.Click(chromedp.CSS(`a[href="/findings/`+crit.ID+`"]`)))
	step("the finding page", chromedp.WaitVisible(chromedp.CSS("form.suppress")))
	finding := get("read the finding", chromedp.OuterHTML(chromedp.CSS("main")))
	shot("finding.png")
	step("owner", chromedp.SendKeys(chromedp.CSS("input[name=owner]"), "alice@example.com"))
	step("reason", chromedp.SendKeys(chromedp.CSS("input[name=reason]"), "break-glass key kept in the vault"))
	step("expiry", chromedp.SetValue(chromedp.CSS("input[name=expires]"), testclock.Ref().Add(30*24*time.Hour).Format(time.DateOnly)))
	step("suppress", chromedp.Click(chromedp.CSS("form.suppress button")))
	step("shown suppressed", chromedp.WaitVisible(chromedp.CSS("section.suppressed")))
	after := get("read the muted finding", chromedp.OuterHTML(chromedp.CSS("main")))
	shot("finding-suppressed.png")
	if !strings.Contains(overview, "Critical findings open") || !strings.Contains(overview, "/findings/"+crit.ID) || !strings.Contains(overview, "111111111111") {
		t.Errorf("the overview does not show the critical finding:\n%s", overview)
	}
	if !strings.Contains(finding, "Evidence") || !strings.Contains(finding, "Timeline") || !strings.Contains(finding, ">new<") {
		t.Errorf("the finding page lacks evidence or timeline:\n%s", finding)
	}
	if !strings.Contains(after, "alice@example.com") || !strings.Contains(after, "suppressed") {
		t.Errorf("not shown muted after the form:\n%s", after)
	}
	if !strings.Contains(overview, `<svg class="trend"`) || !strings.Contains(overview, "Next scan") || !strings.Contains(overview, "Alert failures") {
		t.Errorf("the overview lacks the trend chart, the next scan or the alert failures:\n%s", overview)
	}
	step("the accounts page", chromedp.Click(chromedp.CSS(`header nav a[href="/accounts"]`)))
	step("accounts by OU", chromedp.WaitVisible(chromedp.CSS("main section.card table")))
	accounts := get("read the accounts", chromedp.OuterHTML(chromedp.CSS("main")))
	shot("accounts.png")
	if !strings.Contains(accounts, "111111111111") || !strings.Contains(accounts, "Root") {
		t.Errorf("the accounts page lacks the management account or its OU:\n%s", accounts)
	}
	// An admin turns the config's auto-fix of root-access-key off and
	// limits root-signing-certificate's plan to an OU: recorded with the
	// token's name, shown in force.
	step("the auto-fix page", chromedp.Click(chromedp.CSS(`header nav a[href="/autofix"]`)))
	step("its forms", chromedp.WaitVisible(chromedp.CSS(`#root-access-key form.autofix`)))
	step("mode off", chromedp.SetValue(chromedp.CSS(`#root-access-key select[name=mode]`), "off"))
	step("save", chromedp.Click(chromedp.CSS(`#root-access-key form.autofix button`)))
	step("changed", chromedp.WaitVisible(chromedp.Search(`//p[contains(@class,"notice")][code[text()="root-access-key"]]`)))
	step("plan", chromedp.SetValue(chromedp.CSS(`#root-signing-certificate select[name=mode]`), "plan"))
	step("OU", chromedp.SendKeys(chromedp.CSS(`#root-signing-certificate input[name=ous]`), "Root/Workloads"))
	step("save the second", chromedp.Click(chromedp.CSS(`#root-signing-certificate form.autofix button`)))
	// The first save's notice is still on the page until the second
	// answer replaces it: wait for the notice naming the second rule, or
	// the page is read in the middle of the navigation.
	step("changed again", chromedp.WaitVisible(chromedp.Search(`//p[contains(@class,"notice")][code[text()="root-signing-certificate"]]`)))
	autofix := get("read the auto-fix page", chromedp.OuterHTML(chromedp.CSS("main")))
	shot("autofix.png")
	changes, err := f.Store.AutoFixChanges(context.Background())
	if err != nil || len(changes) != 2 || changes[0].Rule != "root-access-key" || changes[0].Mode != store.AutoFixOff || !strings.HasPrefix(changes[0].By, "token ") ||
		changes[1].Mode != store.AutoFixPlan || len(changes[1].OUs) != 1 || changes[1].OUs[0] != "Root/Workloads" {
		t.Errorf("the store holds %+v, %v; want root-access-key off and root-signing-certificate planned below Root/Workloads", changes, err)
	}
	if !strings.Contains(autofix, "Off: findings are not fixed automatically") || !strings.Contains(autofix, "below Root/Workloads") {
		t.Errorf("the auto-fix page does not show the changes in force:\n%s", autofix)
	}
	// The admin drops the change to root-access-key: the config's plan
	// is in force again, and the reset is in the history.
	step("reset", chromedp.Click(chromedp.CSS(`#root-access-key form.reset button`)))
	step("reset notice", chromedp.WaitVisible(chromedp.Search(`//p[contains(@class,"notice")][contains(., "serve config's again")][code[text()="root-access-key"]]`)))
	reset := get("read the page after the reset", chromedp.OuterHTML(chromedp.CSS("#root-access-key")))
	shot("autofix-reset.png")
	if changes, err := f.Store.AutoFixChanges(context.Background()); err != nil || len(changes) != 1 || changes[0].Rule != "root-signing-certificate" {
		t.Errorf("after the reset the store holds %+v, %v; want root-signing-certificate's change alone", changes, err)
	}
	if !strings.Contains(reset, "every account") || strings.Contains(reset, "Off: findings are not fixed") || strings.Contains(reset, `form class="reset"`) {
		t.Errorf("root-access-key after the reset:\n%s", reset)
	}
	if got := criticalFinding(t, f.Store); got.Suppression == nil || got.Suppression.Owner != "alice@example.com" || got.Suppression.Expires == nil {
		t.Errorf("the store holds no suppression with an expiry: %+v", got.Suppression)
	}

	// Another origin's page posts the suppress form of another finding
	// into the signed-in browser: refused, nothing stored.
	fs, _ := f.Store.Findings(context.Background(), store.Filter{States: []lifecycle.State{lifecycle.Open}, Now: testclock.Ref()})
	var target store.Finding
	for _, x := range fs {
		if x.Suppression == nil {
			target = x
			break
		}
	}
	if target.ID == "" {
		t.Fatal("no unsuppressed finding left to attack")
	}
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/findings/%s/suppress"><input name="owner" value="mallory"><input name="reason" value="x"><input name="expires" value="%s"></form><script>document.forms[0].submit()</script>`,
			srv.URL, target.ID, testclock.Ref().Add(24*time.Hour).Format(time.DateOnly))
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	step("the other origin's page", chromedp.Navigate(evilURL))
	step("let its form post", chromedp.Sleep(2*time.Second))
	body := get("read the answer", chromedp.Text(chromedp.CSS("body")))
	sps, err := f.Store.Suppressions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range sps {
		if sp.Owner == "mallory" {
			t.Fatalf("a cross-origin form added a suppression (page said %q)", body)
		}
	}
	if len(sps) != 1 {
		t.Errorf("suppressions: %+v", sps)
	}
}
