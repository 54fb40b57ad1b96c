package scenario

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestReportWaitPinnedClock: the credential report wait is bounded by
// the time spent waiting, not by a deadline on the run's clock, which
// SOURCE_DATE_EPOCH pins and which then never reaches a deadline.
func TestReportWaitPinnedClock(t *testing.T) {
	t.Parallel()
	s := load(t, "testdata/report-never-ready.json")
	world, err := awsemu.LoadWorld(bytes.NewReader(s.World))
	if err != nil {
		t.Fatal(err)
	}
	srv := awsemutest.Start(t, world, awsemu.WithClock(awsemu.NewManualClock(s.Now).Now), awsemu.WithFaults(s.Faults...))
	opts := collect.DefaultOptions()
	pinned := testclock.Ref()
	opts.Now = func() time.Time { return pinned }
	var slept time.Duration
	opts.Sleep = func(ctx context.Context, d time.Duration) error {
		slept += d
		return ctx.Err()
	}
	ctx, cancel := context.WithTimeout(t.Context(), hangLimit)
	defer cancel()
	acct, err := collect.Account(ctx, collect.NewClients(awsemutest.ConfigFor(t, srv, s.SignAs)), opts)
	if err != nil {
		t.Fatal(err)
	}
	g := acct.GapFor(snapshot.SectionCredentialReport)
	if g == nil || g.Code != "Timeout" {
		t.Fatalf("credential report gap %+v, want the wait's Timeout", g)
	}
	if slept > opts.ReportWait {
		t.Errorf("waited %v in all, more than --report-timeout %v", slept, opts.ReportWait)
	}
	if ctx.Err() != nil {
		t.Error("the wait ended only at the test's hang limit")
	}
}
