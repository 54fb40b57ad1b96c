package postgres

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/postgres/pgtest"
	"github.com/vigil-sec/vigil/internal/store/storetest"
)

func open(t *testing.T) store.Store {
	s, err := Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

// Replicas started together migrate once and all open the store.
func TestConcurrentMigrators(t *testing.T) {
	u := pgtest.NewDatabase(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, u)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	s, err := Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Version(ctx); err != nil || v != Version {
		t.Fatalf("version %d, %v; want %d", v, err, Version)
	}
}

func TestNewerRefused(t *testing.T) {
	u := pgtest.NewDatabase(t)
	ctx := context.Background()
	s, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE vigil_schema SET version = $1`, Version+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, u)
	var ne *NewerError
	if !errors.As(err, &ne) || ne.Have != Version+1 || !strings.Contains(err.Error(), "newer Vigil") {
		t.Fatalf("opening a newer database: %v", err)
	}
}

func TestFreshDatabaseHasNoVersion(t *testing.T) {
	s, err := Connect(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Version(context.Background()); err != nil || v != 0 {
		t.Fatalf("version %d, %v; want 0", v, err)
	}
}

func TestLabelHidesPassword(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://vigil:s3cret@db.example:5432/vigil?sslmode=require": "postgres://vigil@db.example:5432/vigil?sslmode=require",
		"postgres://db.example/vigil?user=v&password=s3cret":            "postgres://db.example/vigil?password=xxxxx&user=v",
		"postgresql://db/vigil":                                         "postgresql://db/vigil",
	} {
		if got := Label(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
	_, err := Open(context.Background(), "postgres://u:s3cret@%zz")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad URL error %v shows the password or is nil", err)
	}
}

// Replicas recording the accounts of one tick and flushing the outbox at
// the same time: each account recorded once, each transition in exactly
// one delivery.
func TestReplicasShareATick(t *testing.T) {
	u := pgtest.NewDatabase(t)
	ctx := context.Background()
	var replicas []*DB
	for i := 0; i < 3; i++ {
		s, err := Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		replicas = append(replicas, s)
	}
	tick := storetest.T0
	routes := []store.Route{{Channel: "hook", Kinds: []lifecycle.Kind{lifecycle.New}}}
	const accounts = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	recorded := map[string]int{}
	delivered := map[int64]int{}
	for r, s := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc, err := s.StartScan(ctx, store.Scan{Schedule: "org", Tick: tick, StartedAt: tick})
			if err != nil {
				t.Error(err)
				return
			}
			// Every replica tries every account, in a different order.
			for i := 0; i < accounts; i++ {
				acct := 100000000000 + (i*7+r*13)%accounts
				id := strconv.Itoa(acct)
				rec, err := s.RecordAccount(ctx, sc.ID, store.AccountResults{AccountID: id, Results: []lifecycle.Observation{{
					RuleID: "root-access-key", Resource: "arn:aws:iam::" + id + ":root", Status: "FAIL", Severity: 4}}}, tick)
				if err != nil {
					t.Error(err)
					return
				}
				if !rec.Already {
					mu.Lock()
					recorded[id]++
					mu.Unlock()
				}
				if i%10 == 0 {
					ds, err := s.FlushOutbox(ctx, routes, tick)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, d := range ds {
						for _, tr := range d.Transitions {
							delivered[tr.ID]++
						}
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	ds, err := replicas[0].FlushOutbox(ctx, routes, tick)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		for _, tr := range d.Transitions {
			delivered[tr.ID]++
		}
	}
	if len(recorded) != accounts {
		t.Fatalf("%d accounts recorded, want %d", len(recorded), accounts)
	}
	for a, n := range recorded {
		if n != 1 {
			t.Errorf("account %s recorded %d times", a, n)
		}
	}
	if len(delivered) != accounts {
		t.Fatalf("%d transitions delivered, want %d", len(delivered), accounts)
	}
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("transition %d in %d deliveries", id, n)
		}
	}
	scans, err := replicas[1].Scans(ctx, 10)
	if err != nil || len(scans) != 1 || scans[0].Accounts != accounts {
		t.Fatalf("scans %+v, %v: want one scan of %d accounts", scans, err, accounts)
	}
}

// Two one-shot scans recording the same accounts in opposite orders, in
// one transaction each, neither deadlock nor record an account twice.
func TestBatchesDoNotDeadlock(t *testing.T) {
	u := pgtest.NewDatabase(t)
	ctx := context.Background()
	s, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc, err := s.StartScan(ctx, store.Scan{Target: "batch", StartedAt: storetest.T0})
	if err != nil {
		t.Fatal(err)
	}
	var fwd, rev []store.AccountResults
	for i := 0; i < 50; i++ {
		a := store.AccountResults{AccountID: strconv.Itoa(200000000000 + i)}
		fwd = append(fwd, a)
		rev = append([]store.AccountResults{a}, rev...)
	}
	var wg sync.WaitGroup
	recs := make([][]store.Recorded, 2)
	errs := make([]error, 2)
	for i, batch := range [][]store.AccountResults{fwd, rev} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs[i], errs[i] = s.RecordAccounts(ctx, sc.ID, batch, storetest.T0)
		}()
	}
	wg.Wait()
	fresh := 0
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("batch %d: %v", i, errs[i])
		}
		for _, r := range recs[i] {
			if !r.Already {
				fresh++
			}
		}
	}
	if fresh != 50 {
		t.Fatalf("%d accounts recorded, want 50", fresh)
	}
}

// A replica's pool holds more connections than its workers and River
// want at once, unless the URL says otherwise.
func TestPoolSize(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	for _, c := range []struct {
		url  string
		want int32
	}{
		{url, DefaultMaxConns},
		{url + "&pool_max_conns=3", 3},
	} {
		s, err := Open(ctx, c.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Pool().Config().MaxConns; got != c.want {
			t.Errorf("%s: pool of %d connections, want %d", Label(c.url), got, c.want)
		}
		s.Close()
	}
}

// A changed result set is stored as a delta of a full set of its
// account, small next to it, and a set that changed all over is stored
// full again (storetest.ResultSetChurn checks that all read back); once
// the scans are pruned but the last, only its sets and their bases stay.
func TestResultSetsStoredAsDeltas(t *testing.T) {
	s := open(t).(*DB)
	defer s.Close()
	storetest.ResultSetChurn(t, s, func() {
		var deltas, fulls, deltaBytes, fullBytes int64
		err := s.db.QueryRow(`SELECT COUNT(*) FILTER (WHERE base IS NOT NULL), COUNT(*) FILTER (WHERE base IS NULL),
			COALESCE(SUM(LENGTH(data)) FILTER (WHERE base IS NOT NULL), 0), COALESCE(SUM(LENGTH(data)) FILTER (WHERE base IS NULL), 0) FROM result_sets`).
			Scan(&deltas, &fulls, &deltaBytes, &fullBytes)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d deltas (%d bytes), %d full sets (%d bytes)", deltas, deltaBytes, fulls, fullBytes)
		if deltas == 0 || fulls <= 3 || deltaBytes/deltas > fullBytes/fulls/4 {
			t.Errorf("%d deltas of %d bytes, %d full sets of %d bytes: want deltas, each under a quarter of a full set, and full sets again where everything changed",
				deltas, deltaBytes, fulls, fullBytes)
		}
	})
	var left int
	s.db.QueryRow(`SELECT COUNT(*) FROM result_sets`).Scan(&left)
	if left > 6 {
		t.Errorf("%d result sets kept for one scan of 3 accounts: bases no delta needs were kept", left)
	}
}

// A database of every earlier schema version, with a finding and a
// result set as the earliest builds wrote it (gzip of JSON, no base),
// migrates to this build's and reads both back.
func TestMigrateFromEveryVersion(t *testing.T) {
	ctx := context.Background()
	obs := []lifecycle.Observation{{AccountID: "111111111111", RuleID: "root-access-key", Resource: "arn", Status: "FAIL", Severity: 4, Evidence: []byte(`{"k":1}`)}}
	raw, _ := json.Marshal(obs)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	for v := 1; v < Version; v++ {
		t.Run(strconv.Itoa(v), func(t *testing.T) {
			u := pgtest.NewDatabase(t)
			old, err := Connect(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := old.migrateTo(ctx, v); err != nil {
				t.Fatal(err)
			}
			var scan int64
			if err := old.db.QueryRowContext(ctx, `INSERT INTO scans (started_at, outcome) VALUES ($1, 'complete') RETURNING id`,
				// After the suite's scans, whose prunes it outlives.
				storetest.T0.Add(1000*time.Hour).UnixMilli()).Scan(&scan); err != nil {
				t.Fatal(err)
			}
			if _, err := old.db.ExecContext(ctx, `INSERT INTO findings (id, account_id, rule_id, resource, state, status, severity, first_seen, last_seen, opened_at) VALUES ('f-old', '111111111111', 'root-access-key', 'arn', 'open', 'FAIL', 4, 0, 0, 0)`); err != nil {
				t.Fatal(err)
			}
			if _, err := old.db.ExecContext(ctx, `INSERT INTO scan_accounts (scan_id, account_id, recorded_at, results_hash) VALUES ($1, '111111111111', 0, 7)`, scan); err != nil {
				t.Fatal(err)
			}
			if _, err := old.db.ExecContext(ctx, `INSERT INTO result_sets (hash, data) VALUES (7, $1)`, gz.Bytes()); err != nil {
				t.Fatal(err)
			}
			old.Close()
			s, err := Open(ctx, u)
			if err != nil {
				t.Fatalf("open a version %d database: %v", v, err)
			}
			defer s.Close()
			if f, _, err := s.Finding(ctx, "f-old", storetest.T0); err != nil || f.State != lifecycle.Open {
				t.Fatalf("old finding: %+v %v", f, err)
			}
			sa, err := s.ScanAccounts(ctx, scan)
			if err != nil || len(sa) != 1 || !reflect.DeepEqual(sa[0].Results, obs) {
				t.Fatalf("old result set after migration: %+v %v", sa, err)
			}
			// And the store records on top of it, deltas included.
			storetest.ResultSetChurn(t, s, nil)
		})
	}
}
