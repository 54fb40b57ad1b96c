package main

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestSourceDateEpoch: the clock of a vigil process is SOURCE_DATE_EPOCH
// when set, so a test and the processes it starts agree on "now"; a value
// that is not a time is refused rather than read as today.
func TestSourceDateEpoch(t *testing.T) {
	r := vigil(t, nil, "scan", "--demo", "--format", "json").want(t, 0)
	if want := `"generated_at": "` + testclock.Ref().Format("2006-01-02T15:04:05Z") + `"`; !strings.Contains(r.stdout, want) {
		t.Errorf("the report lacks %s:\n%.600s", want, r.stdout)
	}
	for _, bad := range []string{"yesterday", "-1", "1795694400.5", " 1795694400"} {
		r := vigil(t, map[string]string{"SOURCE_DATE_EPOCH": bad}, "scan", "--from", "testdata/snapshot.json").want(t, 2)
		if !strings.Contains(r.stderr, "SOURCE_DATE_EPOCH") || r.stdout != "" {
			t.Errorf("SOURCE_DATE_EPOCH=%q: stdout %q, stderr %q", bad, r.stdout, r.stderr)
		}
	}
}
