package cli

import (
	"strings"
	"testing"
	"time"
)

func TestDurationFlag(t *testing.T) {
	for _, c := range []struct {
		in   string
		b    bounds
		want time.Duration
		err  string
	}{
		{in: "30d", b: rangeRootUseWindow, want: 30 * day},
		{in: "12h", b: rangeRootUseWindow, want: 12 * time.Hour},
		{in: "3650d", b: rangeRootUseWindow, want: 3650 * day},
		// 999999d once overflowed into 0s, and a window of 0s passes a
		// root user used two days ago.
		{in: "999999d", b: rangeRootUseWindow, err: `"999999d" is out of range: want 1h to 3650d`},
		{in: "0", b: rangeRootUseWindow, err: "out of range: want 1h to 3650d"},
		{in: "0d", b: rangeRootUseWindow, err: "out of range"},
		{in: "59m", b: rangeRootUseWindow, err: "out of range"},
		// 213504d once wrapped round to 25 minutes of --min-idle.
		{in: "213504d", b: rangeMinIdle, err: `"213504d" is out of range: want 1h to 3650d`},
		{in: "106752d", b: rangeMinIdle, err: "out of range"},
		{in: "106751d", b: rangeMinIdle, err: "out of range: want 1h to 3650d, or 0 to refuse only keys whose last use is unknown"},
		{in: "0", b: rangeMinIdle, want: 0},
		{in: "0s", b: rangeMinIdle, want: 0},
		{in: "99999999999999999999d", b: rangeMinIdle, err: "out of range"},
		{in: "3000000h", b: rangeMinIdle, err: `"3000000h" is out of range`},
		{in: "9999999999999999999ns", b: rangeMinIdle, err: "out of range"},
		{in: "-1d", b: rangeMinIdle, err: "not a number of days"},
		{in: "-1h", b: rangeMinIdle, err: "negative"},
		{in: "+1d", b: rangeMinIdle, err: "not a number of days"},
		{in: "d", b: rangeMinIdle, err: "not a number of days"},
		{in: "1.5d", b: rangeMinIdle, err: "not a number of days"},
		{in: "soon", b: rangeMinIdle, err: "not a duration"},
		{in: "0", b: rangeMaxReportAge, want: 0},
		{in: "30s", b: rangeMaxReportAge, err: "want 1m to 3650d, or 0 for no limit"},
		{in: "91d", b: rangeLookback, err: "want 1h to 90d"},
		{in: "90d", b: rangeLookback, want: 90 * day},
		{in: "0", b: rangeAccountTimeout, err: "want 1s to 1d"},
		{in: "90m", b: rangeAccountTimeout, want: 90 * time.Minute},
		{in: "5m", b: rangeSessionDuration, err: "want 15m to 12h"},
		{in: "0", b: rangeReportTimeout, err: "want 1s to 1h"},
	} {
		t.Run(c.in, func(t *testing.T) {
			d := 7 * time.Minute // a default the flag must keep on error
			err := newDuration(&d, c.b).Set(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Set(%q) = %v (value %s), want an error with %q", c.in, err, d, c.err)
				}
				if d != 7*time.Minute {
					t.Errorf("a rejected value changed the setting to %s", d)
				}
				return
			}
			if err != nil || d != c.want {
				t.Fatalf("Set(%q) = %s, %v; want %s", c.in, d, err, c.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 30 * day: "30d", time.Hour: "1h", 15 * time.Minute: "15m", 90 * time.Second: "1m30s",
		36 * time.Hour: "36h", time.Second: "1s", 500 * time.Millisecond: "500ms",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", time.Duration(d), got, want)
		}
	}
}
