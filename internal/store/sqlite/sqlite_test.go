package sqlite

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/sqlstore"
	"github.com/vigil-sec/vigil/internal/store/storetest"
)

func open(t *testing.T) store.Store {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

// TestListRoundTripAnyText lists findings whose texts only SQLite keeps
// (invalid UTF-8, NUL: PostgreSQL refuses both in text), and checks that
// every finding's packed value as the writers made it is the one SQL
// builds from its columns (PackedExpr: the migration's and the
// listing's fallback), byte for byte.
func TestListRoundTripAnyText(t *testing.T) {
	s := open(t).(*DB)
	defer s.Close()
	texts := append(slices.Clone(storetest.AwkwardTexts), "\xff\xfe\xfd", "nul\x00inside", "\x00", "\xc3")
	storetest.ListRoundTrip(t, s, texts, storetest.AwkwardEvidence)
	if n := unpacked(t, s); n != 0 {
		t.Fatalf("%d findings packed otherwise than PackedExpr", n)
	}
}

// unpacked counts the findings whose packed value is not what
// sqlstore.PackedExpr builds from their columns (NULL included).
func unpacked(t *testing.T, s *DB) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM findings WHERE packed IS NOT ` + sqlstore.PackedExpr).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPackedMigration: migration 14 fills the packed values with the
// expression the listing falls back to. A change of the packed format
// is a new migration, refilling them, not an edit of this one.
func TestPackedMigration(t *testing.T) {
	if !strings.Contains(migrations[13], "SET packed = "+sqlstore.PackedExpr+";") {
		t.Fatalf("migration 14 does not fill packed with sqlstore.PackedExpr:\n%s\n%s", migrations[13], sqlstore.PackedExpr)
	}
}

// TestMigrateFromEveryVersion builds a database at each earlier schema
// version, with data, and opens it with this build: the migration must
// keep what was there and leave a store that passes the suite.
func TestMigrateFromEveryVersion(t *testing.T) {
	ctx := context.Background()
	for v := 0; v < Version; v++ {
		t.Run(fmtV(v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vigil.db")
			s, err := Open(ctx, path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			// Rebuild at version v.
			os.Remove(path)
			os.Remove(path + "-wal")
			os.Remove(path + "-shm")
			raw := &DB{path: path, unlock: func() {}}
			raw.db, err = openRaw(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := raw.migrateTo(ctx, v, 0); err != nil {
				t.Fatal(err)
			}
			if v >= 1 {
				// A finding written by the old version survives.
				if _, err := raw.db.Exec(`INSERT INTO scans (id, started_at, outcome) VALUES (1, 0, 'complete')`); err != nil {
					t.Fatal(err)
				}
				if _, err := raw.db.Exec(`INSERT INTO findings (id, account_id, rule_id, resource, state, status, severity, first_seen, last_seen, opened_at) VALUES ('f-old', '111111111111', 'root-access-key', 'arn', 'open', 'FAIL', 4, 0, 0, 0)`); err != nil {
					t.Fatal(err)
				}
				if _, err := raw.db.Exec(`INSERT INTO transitions (finding_id, scan_id, kind, at, status, severity) VALUES ('f-old', 1, 'new', 0, 'FAIL', 4)`); err != nil {
					t.Fatal(err)
				}
				// Since version 14 the build that writes a finding packs it.
				if v >= 14 {
					if _, err := raw.db.Exec(`UPDATE findings SET packed = ` + sqlstore.PackedExpr); err != nil {
						t.Fatal(err)
					}
				}
				// Since version 12 the build that writes a finding counts it.
				if v >= 12 {
					if _, err := raw.db.Exec(`INSERT INTO finding_counts (state, account_id, sev4) VALUES ('open', '111111111111', 1)`); err != nil {
						t.Fatal(err)
					}
				}
				// A result set as the earliest builds wrote it (gzip of
				// JSON, no base) still reads.
				if _, err := raw.db.Exec(`INSERT INTO result_sets (hash, data) VALUES (7, ?)`, gzipSet(t, oldResults)); err != nil {
					t.Fatal(err)
				}
				if _, err := raw.db.Exec(`INSERT INTO scan_accounts (scan_id, account_id, recorded_at, results_hash) VALUES (1, '111111111111', 0, 7)`); err != nil {
					t.Fatal(err)
				}
			}
			raw.db.Close()
			s, err = Open(ctx, path, Options{})
			if err != nil {
				t.Fatalf("open a version %d database: %v", v, err)
			}
			defer s.Close()
			var have int
			s.db.QueryRow("PRAGMA user_version").Scan(&have)
			if have != Version {
				t.Fatalf("version %d after migration, want %d", have, Version)
			}
			if v >= 1 {
				f, hist, err := s.Finding(ctx, "f-old", storetest.T0)
				if err != nil || f.State != lifecycle.Open || len(hist) != 1 {
					t.Fatalf("old finding: %+v %v %v", f, hist, err)
				}
				// Listed as read alone: its packed value was filled
				// (since version 14) as the writers pack it.
				fs, err := s.Findings(ctx, store.Filter{Now: storetest.T0})
				if err != nil || len(fs) != 1 || !reflect.DeepEqual(fs[0], f) {
					t.Fatalf("old finding listed: %+v %v, read alone %+v", fs, err, f)
				}
				if n := unpacked(t, s); n != 0 {
					t.Fatalf("%d findings not packed after migration", n)
				}
				// It is counted, once, whichever version kept the counts.
				cs, err := s.Counts(ctx, store.Filter{Now: storetest.T0})
				if err != nil || len(cs) != 1 || cs[0].N != 1 || cs[0].State != lifecycle.Open || cs[0].Severity != 4 {
					t.Fatalf("old finding counted: %+v %v", cs, err)
				}
				sa, err := s.ScanAccounts(ctx, 1)
				if err != nil || len(sa) != 1 || !reflect.DeepEqual(sa[0].Results, oldResults) {
					t.Fatalf("old result set after migration: %+v %v", sa, err)
				}
				// Old transitions are not alerted again.
				ds, err := s.FlushOutbox(ctx, []store.Route{{Channel: "c", Kinds: lifecycle.Kinds}}, storetest.T0)
				if err != nil || len(ds) != 0 {
					t.Fatalf("old transitions alerted after migration: %+v %v", ds, err)
				}
			}
		})
	}
	t.Run("suite on a migrated store", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			path := filepath.Join(t.TempDir(), "vigil.db")
			raw := &DB{path: path, unlock: func() {}}
			var err error
			raw.db, err = openRaw(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := raw.migrateTo(context.Background(), 1, 0); err != nil {
				t.Fatal(err)
			}
			raw.db.Close()
			s, err := Open(context.Background(), path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

// oldResults are the results of an account as a database of an earlier
// version holds them.
var oldResults = []lifecycle.Observation{{AccountID: "111111111111", RuleID: "root-access-key", Resource: "arn", Status: "FAIL", Severity: 4, Evidence: []byte(`{"k":1}`)}}

// gzipSet is a result set in the encoding of the builds up to schema
// version 9: gzip of the JSON array.
func gzipSet(t *testing.T, obs []lifecycle.Observation) []byte {
	raw, err := json.Marshal(obs)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	return buf.Bytes()
}

func fmtV(v int) string { return fmt.Sprintf("from version %d", v) }

func openRaw(path string) (*sql.DB, error) { return sqlOpen(path, time.Second) }

func TestNewerDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.db.Exec("PRAGMA user_version = 99")
	s.Close()
	_, err = Open(ctx, path, Options{})
	var ne *NewerError
	if !errors.As(err, &ne) || ne.Have != 99 || !strings.Contains(err.Error(), "newer Vigil") || !strings.Contains(err.Error(), path) {
		t.Fatalf("newer database: %v", err)
	}
}

func TestSecondServiceRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	s, err := Open(ctx, path, Options{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path, Options{Exclusive: true})
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "in use by another vigil serve (pid") {
		t.Fatalf("second service: %v", err)
	}
	// Readers and one-shot scans share the file.
	r, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reader beside the service: %v", err)
	}
	r.Close()
	s.Close()
	s, err = Open(ctx, path, Options{Exclusive: true})
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	s.Close()
}

func TestUnwritable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := Open(ctx, filepath.Join(dir, "missing", "vigil.db"), Options{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "missing")) {
		t.Fatalf("missing directory: %v", err)
	}
	// A directory where the file should be: unwritable even for root.
	asDir := filepath.Join(dir, "dir.db")
	os.Mkdir(asDir, 0o700)
	_, err = Open(ctx, asDir, Options{})
	if err == nil || !strings.Contains(err.Error(), asDir) {
		t.Fatalf("a directory as the database: %v", err)
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: the read-only directory case is skipped (root writes anywhere)")
		return
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o500)
	defer os.Chmod(ro, 0o700)
	_, err = Open(ctx, filepath.Join(ro, "vigil.db"), Options{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(ro, "vigil.db")) {
		t.Fatalf("unwritable directory: %v", err)
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	os.WriteFile(path, []byte(strings.Repeat("not sqlite at all\n", 100)), 0o600)
	_, err := Open(context.Background(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("not a database: %v", err)
	}
}

// TestLockedByAnotherWriter: a file another process holds the write lock
// of (a sqlite3 shell left in a transaction, a backup tool) makes a
// write wait the busy timeout, then fail saying so and naming the file,
// rather than hang; reads go on (WAL), and writes work again once the
// lock is let go.
func TestLockedByAnotherWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	s, err := Open(ctx, path, Options{BusyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.StartScan(ctx, store.Scan{Target: "x", StartedAt: time.Unix(1, 0)})
	if err == nil || !strings.Contains(err.Error(), "another process holds the database") || !strings.Contains(err.Error(), path) {
		t.Fatalf("a write while another process holds the lock: %v", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond || waited > 30*time.Second {
		t.Errorf("the write gave up after %s, want about the busy timeout", waited)
	}
	if _, err := s.Scans(ctx, 1); err != nil {
		t.Errorf("a read while another process holds the write lock: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartScan(ctx, store.Scan{Target: "x", StartedAt: time.Unix(1, 0)}); err != nil {
		t.Errorf("a write after the lock was let go: %v", err)
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
		var orphans int
		s.db.QueryRow(`SELECT COUNT(*) FROM result_sets r WHERE base IS NOT NULL AND NOT EXISTS (SELECT 1 FROM result_sets b WHERE b.hash = r.base AND b.base IS NULL)`).Scan(&orphans)
		if orphans != 0 {
			t.Errorf("%d deltas whose base is missing or a delta", orphans)
		}
	})
	var left int
	s.db.QueryRow(`SELECT COUNT(*) FROM result_sets`).Scan(&left)
	if left > 6 {
		t.Errorf("%d result sets kept for one scan of 3 accounts: bases no delta needs were kept", left)
	}
}
