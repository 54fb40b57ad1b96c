package storetest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// estate records three accounts with findings of several rules and
// severities, one of them suppressed: what the paged and counted reads
// are checked on.
func estate(t *testing.T, s store.Store) {
	t.Helper()
	accounts := map[string][]lifecycle.Observation{}
	for i, acct := range []string{acctA, acctB, "333333333333"} {
		for j := range 7 {
			o := res(acct, lifecycle.Fail, (i+j)%store.Severities)
			o.RuleID = fmt.Sprintf("rule-%d", j%4)
			o.Resource = fmt.Sprintf("arn:aws:iam::%s:user/u%d", acct, j)
			if j == 6 {
				o.Status = lifecycle.Pass
			}
			accounts[acct] = append(accounts[acct], o)
		}
	}
	scanWith(t, s, T0, accounts)
	exp := T0.Add(time.Hour)
	if _, err := s.AddSuppression(context.Background(), store.Suppression{RuleID: "rule-1", AccountID: acctB, Reason: "r", Owner: "o", Expires: &exp, CreatedAt: T0}); err != nil {
		t.Fatal(err)
	}
}

// Pages of any size, walked by their keys, give the whole list in its
// order, sorted by account or most severe first, filters applied.
func testPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	estate(t, s)
	for _, base := range []store.Filter{
		{States: []lifecycle.State{lifecycle.Open}, Now: T0},
		{States: []lifecycle.State{lifecycle.Open}, Now: T0, BySeverity: true},
		{MinSeverity: 3, Now: T0, BySeverity: true},
		{Accounts: []string{acctB}, Now: T0},
	} {
		all, err := s.Findings(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) < 3 {
			t.Fatalf("%+v: %d findings", base, len(all))
		}
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			ka := fmt.Sprintf("%s\x00%s\x00%s", a.AccountID, a.RuleID, a.Resource)
			kb := fmt.Sprintf("%s\x00%s\x00%s", b.AccountID, b.RuleID, b.Resource)
			if base.BySeverity && a.Severity != b.Severity {
				if a.Severity < b.Severity {
					t.Errorf("%+v: severity %d before %d", base, a.Severity, b.Severity)
				}
			} else if ka >= kb {
				t.Errorf("%+v: %q before %q", base, ka, kb)
			}
		}
		for _, size := range []int{1, 2, 5} {
			f := base
			f.Limit = size
			var walked []store.Finding
			for range len(all) + 1 {
				page, err := s.Findings(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > size {
					t.Fatalf("page of %d holds %d", size, len(page))
				}
				walked = append(walked, page...)
				if len(page) < size {
					break
				}
				k := store.KeyOf(page[len(page)-1])
				f.After = &k
			}
			if len(walked) != len(all) {
				t.Fatalf("%+v pages of %d: walked %d of %d", base, size, len(walked), len(all))
			}
			for i := range all {
				if walked[i].ID != all[i].ID || (walked[i].Suppression == nil) != (all[i].Suppression == nil) {
					t.Fatalf("%+v pages of %d: finding %d is %s, want %s", base, size, i, walked[i].ID, all[i].ID)
				}
			}
		}
	}
}

// Counts agree with the list they count, suppressed ones apart.
func testCounts(t *testing.T, s store.Store) {
	estate(t, s)
	if suppressed := checkCounts(t, s, T0); suppressed == 0 {
		t.Errorf("the suppressed findings are not counted apart")
	}
	checkCounts(t, s, T0.Add(2*time.Hour))
}

// checkCounts holds Counts to a full recount of the findings listed at
// now, for the filters the overview, the accounts and the metrics use
// (which the store may answer from counts it keeps as it records) and
// one it must count afresh (a rule); it returns how many were
// suppressed. The lifecycle tests call it after every kind of change.
func checkCounts(t *testing.T, s store.Store, now time.Time) int {
	t.Helper()
	ctx := context.Background()
	all, err := s.Findings(ctx, store.Filter{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	filters := []store.Filter{{Now: now}, {States: []lifecycle.State{lifecycle.Open}, Now: now}, {MinSeverity: 4, Now: now},
		{States: []lifecycle.State{lifecycle.Resolved, lifecycle.Gone}, Now: now}}
	if len(all) > 0 {
		filters = append(filters, store.Filter{Accounts: []string{all[0].AccountID}, States: []lifecycle.State{lifecycle.Open}, Now: now},
			store.Filter{Rules: []string{all[0].RuleID}, Now: now})
	}
	suppressedAll := 0
	for i, f := range filters {
		fs, err := s.Findings(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want := map[store.Count]int{}
		for _, x := range fs {
			want[store.Count{AccountID: x.AccountID, State: x.State, Severity: x.Severity, Suppressed: x.Suppression != nil}]++
		}
		cs, err := s.Counts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got := map[store.Count]int{}
		suppressed := 0
		for _, c := range cs {
			n := c.N
			if n <= 0 {
				t.Errorf("%+v: a count of %d: %+v", f, n, c)
			}
			c.N, c.AccountName, c.OU = 0, "", ""
			got[c] += n
			if c.Suppressed {
				suppressed += n
			}
		}
		if len(got) != len(want) {
			t.Errorf("%+v: %d groups, want %d: %+v", f, len(got), len(want), cs)
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%+v: %+v counted %d, want %d", f, k, got[k], n)
			}
		}
		if i == 0 {
			suppressedAll = suppressed
		}
	}
	checkOpenSummary(t, s, now)
	return suppressedAll
}

// checkOpenSummary holds OpenSummary to what the open findings listed at
// now add up to, and its ranking to a sort of them, for every length.
func checkOpenSummary(t *testing.T, s store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	fs, err := s.Findings(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var want store.OpenSummary
	byAcct := map[string]*store.AccountOpen{}
	for _, f := range fs {
		if f.Suppression != nil {
			want.Suppressed[f.Severity]++
			continue
		}
		want.Open[f.Severity]++
		a := byAcct[f.AccountID]
		if a == nil {
			a = &store.AccountOpen{AccountID: f.AccountID}
			byAcct[f.AccountID] = a
		}
		a.Open[f.Severity]++
	}
	var ranked []store.AccountOpen
	for _, a := range byAcct {
		ranked = append(ranked, *a)
	}
	sort.Slice(ranked, func(i, j int) bool {
		for sev := store.Severities - 1; sev >= 0; sev-- {
			if ranked[i].Open[sev] != ranked[j].Open[sev] {
				return ranked[i].Open[sev] > ranked[j].Open[sev]
			}
		}
		return ranked[i].AccountID < ranked[j].AccountID
	})
	want.Accounts = len(ranked)
	for top := 0; top <= len(ranked)+1; top++ {
		got, err := s.OpenSummary(ctx, now, top)
		if err != nil {
			t.Fatal(err)
		}
		want.Top = ranked[:min(top, len(ranked))]
		if got.Open != want.Open || got.Suppressed != want.Suppressed || got.Accounts != want.Accounts || len(got.Top) != len(want.Top) {
			t.Fatalf("open summary at %s, top %d: %+v, want %+v", now, top, got, want)
		}
		for i := range got.Top {
			if got.Top[i] != want.Top[i] {
				t.Fatalf("open summary at %s, top %d: rank %d is %+v, want %+v", now, top, i, got.Top[i], want.Top[i])
			}
		}
	}
}

// The trend replays the transitions: the counts equal what was open at
// each point, however many points and wherever they fall.
func testTrend(t *testing.T, s store.Store) {
	ctx := context.Background()
	obs := func(accounts map[string]string) map[string][]lifecycle.Observation {
		out := map[string][]lifecycle.Observation{}
		for a, st := range accounts {
			out[a] = []lifecycle.Observation{res(a, st, 4)}
		}
		return out
	}
	// Open after each hour: 1, 2, 1, 2, 1 (B left), 1.
	scanWith(t, s, T0, obs(map[string]string{acctA: lifecycle.Fail}))
	scanWith(t, s, T0.Add(time.Hour), obs(map[string]string{acctA: lifecycle.Fail, acctB: lifecycle.Fail}))
	scanWith(t, s, T0.Add(2*time.Hour), obs(map[string]string{acctA: lifecycle.Pass, acctB: lifecycle.Fail}))
	// A trend read between the scans is kept by a store that keeps what
	// it read: the trends below must still count the scans after it.
	if got, err := s.OpenTrend(ctx, T0.Add(-time.Hour), time.Hour, 4); err != nil || fmt.Sprint(got) != "[0 1 2 1]" {
		t.Errorf("trend after three scans %v (%v), want [0 1 2 1]", got, err)
	}
	scanWith(t, s, T0.Add(3*time.Hour), obs(map[string]string{acctA: lifecycle.Fail, acctB: lifecycle.Fail}))
	id, _ := scanWith(t, s, T0.Add(4*time.Hour), obs(map[string]string{acctA: lifecycle.Fail}))
	if _, err := s.LeaveAccounts(ctx, id, []string{acctA}, T0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 2, 1, 2, 1, 1}
	got, err := s.OpenTrend(ctx, T0.Add(-time.Hour), time.Hour, 7)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hourly trend %v, want %v", got, want)
	}
	// Points between scans see the state of the scan before.
	got, _ = s.OpenTrend(ctx, T0.Add(90*time.Minute), 2*time.Hour, 3)
	if fmt.Sprint(got) != "[2 2 1]" {
		t.Errorf("trend between scans %v, want [2 2 1]", got)
	}
	// From before every earlier call's start, and again after it.
	for range 2 {
		got, _ = s.OpenTrend(ctx, T0.Add(-2*time.Hour), time.Hour, 8)
		if fmt.Sprint(got) != "[0 0 1 2 1 2 1 1]" {
			t.Errorf("trend from earlier %v, want [0 0 1 2 1 2 1 1]", got)
		}
	}
	got, _ = s.OpenTrend(ctx, T0.Add(-time.Hour), time.Hour, 7)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hourly trend again %v, want %v", got, want)
	}
	if _, err := s.OpenTrend(ctx, T0, 0, 3); err == nil {
		t.Error("a zero step is taken")
	}
}

// Accounts keep their name and OU as last recorded and their latest
// scan; a later record with no name keeps the name; LatestResults are
// that scan's.
func testAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	sc, _ := s.StartScan(ctx, store.Scan{Target: "t", StartedAt: T0})
	if _, err := s.RecordAccount(ctx, sc.ID, store.AccountResults{AccountID: acctA, AccountName: "prod", OU: "Root/Prod", Results: []lifecycle.Observation{res(acctA, lifecycle.Fail, 4)}}, T0); err != nil {
		t.Fatal(err)
	}
	sc2, _ := s.StartScan(ctx, store.Scan{Target: "t", StartedAt: T0.Add(time.Hour)})
	if _, err := s.RecordAccount(ctx, sc2.ID, store.AccountResults{AccountID: acctA, Results: []lifecycle.Observation{res(acctA, lifecycle.Pass, 4)}}, T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordAccount(ctx, sc2.ID, store.AccountResults{AccountID: acctB, AccountName: "dev", OU: "Root/Dev"}, T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	as, err := s.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].AccountID != acctA || as[0].AccountName != "prod" || as[0].OU != "Root/Prod" || as[0].LastScanID != sc2.ID ||
		!as[0].LastRecorded.Equal(T0.Add(time.Hour)) || as[1].AccountName != "dev" {
		t.Fatalf("accounts: %+v", as)
	}
	lr, err := s.LatestResults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lr) != 2 || lr[0].AccountID != acctA || len(lr[0].Results) != 1 || lr[0].Results[0].Status != lifecycle.Pass || len(lr[1].Results) != 0 {
		t.Fatalf("latest results: %+v", lr)
	}
}

// Account pages walk the accounts in OU then ID order, a page at a
// time after a key, the same as one list; OUs select a path and those
// below it (a sibling whose name starts the same is not below), IDs the
// accounts named.
func testAccountPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	sc, _ := s.StartScan(ctx, store.Scan{Target: "t", StartedAt: T0})
	accts := []store.AccountResults{
		{AccountID: "300000000003", OU: "Root/Prod"},
		{AccountID: "300000000001", OU: "Root/Prod"},
		{AccountID: "300000000002", OU: "Root/Dev"},
		{AccountID: "300000000004", OU: "Root/Prod/Payments"},
		{AccountID: "300000000005", OU: "Root/Production"},
		{AccountID: "300000000006", OU: "Root/Dev_"},
	}
	if _, err := s.RecordAccounts(ctx, sc.ID, accts, T0); err != nil {
		t.Fatal(err)
	}
	ids := func(as []store.Account) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.AccountID)
		}
		return out
	}
	all, err := s.AccountPage(ctx, store.AccountFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"300000000002", "300000000006", "300000000001", "300000000003", "300000000004", "300000000005"}
	if got := ids(all); !slices.Equal(got, want) {
		t.Fatalf("all accounts: %v, want %v", got, want)
	}
	var walked []string
	var after *store.AccountKey
	for range len(want) + 1 {
		p, err := s.AccountPage(ctx, store.AccountFilter{After: after, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, ids(p)...)
		if len(p) < 4 {
			break
		}
		last := p[len(p)-1]
		after = &store.AccountKey{OU: last.OU, AccountID: last.AccountID}
	}
	if !slices.Equal(walked, want) {
		t.Fatalf("pages of 4: %v, want %v", walked, want)
	}
	prod, err := s.AccountPage(ctx, store.AccountFilter{OUs: []string{"Root/Prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(prod); !slices.Equal(got, []string{"300000000001", "300000000003", "300000000004"}) {
		t.Fatalf("Root/Prod: %v", got)
	}
	dev, err := s.AccountPage(ctx, store.AccountFilter{OUs: []string{"Root/Dev"}, IDs: []string{"300000000002", "300000000006", "300000000001"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(dev); !slices.Equal(got, []string{"300000000002"}) {
		t.Fatalf("Root/Dev by IDs: %v", got)
	}
}

// Deliveries list newest first with their size; failed lists only the
// undelivered that failed.
func testDeliveries(t *testing.T, s store.Store) {
	ctx := context.Background()
	scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}, acctB: {res(acctB, lifecycle.Fail, 1)}})
	ds, err := s.FlushOutbox(ctx, []store.Route{{Channel: "a", Kinds: lifecycle.Kinds}}, T0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("%+v %v", ds, err)
	}
	scanWith(t, s, T0.Add(time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Pass, 4)}})
	ds2, err := s.FlushOutbox(ctx, []store.Route{{Channel: "b", Kinds: lifecycle.Kinds}}, T0.Add(time.Hour))
	if err != nil || len(ds2) != 1 {
		t.Fatalf("%+v %v", ds2, err)
	}
	if err := s.MarkAttempt(ctx, ds2[0].ID, "503 from the receiver", T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	all, err := s.Deliveries(ctx, false, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != ds2[0].ID || all[0].Items != 1 || all[1].Items != 2 || all[0].LastError != "503 from the receiver" || all[0].Transitions != nil {
		t.Fatalf("deliveries: %+v", all)
	}
	failed, _ := s.Deliveries(ctx, true, 10)
	if len(failed) != 1 || failed[0].ID != ds2[0].ID {
		t.Fatalf("failed: %+v", failed)
	}
	if one, _ := s.Deliveries(ctx, false, 1); len(one) != 1 {
		t.Fatalf("limit 1: %+v", one)
	}
}
