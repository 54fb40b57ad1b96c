package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// Accounts carry their OU, last scan and open findings by severity, and
// the counts agree with the findings the API lists.
func TestAccounts(t *testing.T) {
	f := start(t)
	var out struct{ Accounts []api.Account }
	if code, raw := f.do(t, "GET", "/api/v1/accounts", f.Viewer, nil, &out); code != 200 {
		t.Fatalf("%d %s", code, raw)
	}
	if len(out.Accounts) < 5 {
		t.Fatalf("the demo organisation has at least 5 accounts: %+v", out.Accounts)
	}
	var page findingsPage
	f.do(t, "GET", "/api/v1/findings?limit=500", f.Viewer, nil, &page)
	want := map[string]int{}
	for _, x := range page.Findings {
		if !x.Suppressed {
			want[x.AccountID]++
		}
	}
	ous := 0
	for _, a := range out.Accounts {
		if a.LastScanned == nil || a.LastScanID != 1 {
			t.Errorf("%s: last scan %v %d", a.AccountID, a.LastScanned, a.LastScanID)
		}
		if a.OU != "" {
			ous++
		}
		if a.Open.Total() != want[a.AccountID] {
			t.Errorf("%s: %d open counted, %d listed", a.AccountID, a.Open.Total(), want[a.AccountID])
		}
		if a.AccountID == "111111111111" && a.Open.Critical == 0 {
			t.Errorf("the management account's critical finding is not counted: %+v", a)
		}
	}
	if ous == 0 {
		t.Error("no account has an OU path")
	}
	var some struct{ Accounts []api.Account }
	f.do(t, "GET", "/api/v1/accounts?ou="+out.Accounts[len(out.Accounts)-1].OU, f.Viewer, nil, &some)
	if len(some.Accounts) == 0 || len(some.Accounts) >= len(out.Accounts) {
		t.Errorf("ou filter: %d of %d", len(some.Accounts), len(out.Accounts))
	}

	// Pages of two walk the same accounts in the same order, each with
	// the same counts as the one big page.
	var walked []api.Account
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > len(out.Accounts) {
			t.Fatal("account pages do not end")
		}
		var p struct {
			Accounts   []api.Account
			NextCursor string `json:"next_cursor"`
		}
		if code, raw := f.do(t, "GET", "/api/v1/accounts?limit=2&cursor="+cursor, f.Viewer, nil, &p); code != 200 || len(p.Accounts) > 2 {
			t.Fatalf("%d %s", code, raw)
		}
		walked = append(walked, p.Accounts...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if !cmp.Equal(walked, out.Accounts) {
		t.Errorf("pages of two differ from one page:\n%s", cmp.Diff(out.Accounts, walked))
	}
	for q, code := range map[string]string{"limit=0": "invalid_limit", "limit=501": "invalid_limit", "cursor=%21": "invalid_cursor"} {
		if status, raw := f.do(t, "GET", "/api/v1/accounts?"+q, f.Viewer, nil, nil); status != 400 || !strings.Contains(string(raw), `"`+code+`"`) {
			t.Errorf("%s: %d %s, want 400 %s", q, status, raw, code)
		}
	}
}

// A framework's controls are judged from the latest recorded results:
// the control the root access key rule decides fails, with the finding
// behind it; passing results are counted, not listed.
func TestCompliance(t *testing.T) {
	f := start(t)
	var list struct {
		Frameworks []api.ComplianceFramework
		Accounts   int
	}
	if code, raw := f.do(t, "GET", "/api/v1/compliance", f.Viewer, nil, &list); code != 200 || list.Accounts < 5 || len(list.Frameworks) == 0 {
		t.Fatalf("%d %.400s", code, raw)
	}
	for _, fw := range list.Frameworks {
		for _, v := range fw.Versions {
			if c := v.Coverage; c.Controls == 0 || c.Pass+c.Fail+c.Unknown+c.NotApplicable+c.Manual < c.Controls-c.PartlyAutomated-c.Automated {
				t.Errorf("%s %s: coverage %+v", fw.ID, v.Version, c)
			}
		}
	}
	var cis struct {
		Version  string
		Controls []api.ComplianceControl
	}
	if code, raw := f.do(t, "GET", "/api/v1/compliance/cis-aws?version=6.0.0", f.Viewer, nil, &cis); code != 200 || cis.Version != "6.0.0" {
		t.Fatalf("%d %.300s", code, raw)
	}
	var found bool
	for _, c := range cis.Controls {
		if c.ID != "2.3" {
			continue
		}
		found = true
		if c.Status != "FAIL" {
			t.Errorf("CIS 6.0.0 2.3: %s", c.Status)
		}
		for _, r := range c.Rules {
			if r.RuleID != "root-access-key" {
				continue
			}
			var mgmt bool
			for _, x := range r.Results {
				mgmt = mgmt || (x.AccountID == "111111111111" && x.Status == "FAIL")
				if x.Status != "FAIL" && x.Status != "UNKNOWN" {
					t.Errorf("a %s result listed", x.Status)
				}
			}
			if !mgmt || r.Passed == 0 {
				t.Errorf("root-access-key behind 2.3: %+v", r)
			}
		}
	}
	if !found {
		t.Error("CIS 6.0.0 has no control 2.3")
	}
	for path, code := range map[string]string{"/api/v1/compliance/nope": "not_found", "/api/v1/compliance/cis-aws?version=0.1": "not_found"} {
		if got, raw := f.do(t, "GET", path, f.Viewer, nil, nil); got != 404 || !strings.Contains(string(raw), code) {
			t.Errorf("%s: %d %s", path, got, raw)
		}
	}
}

// Deliveries list newest first with their state; failing lists the
// ones a channel refused.
func TestDeliveries(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	ds, err := f.Store.FlushOutbox(ctx, []store.Route{{Channel: "slack", Kinds: lifecycle.Kinds}, {Channel: "pager", Kinds: []lifecycle.Kind{lifecycle.New}, MinSeverity: 4}}, testclock.Ref())
	if err != nil || len(ds) != 2 {
		t.Fatalf("%d deliveries, %v", len(ds), err)
	}
	if err := f.Store.MarkAttempt(ctx, ds[1].ID, "pager: 503 Service Unavailable", testclock.Ref()); err != nil {
		t.Fatal(err)
	}
	var all struct{ Deliveries []api.Delivery }
	if code, raw := f.do(t, "GET", "/api/v1/deliveries", f.Viewer, nil, &all); code != 200 || len(all.Deliveries) != 2 {
		t.Fatalf("%d %s", code, raw)
	}
	var failing struct{ Deliveries []api.Delivery }
	f.do(t, "GET", "/api/v1/deliveries?status=failing", f.Viewer, nil, &failing)
	if len(failing.Deliveries) != 1 || failing.Deliveries[0].Status != "failing" || failing.Deliveries[0].LastError == "" || failing.Deliveries[0].Transitions == 0 {
		t.Errorf("failing: %+v", failing.Deliveries)
	}
	if code, _ := f.do(t, "GET", "/api/v1/deliveries?status=nope", f.Viewer, nil, nil); code != 400 {
		t.Errorf("bad status: %d", code)
	}
}
