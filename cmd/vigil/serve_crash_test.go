package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/slowtest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestServeAutoFixSurvivesCrash: the process dies (SIGKILL, at an
// injected crash point) after recording an account whose root key just
// opened a finding and before enqueueing its automatic fix. After the
// restart the account's job runs again, finds the account recorded, and
// enqueues the fix from the store: the fix is planned exactly once.
func TestServeAutoFixSurvivesCrash(t *testing.T) {
	slowtest.Skip(t, "an automatic fix across a crash")
	srv := awsemutest.Start(t, awsemu.DemoWorld(testclock.Ref()))
	// Slow enough that the service prints its address before the crash.
	srv.SetLatency(20 * time.Millisecond)
	db := filepath.Join(t.TempDir(), "vigil.db")
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.DemoManagementAdminKey, "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
	args := []string{"--org", "--every", "1h", "--db", db, "--auto-fix", "root-access-key", "--auto-fix-mode", "plan", "--min-idle", "30d", "--rescue-after", "5s"}
	prod := lifecycleID("333333333333", "root-access-key", "arn:aws:iam::333333333333:root")

	crashing := map[string]string{"VIGIL_TEST_CRASH_AT": "before-fix-enqueue"}
	for k, v := range env {
		crashing[k] = v
	}
	s := startServe(t, crashing, args...)
	select {
	case err := <-s.done:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("serve ended with %v, want killed at the crash point\n%s", err, s.stderr)
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("serve did not reach the crash point\n%s", s.stderr)
	}
	if countKind(t, db, prod, "new") != 1 || countKind(t, db, prod, "fixed") != 0 {
		t.Fatalf("before the restart: %d new, %d fixed; want the finding recorded and no fix", countKind(t, db, prod, "new"), countKind(t, db, prod, "fixed"))
	}

	s = startServe(t, env, args...)
	waitFor(t, "the fix planned after the restart", s, func() bool { return countKind(t, db, prod, "fixed") >= 1 })
	// The tick's other jobs, and a job rescued twice, must not plan it
	// again: the fix job is unique per opening.
	waitFor(t, "the tick to complete", s, func() bool { _, complete := recordedScans(t, db); return complete > 0 })
	if n := fixJobs(t, db); n != 1 {
		t.Errorf("%d fix jobs in the queue, want the one", n)
	}
	if n := countKind(t, db, prod, "fixed"); n != 1 {
		t.Errorf("the fix was planned %d times, want once", n)
	}
	if n := countKind(t, db, prod, "new"); n != 1 {
		t.Errorf("%d new transitions, want 1", n)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
}

// fixJobs counts the automatic fix jobs River holds.
func fixJobs(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'vigil_auto_fix'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestServeTickSurvivesCrashWhileEnqueueing: the process dies in the
// tick's job after it recorded its scan and before it enqueued the
// accounts' jobs. After the restart the tick's job runs again, for the
// same tick (River moved its ScheduledAt): the scan completes with every
// account recorded once.
func TestServeTickSurvivesCrashWhileEnqueueing(t *testing.T) {
	slowtest.Skip(t, "a tick across a crash")
	const n = 30
	w := awsemu.OrgWorld(n, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 9})
	srv := awsemutest.Start(t, w)
	srv.SetLatency(20 * time.Millisecond)
	db := filepath.Join(t.TempDir(), "vigil.db")
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.OrgWorldAdminKey, "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
	args := []string{"--org", "--every", "1h", "--db", db, "--rescue-after", "5s", "--workers", "4"}
	crashing := map[string]string{"VIGIL_TEST_CRASH_AT": "tick-before-enqueue"}
	for k, v := range env {
		crashing[k] = v
	}
	s := startServe(t, crashing, args...)
	select {
	case err := <-s.done:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("serve ended with %v, want killed at the crash point\n%s", err, s.stderr)
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("serve did not reach the crash point\n%s", s.stderr)
	}

	s = startServe(t, env, args...)
	waitFor(t, "the tick to complete", s, func() bool { _, complete := recordedScans(t, db); return complete > 0 })
	if got, _ := recordedAccounts(t, db); got != n+1 {
		t.Errorf("%d accounts recorded by the tick, want %d", got, n+1)
	}
	summaries := map[string]int{}
	for _, c := range srv.Calls() {
		if c.Action == "GetAccountSummary" && c.Status == 200 {
			summaries[c.CallerAccount]++
		}
	}
	for acct, k := range summaries {
		if k > 1 {
			t.Errorf("account %s read %d times", acct, k)
		}
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
	db2, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var first string
	if err := db2.QueryRow(`SELECT outcome FROM scans ORDER BY id LIMIT 1`).Scan(&first); err != nil || first != "complete" {
		t.Errorf("the crashed tick's scan ended %q (%v), want complete", first, err)
	}
}
