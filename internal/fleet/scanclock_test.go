package fleet_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// A credential report's age is judged on the scan's clock. Each account
// of the generated organisation holds a report generated an hour before
// the reference time: a scan whose clock reads the reference time reuses
// it, one whose clock reads five hours later (past IAM's four-hour reuse
// window) has a new one generated. The wall clock would give both scans
// the same answer, whatever the reference time.
func TestScanJudgesReportAgeOnItsClock(t *testing.T) {
	for _, tc := range []struct {
		name     string
		at       time.Time
		generate bool
	}{
		{"report an hour old", testclock.Ref(), false},
		{"report six hours old", testclock.Ref().Add(5 * time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, targets := range []bool{false, true} {
				w := awsemu.OrgWorld(3, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 7})
				srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return tc.at }))
				cfg := awsemutest.ConfigFor(t, srv, awsemu.OrgWorldAdminKey)
				log := slog.New(slog.NewTextHandler(io.Discard, nil))
				clk := clock.Pinned{T: tc.at}
				if targets {
					fleet.ScanTargets(context.Background(), []fleet.Target{{Label: "admin", Config: cfg}},
						fleet.TargetOptions{Clock: clk, Collect: collect.DefaultOptions(), Logger: log})
				} else if _, err := fleet.Scan(context.Background(), cfg,
					fleet.Options{Mode: fleet.ModeRole, Clock: clk, Collect: collect.DefaultOptions(), Logger: log}); err != nil {
					t.Fatal(err)
				}
				got := srv.CallCount("iam", "GenerateCredentialReport") > 0
				if got != tc.generate {
					t.Errorf("targets=%v: GenerateCredentialReport called: %v, want %v", targets, got, tc.generate)
				}
			}
		})
	}
}
