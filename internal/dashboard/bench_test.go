package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

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

// BenchmarkPages measures the server time of the dashboard's pages and
// the API's findings page over a store of 5,000 accounts in which about
// one result in five fails (one scan; the history of many scans adds
// transition rows, which these pages do not read but for one finding).
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	now := testclock.Ref()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "vigil.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sc, err := st.StartScan(ctx, store.Scan{Target: "bench", StartedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	var batch []store.AccountResults
	for i := range 5000 {
		acct := fmt.Sprintf("%012d", 200000000000+i)
		a := store.AccountResults{AccountID: acct, AccountName: fmt.Sprint("account-", i), OU: "Root/Workloads"}
		for j, ru := range rules.All() {
			if ru.Scope != rule.AccountScope {
				continue
			}
			status := "PASS"
			if (i+j)%5 == 0 {
				status = "FAIL"
			}
			a.Results = append(a.Results, lifecycle.Observation{AccountID: acct, RuleID: ru.ID, Title: ru.Title, Resource: "arn:aws:iam::" + acct + ":root",
				Status: status, Severity: int(ru.Severity), Message: "m", Evidence: []byte(`[{"source":"iam:GetAccountSummary","key":"AccountAccessKeysPresent","value":"1"}]`)})
		}
		batch = append(batch, a)
		if len(batch) == 500 {
			if _, err := st.RecordAccounts(ctx, sc.ID, batch, now); err != nil {
				b.Fatal(err)
			}
			batch = nil
		}
	}
	st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Complete, At: now})
	plain, tok, _ := api.NewToken("bench", store.Admin)
	st.AddToken(ctx, tok)
	fs, _ := st.Findings(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, Now: now})
	mux := http.NewServeMux()
	c := clock.Pinned{T: now}
	api.Mount(mux, api.Config{Store: st, Clock: c})
	dashboard.Mount(mux, dashboard.Config{Store: st, Clock: c})
	h := api.Secure(mux)
	// A session cookie for the pages.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/signin", nil)
	req.PostForm = map[string][]string{"token": {plain}}
	h.ServeHTTP(rec, req)
	cookie := rec.Result().Cookies()
	if len(cookie) == 0 {
		b.Fatalf("sign-in: %d", rec.Code)
	}
	b.Logf("%d open findings", len(fs))
	for _, p := range []struct{ name, path string }{
		{"api-findings-100", "/api/v1/findings?limit=100"},
		{"overview", "/"},
		{"findings-critical", "/findings?severity=critical"},
		{"finding", "/findings/" + fs[len(fs)/2].ID},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", p.path, nil)
				req.Header.Set("Authorization", "Bearer "+plain)
				req.AddCookie(cookie[0])
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d", p.path, rec.Code)
				}
			}
		})
	}
}
