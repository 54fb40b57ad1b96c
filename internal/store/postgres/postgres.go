// Package postgres is the store of team mode: PostgreSQL through pgx,
// shared by any number of `vigil serve` replicas. The queries are
// store/sqlstore's, shared with SQLite; this package connects, migrates
// and says how PostgreSQL differs (its Dialect). It implements
// store.Store and passes storetest, like the embedded SQLite store.
//
// Replicas write to one database at once, so what SQLite got from its
// single writer is made explicit here with transaction-scoped advisory
// locks: one account recorded by one replica at a time, one tick one
// scan, one outbox flush and one suppression-expiry pass at a time. The
// schema migrates on open under a session advisory lock, so replicas
// started together migrate once.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/sqlstore"
)

// DefaultMaxConns is how many connections a replica opens at most when
// its URL does not say (pool_max_conns).
const DefaultMaxConns = 16

// DB is a store in a PostgreSQL database: the shared SQL of
// store/sqlstore on a pgx pool.
type DB struct {
	*sqlstore.DB
	db    *sql.DB
	pool  *pgxpool.Pool
	label string
}

var _ store.Store = (*DB)(nil)

// NewerError is the error of a database written by a newer Vigil.
type NewerError struct {
	Label         string
	Have, Support int
}

func (e *NewerError) Error() string {
	return fmt.Sprintf("database %s was written by a newer Vigil (schema version %d; this one knows up to %d): upgrade every replica", e.Label, e.Have, e.Support)
}

// IsURL reports whether a --database value names a PostgreSQL database
// rather than a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Label is the URL without its password, for logs and errors.
func Label(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Open connects to the database at rawURL and migrates its schema to
// this build's version.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	s, err := Connect(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Connect connects without migrating, for `vigil db status`.
func Connect(ctx context.Context, rawURL string) (*DB, error) {
	label := Label(rawURL)
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, fmt.Errorf("database %s: not a valid PostgreSQL URL", label)
	}
	if !strings.Contains(rawURL, "pool_max_conns") {
		// pgx's default is 4 connections on this kind of machine
		// (max(4, NumCPU)): fewer than a replica's 8 workers, River's
		// fetches and its LISTEN connection want at once, so workers
		// queued for a connection. 16 leaves 100 / 16 = 6 replicas within
		// PostgreSQL's default max_connections; pool_max_conns in the URL
		// sets another.
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", label, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", label, explain(err))
	}
	db := stdlib.OpenDBFromPool(pool)
	return &DB{DB: sqlstore.New(db, dialect), db: db, pool: pool, label: label}, nil
}

// Pool is the connection pool, for the job queue (River's pgx driver)
// that shares the database.
func (s *DB) Pool() *pgxpool.Pool { return s.pool }

// Label names the database without its password.
func (s *DB) Label() string { return s.label }

// Path is Label: what commands print to name the store, as the SQLite
// store's Path is its file.
func (s *DB) Path() string { return s.label }

// Close closes the connections.
func (s *DB) Close() error {
	err := s.db.Close()
	s.pool.Close()
	return err
}

const migrationLock = "vigil:migrate"

// Version reads the schema version of the database; 0 when it has none.
func (s *DB) Version(ctx context.Context) (int, error) {
	var have int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT version FROM vigil_schema), 0)`).Scan(&have)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("database %s: %w", s.label, explain(err))
	}
	return have, nil
}

// Migrate brings the schema to this build's version and returns the
// version it found. It refuses a database from a newer Vigil. Replicas
// migrating together take turns on an advisory lock; the later ones find
// the work done.
func (s *DB) Migrate(ctx context.Context) (int, error) {
	return s.migrateTo(ctx, Version)
}

func (s *DB) migrateTo(ctx context.Context, want int) (int, error) {
	have := 0
	err := s.Transact(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.Lock(ctx, migrationLock); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS vigil_schema (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT version FROM vigil_schema), 0)`).Scan(&have); err != nil {
			return err
		}
		if have > Version {
			return &NewerError{Label: s.label, Have: have, Support: Version}
		}
		for v := have; v < want; v++ {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migrating the schema to version %d: %w", v+1, err)
			}
		}
		if have >= want {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM vigil_schema`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO vigil_schema (version) VALUES (?)`, want)
		return err
	})
	if err != nil {
		var ne *NewerError
		if errors.As(err, &ne) {
			return have, ne
		}
		return have, fmt.Errorf("database %s: %w", s.label, explain(err))
	}
	return have, nil
}

// dialect is what PostgreSQL does differently from sqlstore's SQL: $n
// placeholders, real booleans, an array for a list of IDs, and advisory
// locks between replicas where SQLite's one writer needed none.
var dialect = sqlstore.Dialect{
	Dollar:    true,
	True:      "TRUE",
	False:     "FALSE",
	InIDs:     func(col string, ids []int64) (string, any) { return col + " = ANY(?)", ids },
	InStrings: func(col string, vals []string) (string, any) { return col + " = ANY(?)", vals },
	Lock:      xactLock,
	Unique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
	},
	Explain:     explain,
	WritingWith: true,
}

// lockKey maps a lock's name to PostgreSQL's 64-bit advisory lock key.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("vigil:" + name))
	return int64(h.Sum64())
}

// xactLock takes an advisory lock held until the transaction ends.
func xactLock(ctx context.Context, tx *sql.Tx, name string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(name))
	return err
}

// explain says what a low-level PostgreSQL error means for the user.
func explain(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "42501":
			return fmt.Errorf("the database user lacks a privilege Vigil needs: %w", err)
		case "3D000":
			return fmt.Errorf("the database does not exist (create it, or name another in the URL): %w", err)
		}
	}
	if strings.Contains(err.Error(), "connect") {
		return fmt.Errorf("cannot reach PostgreSQL: %w", err)
	}
	return err
}
