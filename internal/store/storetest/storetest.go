// Package storetest is the conformance suite every store.Store passes:
// the embedded SQLite store now, the PostgreSQL store of team mode next.
// A backend's test calls Run with a function that opens an empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// Open returns an empty store for one subtest; the suite closes it.
type Open func(t *testing.T) store.Store

// T0 is the suite's reference time. Stores must not depend on the wall
// clock, so a fixed time is enough.
var T0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const (
	acctA = "111111111111"
	acctB = "222222222222"
	acctC = "333333333333"
	rule  = "root-access-key"
)

func res(acct, status string, sev int) lifecycle.Observation {
	return lifecycle.Observation{AccountID: acct, RuleID: rule, Title: "Root access keys", Resource: "arn:aws:iam::" + acct + ":root", Status: status, Severity: sev, Message: "root " + status, Evidence: []byte(`[{"source":"test"}]`)}
}

func scanWith(t *testing.T, s store.Store, at time.Time, accounts map[string][]lifecycle.Observation) (int64, []store.Transition) {
	t.Helper()
	ctx := context.Background()
	sc, err := s.StartScan(ctx, store.Scan{Target: "test", StartedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	var all []store.Transition
	for acct, obs := range accounts {
		rec, err := s.RecordAccount(ctx, sc.ID, store.AccountResults{AccountID: acct, OU: "Root/Workloads/Prod", Calls: 3, Results: obs}, at)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rec.Transitions...)
	}
	if err := s.FinishScan(ctx, sc.ID, store.End{Outcome: store.Complete, Calls: 1, At: at}); err != nil {
		t.Fatal(err)
	}
	return sc.ID, all
}

func kinds(ts []store.Transition) []lifecycle.Kind {
	var out []lifecycle.Kind
	for _, t := range ts {
		out = append(out, t.Kind)
	}
	return out
}

func wantKinds(t *testing.T, got []store.Transition, want ...lifecycle.Kind) {
	t.Helper()
	g := kinds(got)
	if len(g) != len(want) {
		t.Fatalf("transitions %v, want %v", g, want)
	}
	for i := range g {
		if g[i] != want[i] {
			t.Fatalf("transitions %v, want %v", g, want)
		}
	}
}

// Run runs the suite.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		f    func(t *testing.T, s store.Store)
	}{
		{"Lifecycle", testLifecycle},
		{"RecordAccountOncePerScan", testIdempotent},
		{"ManyFindingsInOneAccount", testManyFindings},
		{"TickIsOneScan", testTick},
		{"Gone", testGone},
		{"Filters", testFilters},
		{"Suppressions", testSuppressions},
		{"Outbox", testOutbox},
		{"DigestPerScan", testDigestPerScan},
		{"Prune", testPrune},
		{"ResultSetChurn", testResultSetChurn},
		{"Fix", testFix},
		{"Stats", testStats},
		{"Tokens", testTokens},
		{"AutoFix", testAutoFix},
		{"Pages", testPages},
		{"Counts", testCounts},
		{"Trend", testTrend},
		{"Accounts", testAccounts},
		{"AccountPages", testAccountPages},
		{"ListPages", testListPages},
		{"ViewStamp", testViewStamp},
		{"Deliveries", testDeliveries},
		{"RootEvents", testRootEvents},
		{"RootAlertBursts", testRootAlertBursts},
		{"RootEventPages", testRootEventPages},
		{"RootSessions", testRootSessions},
		{"MalformedMessages", testMalformed},
		{"EndScanOnce", testEndScanOnce},
		{"ListRoundTrip", testListRoundTrip},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.f(t, s)
		})
	}
}

func testLifecycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, ts := scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}})
	wantKinds(t, ts, lifecycle.New)
	checkCounts(t, s, T0) // new
	id := ts[0].FindingID
	_, ts = scanWith(t, s, T0.Add(time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}})
	wantKinds(t, ts)
	_, ts = scanWith(t, s, T0.Add(2*time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Unknown, 4)}})
	wantKinds(t, ts)
	f, _, err := s.Finding(ctx, id, T0)
	if err != nil {
		t.Fatal(err)
	}
	if f.State != lifecycle.Open || f.UnknownSince == nil || !f.UnknownSince.Equal(T0.Add(2*time.Hour)) || f.Gap != "root UNKNOWN" || !f.LastSeen.Equal(T0.Add(time.Hour)) {
		t.Fatalf("after UNKNOWN: %+v", f)
	}
	_, ts = scanWith(t, s, T0.Add(3*time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Pass, 4)}})
	wantKinds(t, ts, lifecycle.ResolvedKind)
	checkCounts(t, s, T0) // resolved
	_, ts = scanWith(t, s, T0.Add(4*time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}})
	wantKinds(t, ts, lifecycle.Regressed)
	checkCounts(t, s, T0) // regressed
	f, hist, err := s.Finding(ctx, id, T0)
	if err != nil {
		t.Fatal(err)
	}
	wantKinds(t, hist, lifecycle.New, lifecycle.ResolvedKind, lifecycle.Regressed)
	// The rule's severity changed: the finding moves between counts.
	scanWith(t, s, T0.Add(5*time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 2)}})
	if f, _, err := s.Finding(ctx, id, T0); err != nil || f.Severity != 2 {
		t.Fatalf("severity not updated: %+v %v", f, err)
	}
	checkCounts(t, s, T0) // severity
	if f.Regressions != 1 || f.MTTR() != 3*time.Hour || !f.FirstSeen.Equal(T0) || string(f.Evidence) != `[{"source":"test"}]` || f.OU != "Root/Workloads/Prod" {
		t.Fatalf("finding: %+v (mttr %v)", f, f.MTTR())
	}
	if _, _, err := s.Finding(ctx, "f-nothing", T0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing finding: %v", err)
	}
	scans, err := s.Scans(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != 2 || scans[0].StartedAt.Before(scans[1].StartedAt) || scans[0].Accounts != 1 || scans[0].Results != 1 || scans[0].Calls != 4 || scans[0].Outcome != store.Complete || scans[0].FinishedAt == nil {
		t.Fatalf("scans: %+v", scans)
	}
}

// testManyFindings records one account with more findings than one
// statement of the store may write (it writes them several hundred at
// a time): each transition must name its own finding, keep the order of
// the results, and carry an ID that finds it in that finding's history.
func testManyFindings(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Over 1,024 findings: a listing crosses the SQL stores' scan blocks.
	const n = 1803
	obs := func(status func(i int) string) []lifecycle.Observation {
		out := make([]lifecycle.Observation, n)
		for i := range out {
			out[i] = res(acctA, status(i), 3)
			out[i].Resource = fmt.Sprintf("arn:aws:iam::%s:user/u%04d", acctA, i)
		}
		return out
	}
	first := obs(func(i int) string {
		if i%3 == 0 {
			return lifecycle.Pass
		}
		return lifecycle.Fail
	})
	// The same finding observed twice in one scan counts as observed
	// once for its state.
	first = append(first, first[1])
	_, ts := scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: first})
	if len(ts) != 2*n/3+1 {
		t.Fatalf("first scan: %d transitions, want %d (one per failing result, the repeated one twice)", len(ts), 2*n/3+1)
	}
	for i, tr := range ts[:len(ts)-1] {
		want := first[i+i/2+1] // the failing results, in order
		if tr.Kind != lifecycle.New || tr.FindingID != want.Key() {
			t.Fatalf("transition %d: %s of %s, want new of %s", i, tr.Kind, tr.FindingID, want.Key())
		}
	}
	// Every other failing finding resolves in the next scan.
	second := obs(func(i int) string {
		if i%3 == 0 || i%2 == 0 {
			return lifecycle.Pass
		}
		return lifecycle.Fail
	})
	_, ts = scanWith(t, s, T0.Add(time.Hour), map[string][]lifecycle.Observation{acctA: second})
	ids := map[int64]bool{}
	for _, tr := range ts {
		if tr.Kind != lifecycle.ResolvedKind || ids[tr.ID] {
			t.Fatalf("second scan: %+v (repeated ID or not a resolution)", tr)
		}
		ids[tr.ID] = true
	}
	if want := n / 3; len(ts) != want {
		t.Fatalf("second scan: %d resolutions, want %d", len(ts), want)
	}
	for _, tr := range []store.Transition{ts[0], ts[len(ts)/2], ts[len(ts)-1]} {
		f, hist, err := s.Finding(ctx, tr.FindingID, T0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if f.State != lifecycle.Resolved || len(hist) != 2 || hist[1].ID != tr.ID || hist[1].Kind != lifecycle.ResolvedKind {
			t.Fatalf("finding %s: %s, history %+v; want resolved by transition %d", tr.FindingID, f.State, hist, tr.ID)
		}
	}
	checkCounts(t, s, T0.Add(time.Hour)) // many written by one statement
	// The listing holds every finding once, in resource order, each in
	// the state of its last result.
	all, err := s.Findings(ctx, store.Filter{Now: T0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range n {
		if i%3 != 0 {
			st := lifecycle.Open
			if i%2 == 0 {
				st = lifecycle.Resolved
			}
			want = append(want, first[i].Key()+" "+string(st))
		}
	}
	if len(all) != len(want) {
		t.Fatalf("listing: %d findings, want %d", len(all), len(want))
	}
	for i, f := range all {
		if got := f.ID + " " + string(f.State); got != want[i] {
			t.Fatalf("listing row %d: %s, want %s", i, got, want[i])
		}
	}
	// Pages longer than a block, after a cursor, in both orders, are
	// the listing cut where their limits say.
	for _, bySev := range []bool{false, true} {
		whole, err := s.Findings(ctx, store.Filter{Now: T0.Add(time.Hour), BySeverity: bySev})
		if err != nil {
			t.Fatal(err)
		}
		var paged []store.Finding
		var after *store.Key
		for {
			p, err := s.Findings(ctx, store.Filter{Now: T0.Add(time.Hour), BySeverity: bySev, After: after, Limit: 1100})
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, p...)
			if len(p) < 1100 {
				break
			}
			k := store.KeyOf(p[len(p)-1])
			after = &k
		}
		if len(paged) != len(whole) {
			t.Fatalf("pages of 1,100 (by severity %v): %d findings, want %d", bySev, len(paged), len(whole))
		}
		for i := range whole {
			if paged[i].ID != whole[i].ID {
				t.Fatalf("pages of 1,100 (by severity %v), row %d: %s, want %s", bySev, i, paged[i].ID, whole[i].ID)
			}
		}
	}
}

func testIdempotent(t *testing.T, s store.Store) {
	ctx := context.Background()
	sc, err := s.StartScan(ctx, store.Scan{Target: "x", StartedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	a := store.AccountResults{AccountID: acctA, Calls: 2, Results: []lifecycle.Observation{res(acctA, lifecycle.Fail, 3)}}
	rec, err := s.RecordAccount(ctx, sc.ID, a, T0)
	if err != nil || rec.Already || len(rec.Transitions) != 1 {
		t.Fatalf("first: %+v %v", rec, err)
	}
	if ok, err := s.AccountRecorded(ctx, sc.ID, acctA); err != nil || !ok {
		t.Fatalf("recorded account not known: %v %v", ok, err)
	}
	if ok, err := s.AccountRecorded(ctx, sc.ID, acctB); err != nil || ok {
		t.Fatalf("account never recorded known: %v %v", ok, err)
	}
	if got, err := s.Scan(ctx, sc.ID); err != nil || got.Accounts != 1 || got.Outcome != store.Running {
		t.Fatalf("scan: %+v %v", got, err)
	}
	if _, err := s.Scan(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing scan: %v", err)
	}
	rec, err = s.RecordAccount(ctx, sc.ID, a, T0.Add(time.Minute))
	if err != nil || !rec.Already || len(rec.Transitions) != 0 {
		t.Fatalf("second: %+v %v", rec, err)
	}
	b := store.AccountResults{AccountID: acctB, Calls: 1, Results: []lifecycle.Observation{res(acctB, lifecycle.Fail, 3)}}
	recs, err := s.RecordAccounts(ctx, sc.ID, []store.AccountResults{a, b}, T0)
	if err != nil || len(recs) != 2 || !recs[0].Already || recs[1].Already || len(recs[1].Transitions) != 1 {
		t.Fatalf("batch: %+v %v", recs, err)
	}
	if got, _ := s.Scan(ctx, sc.ID); got.Accounts != 2 || got.Calls != 3 {
		t.Fatalf("batch counts: %+v", got)
	}
	// An account twice in one batch is recorded once, as by two calls,
	// though the batch writes its rows at the end.
	c := store.AccountResults{AccountID: acctC, Calls: 1, Results: []lifecycle.Observation{res(acctC, lifecycle.Fail, 2)}}
	c2 := c
	c2.Results = []lifecycle.Observation{res(acctC, lifecycle.Pass, 2)}
	sc2, err := s.StartScan(ctx, store.Scan{Target: "y", StartedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	recs, err = s.RecordAccounts(ctx, sc2.ID, []store.AccountResults{c, c2}, T0)
	if err != nil || len(recs) != 2 || recs[0].Already || !recs[1].Already || len(recs[0].Transitions) != 1 || len(recs[1].Transitions) != 0 {
		t.Fatalf("batch with an account twice: %+v %v", recs, err)
	}
	if got, _ := s.Scan(ctx, sc2.ID); got.Accounts != 1 || got.Calls != 1 {
		t.Fatalf("batch with an account twice, scan: %+v", got)
	}
	if f, _, err := s.Finding(ctx, c.Results[0].Key(), T0); err != nil || f.State != lifecycle.Open {
		t.Fatalf("batch with an account twice, finding: %+v %v", f, err)
	}
	checkCounts(t, s, T0)
	accts, err := s.ScanAccounts(ctx, sc.ID)
	if err != nil || len(accts) != 2 || len(accts[0].Results) != 1 || accts[0].Results[0].Status != lifecycle.Fail {
		t.Fatalf("scan accounts: %+v %v", accts, err)
	}
	if ids, err := s.ScanAccountIDs(ctx, sc.ID); err != nil || !slices.Equal(ids, []string{acctA, acctB}) {
		t.Fatalf("scan account IDs: %v %v", ids, err)
	}
	if ids, err := s.ScanAccountIDs(ctx, 9999); err != nil || len(ids) != 0 {
		t.Fatalf("account IDs of a scan that does not exist: %v %v", ids, err)
	}
	_, hist, _ := s.Finding(ctx, a.Results[0].Key(), T0)
	wantKinds(t, hist, lifecycle.New)
	if _, err := s.RecordAccount(ctx, 9999, a, T0); err == nil {
		t.Fatal("recording into a scan that does not exist worked")
	}
}

func testTick(t *testing.T, s store.Store) {
	ctx := context.Background()
	tick := T0.Truncate(time.Hour)
	a, err := s.StartScan(ctx, store.Scan{Schedule: "org", Tick: tick, StartedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.StartScan(ctx, store.Scan{Schedule: "org", Tick: tick, StartedAt: T0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.StartScan(ctx, store.Scan{Schedule: "org", Tick: tick.Add(time.Hour), StartedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.ID == c.ID || !b.Tick.Equal(tick) {
		t.Fatalf("ticks: %d %d %d", a.ID, b.ID, c.ID)
	}
	// The tick learns how many accounts it has once it has listed them;
	// a replica starting the same tick again sees the number.
	if a.Expected != 0 {
		t.Fatalf("a new scan expects %d accounts, want 0 (not known yet)", a.Expected)
	}
	if err := s.ExpectAccounts(ctx, a.ID, 2001); err != nil {
		t.Fatal(err)
	}
	if again, err := s.StartScan(ctx, store.Scan{Schedule: "org", Tick: tick, StartedAt: T0}); err != nil || again.Expected != 2001 {
		t.Fatalf("the tick's scan again: %+v, %v; want 2001 expected", again, err)
	}
	if got, err := s.Scan(ctx, a.ID); err != nil || got.Expected != 2001 {
		t.Fatalf("scan: %+v, %v; want 2001 expected", got, err)
	}
	// Recording an account says how far the tick is, the account
	// included; recording it again records nothing and says nothing.
	for i, acct := range []string{acctA, acctB} {
		rec, err := s.RecordAccount(ctx, a.ID, store.AccountResults{AccountID: acct, Results: []lifecycle.Observation{res(acct, lifecycle.Fail, 4)}}, T0)
		if err != nil || rec.Progress != (store.Progress{Accounts: i + 1, Expected: 2001}) {
			t.Fatalf("record %s: progress %+v, %v; want %d of 2001", acct, rec.Progress, err, i+1)
		}
	}
	if rec, err := s.RecordAccount(ctx, a.ID, store.AccountResults{AccountID: acctA}, T0); err != nil || !rec.Already || rec.Progress != (store.Progress{}) {
		t.Fatalf("record %s again: %+v, %v; want already recorded, no progress", acctA, rec, err)
	}
	if other, err := s.Scan(ctx, c.ID); err != nil || other.Expected != 0 {
		t.Fatalf("the other tick: %+v, %v; want nothing expected", other, err)
	}
	if err := s.ExpectAccounts(ctx, c.ID+100, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expect accounts of no scan: %v, want not found", err)
	}
}

func testGone(t *testing.T, s store.Store) {
	ctx := context.Background()
	obsB := res(acctB, lifecycle.Fail, 4)
	scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}, acctB: {obsB}})
	id, _ := scanWith(t, s, T0.Add(time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}})
	ts, err := s.LeaveAccounts(ctx, id, []string{acctA}, T0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantKinds(t, ts, lifecycle.GoneKind)
	checkCounts(t, s, T0) // gone
	if ts[0].FindingID != obsB.Key() {
		t.Fatalf("gone: %+v", ts[0])
	}
	ts, err = s.LeaveAccounts(ctx, id, []string{acctA}, T0.Add(2*time.Hour))
	if err != nil || len(ts) != 0 {
		t.Fatalf("second leave: %v %v", ts, err)
	}
	fs, err := s.Findings(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}})
	if err != nil || len(fs) != 1 || fs[0].AccountID != acctA {
		t.Fatalf("open after leave: %+v %v", fs, err)
	}
}

func testFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	other := res(acctB, lifecycle.Fail, 2)
	other.RuleID = "root-mfa"
	scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}, acctB: {other}})
	cases := []struct {
		name string
		f    store.Filter
		want int
	}{
		{"all", store.Filter{}, 2},
		{"open", store.Filter{States: []lifecycle.State{lifecycle.Open}}, 2},
		{"resolved", store.Filter{States: []lifecycle.State{lifecycle.Resolved}}, 0},
		{"severity", store.Filter{MinSeverity: 3}, 1},
		{"rule", store.Filter{Rules: []string{"root-mfa"}}, 1},
		{"account", store.Filter{Accounts: []string{acctA}}, 1},
		{"ou", store.Filter{OUs: []string{"Root/Workloads"}}, 2},
		{"ou exact", store.Filter{OUs: []string{"Root/Workloads/Prod"}}, 2},
		{"ou prefix is not a parent", store.Filter{OUs: []string{"Root/Work"}}, 0},
		{"ou wildcard is literal", store.Filter{OUs: []string{"Root/%"}}, 0},
	}
	for _, c := range cases {
		fs, err := s.Findings(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != c.want {
			t.Errorf("%s: %d findings, want %d", c.name, len(fs), c.want)
		}
	}
	fs, _ := s.Findings(ctx, store.Filter{})
	if len(fs) == 2 && fs[0].AccountID > fs[1].AccountID {
		t.Errorf("not sorted by account")
	}
}

func testSuppressions(t *testing.T, s store.Store) {
	ctx := context.Background()
	exp := T0.Add(2 * time.Hour)
	sp, err := s.AddSuppression(ctx, store.Suppression{RuleID: rule, AccountID: acctA, Reason: "break-glass account", Owner: "alice", Ticket: "SEC-1", Expires: &exp, CreatedAt: T0})
	if err != nil || sp.ID == 0 {
		t.Fatal(sp, err)
	}
	_, ts := scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}, acctB: {res(acctB, lifecycle.Fail, 4)}})
	if len(ts) != 2 {
		t.Fatalf("transitions %v", ts)
	}
	if checkCounts(t, s, T0.Add(time.Hour)) != 1 { // suppressed
		t.Errorf("the suppressed finding is not counted apart")
	}
	for _, tr := range ts {
		if want := tr.FindingID == res(acctA, "", 0).Key(); tr.Suppressed != want {
			t.Errorf("transition of %s suppressed=%v", tr.FindingID, tr.Suppressed)
		}
	}
	fs, err := s.Findings(ctx, store.Filter{Now: T0.Add(time.Hour), Accounts: []string{acctA}})
	if err != nil || len(fs) != 1 || fs[0].Suppression == nil || fs[0].Suppression.Owner != "alice" {
		t.Fatalf("suppressed finding not shown as suppressed: %+v %v", fs, err)
	}
	ds, err := s.FlushOutbox(ctx, []store.Route{{Channel: "c", Kinds: lifecycle.Kinds}}, T0)
	if err != nil || len(ds) != 1 || len(ds[0].Transitions) != 1 || ds[0].Transitions[0].FindingID != res(acctB, "", 0).Key() {
		t.Fatalf("suppressed transition alerted: %+v %v", ds, err)
	}
	ts, err = s.ExpireSuppressions(ctx, T0.Add(time.Hour))
	if err != nil || len(ts) != 0 {
		t.Fatalf("expired early: %v %v", ts, err)
	}
	ts, err = s.ExpireSuppressions(ctx, exp)
	if err != nil {
		t.Fatal(err)
	}
	wantKinds(t, ts, lifecycle.SuppressionExpired)
	if checkCounts(t, s, exp) != 0 { // expired
		t.Errorf("an expired suppression still counted")
	}
	if ts[0].Suppressed || ts[0].FindingID != res(acctA, "", 0).Key() {
		t.Fatalf("expiry: %+v", ts[0])
	}
	ts, _ = s.ExpireSuppressions(ctx, exp.Add(time.Hour))
	if len(ts) != 0 {
		t.Fatalf("expiry handled twice: %v", ts)
	}
	fs, _ = s.Findings(ctx, store.Filter{Now: exp, Accounts: []string{acctA}})
	if len(fs) != 1 || fs[0].Suppression != nil {
		t.Fatalf("still suppressed after expiry: %+v", fs)
	}
	ds, _ = s.FlushOutbox(ctx, []store.Route{{Channel: "c", Kinds: []lifecycle.Kind{lifecycle.SuppressionExpired}}}, exp)
	if len(ds) != 1 || len(ds[0].Transitions) != 1 {
		t.Fatalf("expiry not alerted: %+v", ds)
	}
	list, err := s.Suppressions(ctx)
	if err != nil || len(list) != 1 || list[0].Ticket != "SEC-1" || !list[0].Expires.Equal(exp) {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := s.RemoveSuppression(ctx, sp.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveSuppression(ctx, sp.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
	// A suppression of one resource leaves the account's others alone;
	// one without expiry never expires.
	other := res(acctB, lifecycle.Fail, 4)
	if _, err := s.AddSuppression(ctx, store.Suppression{RuleID: rule, AccountID: acctB, Resource: "arn:other", Reason: "r", Owner: "o", CreatedAt: T0}); err != nil {
		t.Fatal(err)
	}
	fs, _ = s.Findings(ctx, store.Filter{Now: T0.AddDate(5, 0, 0), Accounts: []string{acctB}})
	if len(fs) != 1 || fs[0].Suppression != nil || fs[0].ID != other.Key() {
		t.Fatalf("resource suppression matched another resource: %+v", fs)
	}
}

// testDigestPerScan: a running scan's transitions wait in the outbox for
// the rest of the scan's, so that a channel gets them in one digest
// however many flushes the recording spans; at most for the hold's
// maximum wait, and not past its cap.
func testDigestPerScan(t *testing.T, s store.Store) {
	ctx := context.Background()
	routes := []store.Route{{Channel: "c", Kinds: lifecycle.Kinds}}
	hold := store.Hold{MaxWait: time.Hour, Cap: 3}
	flush := func(at time.Time) []store.Delivery {
		t.Helper()
		ds, err := s.FlushOutboxHolding(ctx, routes, at, hold)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	record := func(scanID int64, acct string) {
		t.Helper()
		if _, err := s.RecordAccount(ctx, scanID, store.AccountResults{AccountID: acct, Results: []lifecycle.Observation{res(acct, lifecycle.Fail, 4)}}, T0); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := s.StartScan(ctx, store.Scan{Schedule: "org", Tick: T0, StartedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	record(sc.ID, acctA)
	if ds := flush(T0.Add(time.Second)); len(ds) != 0 {
		t.Fatalf("a running scan's first account delivered alone: %+v", ds)
	}
	record(sc.ID, acctB)
	if ds := flush(T0.Add(2 * time.Second)); len(ds) != 0 {
		t.Fatalf("a running scan's accounts delivered: %+v", ds)
	}
	if err := s.FinishScan(ctx, sc.ID, store.End{Outcome: store.Complete, At: T0.Add(3 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	ds := flush(T0.Add(3 * time.Second))
	if len(ds) != 1 || len(ds[0].Transitions) != 2 {
		t.Fatalf("the ended scan's transitions: %+v, want one digest of 2", ds)
	}
	// A scan that does not end is delivered after the maximum wait.
	sc2, err := s.StartScan(ctx, store.Scan{Schedule: "org", Tick: T0.Add(time.Hour), StartedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	record(sc2.ID, acctC)
	if ds := flush(T0.Add(59 * time.Minute)); len(ds) != 0 {
		t.Fatalf("delivered before the maximum wait: %+v", ds)
	}
	if ds := flush(T0.Add(time.Hour)); len(ds) != 1 || len(ds[0].Transitions) != 1 {
		t.Fatalf("after the maximum wait: %+v, want one delivery", ds)
	}
	// Nor past the cap: three waiting leave at once.
	sc3, err := s.StartScan(ctx, store.Scan{Schedule: "org", Tick: T0.Add(2 * time.Hour), StartedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	for i, acct := range []string{"444444444444", "555555555555", "666666666666"} {
		record(sc3.ID, acct)
		ds := flush(T0.Add(time.Second))
		if i < 2 && len(ds) != 0 {
			t.Fatalf("%d waiting delivered under the cap of 3: %+v", i+1, ds)
		}
		if i == 2 && (len(ds) != 1 || len(ds[0].Transitions) != 3) {
			t.Fatalf("at the cap: %+v, want one digest of 3", ds)
		}
	}
	// FlushOutbox holds nothing (vigil scan --db flushes after the scan).
	sc4, err := s.StartScan(ctx, store.Scan{Target: "x", StartedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	record(sc4.ID, "777777777777")
	if ds, err := s.FlushOutbox(ctx, routes, T0); err != nil || len(ds) != 1 {
		t.Fatalf("FlushOutbox held a running scan's transitions: %+v %v", ds, err)
	}
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	low := res(acctB, lifecycle.Fail, 1)
	scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}, acctB: {low}})
	routes := []store.Route{
		{Channel: "high", Kinds: []lifecycle.Kind{lifecycle.New}, MinSeverity: 3},
		{Channel: "all", Kinds: lifecycle.Kinds},
		{Channel: "resolved-only", Kinds: []lifecycle.Kind{lifecycle.ResolvedKind}},
	}
	ds, err := s.FlushOutbox(ctx, routes, T0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Channel != "high" || len(ds[0].Transitions) != 1 || ds[1].Channel != "all" || len(ds[1].Transitions) != 2 || ds[0].ID == ds[1].ID {
		t.Fatalf("deliveries: %+v", ds)
	}
	again, err := s.FlushOutbox(ctx, routes, T0)
	if err != nil || len(again) != 0 {
		t.Fatalf("flushed twice: %+v %v", again, err)
	}
	pending, err := s.PendingDeliveries(ctx)
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending: %+v %v", pending, err)
	}
	d, err := s.Delivery(ctx, ds[1].ID)
	if err != nil || len(d.Transitions) != 2 || d.Transitions[0].Finding == nil || d.Transitions[0].Finding.RuleID != rule || d.Channel != "all" {
		t.Fatalf("delivery: %+v %v", d, err)
	}
	if err := s.MarkAttempt(ctx, d.ID, "connection refused", T0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ctx, d.ID, T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	d, _ = s.Delivery(ctx, d.ID)
	if d.DeliveredAt == nil || d.Attempts != 2 || d.LastError != "connection refused" {
		t.Fatalf("after delivery: %+v", d)
	}
	pending, _ = s.PendingDeliveries(ctx)
	if len(pending) != 1 || pending[0].ID != ds[0].ID {
		t.Fatalf("pending after delivery: %+v", pending)
	}
	if _, err := s.Delivery(ctx, "dlv_none"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing delivery: %v", err)
	}
}

func testPrune(t *testing.T, s store.Store) {
	ctx := context.Background()
	old, _ := scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}})
	recent, _ := scanWith(t, s, T0.Add(48*time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Pass, 4)}})
	n, err := s.Prune(ctx, T0.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if a, _ := s.ScanAccounts(ctx, old); len(a) != 0 {
		t.Fatalf("old results kept: %+v", a)
	}
	if a, _ := s.ScanAccounts(ctx, recent); len(a) != 1 || len(a[0].Results) != 1 {
		t.Fatalf("recent results lost: %+v", a)
	}
	_, hist, err := s.Finding(ctx, res(acctA, "", 0).Key(), T0)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history lost by prune: %v %v", hist, err)
	}
}

func testFix(t *testing.T, s store.Store) {
	ctx := context.Background()
	scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}})
	tr, err := s.RecordFix(ctx, res(acctA, "", 0).Key(), "deleted access key AKIA...", T0.Add(time.Minute))
	if err != nil || tr.Kind != lifecycle.Fixed {
		t.Fatalf("fix: %+v %v", tr, err)
	}
	if _, err := s.RecordFix(ctx, "f-none", "", T0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("fix of nothing: %v", err)
	}
	_, hist, _ := s.Finding(ctx, tr.FindingID, T0)
	wantKinds(t, hist, lifecycle.New, lifecycle.Fixed)
	ds, _ := s.FlushOutbox(ctx, []store.Route{{Channel: "c", Kinds: []lifecycle.Kind{lifecycle.Fixed}}}, T0)
	if len(ds) != 1 || ds[0].Transitions[0].Detail == "" {
		t.Fatalf("fix not in outbox: %+v", ds)
	}
}

func testStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}, acctB: {res(acctB, lifecycle.Fail, 4)}})
	scanWith(t, s, T0.Add(2*time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Pass, 4)}})
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var byRule *store.Stat
	for i := range st {
		if st[i].By == "rule" && st[i].Key == rule {
			byRule = &st[i]
		}
	}
	if byRule == nil || byRule.Open != 1 || byRule.Resolved != 1 || byRule.MTTR != 2*time.Hour {
		t.Fatalf("stats: %+v", st)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, err := s.AddToken(ctx, store.Token{Name: "ci", Role: store.Viewer, Key: "k1", Hash: []byte{1, 2, 3}, CreatedAt: T0})
	if err != nil || a.ID == 0 {
		t.Fatalf("add: %+v %v", a, err)
	}
	if _, err := s.AddToken(ctx, store.Token{Name: "ci", Role: store.Admin, Key: "k2", Hash: []byte{4}, CreatedAt: T0}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("same name twice: %v, want ErrExists", err)
	}
	got, err := s.TokenByKey(ctx, "k1")
	if err != nil || got.Name != "ci" || got.Role != store.Viewer || string(got.Hash) != "\x01\x02\x03" || !got.CreatedAt.Equal(T0) || got.RevokedAt != nil {
		t.Fatalf("by key: %+v %v", got, err)
	}
	if _, err := s.TokenByKey(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if err := s.RevokeToken(ctx, "ci", T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "ci", T0.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke twice: %v", err)
	}
	got, err = s.TokenByKey(ctx, "k1")
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(T0.Add(time.Hour)) {
		t.Fatalf("revoked: %+v %v", got, err)
	}
	// The name is free again once revoked.
	if _, err := s.AddToken(ctx, store.Token{Name: "ci", Role: store.Admin, Key: "k2", Hash: []byte{4}, CreatedAt: T0}); err != nil {
		t.Fatal(err)
	}
	ts, err := s.Tokens(ctx)
	if err != nil || len(ts) != 2 || ts[0].Key != "k1" || ts[1].Role != store.Admin {
		t.Fatalf("list: %+v %v", ts, err)
	}
}
