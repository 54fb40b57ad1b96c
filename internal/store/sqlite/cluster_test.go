package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/sqlstore"
	"github.com/vigil-sec/vigil/internal/store/storetest"
)

// atVersion is a database file built up to schema version v by this
// build's own steps, on a raw pool (no migration to the latest).
func atVersion(t *testing.T, v int) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigil.db")
	raw := &DB{path: path, unlock: func() {}}
	var err error
	if raw.db, err = openRaw(path); err != nil {
		t.Fatal(err)
	}
	if err := raw.migrateTo(context.Background(), v, 0); err != nil {
		t.Fatal(err)
	}
	raw.DB = sqlstore.New(raw.db, dialect)
	return raw, path
}

// TestClusteredMigration: migration 15 rebuilds findings in listing
// order and keeps every finding, in every state, with its transitions
// still referring to it, and the foreign keys on afterwards.
func TestClusteredMigration(t *testing.T) {
	ctx := context.Background()
	raw, path := atVersion(t, 14)
	if _, err := raw.db.Exec(`INSERT INTO scans (id, started_at, outcome) VALUES (1, 0, 'complete')`); err != nil {
		t.Fatal(err)
	}
	states := lifecycle.States
	const n = 300
	for i := range n {
		acct := fmt.Sprintf("%012d", 300-i)
		id := lifecycle.ID(acct, "root-access-key", "arn:"+acct)
		if _, err := raw.db.Exec(`INSERT INTO findings (id, account_id, rule_id, resource, state, status, severity, first_seen, last_seen, opened_at, message) VALUES (?, ?, 'root-access-key', ?, ?, 'FAIL', 4, 0, ?, 0, ?)`,
			id, acct, "arn:"+acct, string(states[i%len(states)]), i, "line one\nline two"); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.db.Exec(`INSERT INTO transitions (finding_id, scan_id, kind, at, status, severity) VALUES (?, 1, 'new', 0, 'FAIL', 4)`, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.db.Exec(`UPDATE findings SET packed = ` + sqlstore.PackedExpr); err != nil {
		t.Fatal(err)
	}
	before, err := raw.Findings(ctx, store.Filter{Now: storetest.T0})
	if err != nil || len(before) != n {
		t.Fatalf("before: %d findings, %v", len(before), err)
	}
	raw.db.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after, err := s.Findings(ctx, store.Filter{Now: storetest.T0})
	if err != nil || len(after) != n {
		t.Fatalf("after: %d findings, %v", len(after), err)
	}
	for i := range before {
		if before[i].ID != after[i].ID || before[i].State != after[i].State || before[i].LastSeen != after[i].LastSeen || before[i].Message != after[i].Message {
			t.Fatalf("finding %d changed by the migration:\n%+v\n%+v", i, before[i], after[i])
		}
		if _, hist, err := s.Finding(ctx, after[i].ID, storetest.T0); err != nil || len(hist) != 1 {
			t.Fatalf("%s: history %v, %v", after[i].ID, hist, err)
		}
	}
	// Every pooled connection has its keys on again: a transition of
	// no finding is refused, however many connections are open.
	conns := make([]interface{ Close() error }, 0, 4)
	for range 4 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		_, err = c.ExecContext(ctx, `INSERT INTO transitions (finding_id, scan_id, kind, at, status, severity) VALUES ('f-none', 1, 'new', 0, 'FAIL', 4)`)
		if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Fatalf("a transition of no finding: %v, want a foreign key error", err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// TestClusteredMigrationRefusesBrokenKeys: a file whose transitions
// refer to findings it does not hold (written with the keys off by
// something else than Vigil) is not migrated: the step is rolled back
// with a message naming the tables, and the file stays at version 14.
func TestClusteredMigrationRefusesBrokenKeys(t *testing.T) {
	ctx := context.Background()
	raw, path := atVersion(t, 14)
	conn, err := raw.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF")
	if _, err := conn.ExecContext(ctx, `INSERT INTO scans (id, started_at, outcome) VALUES (1, 0, 'complete')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO transitions (finding_id, scan_id, kind, at, status, severity) VALUES ('f-none', 1, 'new', 0, 'FAIL', 4)`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	raw.db.Close()
	_, err = Open(ctx, path, Options{})
	if err == nil || !strings.Contains(err.Error(), "version 15") || !strings.Contains(err.Error(), "transitions refers to a missing row of findings") || !strings.Contains(err.Error(), path) {
		t.Fatalf("open: %v", err)
	}
	db, err := openRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	db.QueryRow("PRAGMA user_version").Scan(&v)
	if v != 14 {
		t.Fatalf("version %d after a refused migration, want 14", v)
	}
}

// TestFindingsReadByRange: the statements that read many findings at
// once (the listing of one state in report order, an account's findings
// as the recorder reads them, the last_seen of those seen again) are
// ranges of the table's primary key: no sort, and no lookup by index
// and again down the table for each row (anywhere in an aged file). The
// recorder's two are the ones it runs (Dialect.AccountFindings,
// SeenAgain); the listing is Findings' for one state.
func TestFindingsReadByRange(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seen, seenArgs := dialect.SeenAgain(1, []string{"111111111111"}, []string{"f-1"})
	for _, c := range []struct {
		q    string
		args []any
		want []string // the plan's lines on findings, and any sort
	}{
		{`SELECT coalesce(packed, ` + sqlstore.PackedExpr + `), last_seen FROM findings WHERE state IN (?) ORDER BY account_id, rule_id, resource`, []any{"open"},
			[]string{"SEARCH findings USING PRIMARY KEY (state=?)"}},
		{dialect.AccountFindings(), []any{"111111111111"},
			[]string{"SEARCH findings USING PRIMARY KEY (state=? AND account_id=?)"}},
		{seen, seenArgs,
			[]string{"SEARCH findings USING PRIMARY KEY (state=? AND account_id=?)"}},
	} {
		rows, err := s.db.Query("EXPLAIN QUERY PLAN "+c.q, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		// The findings are read as wanted, and nothing else is done
		// to them (the lists of IDs are the planner's business).
		var findings []string
		for _, p := range plan {
			if strings.Contains(p, "findings") || strings.Contains(p, "TEMP B-TREE") {
				findings = append(findings, p)
			}
		}
		if !slices.Equal(findings, c.want) {
			t.Errorf("plan of %.60s…:\n%q\nwant %q", c.q, plan, c.want)
		}
	}
}
