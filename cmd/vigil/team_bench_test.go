package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemuproc"
	"github.com/vigil-sec/vigil/internal/store/postgres/pgtest"
)

// TestTeamThroughput measures one tick of an organisation of
// VIGIL_BENCH_TEAM accounts at VIGIL_BENCH_TEAM_LATENCY a call (50 ms by
// default), scanned by 1, 2 and 3 replicas (VIGIL_BENCH_TEAM_REPLICAS,
// --workers VIGIL_BENCH_TEAM_WORKERS, 8 by default) on one PostgreSQL
// database, the emulator in a process of its own. Each round runs 1, 2
// and 3 replicas one after the other, so that the machine's load moves
// all three alike; VIGIL_BENCH_TEAM_RUNS rounds (default 1). It reports
// the tick's wall time (its scan's start to its completion), the
// speed-up over one replica, and the CPU each part used per account: the
// replicas', the emulator's, and PostgreSQL's (the backends serving the
// benchmark's database, and every PostgreSQL process of the machine as
// an upper bound), to tell a machine short of cores from a Vigil short
// of parallelism.
func TestTeamThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_TEAM"))
	if n == 0 {
		t.Skip("VIGIL_BENCH_TEAM=ACCOUNTS measures team mode's throughput")
	}
	runs, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_TEAM_RUNS"))
	runs = max(runs, 1)
	workers := "8"
	if v := os.Getenv("VIGIL_BENCH_TEAM_WORKERS"); v != "" {
		workers = v
	}
	counts := []int{1, 2, 3}
	if v := os.Getenv("VIGIL_BENCH_TEAM_REPLICAS"); v != "" {
		counts = nil
		for _, f := range strings.Split(v, ",") {
			k, err := strconv.Atoi(f)
			if err != nil || k < 1 {
				t.Fatalf("VIGIL_BENCH_TEAM_REPLICAS=%q: want counts such as 1,2,3", v)
			}
			counts = append(counts, k)
		}
	}
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
		tick, first               time.Duration
		replicaCPU, emuCPU, pgCPU time.Duration
		pgAll                     time.Duration
		perReplica                []string
		stats                     pgStats
	}
	got := map[int][]sample{}
	ctx := context.Background()
	for run := 0; run < runs; run++ {
		for _, k := range counts {
			dbURL := pgtest.NewDatabase(t)
			env["VIGIL_DATABASE_URL"] = dbURL
			u, _ := url.Parse(dbURL)
			db := strings.TrimPrefix(u.Path, "/")
			// One connection watches the tick: a connection a poll would
			// start a backend process ten times a second.
			watch, err := pgx.Connect(ctx, dbURL)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			activity := sampleActivity(t, dbURL, db)
			var rs []*served
			for i := 0; i < k; i++ {
				args := []string{"--org", "--every", "1h", "--workers", workers, "--log-level", "warn"}
				if profDir != "" && i == 0 {
					args = append(args, "--cpu-profile", filepath.Join(profDir, fmt.Sprintf("replica-of-%d-round-%d.pprof", k, run+1)))
				}
				rs = append(rs, startServe(t, env, args...))
			}
			// firstAt is when the first account was recorded: before it
			// the tick lists the organisation and each replica reads it,
			// a wait no replica count shortens.
			var scanStart, firstAt time.Time
			var emuAt time.Duration
			var pgAt map[int]time.Duration
			var pgAllAt time.Duration
			var statsAt pgStats
			loadAt := loadAvg()
			for {
				var accounts int
				var outcome string
				err := watch.QueryRow(ctx, `SELECT accounts, outcome FROM scans ORDER BY id LIMIT 1`).Scan(&accounts, &outcome)
				found := err == nil
				if err != nil && err != pgx.ErrNoRows && !strings.Contains(err.Error(), "does not exist") {
					t.Fatal(err)
				}
				if found && scanStart.IsZero() {
					scanStart, emuAt = time.Now(), procCPU(t, emu.Pid())
					activity.begin()
					pgAt, pgAllAt, statsAt = backendCPU(t, watch, db), postgresCPU(), readPGStats(t, watch, db)
				}
				if found && firstAt.IsZero() && accounts != 0 {
					firstAt = time.Now()
				}
				if found && outcome == "complete" {
					if accounts != all {
						t.Fatalf("%d replicas: tick of %d accounts, want %d", k, accounts, all)
					}
					break
				}
				if time.Since(start) > 60*time.Minute {
					t.Fatalf("%d replicas: no complete tick after an hour", k)
				}
				time.Sleep(100 * time.Millisecond)
			}
			took := time.Since(scanStart)
			activity.report(t, took, all)
			s := sample{tick: took, emuCPU: procCPU(t, emu.Pid()) - emuAt, first: firstAt.Sub(scanStart), pgAll: postgresCPU() - pgAllAt}
			for pid, c := range backendCPU(t, watch, db) {
				s.pgCPU += c - pgAt[pid] // a backend started since counts whole
			}
			s.stats = readPGStats(t, watch, db).minus(statsAt)
			// Where PostgreSQL read its rows: the indexes and tables read
			// most over the whole run (start-up included).
			if rows, err := watch.Query(ctx, `SELECT relname || '.' || indexrelname, idx_scan, idx_tup_read FROM pg_stat_user_indexes ORDER BY idx_tup_read DESC LIMIT 4`); err == nil {
				for rows.Next() {
					var name string
					var scans, read int64
					if rows.Scan(&name, &scans, &read) == nil {
						t.Logf("  index %s: %d scans, %d entries read", name, scans, read)
					}
				}
				rows.Close()
			}
			if rows, err := watch.Query(ctx, `SELECT relname, seq_scan, seq_tup_read, n_dead_tup FROM pg_stat_user_tables ORDER BY seq_tup_read DESC LIMIT 3`); err == nil {
				for rows.Next() {
					var name string
					var scans, read, dead int64
					if rows.Scan(&name, &scans, &read, &dead) == nil {
						t.Logf("  table %s: %d sequential scans, %d rows read, %d dead rows", name, scans, read, dead)
					}
				}
				rows.Close()
			}
			// Where a worker's time went: inside the account jobs (their
			// start to their end, as River recorded them) or between them
			// (River fetching the next job, the completer).
			// River's completer marks the jobs completed a moment after
			// they end: wait for the last ones (a few seconds at most).
			var jobs int
			var p10, p50, p90, busy, window float64
			for wait := time.Now(); ; time.Sleep(100 * time.Millisecond) {
				err = watch.QueryRow(ctx, `SELECT count(*),
					COALESCE(percentile_cont(0.1) WITHIN GROUP (ORDER BY d), 0), COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY d), 0),
					COALESCE(percentile_cont(0.9) WITHIN GROUP (ORDER BY d), 0), COALESCE(sum(d), 0),
					COALESCE(extract(epoch FROM max(finalized_at) - min(attempted_at))::float8, 0)
					FROM (SELECT attempted_at, finalized_at, extract(epoch FROM finalized_at - attempted_at)::float8 AS d FROM river_job
						WHERE kind = 'vigil_scan_account' AND state = 'completed') j`).Scan(&jobs, &p10, &p50, &p90, &busy, &window)
				if err != nil {
					t.Fatal(err)
				}
				if jobs >= all || time.Since(wait) > 5*time.Second {
					break
				}
			}
			// When the slow jobs ran: the jobs' median and p90 by the tenth
			// of the tick in which they started. Jobs slow at the tick's
			// start only (each replica reading the organisation) cost
			// three replicas a larger share of their shorter tick.
			var tenths []string
			if rows, err := watch.Query(ctx, `SELECT tenth, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.9) WITHIN GROUP (ORDER BY d)
				FROM (SELECT extract(epoch FROM finalized_at - attempted_at)::float8 AS d,
					least(9, floor(10 * extract(epoch FROM attempted_at - min(attempted_at) OVER ()) / NULLIF(extract(epoch FROM max(finalized_at) OVER () - min(attempted_at) OVER ()), 0)))::int AS tenth
					FROM river_job WHERE kind = 'vigil_scan_account' AND state = 'completed') j GROUP BY tenth ORDER BY tenth`); err == nil {
				for rows.Next() {
					var tenth, n int
					var p50, p90 float64
					if rows.Scan(&tenth, &n, &p50, &p90) == nil {
						tenths = append(tenths, fmt.Sprintf("%.0f (%.0f) ms ×%d", p50*1000, p90*1000, n))
					}
				}
				rows.Close()
			}
			t.Logf("  account jobs by the tenth of the tick they started in, median (p90) × jobs: %s", strings.Join(tenths, ", "))
			// The tick's last job also ends the scan (the accounts that
			// left, the not-scanned ones): a wait no replica count shortens.
			var last float64
			if err := watch.QueryRow(ctx, `SELECT COALESCE(extract(epoch FROM finalized_at - attempted_at)::float8, 0) FROM river_job
				WHERE kind = 'vigil_scan_account' AND state = 'completed' ORDER BY finalized_at DESC LIMIT 1`).Scan(&last); err != nil && err != pgx.ErrNoRows {
				t.Fatal(err)
			}
			slots, _ := strconv.Atoi(workers)
			// The workers' time from the first account job's start to the
			// last one's end, as River recorded both.
			slotTime := float64(k*slots) * window
			t.Logf("  account jobs: %d, each %.0f ms (median; %.0f–%.0f ms p10–p90), the last (it ends the scan) %.0f ms; the workers' time from the first job's start to the last's end: %.0f%% in jobs, %.0f ms a job between them",
				jobs, p50*1000, p10*1000, p90*1000, last*1000, 100*busy/slotTime, 1000*(slotTime-busy)/float64(max(jobs, 1)))
			watch.Close(ctx)
			phaseQuantiles(t, rs, newToken(t, dbURL, "bench", "viewer"))
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
			per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(all) }
			t.Logf("round %d, %d replica(s): %d accounts, tick %s, %.1f accounts/s (first account after %s, then %.1f accounts/s); load %s → %s",
				run+1, k, all, took.Round(100*time.Millisecond), float64(all)/took.Seconds(), s.first.Round(100*time.Millisecond), float64(all-1)/(took-s.first).Seconds(), loadAt, loadAvg())
			t.Logf("  CPU per account: replicas %.1f ms (%s in all: %s), emulator %.1f ms, PostgreSQL backends %.1f ms (every PostgreSQL process %.1f ms); sum %.1f ms, %.2f cores over the tick",
				per(s.replicaCPU), s.replicaCPU.Round(time.Second), strings.Join(s.perReplica, ", "), per(s.emuCPU), per(s.pgCPU), per(s.pgAll),
				per(s.replicaCPU+s.emuCPU+s.pgCPU), (s.replicaCPU+s.emuCPU+s.pgCPU).Seconds()/took.Seconds())
			t.Logf("  database per account: %.1f commits, %.1f rollbacks, %.1f rows inserted, %.1f updated, %.1f deleted, %.0f read",
				float64(s.stats.commits)/float64(all), float64(s.stats.rollbacks)/float64(all), float64(s.stats.inserted)/float64(all),
				float64(s.stats.updated)/float64(all), float64(s.stats.deleted)/float64(all), float64(s.stats.returned)/float64(all))
		}
	}
	// What an account asks of AWS, every tick of every round together:
	// each call costs the replica (the SDK) and the emulator CPU.
	rep, _ := emu.Stop(t)
	ticks := 0
	for _, ss := range got {
		ticks += len(ss)
	}
	byAction := map[string]int{}
	for _, c := range rep.Calls {
		byAction[c.Service+":"+c.Action] += c.N
	}
	actions := make([]string, 0, len(byAction))
	for a := range byAction {
		actions = append(actions, a)
	}
	sort.Slice(actions, func(i, j int) bool { return byAction[actions[i]] > byAction[actions[j]] })
	var calls []string
	for _, a := range actions {
		calls = append(calls, fmt.Sprintf("%s %.1f", a, float64(byAction[a])/float64(all*ticks)))
	}
	t.Logf("AWS calls per account: %.1f (%s)", float64(rep.Total())/float64(all*ticks), strings.Join(calls, ", "))
	med := func(ss []sample, f func(sample) time.Duration) (time.Duration, time.Duration, time.Duration) {
		d := make([]time.Duration, len(ss))
		for i, s := range ss {
			d[i] = f(s)
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		m := d[len(d)/2]
		if len(d)%2 == 0 {
			m = (d[len(d)/2-1] + d[len(d)/2]) / 2
		}
		return m, d[0], d[len(d)-1]
	}
	tick := func(s sample) time.Duration { return s.tick }
	cpu := func(s sample) time.Duration { return s.replicaCPU + s.emuCPU + s.pgCPU }
	base, _, _ := med(got[counts[0]], tick)
	for _, k := range counts {
		m, lo, hi := med(got[k], tick)
		c, _, _ := med(got[k], cpu)
		t.Logf("| %d | %s (%s–%s) | %.1f | %.2f× | %.1f ms |", k, m.Round(100*time.Millisecond), lo.Round(100*time.Millisecond), hi.Round(100*time.Millisecond),
			float64(all)/m.Seconds(), base.Seconds()/m.Seconds(), float64(c.Microseconds())/1000/float64(all))
	}
}

// procCPU is the CPU time a running process has used so far (Linux).
func procCPU(t *testing.T, pid int) time.Duration {
	f := procStat(pid)
	if f == nil {
		t.Logf("CPU of process %d: gone", pid)
		return 0
	}
	return ticks(f[11]) + ticks(f[12])
}

// procStat is /proc/PID/stat's fields after the command name, which may
// hold spaces (f[0] is the state, f[11] utime); nil if the process is gone.
func procStat(pid int) []string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	return strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
}

func ticks(s string) time.Duration {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Duration(n) * time.Second / 100 // USER_HZ
}

// backendCPU is the CPU each backend serving database db has used, by
// process ID, the watching and sampling connections' own left out.
func backendCPU(t *testing.T, c *pgx.Conn, db string) map[int]time.Duration {
	rows, err := c.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> $2`, db, samplerName)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]time.Duration{}
	for _, p := range pids {
		if f := procStat(int(p)); f != nil {
			out[int(p)] = ticks(f[11]) + ticks(f[12])
		}
	}
	return out
}

// postgresCPU is the CPU every PostgreSQL process of the machine has
// used, ended backends included (the postmaster's children's time):
// other databases' work too, so an upper bound.
func postgresCPU() time.Duration {
	ents, _ := os.ReadDir("/proc")
	var sum time.Duration
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		if f := procStat(pid); f != nil {
			sum += ticks(f[11]) + ticks(f[12]) + ticks(f[13]) + ticks(f[14])
		}
	}
	return sum
}

type pgStats struct{ commits, rollbacks, inserted, updated, deleted, returned int64 }

func (a pgStats) minus(b pgStats) pgStats {
	return pgStats{a.commits - b.commits, a.rollbacks - b.rollbacks, a.inserted - b.inserted, a.updated - b.updated, a.deleted - b.deleted, a.returned - b.returned}
}

// readPGStats reads database db's activity counters (PostgreSQL sends
// them at most every second or so: a measure over a long tick).
func readPGStats(t *testing.T, c *pgx.Conn, db string) pgStats {
	var s pgStats
	if _, err := c.Exec(context.Background(), `SELECT pg_stat_clear_snapshot()`); err != nil {
		t.Fatal(err)
	}
	err := c.QueryRow(context.Background(), `SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_returned FROM pg_stat_database WHERE datname = $1`, db).
		Scan(&s.commits, &s.rollbacks, &s.inserted, &s.updated, &s.deleted, &s.returned)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func loadAvg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
