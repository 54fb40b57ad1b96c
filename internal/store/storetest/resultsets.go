package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// ResultSetChurn records hourly scans of three accounts of 30 results
// each, a few results changing every hour (statuses flipping, one
// account's messages all rewritten now and then, a set coming back to
// an earlier one), and checks that every scan's results read back as
// written, before and after pruning, and that the scans recorded after
// a prune read back too. A store that keeps a changed set as a delta of
// an earlier one must keep what the delta needs; engines' own tests call
// it with inspect, called before the last prune, to look at how the sets
// were stored.
func ResultSetChurn(t *testing.T, s store.Store, inspect func()) {
	ctx := context.Background()
	accounts := []string{acctA, acctB, acctC}
	sets := map[string][]lifecycle.Observation{}
	for k, a := range accounts {
		for i := range 30 {
			sets[a] = append(sets[a], lifecycle.Observation{AccountID: a, AccountName: "acct-" + a[:3], RuleID: fmt.Sprintf("rule-%02d", i),
				Title: fmt.Sprintf("Rule %d of the catalog", i), Resource: "arn:aws:iam::" + a + ":root", Status: lifecycle.Pass, Severity: i % 5,
				Message: fmt.Sprintf("result %d of account %d", i, k), Evidence: []byte(fmt.Sprintf(`[{"source":"iam","call":"GetAccountSummary","n":%d}]`, i))})
		}
	}
	r := rand.New(rand.NewPCG(12, 13))
	written := map[int64]map[string][]lifecycle.Observation{}
	var scans []int64
	scan := func(h int) {
		at := T0.Add(time.Duration(h) * time.Hour)
		for _, a := range accounts {
			obs := sets[a]
			switch {
			case h%9 == 8 && a == acctB:
				// Everything changes: no earlier set is a good base.
				for i := range obs {
					obs[i].Message = fmt.Sprintf("rewritten at hour %d: %d", h, r.IntN(1e6))
				}
			case h%5 != 4:
				for range 1 + r.IntN(2) {
					i := r.IntN(len(obs))
					if obs[i].Status == lifecycle.Fail {
						obs[i].Status = lifecycle.Pass
					} else {
						obs[i].Status = lifecycle.Fail
					}
				}
			}
			// Nothing changes every fifth hour: the same set as before.
		}
		snap := map[string][]lifecycle.Observation{}
		for _, a := range accounts {
			snap[a] = append([]lifecycle.Observation(nil), sets[a]...)
		}
		id, _ := scanWith(t, s, at, snap)
		written[id] = snap
		scans = append(scans, id)
	}
	check := func(when string, ids []int64) {
		t.Helper()
		for _, id := range ids {
			got, err := s.ScanAccounts(ctx, id)
			if err != nil {
				t.Fatalf("%s: scan %d: %v", when, id, err)
			}
			if len(got) != len(accounts) {
				t.Fatalf("%s: scan %d has %d accounts, want %d", when, id, len(got), len(accounts))
			}
			for _, a := range got {
				if !reflect.DeepEqual(a.Results, written[id][a.AccountID]) {
					t.Fatalf("%s: scan %d account %s reads back other results than written", when, id, a.AccountID)
				}
			}
		}
		latest, err := s.LatestResults(ctx)
		if err != nil || len(latest) != len(accounts) {
			t.Fatalf("%s: latest results: %d accounts, %v", when, len(latest), err)
		}
		last := scans[len(scans)-1]
		for _, a := range latest {
			if !reflect.DeepEqual(a.Results, written[last][a.AccountID]) {
				t.Fatalf("%s: latest results of %s are not the last written", when, a.AccountID)
			}
		}
	}
	for h := range 40 {
		scan(h)
	}
	check("recorded", scans)
	// The first 25 hours' scans go; what the later ones were compressed
	// against must stay.
	if n, err := s.Prune(ctx, T0.Add(25*time.Hour-time.Minute)); err != nil || n != 25*len(accounts) {
		t.Fatalf("prune: %d rows, %v", n, err)
	}
	for _, id := range scans[:25] {
		if a, err := s.ScanAccounts(ctx, id); err != nil || len(a) != 0 {
			t.Fatalf("pruned scan %d still has %d accounts (%v)", id, len(a), err)
		}
	}
	check("after a prune", scans[25:])
	for h := 40; h < 60; h++ {
		scan(h)
	}
	check("recorded after a prune", scans[25:])
	if inspect != nil {
		inspect()
	}
	// All but the last scan go: the last must read alone.
	if _, err := s.Prune(ctx, T0.Add(59*time.Hour-time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("after pruning all but the last", scans[len(scans)-1:])
}

func testResultSetChurn(t *testing.T, s store.Store) { ResultSetChurn(t, s, nil) }
