package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestServeMemory measures the resident memory of vigil serve watching
// an organisation of VIGIL_BENCH_SERVE accounts (the emulator runs in the
// test, not in the measured process), sampling /proc every 200 ms until
// the first tick completes or VIGIL_BENCH_SERVE_FOR passes.
// VIGIL_BENCH_SERVE_HEAP=FILE keeps there the service's heap profile at
// its largest live heap (go tool pprof -sample_index=inuse_space FILE).
func TestServeMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_SERVE"))
	if n == 0 {
		t.Skip("VIGIL_BENCH_SERVE=ACCOUNTS measures vigil serve's memory")
	}
	limit := 10 * time.Minute
	if v := os.Getenv("VIGIL_BENCH_SERVE_FOR"); v != "" {
		limit, _ = time.ParseDuration(v)
	}
	srv := awsemutest.Start(t, awsemu.OrgWorld(n, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 1}))
	db := filepath.Join(t.TempDir(), "vigil.db")
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.OrgWorldAdminKey, "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
	start := time.Now()
	args := []string{"--org", "--every", "1h", "--db", db, "--log-level", "warn"}
	if p := os.Getenv("VIGIL_BENCH_SERVE_HEAP"); p != "" {
		args = append(args, "--heap-profile", p)
	}
	s := startServe(t, env, args...)
	pid := s.cmd.Process.Pid
	peak, last := 0, 0
	done := false
	for time.Since(start) < limit {
		rss, hwm := procMem(pid)
		peak, last = max(peak, hwm, rss), rss
		if _, complete := recordedScans(t, db); complete > 0 {
			done = true
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	elapsed := time.Since(start)
	accounts, _ := recordedAccounts(t, db)
	byService := map[string]int{}
	for _, c := range srv.Calls() {
		byService[c.Service]++
	}
	t.Logf("%d accounts: %d recorded in %s (tick complete: %v); peak RSS %.1f MiB, last %.1f MiB", n+1, accounts, elapsed.Round(time.Second), done, float64(peak)/1024, float64(last)/1024)
	if accounts > 0 {
		t.Logf("calls per recorded account: %.1f Organizations, %.1f STS, %.1f IAM (%v)", float64(byService["organizations"])/float64(accounts),
			float64(byService["sts"])/float64(accounts), float64(byService["iam"])/float64(accounts), byService)
	}
}

// procMem reads VmRSS and VmHWM (KiB) of a process.
func procMem(pid int) (rss, hwm int) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm
}
