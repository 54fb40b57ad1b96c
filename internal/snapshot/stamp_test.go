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
