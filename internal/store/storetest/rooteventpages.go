package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

// Pages of root events after a key walk every event once, newest first,
// the same as one list, even where many share a second (CloudTrail's
// times are whole seconds).
func testRootEventPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 7 {
		// Three events in each second but the last.
		at := T0.Add(time.Duration(i/3) * time.Second)
		if _, _, err := s.RecordRootEvent(ctx, rootEvent(fmt.Sprint("pg-", i), "444455556666", fmt.Sprint("ASIAPAGE", i), at)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.RootEvents(ctx, store.RootEventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := ids(all)
	if len(want) != 7 {
		t.Fatalf("events: %v", want)
	}
	var walked []string
	var before *store.RootEventKey
	for range 8 {
		p, err := s.RootEvents(ctx, store.RootEventFilter{Before: before, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, ids(p)...)
		if len(p) < 2 {
			break
		}
		last := p[len(p)-1]
		before = &store.RootEventKey{Time: last.Time, ID: last.ID}
	}
	if !slices.Equal(walked, want) {
		t.Fatalf("pages of 2: %v, want %v", walked, want)
	}
}
