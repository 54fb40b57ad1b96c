package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// Every list of the API pages with a cursor: scans, suppressions and
// deliveries walked a page of one at a time give the same items, in the
// same order, as one page holding them all; a damaged cursor is a 400.
func TestListPages(t *testing.T) {
	f := start(t)
	ctx := t.Context()
	now := testclock.Ref()
	for i := range 3 {
		if _, err := f.Store.StartScan(ctx, store.Scan{Schedule: "nightly", Tick: now.Add(time.Duration(i) * time.Minute), Target: "t", StartedAt: now.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		body := validSuppression(now)
		body["resource"] = fmt.Sprint("arn:aws:iam::111111111111:user/u", i)
		if code, raw := f.do(t, "POST", "/api/v1/suppressions", f.Admin, body, nil); code != 201 {
			t.Fatalf("%d %s", code, raw)
		}
	}
	// The recorded scan's transitions go out on three channels at once.
	if _, err := f.Store.FlushOutbox(ctx, []store.Route{{Channel: "a", Kinds: lifecycle.Kinds}, {Channel: "b", Kinds: lifecycle.Kinds},
		{Channel: "c", Kinds: lifecycle.Kinds}}, now); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, list, id string }{
		{"/api/v1/scans", "scans", "id"},
		{"/api/v1/suppressions", "suppressions", "id"},
		{"/api/v1/deliveries", "deliveries", "id"},
	} {
		ids := func(raw map[string]json.RawMessage) []string {
			var items []map[string]any
			if err := json.Unmarshal(raw[c.list], &items); err != nil {
				t.Fatalf("%s: %v", c.path, err)
			}
			var out []string
			for _, x := range items {
				out = append(out, fmt.Sprint(x[c.id]))
			}
			return out
		}
		var all map[string]json.RawMessage
		if code, raw := f.do(t, "GET", c.path+"?limit=500", f.Viewer, nil, &all); code != 200 {
			t.Fatalf("%s: %d %s", c.path, code, raw)
		}
		want := ids(all)
		if len(want) < 3 {
			t.Fatalf("%s: only %v", c.path, want)
		}
		var walked []string
		cursor := ""
		for range len(want) + 1 {
			var p map[string]json.RawMessage
			if code, raw := f.do(t, "GET", c.path+"?limit=1&cursor="+cursor, f.Viewer, nil, &p); code != 200 {
				t.Fatalf("%s: %d %s", c.path, code, raw)
			}
			walked = append(walked, ids(p)...)
			if p["next_cursor"] == nil {
				break
			}
			json.Unmarshal(p["next_cursor"], &cursor)
		}
		if !slices.Equal(walked, want) {
			t.Errorf("%s: pages of one %v, one page %v", c.path, walked, want)
		}
		if code, raw := f.do(t, "GET", c.path+"?cursor=%21", f.Viewer, nil, nil); code != 400 || !strings.Contains(string(raw), "invalid_cursor") {
			t.Errorf("%s with a damaged cursor: %d %s", c.path, code, raw)
		}
	}
}
