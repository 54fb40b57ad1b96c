// Package sqlite is the embedded store: one SQLite file (modernc.org/sqlite,
// no cgo) in WAL mode, its schema migrated on open. It implements
// store.Store and passes storetest.
package sqlite

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// Options tune Open.
type Options struct {
	// Exclusive takes the file's service lock: a second `vigil serve` on
	// the same file is refused. Commands that read or record a one-shot
	// scan share the file with a running service and do not take it.
	Exclusive bool
	// BusyTimeout is how long a write waits for another writer; 10 s when
	// zero.
	BusyTimeout time.Duration
}

// DB is a store in one SQLite file.
type DB struct {
	db     *sql.DB
	path   string
	unlock func()
}

var _ store.Store = (*DB)(nil)

// NewerError is the error of a database written by a newer Vigil.
type NewerError struct {
	Path          string
	Have, Support int
}

func (e *NewerError) Error() string {
	return fmt.Sprintf("%s was written by a newer Vigil (schema version %d; this one knows up to %d): upgrade Vigil, or name another file with --db", e.Path, e.Have, e.Support)
}

// LockedError is the error of a file another `vigil serve` holds.
type LockedError struct {
	Path  string
	Owner string
}

func (e *LockedError) Error() string {
	s := fmt.Sprintf("%s is in use by another vigil serve", e.Path)
	if e.Owner != "" {
		s += " (" + e.Owner + ")"
	}
	return s + ": stop it, or give this one another --db"
}

// Open opens (creating it if needed) the store at path and migrates its
// schema to this build's version.
func Open(ctx context.Context, path string, o Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("no database file named (--db)")
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("database %s: %s is not a directory", path, dir)
	}
	unlock := func() {}
	if o.Exclusive {
		u, err := lockFile(path + ".lock")
		if err != nil {
			var le *LockedError
			if errors.As(err, &le) {
				le.Path = path
			}
			return nil, err
		}
		unlock = u
	}
	busy := o.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	db, err := sqlOpen(path, busy)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	s := &DB{db: db, path: path, unlock: unlock}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqlOpen opens the file with the settings every connection needs: WAL
// (readers never wait for the writer), a busy timeout (writers queue
// instead of failing), foreign keys, and transactions that take the write
// lock when they begin, so that two writers never deadlock upgrading.
func sqlOpen(path string, busy time.Duration) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return sql.Open("sqlite", "file:"+path+"?"+q.Encode())
}

// QueuePool opens a second pool on the same file for the job queue
// (River's SQLite driver): one connection, as River asks of SQLite, so
// that its own concurrent maintenance never meets SQLITE_BUSY inside one
// process; the busy timeout covers its meetings with the store's pool.
func (s *DB) QueuePool() (*sql.DB, error) {
	db, err := sqlOpen(s.path, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", s.path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// Path is the database file.
func (s *DB) Path() string { return s.path }

// SQL is the underlying database, for the job queue that shares the file.
func (s *DB) SQL() *sql.DB { return s.db }

// Close closes the database and releases the service lock.
func (s *DB) Close() error {
	err := s.db.Close()
	s.unlock()
	return err
}

func (s *DB) migrate(ctx context.Context) error {
	var have int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("database %s: %w", s.path, explain(err))
	}
	if have > Version {
		return &NewerError{Path: s.path, Have: have, Support: Version}
	}
	return s.migrateTo(ctx, Version, have)
}

// migrateTo runs the steps from have up to want, each in its own
// transaction with the version it reaches.
func (s *DB) migrateTo(ctx context.Context, want, have int) error {
	for v := have; v < want; v++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("database %s: migrating the schema to version %d: %w", s.path, v+1, explain(err))
		}
	}
	return nil
}

// explain says what a low-level SQLite error means for the user.
func explain(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "SQLITE_READONLY") || strings.Contains(msg, "readonly database"):
		return fmt.Errorf("the file or its directory is not writable: %w", err)
	case strings.Contains(msg, "SQLITE_NOTADB") || strings.Contains(msg, "file is not a database"):
		return fmt.Errorf("not a Vigil database: %w", err)
	case strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked"):
		return fmt.Errorf("another process holds the database for too long: %w", err)
	case strings.Contains(msg, "SQLITE_CANTOPEN") || strings.Contains(msg, "unable to open"):
		return fmt.Errorf("cannot open the file (does its directory exist and is it writable?): %w", err)
	}
	return err
}

func (s *DB) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return explain(err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return explain(tx.Commit())
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMs(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func ptrMs(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMs(v.Int64)
	return &t
}

// StartScan implements store.Store.
func (s *DB) StartScan(ctx context.Context, sc store.Scan) (store.Scan, error) {
	if sc.Outcome == "" {
		sc.Outcome = store.Running
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if sc.Schedule != "" {
			row := tx.QueryRowContext(ctx, scanSelect+" WHERE schedule = ? AND tick = ?", sc.Schedule, ms(sc.Tick))
			got, err := scanScan(row)
			if err == nil {
				sc = got
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO scans (schedule, target, tick, started_at, outcome, message) VALUES (?, ?, ?, ?, ?, ?)`,
			sc.Schedule, sc.Target, ms(sc.Tick), ms(sc.StartedAt), string(sc.Outcome), sc.Message)
		if err != nil {
			return err
		}
		sc.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return store.Scan{}, fmt.Errorf("start scan: %w", err)
	}
	return sc, nil
}

const scanSelect = `SELECT id, schedule, target, tick, started_at, finished_at, outcome, message, accounts, results, calls FROM scans`

type rowScanner interface{ Scan(...any) error }

func scanScan(r rowScanner) (store.Scan, error) {
	var sc store.Scan
	var tick, started int64
	var finished sql.NullInt64
	var outcome string
	if err := r.Scan(&sc.ID, &sc.Schedule, &sc.Target, &tick, &started, &finished, &outcome, &sc.Message, &sc.Accounts, &sc.Results, &sc.Calls); err != nil {
		return sc, err
	}
	if tick != 0 {
		sc.Tick = fromMs(tick)
	}
	sc.StartedAt, sc.FinishedAt, sc.Outcome = fromMs(started), ptrMs(finished), store.Outcome(outcome)
	return sc, nil
}

// FinishScan implements store.Store.
func (s *DB) FinishScan(ctx context.Context, id int64, end store.End) error {
	res, err := s.db.ExecContext(ctx, `UPDATE scans SET outcome = ?, message = ?, finished_at = ?, calls = calls + ? WHERE id = ?`, string(end.Outcome), end.Message, ms(end.At), end.Calls, id)
	if err != nil {
		return fmt.Errorf("finish scan %d: %w", id, explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("finish scan %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// Scan implements store.Store.
func (s *DB) Scan(ctx context.Context, id int64) (store.Scan, error) {
	sc, err := scanScan(s.db.QueryRowContext(ctx, scanSelect+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return sc, fmt.Errorf("scan %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return sc, fmt.Errorf("scan %d: %w", id, explain(err))
	}
	return sc, nil
}

// AccountRecorded implements store.Store.
func (s *DB) AccountRecorded(ctx context.Context, scanID int64, account string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM scan_accounts WHERE scan_id = ? AND account_id = ?`, scanID, account).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("scan %d account %s: %w", scanID, account, explain(err))
	}
	return true, nil
}

// Scans implements store.Store.
func (s *DB) Scans(ctx context.Context, limit int) ([]store.Scan, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, scanSelect+" ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", explain(err))
	}
	defer rows.Close()
	var out []store.Scan
	for rows.Next() {
		sc, err := scanScan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// ScanAccounts implements store.Store.
func (s *DB) ScanAccounts(ctx context.Context, scanID int64) ([]store.ScanAccount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.account_id, a.recorded_at, a.calls, r.data FROM scan_accounts a LEFT JOIN result_sets r ON r.hash = a.results_hash WHERE a.scan_id = ? ORDER BY a.account_id`, scanID)
	if err != nil {
		return nil, fmt.Errorf("scan %d accounts: %w", scanID, explain(err))
	}
	defer rows.Close()
	var out []store.ScanAccount
	for rows.Next() {
		var a store.ScanAccount
		var at int64
		var data []byte
		if err := rows.Scan(&a.AccountID, &at, &a.Calls, &data); err != nil {
			return nil, err
		}
		a.RecordedAt = fromMs(at)
		if data != nil {
			if a.Results, err = decodeResults(data); err != nil {
				return nil, fmt.Errorf("scan %d account %s: %w", scanID, a.AccountID, err)
			}
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func decodeResults(data []byte) ([]lifecycle.Observation, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var obs []lifecycle.Observation
	return obs, json.Unmarshal(raw, &obs)
}

const findingSelect = `SELECT id, account_id, account_name, ou, rule_id, title, resource, state, status, severity, message, evidence, first_seen, last_seen, opened_at, resolved_at, regressions, resolutions, open_seconds, unknown_since, gap FROM findings`

func scanFinding(r rowScanner) (store.Finding, error) {
	var f store.Finding
	var state string
	var first, last, opened int64
	var resolved, unknown sql.NullInt64
	err := r.Scan(&f.ID, &f.AccountID, &f.AccountName, &f.OU, &f.RuleID, &f.Title, &f.Resource, &state, &f.Status, &f.Severity, &f.Message, &f.Evidence,
		&first, &last, &opened, &resolved, &f.Regressions, &f.Resolutions, &f.OpenSeconds, &unknown, &f.Gap)
	if err != nil {
		return f, err
	}
	f.State = lifecycle.State(state)
	f.FirstSeen, f.LastSeen, f.OpenedAt = fromMs(first), fromMs(last), fromMs(opened)
	f.ResolvedAt, f.UnknownSince = ptrMs(resolved), ptrMs(unknown)
	return f, nil
}

const upsertSQL = `INSERT INTO findings (id, account_id, account_name, ou, rule_id, title, resource, state, status, severity, message, evidence, first_seen, last_seen, opened_at, resolved_at, regressions, resolutions, open_seconds, unknown_since, gap)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET account_name = excluded.account_name, ou = excluded.ou, title = excluded.title, state = excluded.state, status = excluded.status,
		severity = excluded.severity, message = excluded.message, evidence = excluded.evidence, last_seen = excluded.last_seen, opened_at = excluded.opened_at,
		resolved_at = excluded.resolved_at, regressions = excluded.regressions, resolutions = excluded.resolutions, open_seconds = excluded.open_seconds,
		unknown_since = excluded.unknown_since, gap = excluded.gap`

func findingArgs(f lifecycle.Finding, ou string) []any {
	return []any{f.ID, f.AccountID, f.AccountName, ou, f.RuleID, f.Title, f.Resource, string(f.State), f.Status, f.Severity, f.Message, f.Evidence,
		ms(f.FirstSeen), ms(f.LastSeen), ms(f.OpenedAt), nullMs(f.ResolvedAt), f.Regressions, f.Resolutions, f.OpenSeconds, nullMs(f.UnknownSince), f.Gap}
}

func upsertFinding(ctx context.Context, tx *sql.Tx, f lifecycle.Finding, ou string) error {
	_, err := tx.ExecContext(ctx, upsertSQL, findingArgs(f, ou)...)
	return err
}

// same reports whether storing next would change nothing of prev.
func same(prev, next *lifecycle.Finding, prevOU, ou string) bool {
	eqT := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
	return prev.State == next.State && prev.Status == next.Status && prev.Severity == next.Severity && prev.Message == next.Message &&
		bytes.Equal(prev.Evidence, next.Evidence) && prev.LastSeen.Equal(next.LastSeen) && eqT(prev.UnknownSince, next.UnknownSince) &&
		prev.Gap == next.Gap && prev.AccountName == next.AccountName && prev.Title == next.Title && prevOU == ou
}

const transitionSQL = `INSERT INTO transitions (finding_id, scan_id, kind, at, status, severity, message, detail, suppressed, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func transitionArgs(t store.Transition) []any {
	return []any{t.FindingID, t.ScanID, string(t.Kind), ms(t.At), t.Status, t.Severity, t.Message, t.Detail, t.Suppressed, !t.Suppressed}
}

func insertTransition(ctx context.Context, tx *sql.Tx, t *store.Transition) error {
	res, err := tx.ExecContext(ctx, transitionSQL, transitionArgs(*t)...)
	if err != nil {
		return err
	}
	t.ID, err = res.LastInsertId()
	return err
}

func activeSuppressions(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, account string, now time.Time) ([]store.Suppression, error) {
	query := suppressionSelect + " WHERE (expires IS NULL OR expires > ?)"
	args := []any{ms(now)}
	if account != "" {
		query += " AND account_id = ?"
		args = append(args, account)
	}
	rows, err := q.QueryContext(ctx, query+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Suppression
	for rows.Next() {
		sp, err := scanSuppression(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, rows.Err()
}

func suppressedBy(sups []store.Suppression, account, rule, resource string) *store.Suppression {
	for i := range sups {
		if sups[i].Matches(account, rule, resource) {
			return &sups[i]
		}
	}
	return nil
}

// RecordAccount implements store.Store.
func (s *DB) RecordAccount(ctx context.Context, scanID int64, a store.AccountResults, now time.Time) (store.Recorded, error) {
	recs, err := s.RecordAccounts(ctx, scanID, []store.AccountResults{a}, now)
	if err != nil {
		return store.Recorded{}, err
	}
	return recs[0], nil
}

// RecordAccounts implements store.Store: every account in one
// transaction, the statements prepared once.
func (s *DB) RecordAccounts(ctx context.Context, scanID int64, as []store.AccountResults, now time.Time) ([]store.Recorded, error) {
	now = now.UTC()
	raws := make([][]byte, len(as))
	hashes := make([]int64, len(as))
	for i, a := range as {
		raw, err := json.Marshal(a.Results)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		raws[i], hashes[i] = raw, int64(binary.BigEndian.Uint64(sum[:8]))
	}
	var recs []store.Recorded
	err := s.tx(ctx, func(tx *sql.Tx) error {
		recs = make([]store.Recorded, len(as))
		st, err := prepareRecord(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		sups, err := activeSuppressions(ctx, tx, "", now)
		if err != nil {
			return err
		}
		var accounts, results, calls int
		for i, a := range as {
			done, err := st.recordOne(ctx, scanID, a, now, sups, hashes[i], raws[i], &recs[i])
			if err != nil {
				return fmt.Errorf("record account %s: %w", a.AccountID, err)
			}
			if done {
				accounts++
				results += len(a.Results)
				calls += a.Calls
			}
		}
		if accounts == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM scans WHERE id = ?`, scanID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("scan %d: %w", scanID, store.ErrNotFound)
			}
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE scans SET accounts = accounts + ?, results = results + ?, calls = calls + ? WHERE id = ?`, accounts, results, calls, scanID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("scan %d: %w", scanID, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record scan %d: %w", scanID, err)
	}
	return recs, nil
}

// recordStmts are the statements of recording, prepared once per
// transaction.
type recordStmts struct {
	recorded, findings, upsert, transition, hasSet, addSet, addAccount *sql.Stmt
}

func prepareRecord(ctx context.Context, tx *sql.Tx) (*recordStmts, error) {
	st := &recordStmts{}
	for _, p := range []struct {
		to **sql.Stmt
		q  string
	}{
		{&st.recorded, `SELECT 1 FROM scan_accounts WHERE scan_id = ? AND account_id = ?`},
		{&st.findings, findingSelect + " WHERE account_id = ?"},
		{&st.upsert, upsertSQL},
		{&st.transition, transitionSQL},
		{&st.hasSet, `SELECT 1 FROM result_sets WHERE hash = ?`},
		{&st.addSet, `INSERT OR IGNORE INTO result_sets (hash, data) VALUES (?, ?)`},
		{&st.addAccount, `INSERT INTO scan_accounts (scan_id, account_id, recorded_at, calls, results_hash) VALUES (?, ?, ?, ?, ?)`},
	} {
		s, err := tx.PrepareContext(ctx, p.q)
		if err != nil {
			st.close()
			return nil, err
		}
		*p.to = s
	}
	return st, nil
}

func (st *recordStmts) close() {
	for _, s := range []*sql.Stmt{st.recorded, st.findings, st.upsert, st.transition, st.hasSet, st.addSet, st.addAccount} {
		if s != nil {
			s.Close()
		}
	}
}

// recordOne records one account; false when the scan had it already.
func (st *recordStmts) recordOne(ctx context.Context, scanID int64, a store.AccountResults, now time.Time, sups []store.Suppression, hash int64, raw []byte, rec *store.Recorded) (bool, error) {
	var one int
	err := st.recorded.QueryRowContext(ctx, scanID, a.AccountID).Scan(&one)
	if err == nil {
		rec.Already = true
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	current := map[string]*store.Finding{}
	rows, err := st.findings.QueryContext(ctx, a.AccountID)
	if err != nil {
		return false, err
	}
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			rows.Close()
			return false, err
		}
		current[f.ID] = &f
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, o := range a.Results {
		o.AccountID = a.AccountID
		if o.AccountName == "" {
			o.AccountName = a.AccountName
		}
		var prev *lifecycle.Finding
		prevOU := ""
		if f, ok := current[o.Key()]; ok {
			prev, prevOU = &f.Finding, f.OU
		}
		next, kind := lifecycle.Observe(prev, o, now)
		if next == nil || (kind == lifecycle.StillOpen && prev != nil && same(prev, next, prevOU, a.OU)) {
			continue
		}
		if _, err := st.upsert.ExecContext(ctx, findingArgs(*next, a.OU)...); err != nil {
			return false, err
		}
		if kind == lifecycle.StillOpen {
			continue
		}
		t := store.Transition{FindingID: next.ID, ScanID: scanID, Kind: kind, At: now, Status: next.Status, Severity: next.Severity, Message: next.Message,
			Suppressed: suppressedBy(sups, next.AccountID, next.RuleID, next.Resource) != nil}
		res, err := st.transition.ExecContext(ctx, transitionArgs(t)...)
		if err != nil {
			return false, err
		}
		if t.ID, err = res.LastInsertId(); err != nil {
			return false, err
		}
		rec.Transitions = append(rec.Transitions, t)
	}
	// The same results as an earlier scan's are stored once.
	if err := st.hasSet.QueryRowContext(ctx, hash).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		data, err := compress(raw)
		if err != nil {
			return false, err
		}
		if _, err := st.addSet.ExecContext(ctx, hash, data); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, err
	}
	if _, err := st.addAccount.ExecContext(ctx, scanID, a.AccountID, ms(now), a.Calls, hash); err != nil {
		return false, err
	}
	return true, nil
}

var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// compress gzips a result set; the writers are pooled, since each holds
// the better part of a megabyte of tables.
func compress(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzipPool.Get().(*gzip.Writer)
	defer gzipPool.Put(zw)
	zw.Reset(&buf)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// LeaveAccounts implements store.Store.
func (s *DB) LeaveAccounts(ctx context.Context, scanID int64, present []string, now time.Time) ([]store.Transition, error) {
	here := map[string]bool{}
	for _, a := range present {
		here[a] = true
	}
	var out []store.Transition
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, findingSelect+" WHERE state <> 'gone'")
		if err != nil {
			return err
		}
		var leaving []store.Finding
		for rows.Next() {
			f, err := scanFinding(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if !here[f.AccountID] {
				leaving = append(leaving, f)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		sups, err := activeSuppressions(ctx, tx, "", now)
		if err != nil {
			return err
		}
		for _, f := range leaving {
			next, kind := lifecycle.Leave(f.Finding, now)
			if err := upsertFinding(ctx, tx, next, f.OU); err != nil {
				return err
			}
			if kind == lifecycle.StillOpen {
				continue
			}
			t := store.Transition{FindingID: f.ID, ScanID: scanID, Kind: kind, At: now.UTC(), Status: f.Status, Severity: f.Severity, Message: f.Message,
				Detail: "the account is no longer in the organisation", Suppressed: suppressedBy(sups, f.AccountID, f.RuleID, f.Resource) != nil}
			if err := insertTransition(ctx, tx, &t); err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("close the findings of accounts that left: %w", err)
	}
	return out, nil
}

// Findings implements store.Store.
func (s *DB) Findings(ctx context.Context, f store.Filter) ([]store.Finding, error) {
	var where []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	states := make([]string, len(f.States))
	for i, st := range f.States {
		states[i] = string(st)
	}
	in("state", states)
	in("rule_id", f.Rules)
	in("account_id", f.Accounts)
	if f.MinSeverity > 0 {
		where = append(where, "severity >= ?")
		args = append(args, f.MinSeverity)
	}
	if len(f.OUs) > 0 {
		var ors []string
		for _, ou := range f.OUs {
			ors = append(ors, "(ou = ? OR ou LIKE ? ESCAPE '\\')")
			args = append(args, ou, escapeLike(ou)+"/%")
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	q := findingSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY account_id, rule_id, resource", args...)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", explain(err))
	}
	defer rows.Close()
	var out []store.Finding
	for rows.Next() {
		fd, err := scanFinding(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, fd)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sups, err := activeSuppressions(ctx, s.db, "", f.Now)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	if len(sups) > 0 {
		for i := range out {
			out[i].Suppression = suppressedBy(sups, out[i].AccountID, out[i].RuleID, out[i].Resource)
		}
	}
	return out, nil
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

const transitionSelect = `SELECT id, finding_id, scan_id, kind, at, status, severity, message, detail, suppressed FROM transitions`

func scanTransition(r rowScanner) (store.Transition, error) {
	var t store.Transition
	var kind string
	var at int64
	err := r.Scan(&t.ID, &t.FindingID, &t.ScanID, &kind, &at, &t.Status, &t.Severity, &t.Message, &t.Detail, &t.Suppressed)
	t.Kind, t.At = lifecycle.Kind(kind), fromMs(at)
	return t, err
}

// Finding implements store.Store.
func (s *DB) Finding(ctx context.Context, id string, now time.Time) (store.Finding, []store.Transition, error) {
	f, err := scanFinding(s.db.QueryRowContext(ctx, findingSelect+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, nil, fmt.Errorf("finding %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return f, nil, fmt.Errorf("finding %s: %w", id, explain(err))
	}
	sups, err := activeSuppressions(ctx, s.db, f.AccountID, now)
	if err != nil {
		return f, nil, err
	}
	f.Suppression = suppressedBy(sups, f.AccountID, f.RuleID, f.Resource)
	rows, err := s.db.QueryContext(ctx, transitionSelect+" WHERE finding_id = ? ORDER BY id", id)
	if err != nil {
		return f, nil, fmt.Errorf("finding %s: %w", id, explain(err))
	}
	defer rows.Close()
	var ts []store.Transition
	for rows.Next() {
		t, err := scanTransition(rows)
		if err != nil {
			return f, nil, err
		}
		ts = append(ts, t)
	}
	return f, ts, rows.Err()
}

// Stats implements store.Store.
func (s *DB) Stats(ctx context.Context) ([]store.Stat, error) {
	var out []store.Stat
	for _, by := range []string{"rule", "account"} {
		col := by + "_id"
		rows, err := s.db.QueryContext(ctx, `SELECT `+col+`, SUM(state = 'open'), SUM(state = 'resolved'), SUM(regressions), SUM(open_seconds), SUM(resolutions) FROM findings GROUP BY `+col+` ORDER BY `+col)
		if err != nil {
			return nil, fmt.Errorf("stats: %w", explain(err))
		}
		for rows.Next() {
			st := store.Stat{By: by}
			var secs, n int64
			if err := rows.Scan(&st.Key, &st.Open, &st.Resolved, &st.Regressions, &secs, &n); err != nil {
				rows.Close()
				return nil, err
			}
			if n > 0 {
				st.MTTR = time.Duration(secs/n) * time.Second
			}
			out = append(out, st)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

const suppressionSelect = `SELECT id, rule_id, account_id, resource, reason, owner, ticket, expires, created_at FROM suppressions`

func scanSuppression(r rowScanner) (store.Suppression, error) {
	var sp store.Suppression
	var expires sql.NullInt64
	var created int64
	err := r.Scan(&sp.ID, &sp.RuleID, &sp.AccountID, &sp.Resource, &sp.Reason, &sp.Owner, &sp.Ticket, &expires, &created)
	sp.Expires, sp.CreatedAt = ptrMs(expires), fromMs(created)
	return sp, err
}

// AddSuppression implements store.Store.
func (s *DB) AddSuppression(ctx context.Context, sp store.Suppression) (store.Suppression, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO suppressions (rule_id, account_id, resource, reason, owner, ticket, expires, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		sp.RuleID, sp.AccountID, sp.Resource, sp.Reason, sp.Owner, sp.Ticket, nullMs(sp.Expires), ms(sp.CreatedAt))
	if err != nil {
		return sp, fmt.Errorf("add suppression: %w", explain(err))
	}
	sp.ID, err = res.LastInsertId()
	return sp, err
}

// Suppressions implements store.Store.
func (s *DB) Suppressions(ctx context.Context) ([]store.Suppression, error) {
	rows, err := s.db.QueryContext(ctx, suppressionSelect+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list suppressions: %w", explain(err))
	}
	defer rows.Close()
	var out []store.Suppression
	for rows.Next() {
		sp, err := scanSuppression(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, rows.Err()
}

// RemoveSuppression implements store.Store.
func (s *DB) RemoveSuppression(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM suppressions WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("remove suppression %d: %w", id, explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("suppression %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// ExpireSuppressions implements store.Store.
func (s *DB) ExpireSuppressions(ctx context.Context, now time.Time) ([]store.Transition, error) {
	var out []store.Transition
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, suppressionSelect+" WHERE expires IS NOT NULL AND expires <= ? AND expiry_handled = 0 ORDER BY id", ms(now))
		if err != nil {
			return err
		}
		var expired []store.Suppression
		for rows.Next() {
			sp, err := scanSuppression(rows)
			if err != nil {
				rows.Close()
				return err
			}
			expired = append(expired, sp)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(expired) == 0 {
			return nil
		}
		active, err := activeSuppressions(ctx, tx, "", now)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, sp := range expired {
			if _, err := tx.ExecContext(ctx, `UPDATE suppressions SET expiry_handled = 1 WHERE id = ?`, sp.ID); err != nil {
				return err
			}
			q := findingSelect + " WHERE account_id = ? AND rule_id = ? AND state = 'open'"
			args := []any{sp.AccountID, sp.RuleID}
			if sp.Resource != "" {
				q += " AND resource = ?"
				args = append(args, sp.Resource)
			}
			frows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return err
			}
			var fs []store.Finding
			for frows.Next() {
				f, err := scanFinding(frows)
				if err != nil {
					frows.Close()
					return err
				}
				fs = append(fs, f)
			}
			frows.Close()
			for _, f := range fs {
				// Another suppression still in force keeps it muted; two
				// expiring together alert once.
				if seen[f.ID] || suppressedBy(active, f.AccountID, f.RuleID, f.Resource) != nil {
					continue
				}
				seen[f.ID] = true
				t := store.Transition{FindingID: f.ID, Kind: lifecycle.SuppressionExpired, At: now.UTC(), Status: f.Status, Severity: f.Severity, Message: f.Message,
					Detail: fmt.Sprintf("suppression %d (%s, owner %s) expired", sp.ID, sp.Reason, sp.Owner)}
				if err := insertTransition(ctx, tx, &t); err != nil {
					return err
				}
				out = append(out, t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("expire suppressions: %w", err)
	}
	return out, nil
}

// RecordFix implements store.Store.
func (s *DB) RecordFix(ctx context.Context, findingID, detail string, now time.Time) (store.Transition, error) {
	var t store.Transition
	err := s.tx(ctx, func(tx *sql.Tx) error {
		f, err := scanFinding(tx.QueryRowContext(ctx, findingSelect+" WHERE id = ?", findingID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("finding %s: %w", findingID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		t = store.Transition{FindingID: f.ID, Kind: lifecycle.Fixed, At: now.UTC(), Status: f.Status, Severity: f.Severity, Message: f.Message, Detail: detail}
		return insertTransition(ctx, tx, &t)
	})
	if err != nil {
		return t, fmt.Errorf("record fix: %w", err)
	}
	return t, nil
}

func newDeliveryID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "dlv_" + hex.EncodeToString(b[:])
}

// FlushOutbox implements store.Store.
func (s *DB) FlushOutbox(ctx context.Context, routes []store.Route, now time.Time) ([]store.Delivery, error) {
	var out []store.Delivery
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, transitionSelect+" WHERE pending = 1 ORDER BY id")
		if err != nil {
			return err
		}
		var pending []store.Transition
		for rows.Next() {
			t, err := scanTransition(rows)
			if err != nil {
				rows.Close()
				return err
			}
			pending = append(pending, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		for _, r := range routes {
			d := store.Delivery{ID: newDeliveryID(), Channel: r.Channel, CreatedAt: now.UTC()}
			for _, t := range pending {
				if r.Wants(t) {
					d.Transitions = append(d.Transitions, t)
				}
			}
			if len(d.Transitions) == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, channel, created_at) VALUES (?, ?, ?)`, d.ID, d.Channel, ms(d.CreatedAt)); err != nil {
				return err
			}
			for _, t := range d.Transitions {
				if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_items (delivery_id, transition_id) VALUES (?, ?)`, d.ID, t.ID); err != nil {
					return err
				}
			}
			out = append(out, d)
		}
		_, err = tx.ExecContext(ctx, `UPDATE transitions SET pending = 0 WHERE pending = 1 AND id <= ?`, pending[len(pending)-1].ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("flush the outbox: %w", err)
	}
	return out, nil
}

const deliverySelect = `SELECT id, channel, created_at, attempts, last_error, delivered_at FROM deliveries`

func scanDelivery(r rowScanner) (store.Delivery, error) {
	var d store.Delivery
	var created int64
	var delivered sql.NullInt64
	err := r.Scan(&d.ID, &d.Channel, &created, &d.Attempts, &d.LastError, &delivered)
	d.CreatedAt, d.DeliveredAt = fromMs(created), ptrMs(delivered)
	return d, err
}

// PendingDeliveries implements store.Store.
func (s *DB) PendingDeliveries(ctx context.Context) ([]store.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, deliverySelect+" WHERE delivered_at IS NULL ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("pending deliveries: %w", explain(err))
	}
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Delivery implements store.Store.
func (s *DB) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	d, err := scanDelivery(s.db.QueryRowContext(ctx, deliverySelect+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("delivery %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("delivery %s: %w", id, explain(err))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT t.id, t.finding_id, t.scan_id, t.kind, t.at, t.status, t.severity, t.message, t.detail, t.suppressed FROM delivery_items i JOIN transitions t ON t.id = i.transition_id WHERE i.delivery_id = ? ORDER BY t.id`, id)
	if err != nil {
		return d, fmt.Errorf("delivery %s: %w", id, explain(err))
	}
	for rows.Next() {
		t, err := scanTransition(rows)
		if err != nil {
			rows.Close()
			return d, err
		}
		d.Transitions = append(d.Transitions, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, err
	}
	for i := range d.Transitions {
		f, err := scanFinding(s.db.QueryRowContext(ctx, findingSelect+" WHERE id = ?", d.Transitions[i].FindingID))
		if err != nil {
			return d, fmt.Errorf("delivery %s: finding %s: %w", id, d.Transitions[i].FindingID, err)
		}
		d.Transitions[i].Finding = &f
	}
	sort.SliceStable(d.Transitions, func(i, j int) bool { return d.Transitions[i].ID < d.Transitions[j].ID })
	return d, nil
}

// MarkDelivered implements store.Store.
func (s *DB) MarkDelivered(ctx context.Context, id string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE deliveries SET delivered_at = ?, attempts = attempts + 1 WHERE id = ? AND delivered_at IS NULL`, ms(now), id)
	if err != nil {
		return fmt.Errorf("delivery %s: %w", id, explain(err))
	}
	return nil
}

// MarkAttempt implements store.Store.
func (s *DB) MarkAttempt(ctx context.Context, id, message string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, last_error = ? WHERE id = ?`, message, id)
	if err != nil {
		return fmt.Errorf("delivery %s: %w", id, explain(err))
	}
	return nil
}

// Prune implements store.Store.
func (s *DB) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM scan_accounts WHERE scan_id IN (SELECT id FROM scans WHERE started_at < ? AND outcome <> 'running')`, ms(cutoff))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM result_sets WHERE hash NOT IN (SELECT results_hash FROM scan_accounts WHERE results_hash IS NOT NULL)`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune results before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(n), nil
}

const tokenSelect = `SELECT id, name, role, key, hash, created_at, revoked_at FROM tokens`

func scanToken(r rowScanner) (store.Token, error) {
	var t store.Token
	var created int64
	var revoked sql.NullInt64
	var role string
	err := r.Scan(&t.ID, &t.Name, &role, &t.Key, &t.Hash, &created, &revoked)
	t.Role, t.CreatedAt, t.RevokedAt = store.Role(role), fromMs(created), ptrMs(revoked)
	return t, err
}

// AddToken implements store.Store.
func (s *DB) AddToken(ctx context.Context, t store.Token) (store.Token, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO tokens (name, role, key, hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		t.Name, string(t.Role), t.Key, t.Hash, ms(t.CreatedAt))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return t, fmt.Errorf("token %q: %w", t.Name, store.ErrExists)
		}
		return t, fmt.Errorf("add token: %w", explain(err))
	}
	t.ID, err = res.LastInsertId()
	return t, err
}

// Tokens implements store.Store.
func (s *DB) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.db.QueryContext(ctx, tokenSelect+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", explain(err))
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TokenByKey implements store.Store.
func (s *DB) TokenByKey(ctx context.Context, key string) (store.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, tokenSelect+" WHERE key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("token: %w", explain(err))
	}
	return t, nil
}

// RevokeToken implements store.Store.
func (s *DB) RevokeToken(ctx context.Context, name string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL`, ms(now), name)
	if err != nil {
		return fmt.Errorf("revoke token %q: %w", name, explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %q: %w", name, store.ErrNotFound)
	}
	return nil
}
