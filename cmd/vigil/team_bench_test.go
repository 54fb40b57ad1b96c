package main

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/store/postgres/pgtest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestTeamThroughput measures one tick of an organisation of
// VIGIL_BENCH_TEAM accounts at 50 ms a call, scanned by 1, 2 and 3
// replicas (--workers 8 each) on one PostgreSQL database: the wall time
// of the tick (its scan's start to its completion, and from the first
// replica's start), and the speed-up over one replica. VIGIL_BENCH_TEAM_RUNS repeats each (default 1).
func TestTeamThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_TEAM"))
	if n == 0 {
		t.Skip("VIGIL_BENCH_TEAM=ACCOUNTS measures team mode's throughput")
	}
	runs, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_TEAM_RUNS"))
	runs = max(runs, 1)
	w := awsemu.OrgWorld(n, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 1})
	srv := awsemutest.Start(t, w)
	srv.SetLatency(50 * time.Millisecond)
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.OrgWorldAdminKey, "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
	var base time.Duration
	for k := 1; k <= 3; k++ {
		for run := 0; run < runs; run++ {
			url := pgtest.NewDatabase(t)
			env["VIGIL_DATABASE_URL"] = url
			start := time.Now()
			var rs []*served
			for i := 0; i < k; i++ {
				rs = append(rs, startServe(t, env, "--org", "--every", "1h", "--workers", "8", "--log-level", "warn"))
			}
			var scanStart time.Time
			for {
				got := pgQuery(t, url, `SELECT accounts, outcome FROM scans ORDER BY id LIMIT 1`)
				if len(got) == 1 && scanStart.IsZero() {
					scanStart = time.Now()
				}
				if len(got) == 1 && got[0][1] == "complete" {
					if got[0][0] != fmt.Sprint(len(w.Accounts)) {
						t.Fatalf("%d replicas: tick of %s accounts, want %d", k, got[0][0], len(w.Accounts))
					}
					break
				}
				if time.Since(start) > 20*time.Minute {
					t.Fatalf("%d replicas: no complete tick after 20 minutes", k)
				}
				time.Sleep(100 * time.Millisecond)
			}
			// The tick: from its scan's start (replicas up, leader
			// elected) to its end.
			took, total := time.Since(scanStart), time.Since(start)
			if k == 1 && run == 0 {
				base = took
			}
			t.Logf("%d replica(s), run %d: %d accounts, tick %s (%s from the first start), %.1f accounts/s, %.2fx one replica", k, run+1, len(w.Accounts),
				took.Round(100*time.Millisecond), total.Round(100*time.Millisecond), float64(len(w.Accounts))/took.Seconds(), base.Seconds()/took.Seconds())
			for _, r := range rs {
				r.cmd.Process.Kill()
				<-r.done
			}
		}
	}
}
