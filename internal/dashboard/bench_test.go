package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/dashboard"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/sqlite"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// benchStore is a SQLite store of 5,000 accounts in which about one
// account result in five fails, recorded in full once, then, when days
// is set, that many days of hourly scans: each hour 0.1% of the results
// flip between FAIL and PASS (about 140 accounts re-recorded with the
// results that changed), and once a day the outbox is flushed into a
// delivery. The history grows the tables the pages read (findings,
// transitions, scans, deliveries) as the real service would; accounts
// whose results did not change are not re-recorded, which only leaves
// out scan-account rows no page reads.
func benchStore(b *testing.B, days int) (*sqlite.DB, time.Time) {
	ctx := context.Background()
	now := testclock.Ref().Add(-time.Duration(days) * 24 * time.Hour)
	// VIGIL_BENCH_DB keeps the store between runs: building 90 days
	// takes minutes, and the pages only read it.
	path := os.Getenv("VIGIL_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "vigil.db")
	}
	_, statErr := os.Stat(path)
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if statErr == nil {
		return st, testclock.Ref()
	}
	type acct struct {
		id, name string
		obs      []lifecycle.Observation
	}
	var accts []acct
	for i := range 5000 {
		a := acct{id: fmt.Sprintf("%012d", 200000000000+i), name: fmt.Sprint("account-", i)}
		for j, ru := range rules.All() {
			if ru.Scope != rule.AccountScope {
				continue
			}
			status := "PASS"
			if (i+j)%5 == 0 {
				status = "FAIL"
			}
			a.obs = append(a.obs, lifecycle.Observation{AccountID: a.id, RuleID: ru.ID, Title: ru.Title, Resource: "arn:aws:iam::" + a.id + ":root",
				Status: status, Severity: int(ru.Severity), Message: "m", Evidence: []byte(`[{"source":"iam:GetAccountSummary","key":"AccountAccessKeysPresent","value":"1"}]`)})
		}
		accts = append(accts, a)
	}
	ou := func(i int) string { return fmt.Sprintf("Root/Workloads/Team%02d", i%40) }
	scan := func(at time.Time, batch []store.AccountResults) {
		sc, err := st.StartScan(ctx, store.Scan{Schedule: "org", Tick: at, Target: "bench", StartedAt: at})
		if err != nil {
			b.Fatal(err)
		}
		for len(batch) > 0 {
			n := min(500, len(batch))
			if _, err := st.RecordAccounts(ctx, sc.ID, batch[:n], at); err != nil {
				b.Fatal(err)
			}
			batch = batch[n:]
		}
		if err := st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Complete, At: at.Add(time.Minute)}); err != nil {
			b.Fatal(err)
		}
	}
	var all []store.AccountResults
	for i, a := range accts {
		all = append(all, store.AccountResults{AccountID: a.id, AccountName: a.name, OU: ou(i), Results: a.obs})
	}
	scan(now, all)
	r := rand.New(rand.NewPCG(5000, 90))
	total := len(accts) * len(accts[0].obs)
	for h := 1; h <= days*24; h++ {
		at := now.Add(time.Duration(h) * time.Hour)
		changed := map[int][]lifecycle.Observation{}
		for range total / 1000 {
			i, j := r.IntN(len(accts)), r.IntN(len(accts[0].obs))
			o := &accts[i].obs[j]
			if o.Status == "FAIL" {
				o.Status = "PASS"
			} else {
				o.Status = "FAIL"
			}
			changed[i] = append(changed[i], *o)
		}
		var batch []store.AccountResults
		for i, obs := range changed {
			batch = append(batch, store.AccountResults{AccountID: accts[i].id, AccountName: accts[i].name, OU: ou(i), Results: obs})
		}
		scan(at, batch)
		if h%24 == 0 {
			if _, err := st.FlushOutbox(ctx, []store.Route{{Channel: "slack", Kinds: lifecycle.Kinds}}, at); err != nil {
				b.Fatal(err)
			}
		}
	}
	return st, now.Add(time.Duration(days) * 24 * time.Hour)
}

// BenchmarkPages measures the server time (handler called in process,
// no network) of the dashboard's pages and the API's findings page over
// benchStore's 5,000 accounts; VIGIL_BENCH_DAYS=90 adds the 90
// days of hourly history (it takes minutes to build). Each page reports
// its median and 95th percentile.
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	days, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_DAYS"))
	built := time.Now()
	st, now := benchStore(b, days)
	b.Logf("built %d days of history in %s", days, time.Since(built).Round(time.Second))
	plain, tok, _ := api.NewToken(fmt.Sprint("bench-", time.Now().UnixNano()), store.Admin)
	st.AddToken(ctx, tok)
	open, _ := st.Findings(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, Now: now})
	var ntrans int
	st.SQL().QueryRow("SELECT COUNT(*) FROM transitions").Scan(&ntrans)
	busiest := ""
	st.SQL().QueryRow("SELECT finding_id FROM transitions GROUP BY finding_id ORDER BY COUNT(*) DESC LIMIT 1").Scan(&busiest)
	b.Logf("%d open findings, %d transitions", len(open), ntrans)
	mux := http.NewServeMux()
	c := clock.Pinned{T: now}
	api.Mount(mux, api.Config{Store: st, Clock: c})
	dashboard.Mount(mux, dashboard.Config{Store: st, Clock: c})
	h := api.Secure(mux)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/signin", nil)
	req.PostForm = map[string][]string{"token": {plain}}
	h.ServeHTTP(rec, req)
	cookie := rec.Result().Cookies()
	if len(cookie) == 0 {
		b.Fatalf("sign-in: %d", rec.Code)
	}
	// The API's second page starts after a cursor.
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/api/v1/findings?limit=100", nil)
	req.Header.Set("Authorization", "Bearer "+plain)
	h.ServeHTTP(rec, req)
	var first struct {
		NextCursor string `json:"next_cursor"`
	}
	if err := jsonUnmarshal(rec.Body.Bytes(), &first); err != nil || first.NextCursor == "" {
		b.Fatalf("first page: %v", err)
	}
	// A recorded scan, for the pages measured right after one: the
	// findings of flip (ten open ones, in different accounts) resolved
	// by a scan, then opened again by the next, so that the store is
	// as it was after an even number of them. Each is a scan of ten
	// accounts whose one result changed, as the history's hours are.
	var flip []store.Finding
	for i := 0; i < len(open) && len(flip) < 10; i += len(open) / 10 {
		flip = append(flip, open[i])
	}
	failing := true
	scanned := func() {
		status := "PASS"
		if !failing {
			status = "FAIL"
		}
		sc, err := st.StartScan(ctx, store.Scan{Target: "bench", StartedAt: now})
		if err != nil {
			b.Fatal(err)
		}
		var batch []store.AccountResults
		for _, f := range flip {
			batch = append(batch, store.AccountResults{AccountID: f.AccountID, AccountName: f.AccountName, OU: f.OU, Results: []lifecycle.Observation{{
				AccountID: f.AccountID, AccountName: f.AccountName, RuleID: f.RuleID, Title: f.Title, Resource: f.Resource,
				Status: status, Severity: f.Severity, Message: f.Message, Evidence: f.Evidence}}})
		}
		if _, err := st.RecordAccounts(ctx, sc.ID, batch, now); err != nil {
			b.Fatal(err)
		}
		if err := st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Complete, At: now}); err != nil {
			b.Fatal(err)
		}
		failing = !failing
	}
	for _, p := range []struct {
		name, path string
		// change makes the store change before each request, so that
		// the overview computes its aggregates afresh: "suppression"
		// adds a suppression, then removes it before the next request
		// (no transition); "scan" records a scan that resolves or
		// reopens flip's findings (transitions, findings rewritten).
		change string
	}{
		{"api-findings-100", "/api/v1/findings?limit=100", ""},
		{"api-findings-100-next", "/api/v1/findings?limit=100&cursor=" + first.NextCursor, ""},
		{"api-accounts-100", "/api/v1/accounts", ""},
		{"overview", "/", ""},
		{"overview-after-change", "/", "suppression"},
		{"overview-after-scan", "/", "scan"},
		{"findings", "/findings", ""},
		{"findings-after-scan", "/findings", "scan"},
		{"findings-critical", "/findings?severity=critical", ""},
		{"finding", "/findings/" + open[len(open)/2].ID, ""},
		{"finding-after-scan", "/findings/" + flip[0].ID, "scan"},
		{"finding-busiest", "/findings/" + busiest, ""},
		{"accounts-200", "/accounts", ""},
		{"events-100", "/events", ""},
	} {
		b.Run(p.name, func(b *testing.B) {
			var took []time.Duration
			var cpu time.Duration
			var added *store.Suppression
			for b.Loop() {
				switch p.change {
				case "scan":
					scanned()
				case "suppression":
					var err error
					if added != nil {
						err = st.RemoveSuppression(ctx, added.ID)
						added = nil
					} else {
						exp := now.Add(time.Hour)
						var sp store.Suppression
						sp, err = st.AddSuppression(ctx, store.Suppression{RuleID: "root-access-key", AccountID: open[0].AccountID, Reason: "bench",
							Owner: "bench", Expires: &exp, CreatedAt: now})
						added = &sp
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				cpu0 := cpuTime()
				start := time.Now()
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", p.path, nil)
				req.Header.Set("Authorization", "Bearer "+plain)
				req.AddCookie(cookie[0])
				h.ServeHTTP(rec, req)
				took = append(took, time.Since(start))
				cpu += cpuTime() - cpu0
				if rec.Code != 200 {
					b.Fatalf("%s: %d", p.path, rec.Code)
				}
			}
			if added != nil {
				if err := st.RemoveSuppression(ctx, added.ID); err != nil {
					b.Fatal(err)
				}
			}
			if !failing {
				scanned() // flip's findings open again, as they were
			}
			// CPU time per page is what a loaded machine does not inflate:
			// the wall times here wait for the 2 cores others share.
			b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(len(took)), "cpu-ms/op")
			slices.Sort(took)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
			b.ReportMetric(ms(took[min(len(took)-1, len(took)*95/100)]), "p95-ms")
		})
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
