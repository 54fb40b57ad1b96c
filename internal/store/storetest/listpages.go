package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// walk reads pages of size until one comes back short, each after the
// last item of the one before, and returns the keys seen in order.
func walk[T any](t *testing.T, size int, page func(last *T) ([]T, error), key func(T) string) []string {
	t.Helper()
	var out []string
	var last *T
	for range 100 {
		p, err := page(last)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range p {
			out = append(out, key(x))
		}
		if len(p) < size {
			return out
		}
		last = &p[len(p)-1]
	}
	t.Fatal("pages do not end")
	return nil
}

// Pages of scans, suppressions and deliveries after a key walk each list
// once, in the order of the whole list; deliveries made at the same
// moment are told apart by their ID.
func testListPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 5 {
		scanWith(t, s, T0.Add(time.Duration(i)*time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, []string{lifecycle.Fail, lifecycle.Pass}[i%2], 4)}})
		exp := T0.Add(time.Duration(100+i) * time.Hour)
		if _, err := s.AddSuppression(ctx, store.Suppression{RuleID: rule, AccountID: acctB, Resource: fmt.Sprint("r", i), Reason: "r", Owner: "o",
			Expires: &exp, CreatedAt: T0}); err != nil {
			t.Fatal(err)
		}
		// Three channels in one flush: three deliveries made at once.
		if _, err := s.FlushOutbox(ctx, []store.Route{{Channel: "a", Kinds: lifecycle.Kinds}, {Channel: "b", Kinds: lifecycle.Kinds},
			{Channel: "c", Kinds: lifecycle.Kinds}}, T0.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}

	scans, err := s.Scans(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, x := range scans {
		want = append(want, fmt.Sprint(x.ID))
	}
	got := walk(t, 2, func(last *store.Scan) ([]store.Scan, error) {
		var before int64
		if last != nil {
			before = last.ID
		}
		return s.ScanPage(ctx, before, 2)
	}, func(x store.Scan) string { return fmt.Sprint(x.ID) })
	if len(want) != 5 || !slices.Equal(got, want) {
		t.Errorf("scan pages %v, want %v", got, want)
	}

	sps, err := s.Suppressions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want = nil
	for _, x := range sps {
		want = append(want, fmt.Sprint(x.ID))
	}
	got = walk(t, 2, func(last *store.Suppression) ([]store.Suppression, error) {
		var after int64
		if last != nil {
			after = last.ID
		}
		return s.SuppressionPage(ctx, after, 2)
	}, func(x store.Suppression) string { return fmt.Sprint(x.ID) })
	if len(want) != 5 || !slices.Equal(got, want) {
		t.Errorf("suppression pages %v, want %v", got, want)
	}

	ds, err := s.Deliveries(ctx, false, 100)
	if err != nil {
		t.Fatal(err)
	}
	want = nil
	for _, x := range ds {
		want = append(want, x.ID)
	}
	got = walk(t, 2, func(last *store.Delivery) ([]store.Delivery, error) {
		var after *store.DeliveryKey
		if last != nil {
			after = &store.DeliveryKey{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		return s.DeliveryPage(ctx, false, after, 2)
	}, func(x store.Delivery) string { return x.ID })
	if len(want) < 9 || !slices.Equal(got, want) {
		t.Errorf("delivery pages %v, want %v", got, want)
	}
}

// The view stamp changes with every change Counts and OpenTrend would
// see, and only then: a recorded transition, a suppression added,
// removed, or expired by the time asked about.
func testViewStamp(t *testing.T, s store.Store) {
	ctx := t.Context()
	stamp := func(at time.Time) string {
		t.Helper()
		v, err := s.ViewStamp(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	empty := stamp(T0)
	scanWith(t, s, T0, map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}})
	opened := stamp(T0)
	if opened == empty {
		t.Fatal("a new finding left the stamp alone")
	}
	scanWith(t, s, T0.Add(time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Fail, 4)}})
	if stamp(T0) != opened {
		t.Error("a scan that changed nothing changed the stamp")
	}
	exp := T0.Add(24 * time.Hour)
	sp, err := s.AddSuppression(ctx, store.Suppression{RuleID: rule, AccountID: acctA, Reason: "r", Owner: "o", Expires: &exp, CreatedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	muted := stamp(T0)
	if muted == opened {
		t.Error("a suppression added left the stamp alone")
	}
	if stamp(T0.Add(23*time.Hour)) != muted {
		t.Error("the stamp moved before the suppression expired")
	}
	if stamp(T0.Add(25*time.Hour)) == muted {
		t.Error("the suppression's expiry left the stamp alone")
	}
	if err := s.RemoveSuppression(ctx, sp.ID); err != nil {
		t.Fatal(err)
	}
	if stamp(T0) != opened {
		t.Error("with the suppression removed, the stamp is not what it was without it")
	}
	// Another suppression in its place (SQLite may give it the same ID)
	// is another stamp.
	other, err := s.AddSuppression(ctx, store.Suppression{RuleID: rule, AccountID: acctB, Reason: "r", Owner: "o", Expires: &exp, CreatedAt: T0})
	if err != nil {
		t.Fatal(err)
	}
	if stamp(T0) == muted || stamp(T0) == opened {
		t.Error("another suppression in the removed one's place left the stamp alone")
	}
	if err := s.RemoveSuppression(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	scanWith(t, s, T0.Add(2*time.Hour), map[string][]lifecycle.Observation{acctA: {res(acctA, lifecycle.Pass, 4)}})
	if stamp(T0) == opened {
		t.Error("a resolved finding left the stamp alone")
	}
}
