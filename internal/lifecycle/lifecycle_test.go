package lifecycle

import (
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"
	"time"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func obs(status string) Observation {
	return Observation{AccountID: "111111111111", RuleID: "root-access-key", Resource: "arn:aws:iam::111111111111:root", Status: status, Severity: 4, Message: status + " message"}
}

func TestObserve(t *testing.T) {
	open := &Finding{ID: "f", State: Open, Status: Fail, FirstSeen: t0, LastSeen: t0, OpenedAt: t0}
	resolvedAt := t0.Add(time.Hour)
	resolved := &Finding{ID: "f", State: Resolved, Status: Pass, FirstSeen: t0, LastSeen: t0, OpenedAt: t0, ResolvedAt: &resolvedAt, Resolutions: 1, OpenSeconds: 3600}
	gone := &Finding{ID: "f", State: Gone, Status: Fail, FirstSeen: t0, LastSeen: t0, OpenedAt: t0, ResolvedAt: &resolvedAt}
	unk := t0.Add(time.Minute)
	openUnknown := &Finding{ID: "f", State: Open, Status: Fail, FirstSeen: t0, LastSeen: t0, OpenedAt: t0, UnknownSince: &unk, Gap: "denied"}
	now := t0.Add(2 * time.Hour)
	cases := []struct {
		name      string
		prev      *Finding
		status    string
		wantNil   bool
		wantState State
		wantKind  Kind
		check     func(t *testing.T, f *Finding)
	}{
		{name: "first FAIL opens", status: Fail, wantState: Open, wantKind: New, check: func(t *testing.T, f *Finding) {
			if !f.FirstSeen.Equal(now) || !f.LastSeen.Equal(now) || f.ID != obs(Fail).Key() {
				t.Errorf("first/last seen or id wrong: %+v", f)
			}
		}},
		{name: "first PASS makes no finding", status: Pass, wantNil: true},
		{name: "first N/A makes no finding", status: NotApplicable, wantNil: true},
		{name: "first UNKNOWN makes no finding", status: Unknown, wantNil: true},
		{name: "FAIL again stays open, last seen moves", prev: open, status: Fail, wantState: Open, wantKind: StillOpen, check: func(t *testing.T, f *Finding) {
			if !f.LastSeen.Equal(now) || !f.FirstSeen.Equal(t0) {
				t.Errorf("last seen %v first %v", f.LastSeen, f.FirstSeen)
			}
		}},
		{name: "PASS resolves with time to resolve", prev: open, status: Pass, wantState: Resolved, wantKind: ResolvedKind, check: func(t *testing.T, f *Finding) {
			if f.ResolvedAt == nil || !f.ResolvedAt.Equal(now) || f.MTTR() != 2*time.Hour {
				t.Errorf("resolved at %v mttr %v", f.ResolvedAt, f.MTTR())
			}
		}},
		{name: "N/A resolves", prev: open, status: NotApplicable, wantState: Resolved, wantKind: ResolvedKind},
		{name: "UNKNOWN keeps open and records the gap", prev: open, status: Unknown, wantState: Open, wantKind: StillOpen, check: func(t *testing.T, f *Finding) {
			if f.UnknownSince == nil || !f.UnknownSince.Equal(now) || f.Gap != "UNKNOWN message" || f.Status != Fail {
				t.Errorf("unknown since %v gap %q status %s", f.UnknownSince, f.Gap, f.Status)
			}
		}},
		{name: "UNKNOWN again keeps the first unknown time", prev: openUnknown, status: Unknown, wantState: Open, wantKind: StillOpen, check: func(t *testing.T, f *Finding) {
			if !f.UnknownSince.Equal(unk) {
				t.Errorf("unknown since moved to %v", f.UnknownSince)
			}
		}},
		{name: "FAIL after UNKNOWN clears the gap", prev: openUnknown, status: Fail, wantState: Open, wantKind: StillOpen, check: func(t *testing.T, f *Finding) {
			if f.UnknownSince != nil || f.Gap != "" {
				t.Errorf("gap kept: %v %q", f.UnknownSince, f.Gap)
			}
		}},
		{name: "PASS after UNKNOWN resolves", prev: openUnknown, status: Pass, wantState: Resolved, wantKind: ResolvedKind},
		{name: "UNKNOWN keeps resolved", prev: resolved, status: Unknown, wantState: Resolved, wantKind: StillOpen},
		{name: "PASS keeps resolved quietly", prev: resolved, status: Pass, wantState: Resolved, wantKind: StillOpen},
		{name: "FAIL after resolved regresses", prev: resolved, status: Fail, wantState: Open, wantKind: Regressed, check: func(t *testing.T, f *Finding) {
			if f.Regressions != 1 || !f.OpenedAt.Equal(now) || f.ResolvedAt != nil || f.Resolutions != 1 {
				t.Errorf("regressions %d opened %v resolved %v", f.Regressions, f.OpenedAt, f.ResolvedAt)
			}
		}},
		{name: "FAIL after gone regresses", prev: gone, status: Fail, wantState: Open, wantKind: Regressed},
		{name: "PASS after gone is resolved quietly", prev: gone, status: Pass, wantState: Resolved, wantKind: StillOpen},
		{name: "UNKNOWN keeps gone", prev: gone, status: Unknown, wantState: Gone, wantKind: StillOpen},
		{name: "a status nobody knows decides nothing", prev: open, status: "ERROR", wantState: Open, wantKind: StillOpen},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before Finding
			if c.prev != nil {
				before = *c.prev
			}
			f, k := Observe(c.prev, obs(c.status), now)
			if c.prev != nil && !equalFinding(*c.prev, before) {
				t.Errorf("Observe changed its input")
			}
			if c.wantNil {
				if f != nil || k != StillOpen {
					t.Fatalf("got %+v %q, want no finding", f, k)
				}
				return
			}
			if f == nil {
				t.Fatal("no finding")
			}
			if f.State != c.wantState || k != c.wantKind {
				t.Errorf("got %s/%q, want %s/%q", f.State, k, c.wantState, c.wantKind)
			}
			if c.check != nil {
				c.check(t, f)
			}
		})
	}
}

func equalFinding(a, b Finding) bool {
	return a.State == b.State && a.Status == b.Status && a.LastSeen.Equal(b.LastSeen) && a.Regressions == b.Regressions && a.Resolutions == b.Resolutions
}

func TestLeave(t *testing.T) {
	open := Finding{State: Open}
	f, k := Leave(open, t0)
	if f.State != Gone || k != GoneKind || f.ResolvedAt == nil {
		t.Errorf("open: %s %q", f.State, k)
	}
	f, k = Leave(Finding{State: Resolved}, t0)
	if f.State != Gone || k != StillOpen {
		t.Errorf("resolved: %s %q", f.State, k)
	}
	f, k = Leave(Finding{State: Gone}, t0)
	if f.State != Gone || k != StillOpen {
		t.Errorf("gone: %s %q", f.State, k)
	}
}

// statuses is a random sequence of scan results for one resource.
type statuses []string

func (statuses) Generate(r *rand.Rand, size int) reflect.Value {
	all := []string{Fail, Pass, NotApplicable, Unknown}
	n := r.Intn(size + 1)
	s := make(statuses, n)
	for i := range s {
		// UNKNOWN and FAIL are common, so that long runs of them are tried.
		s[i] = all[r.Intn(len(all))]
	}
	return reflect.ValueOf(s)
}

// TestNothingResolvesWithoutPassOrNA: whatever the results, a finding
// becomes resolved only on a PASS or N/A, and a FAIL always leaves it
// open.
func TestNothingResolvesWithoutPassOrNA(t *testing.T) {
	prop := func(seq statuses) bool {
		var f *Finding
		now := t0
		for _, st := range seq {
			now = now.Add(time.Hour)
			var before State
			if f != nil {
				before = f.State
			}
			next, k := Observe(f, obs(st), now)
			if next != nil && next.State == Resolved && before != Resolved && st != Pass && st != NotApplicable {
				return false
			}
			if k == ResolvedKind && st != Pass && st != NotApplicable {
				return false
			}
			if st == Fail && (next == nil || next.State != Open) {
				return false
			}
			if st == Unknown && f != nil && next.State != f.State {
				return false
			}
			f = next
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
}

// TestRegressionsCounted: each return of a FAIL after a PASS counts once.
func TestRegressionsCounted(t *testing.T) {
	var f *Finding
	now := t0
	for _, st := range []string{Fail, Pass, Fail, Unknown, Pass, Unknown, Fail, Fail} {
		now = now.Add(time.Hour)
		f, _ = Observe(f, obs(st), now)
	}
	if f.Regressions != 2 || f.Resolutions != 2 || f.MTTR() != 90*time.Minute {
		t.Errorf("regressions %d resolutions %d mttr %v", f.Regressions, f.Resolutions, f.MTTR())
	}
}

// TestStatesComplete: whatever a finding goes through (any results, an
// account leaving between any two), it ends in one of States, and
// every one of States is reached; the SQLite store reads findings state
// by state from that list.
func TestStatesComplete(t *testing.T) {
	in := map[State]bool{}
	for _, s := range States {
		in[s] = true
	}
	reached := map[State]bool{}
	prop := func(seq statuses, leaveAt uint8) bool {
		var f *Finding
		now := t0
		for i, st := range seq {
			now = now.Add(time.Hour)
			if f != nil && i == int(leaveAt)%max(len(seq), 1) {
				g, _ := Leave(*f, now)
				f = &g
			} else if next, _ := Observe(f, obs(st), now); next != nil {
				f = next
			}
			if f != nil {
				if !in[f.State] {
					return false
				}
				reached[f.State] = true
			}
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
	for _, s := range States {
		if !reached[s] {
			t.Errorf("state %q listed but never reached", s)
		}
	}
}
