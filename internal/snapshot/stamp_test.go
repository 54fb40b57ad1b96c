package snapshot

import (
	"testing"
	"time"
)

// TestStampOfUnixMatchesStampOf: the credential report's stamps are made
// from seconds, and must equal those made from the time, including the zero
// time's second, which StampOf treats as no time at all.
func TestStampOfUnixMatchesStampOf(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Unix(0, 0),
		time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		if got, want := StampOfUnix(tm.Unix()), StampOf(tm); got != want {
			t.Errorf("StampOfUnix(%d) = %+v, StampOf(%v) = %+v", tm.Unix(), got, tm, want)
		}
	}
}

// TestStampComparisons: Before, AtOrBefore and Unix answer what the
// stamp's time.Time would, for times on either side of 1970, with and
// without nanoseconds, and the sentinels and absent stamps hold no time.
func TestStampComparisons(t *testing.T) {
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 500, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Unix(0, 0),
		time.Unix(0, 1),
		time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 21, 9, 30, 0, 999_999_999, time.UTC),
		time.Date(2026, 11, 21, 9, 30, 1, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	for _, a := range times {
		s := StampOf(a)
		if s.Unix() != a.Unix() {
			t.Errorf("StampOf(%v).Unix() = %d, want %d", a, s.Unix(), a.Unix())
		}
		for _, b := range times {
			if got, want := s.Before(b), b.Sub(a) > 0; got != want {
				t.Errorf("StampOf(%v).Before(%v) = %v, want %v", a, b, got, want)
			}
			if got, want := s.AtOrBefore(b), b.Sub(a) >= 0; got != want {
				t.Errorf("StampOf(%v).AtOrBefore(%v) = %v, want %v", a, b, got, want)
			}
		}
	}
	for _, s := range []Stamp{{}, SentinelStamp(NotApplicable), SentinelStamp(NoInformation), SentinelStamp(NotSupported)} {
		if s.Before(times[len(times)-1]) || s.AtOrBefore(times[len(times)-1]) || s.Unix() != 0 {
			t.Errorf("%v compares as a time", s)
		}
	}
}
