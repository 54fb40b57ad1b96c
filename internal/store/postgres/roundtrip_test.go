package postgres

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/postgres/pgtest"
	"github.com/vigil-sec/vigil/internal/store/sqlstore"
)

// statements records the statements pgx sends, BEGIN and COMMIT among
// them.
type statements struct {
	mu  sync.Mutex
	sql []string
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	s.sql = append(s.sql, strings.Join(strings.Fields(d.SQL), " "))
	s.mu.Unlock()
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Recording an account of a first tick (findings opened, their
// transitions) is every account job's recording in the team benchmark,
// and each statement is a round trip: a wait for a backend, then for the
// replica to be scheduled again, which lengthened account jobs most when
// three replicas shared two cores (issue 14). It was 14 statements; the
// writes and the scan's count are one now, the two checks another.
func TestRecordAccountStatements(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewDatabase(t)
	migrated, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	migrated.Close()
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	var seen statements
	cfg.ConnConfig.Tracer = &seen
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := sqlstore.New(stdlib.OpenDBFromPool(pool), dialect)
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	sc, err := s.StartScan(ctx, store.Scan{Target: "test", StartedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	const acct = "111111111111"
	obs := func(ruleID, status string) lifecycle.Observation {
		return lifecycle.Observation{AccountID: acct, RuleID: ruleID, Title: ruleID, Resource: "arn:aws:iam::" + acct + ":root", Status: status, Severity: 3, Message: status, Evidence: []byte(`[]`)}
	}
	seen.mu.Lock()
	seen.sql = nil
	seen.mu.Unlock()
	rec, err := s.RecordAccount(ctx, sc.ID, store.AccountResults{AccountID: acct, Calls: 3, Results: []lifecycle.Observation{
		obs("root-access-key", lifecycle.Fail), obs("root-mfa", lifecycle.Fail), obs("password-policy", lifecycle.Pass)}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Already || len(rec.Transitions) != 2 || rec.Progress.Accounts != 1 {
		t.Fatalf("recorded %+v; want the account's first recording, two findings opened", rec)
	}
	for _, tr := range rec.Transitions {
		if tr.ID == 0 {
			t.Fatalf("transition %+v came back without its ID", tr)
		}
	}
	// BEGIN, the account's lock, whether the scan has it and the store
	// its results, its findings, the suppressions (a transition needs
	// them), the writes with the scan's count, COMMIT.
	const want = 7
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.sql) > want {
		t.Errorf("recording one account sent %d statements, want %d at most:\n%s", len(seen.sql), want, strings.Join(seen.sql, "\n"))
	}
}

// BenchmarkRecordFirst records one account at a time as the account jobs
// of a first tick do (14 results: 12 findings opened, 2 passing), one
// after another on one connection's worth of pool: its time is the
// recording's round trips and PostgreSQL's work for them.
func BenchmarkRecordFirst(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sc, err := s.StartScan(ctx, store.Scan{Target: "bench", StartedAt: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	before := backendsCPU(b, s)
	for i := 0; b.Loop(); i++ {
		acct := fmt.Sprintf("%012d", i)
		var obs []lifecycle.Observation
		for r := range 14 {
			st := lifecycle.Fail
			if r >= 12 {
				st = lifecycle.Pass
			}
			obs = append(obs, lifecycle.Observation{AccountID: acct, RuleID: fmt.Sprintf("rule-%d", r), Title: "t", Resource: "arn:aws:iam::" + acct + ":root",
				Status: st, Severity: r % 5, Message: "m " + st, Evidence: []byte(`[{"source":"bench"}]`)})
		}
		if _, err := s.RecordAccount(ctx, sc.ID, store.AccountResults{AccountID: acct, Calls: 20, Results: obs}, time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// PostgreSQL's own CPU (its backends' user and system time) is the
	// figure that load on the machine moves least.
	var cpu time.Duration
	for pid, c := range backendsCPU(b, s) {
		cpu += c - before[pid]
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "pg-cpu-µs/op")
}

// backendsCPU is the CPU time of the backends serving s's database, by
// process ID (Linux's /proc; none elsewhere).
func backendsCPU(b *testing.B, s *DB) map[int]time.Duration {
	rows, err := s.pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	out := map[int]time.Duration{}
	for _, p := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
		u, _ := strconv.ParseInt(f[11], 10, 64)
		k, _ := strconv.ParseInt(f[12], 10, 64)
		out[int(p)] = time.Duration(u+k) * 10 * time.Millisecond // USER_HZ 100
	}
	return out
}

// BenchmarkListOpen lists the open findings of 1,000 accounts (19 each,
// the size of record.BenchmarkListOpen's on SQLite): PostgreSQL reads
// the columns of a row in one DataRow message, so it lists them
// unpacked (sqlstore.Dialect.PackedFindings).
func BenchmarkListOpen(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	sc, err := s.StartScan(ctx, store.Scan{Target: "bench", StartedAt: now})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		acct := fmt.Sprintf("%012d", 200000000000+i)
		var obs []lifecycle.Observation
		for r := range 19 {
			obs = append(obs, lifecycle.Observation{AccountID: acct, AccountName: "account-" + strconv.Itoa(i), RuleID: fmt.Sprintf("rule-%d", r), Title: "Root user has no access keys",
				Resource: "arn:aws:iam::" + acct + ":root", Status: lifecycle.Fail, Severity: r % 5,
				Message:  "The root user has an access key (account summary, real time: AccountAccessKeysPresent=1). From the credential report of 2026-11-26T11:00:00Z (1h old): key 1 active.",
				Evidence: []byte(`[{"source":"iam:GetAccountSummary","key":"AccountAccessKeysPresent","value":"1"}]`)})
		}
		if _, err := s.RecordAccount(ctx, sc.ID, store.AccountResults{AccountID: acct, OU: "Root/Workloads", Results: obs}, now); err != nil {
			b.Fatal(err)
		}
	}
	before := backendsCPU(b, s)
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		fs, err := s.Findings(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, Now: now})
		if err != nil || len(fs) != 19000 {
			b.Fatal(len(fs), err)
		}
	}
	b.StopTimer()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	var pg time.Duration
	for pid, c := range backendsCPU(b, s) {
		pg += c - before[pid]
	}
	b.ReportMetric(float64(self)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(float64(pg)/float64(b.N)/1e6, "pg-cpu-ms/op")
}
