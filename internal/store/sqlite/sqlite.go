// Package sqlite is the embedded store: one SQLite file (modernc.org/sqlite,
// no cgo) in WAL mode, its schema migrated on open. The queries are
// store/sqlstore's, shared with PostgreSQL; this package opens the file
// (PRAGMAs, the service lock), migrates it and says how SQLite differs
// (its Dialect). It implements store.Store and passes storetest.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/sqlstore"
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

// DB is a store in one SQLite file: the shared SQL of store/sqlstore
// on the file's pool.
type DB struct {
	*sqlstore.DB
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
	// Errors that are about the file (locked, read-only, not a
	// database) name it: a cron job's log must say which file.
	d := dialect
	d.Explain = func(err error) error { return explainIn(path, err) }
	s := &DB{DB: sqlstore.New(db, d), db: db, path: path, unlock: unlock}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// dialect is what SQLite does differently from sqlstore's SQL. It needs
// no locks: every transaction takes the file's one write lock when it
// begins (_txlock=immediate), so writers run one at a time.
var dialect = sqlstore.Dialect{
	True:  "1",
	False: "0",
	// A JSON array read by json_each: one argument however many IDs.
	InIDs: func(col string, ids []int64) (string, any) {
		raw, _ := json.Marshal(ids)
		return col + " IN (SELECT value FROM json_each(?))", string(raw)
	},
	InStrings: func(col string, vals []string) (string, any) {
		raw, _ := json.Marshal(vals)
		return col + " IN (SELECT value FROM json_each(?))", string(raw)
	},
	Unique:  func(err error) bool { return strings.Contains(err.Error(), "UNIQUE") },
	Explain: explain,
	// Per-column reads are most of a listing's cost through modernc.
	PackedFindings: true,
	// Findings are clustered by state and account (migration 15).
	ClusteredFindings: true,
}

// sqlOpen opens the file with the settings every connection needs: WAL
// (readers never wait for the writer), a busy timeout (writers queue
// instead of failing), foreign keys, and transactions that take the write
// lock when they begin, so that two writers never deadlock upgrading.
// synchronous=NORMAL under WAL syncs at checkpoints, not at each commit:
// a killed process (kill -9) loses nothing committed, since the WAL is
// in the file system; only a power cut or kernel crash may lose the last
// commits, never corrupt the file. temp_store=MEMORY keeps statement
// journals (what a multi-row upsert inside a transaction writes to undo
// itself) in memory: on disk they were 8% of a first 5,000-account
// recording's CPU, in write calls (pprof).
func sqlOpen(path string, busy time.Duration) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
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
		step := func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		}
		var err error
		if foreignKeysOff[v] {
			err = s.txForeignKeysOff(ctx, step)
		} else {
			err = s.tx(ctx, step)
		}
		if err != nil {
			return fmt.Errorf("database %s: migrating the schema to version %d: %w", s.path, v+1, explain(err))
		}
	}
	return nil
}

// explain says what a low-level SQLite error means for the user.
func explain(err error) error { return explainIn("", err) }

// explainIn is explain naming the file, when path is set.
func explainIn(path string, err error) error {
	if err == nil {
		return nil
	}
	why := meaning(err.Error())
	switch {
	case why == "":
		return err
	case path != "":
		return fmt.Errorf("database %s: %s: %w", path, why, err)
	}
	return fmt.Errorf("%s: %w", why, err)
}

// meaning is what a SQLite error message means, or "".
func meaning(msg string) string {
	switch {
	case strings.Contains(msg, "SQLITE_READONLY") || strings.Contains(msg, "readonly database"):
		return "the file or its directory is not writable"
	case strings.Contains(msg, "SQLITE_NOTADB") || strings.Contains(msg, "file is not a database"):
		return "not a Vigil database"
	case strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked"):
		return "another process holds the database for too long"
	case strings.Contains(msg, "SQLITE_CANTOPEN") || strings.Contains(msg, "unable to open"):
		return "cannot open the file (does its directory exist and is it writable?)"
	}
	return ""
}

// txForeignKeysOff runs f in a transaction on one connection whose
// foreign keys are off (the pragma has no effect inside a transaction),
// and commits only if the keys hold at its end.
func (s *DB) txForeignKeysOff(ctx context.Context, f func(*sql.Tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return explain(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return explain(err)
	}
	// The connection goes back to the pool with its keys on, whatever
	// happened (a background context: a cancelled one must not leave a
	// pooled connection without them).
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return explain(err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	var table, parent string
	var row, fkid sql.NullInt64
	switch err := tx.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&table, &row, &parent, &fkid); {
	case err == nil:
		tx.Rollback()
		return fmt.Errorf("a row of %s refers to a missing row of %s", table, parent)
	case !errors.Is(err, sql.ErrNoRows):
		tx.Rollback()
		return explain(err)
	}
	return explain(tx.Commit())
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
