package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/internal/store"
)

// testEndScanOnce: of finishers of one scan at once (two account jobs
// each recording a tick's last account), exactly one ends it; the others
// change nothing (not the outcome, not the message, not the calls) and
// are told so. Finishing an ended scan is not an error; finishing a scan
// that does not exist is.
func testEndScanOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	sc, err := s.StartScan(ctx, store.Scan{Schedule: "org", Tick: T0, StartedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	const finishers = 8
	ended := make([]bool, finishers)
	errs := make([]error, finishers)
	var wg sync.WaitGroup
	for i := range finishers {
		wg.Go(func() {
			ended[i], errs[i] = s.EndScan(ctx, sc.ID, store.End{Outcome: store.Complete, Message: string(rune('a' + i)), Calls: 1, At: T0})
		})
	}
	wg.Wait()
	winner := -1
	for i := range finishers {
		if errs[i] != nil {
			t.Fatalf("finisher %d: %v", i, errs[i])
		}
		if ended[i] {
			if winner >= 0 {
				t.Fatalf("finishers %d and %d both ended scan %d", winner, i, sc.ID)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no finisher ended the scan")
	}
	got, err := s.Scan(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != store.Complete || got.Message != string(rune('a'+winner)) || got.Calls != 1 {
		t.Errorf("scan after %d finishers: %s %q, %d calls; want complete %q, 1 call", finishers, got.Outcome, got.Message, got.Calls, string(rune('a'+winner)))
	}
	if err := s.FinishScan(ctx, sc.ID, store.End{Outcome: store.Failed, Message: "late", Calls: 5, At: T0}); err != nil {
		t.Errorf("finishing an ended scan: %v", err)
	}
	if again, _ := s.Scan(ctx, sc.ID); again.Outcome != store.Complete || again.Message != got.Message || again.Calls != 1 {
		t.Errorf("a late finisher changed the scan: %s %q, %d calls", again.Outcome, again.Message, again.Calls)
	}
	if ok, err := s.EndScan(ctx, sc.ID+100, store.End{Outcome: store.Complete, At: T0}); ok || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ending a scan that does not exist: %v, %v", ok, err)
	}
}
