package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemuproc"
	"github.com/vigil-sec/vigil/internal/store/postgres/pgtest"
)

// TestTeamThroughput measures one tick of an organisation of
// VIGIL_BENCH_TEAM accounts at VIGIL_BENCH_TEAM_LATENCY a call (50 ms by
// default), scanned by 1, 2 and 3 replicas (--workers 8 each) on one
// PostgreSQL database, the emulator in a process of its own. Each round
// runs 1, 2 and 3 replicas one after the other, so that the machine's
// load moves all three alike; VIGIL_BENCH_TEAM_RUNS rounds (default 1).
// It reports the tick's wall time (its scan's start to its completion),
// the speed-up over one replica, and the CPU each process used per
// account: the replicas' and the emulator's, to tell a machine short of
// cores from a Vigil short of parallelism.
func TestTeamThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_TEAM"))
	if n == 0 {
		t.Skip("VIGIL_BENCH_TEAM=ACCOUNTS measures team mode's throughput")
	}
	runs, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_TEAM_RUNS"))
	runs = max(runs, 1)
	latency := 50 * time.Millisecond
	if v := os.Getenv("VIGIL_BENCH_TEAM_LATENCY"); v != "" {
		var err error
		if latency, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	// VIGIL_BENCH_TEAM_PROFILE=DIR writes a CPU profile of one replica
	// of each tick there (go tool pprof).
	profDir := os.Getenv("VIGIL_BENCH_TEAM_PROFILE")
	emu := awsemuproc.Start(t, awsemuproc.Spec{Accounts: n, Seed: 1, Latency: latency})
	all := n + 1 // the members and the management account
	env := map[string]string{"AWS_ENDPOINT_URL": emu.URL, "AWS_ACCESS_KEY_ID": awsemu.OrgWorldAdminKey, "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
	type sample struct {
		tick, first        time.Duration
		replicaCPU, emuCPU time.Duration
		perReplica         []string
	}
	got := map[int][]sample{}
	for run := 0; run < runs; run++ {
		for k := 1; k <= 3; k++ {
			url := pgtest.NewDatabase(t)
			env["VIGIL_DATABASE_URL"] = url
			start := time.Now()
			var rs []*served
			for i := 0; i < k; i++ {
				args := []string{"--org", "--every", "1h", "--workers", "8", "--log-level", "warn"}
				if profDir != "" && i == 0 {
					args = append(args, "--cpu-profile", filepath.Join(profDir, fmt.Sprintf("replica-of-%d-round-%d.pprof", k, run+1)))
				}
				rs = append(rs, startServe(t, env, args...))
			}
			// firstAt is when the first account was recorded: before it
			// the tick lists the organisation and each replica reads it,
			// a wait no replica count shortens.
			var scanStart, firstAt time.Time
			var emuAt, emuEnd time.Duration
			for {
				row := pgQuery(t, url, `SELECT accounts, outcome FROM scans ORDER BY id LIMIT 1`)
				if len(row) == 1 && scanStart.IsZero() {
					scanStart, emuAt = time.Now(), procCPU(t, emu.Pid())
				}
				if len(row) == 1 && firstAt.IsZero() && row[0][0] != "0" {
					firstAt = time.Now()
				}
				if len(row) == 1 && row[0][1] == "complete" {
					if row[0][0] != fmt.Sprint(all) {
						t.Fatalf("%d replicas: tick of %s accounts, want %d", k, row[0][0], all)
					}
					break
				}
				if time.Since(start) > 60*time.Minute {
					t.Fatalf("%d replicas: no complete tick after an hour", k)
				}
				time.Sleep(100 * time.Millisecond)
			}
			took := time.Since(scanStart)
			emuEnd = procCPU(t, emu.Pid())
			s := sample{tick: took, emuCPU: emuEnd - emuAt, first: firstAt.Sub(scanStart)}
			for _, r := range rs {
				c := procCPU(t, r.cmd.Process.Pid)
				s.replicaCPU += c
				s.perReplica = append(s.perReplica, c.Round(time.Second).String())
				// A profiled replica stops gracefully, to write its profile.
				r.cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-r.done:
				case <-time.After(90 * time.Second):
					r.cmd.Process.Kill()
					<-r.done
				}
			}
			got[k] = append(got[k], s)
			load, _ := os.ReadFile("/proc/loadavg")
			t.Logf("round %d, %d replica(s): %d accounts, tick %s, %.1f accounts/s (first account after %s, then %.1f accounts/s); CPU: replicas %s (%s), %.0f ms/account; emulator %.0f ms/account; load %s",
				run+1, k, all, took.Round(100*time.Millisecond), float64(all)/took.Seconds(), s.first.Round(100*time.Millisecond), float64(all-1)/(took-s.first).Seconds(), s.replicaCPU.Round(time.Second), strings.Join(s.perReplica, ", "),
				float64(s.replicaCPU.Milliseconds())/float64(all), float64(s.emuCPU.Milliseconds())/float64(all), strings.Fields(string(load))[0])
		}
	}
	med := func(ss []sample) (time.Duration, time.Duration, time.Duration) {
		d := make([]time.Duration, len(ss))
		for i, s := range ss {
			d[i] = s.tick
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		m := d[len(d)/2]
		if len(d)%2 == 0 {
			m = (d[len(d)/2-1] + d[len(d)/2]) / 2
		}
		return m, d[0], d[len(d)-1]
	}
	base, _, _ := med(got[1])
	for k := 1; k <= 3; k++ {
		m, lo, hi := med(got[k])
		t.Logf("| %d | %s (%s–%s) | %.1f | %.2f× |", k, m.Round(100*time.Millisecond), lo.Round(100*time.Millisecond), hi.Round(100*time.Millisecond),
			float64(all)/m.Seconds(), base.Seconds()/m.Seconds())
	}
}

// procCPU is the CPU time a running process has used so far (Linux).
func procCPU(t *testing.T, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Logf("CPU of process %d: %v", pid, err)
		return 0
	}
	// The command name may hold spaces; the fields start after its ")".
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}
