package testclock

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// A golden file is written at the default reference time. When the
// reference time is moved, the dates an output derives from it move by
// the same amount, while dates that are data (a snapshot's key creation
// date, an IAM policy's Version "2012-10-17") stay put. Shifted compares
// an output with a golden file on exactly those terms, so the moved run
// still checks every byte around the dates and every date's provenance:
// a date read from the wall clock matches neither.

// stamp matches the date and time forms Vigil writes: RFC 3339 (with Z or
// an offset, optionally fractional), "2006-01-02 15:04", and bare dates.
var stamp = regexp.MustCompile(`\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:\d{2})?`)

// layouts are the forms stamp matches, each with the span of time a
// value in it stands for.
var layouts = []struct {
	layout string
	span   time.Duration
}{
	{"2006-01-02T15:04:05.999999999Z07:00", time.Nanosecond},
	{"2006-01-02T15:04:05.999999999-07:00", time.Nanosecond},
	{"2006-01-02T15:04:05", time.Second},
	{"2006-01-02 15:04:05", time.Second},
	{"2006-01-02T15:04Z07:00", time.Minute},
	{"2006-01-02T15:04-07:00", time.Minute},
	{"2006-01-02T15:04", time.Minute},
	{"2006-01-02 15:04", time.Minute},
	{time.DateOnly, 24 * time.Hour},
}

// Shifted reports how got differs from want, a golden output written at
// Default: nil when got equals want except that some dates in want are
// moved by Ref()-Default. At the default reference time it is plain
// equality.
func Shifted(want, got string) error {
	if want == got {
		return nil
	}
	if !Moved() {
		return fmt.Errorf("output differs")
	}
	delta := Ref().Sub(Default)
	wi, gi := stamp.FindAllStringIndex(want, -1), stamp.FindAllStringIndex(got, -1)
	if len(wi) != len(gi) {
		return fmt.Errorf("output has %d dates, the golden %d", len(gi), len(wi))
	}
	wp, gp := 0, 0
	for i := range wi {
		if w, g := want[wp:wi[i][0]], got[gp:gi[i][0]]; w != g {
			return fmt.Errorf("output differs before date %d: %q, golden %q", i+1, tail(g), tail(w))
		}
		w, g := want[wi[i][0]:wi[i][1]], got[gi[i][0]:gi[i][1]]
		if w != g && !moved(w, g, delta) {
			return fmt.Errorf("date %d is %s; the golden's %s, unchanged or moved by %v, is not that", i+1, g, w, delta)
		}
		wp, gp = wi[i][1], gi[i][1]
	}
	if w, g := want[wp:], got[gp:]; w != g {
		return fmt.Errorf("output differs after the last date: %q, golden %q", tail(g), tail(w))
	}
	return nil
}

// moved reports whether g is w moved by delta, written in w's form: any
// value in the span w stands for, moved, may print as g.
func moved(w, g string, delta time.Duration) bool {
	for _, l := range layouts {
		t, err := time.Parse(l.layout, w)
		if err != nil || t.Format(l.layout) != w {
			continue // not this form, or one that prints differently (Z for +00:00)
		}
		span := l.span
		if span == time.Nanosecond && !strings.Contains(w, ".") {
			span = time.Second // a time printed to the second stands for that second
		}
		lo, hi := t.Add(delta), t.Add(delta+span-time.Nanosecond)
		return lo.Format(l.layout) == g || hi.Format(l.layout) == g
	}
	return false
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 60 {
		return "…" + s[len(s)-60:]
	}
	return s
}
