package main

// Tests of the gates that must fail closed and of the bounds on what
// Vigil accepts (issue 8, items 4, 5, 6, 8, 9 and 12).

import (
	"strings"
	"testing"
)

// TestDurationBounds: a duration out of a flag's range is a usage error
// that states the range, never a wrapped-around value. 999999d once
// became 0s, and a window of 0s passed a root user used 2 days ago;
// 213504d of --min-idle once became 25 minutes.
func TestDurationBounds(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--demo", "--root-use-window", "999999d"}, `"999999d" is out of range: want 1h to 3650d`},
		{[]string{"scan", "--demo", "--root-use-window", "0"}, `"0" is out of range: want 1h to 3650d`},
		{[]string{"scan", "--demo", "--max-report-age", "106752d"}, "want 1m to 3650d, or 0 for no limit"},
		{[]string{"scan", "--demo", "--report-timeout", "0"}, "want 1s to 1h"},
		{[]string{"scan", "--org", "--demo", "--account-timeout", "3000000h"}, `"3000000h" is out of range: want 1s to 1d`},
		{[]string{"fix", "--org", "--demo", "--min-idle", "213504d"}, `"213504d" is out of range: want 1h to 3650d, or 0 to refuse only keys whose last use is unknown`},
		{[]string{"fix", "--org", "--demo", "--lookback", "0"}, "want 1h to 90d"},
		{[]string{"fix", "--org", "--demo", "--account-timeout", "0s"}, "want 1s to 1d"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := vigil(t, nil, c.args...).want(t, 2)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, c.want)
			}
		})
	}
	// The top of the range is honoured: the demo's root, used 2 days
	// before the scan, was used within 3650 days.
	r := vigil(t, nil, "scan", "--demo", "--root-use-window", "3650d", "--format", "json").want(t, 0)
	if !strings.Contains(r.stdout, "The root user was used in the last 3650d") {
		t.Errorf("root-recent-use did not fail with the widest window:\n%s", r.stdout)
	}
}
