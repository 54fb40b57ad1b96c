// Package sqlstore is the store's SQL, written once for every database/sql
// engine: the queries, the recording of results, the outbox and the
// tokens. store/sqlite and store/postgres are thin wrappers around it that
// open the connection, migrate their own schema and hand over a Dialect,
// the short list of what the engines do differently.
//
// A statement is written with ? placeholders and the SQL both engines
// speak (RETURNING, ON CONFLICT, COUNT(*) FILTER, CAST); what they do not
// share is a Dialect field: PostgreSQL's $n placeholders, boolean
// literals, a list of IDs as one argument, the meaning of an error, and
// the locks between replicas. SQLite needs no such locks (its
// transactions take the one write lock when they begin), PostgreSQL takes
// transaction-scoped advisory locks.
package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// Dialect is what an engine does differently from the SQL written here.
type Dialect struct {
	// Dollar numbers the placeholders ($1, $2…) instead of ?. No
	// statement holds a literal question mark.
	Dollar bool
	// True and False are the boolean literals a statement compares a
	// flag column with: 1 and 0 on SQLite (matching its partial indexes),
	// TRUE and FALSE on PostgreSQL.
	True, False string
	// InIDs is a predicate "col is one of ids" taking the list as one
	// argument, so that its length never meets a placeholder limit.
	InIDs func(col string, ids []int64) (pred string, arg any)
	// InStrings is InIDs for a list of strings.
	InStrings func(col string, vals []string) (pred string, arg any)
	// Lock takes a lock named name held until tx ends, to serialise what
	// two writers must not do at once (record one account, start one
	// tick, flush the outbox). Nil where the engine has one writer.
	Lock func(ctx context.Context, tx *sql.Tx, name string) error
	// Unique reports a unique-constraint violation.
	Unique func(error) bool
	// Explain says what a low-level error means for the user; it returns
	// err itself when it has nothing to add.
	Explain func(error) error
	// WritingWith: the engine runs INSERTs in a WITH clause
	// (PostgreSQL), so that a recording's last writes are one statement,
	// and one round trip, rather than one each (SQLite has no such
	// clause, and its statements cost no round trip).
	WritingWith bool
	// PackedFindings: the findings table has a packed column (a
	// finding but its last_seen as one text, packed.go), which the
	// writers keep and a listing reads instead of the columns: each
	// column costs modernc.org/sqlite's driver calls. PostgreSQL reads
	// its columns in one message a row and has no such column.
	PackedFindings bool
	// ClusteredFindings: the findings table is stored in the order of
	// (state, account_id, rule_id, resource) (SQLite since schema 15,
	// WITHOUT ROWID), so that a statement naming the state and the
	// account reads one short range of it; one that finds its rows by id
	// looks each up through the id's index and then down the table.
	ClusteredFindings bool
}

// DB implements store.Store, but for Close, on a database/sql pool.
type DB struct {
	db conn
	d  *Dialect
	// trend keeps what OpenTrend read of the transitions (see trendCache).
	trend trendCache
}

// New wraps an open pool; its schema is the caller's to migrate.
func New(db *sql.DB, d Dialect) *DB {
	dd := &d
	return &DB{db: conn{db, dd}, d: dd}
}

func (s *DB) explain(err error) error {
	if err == nil {
		return nil
	}
	return s.d.Explain(err)
}

// Transact runs f in one transaction, committed when f returns nil.
func (s *DB) Transact(ctx context.Context, f func(*Tx) error) error {
	t, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return s.explain(err)
	}
	if err := f(&Tx{tx: t, d: s.d}); err != nil {
		t.Rollback()
		return err
	}
	return s.explain(t.Commit())
}

// rebind turns ? placeholders into $1, $2… where the dialect asks.
func (d *Dialect) rebind(q string) string {
	if !d.Dollar || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// conn is the pool taking ? placeholders.
type conn struct {
	db *sql.DB
	d  *Dialect
}

func (c conn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.db.ExecContext(ctx, c.d.rebind(q), args...)
}

func (c conn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.db.QueryContext(ctx, c.d.rebind(q), args...)
}

func (c conn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return c.db.QueryRowContext(ctx, c.d.rebind(q), args...)
}

// Tx is a transaction taking ? placeholders.
type Tx struct {
	tx *sql.Tx
	d  *Dialect
	// stmts, once KeepStatements is called, holds every statement the
	// transaction ran through ExecContext and QueryContext, prepared once.
	stmts map[string]*sql.Stmt
}

// KeepStatements makes ExecContext and QueryContext prepare each distinct
// statement once for the rest of the transaction. A batch of accounts
// runs the same few multi-row statements (one per row count) hundreds of
// times; parsing them again for every account was a fifth of a first
// recording's CPU on SQLite (pprof, 1,000 accounts). The statements
// close with the transaction.
func (t *Tx) KeepStatements() {
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
}

func (t *Tx) kept(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := t.stmts[q]; ok {
		return s, nil
	}
	s, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	t.stmts[q] = s
	return s, nil
}

// ExecContext is sql.Tx's, with the dialect's placeholders.
func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.stmts != nil {
		s, err := t.kept(ctx, t.d.rebind(q))
		if err != nil {
			return nil, err
		}
		return s.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.d.rebind(q), args...)
}

// QueryContext is sql.Tx's, with the dialect's placeholders.
func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if t.stmts != nil {
		s, err := t.kept(ctx, t.d.rebind(q))
		if err != nil {
			return nil, err
		}
		return s.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.d.rebind(q), args...)
}

// QueryRowContext is sql.Tx's, with the dialect's placeholders.
func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.rebind(q), args...)
}

// PrepareContext is sql.Tx's, with the dialect's placeholders.
func (t *Tx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, t.d.rebind(q))
}

// Lock takes the dialect's lock named name until the transaction ends;
// nothing on an engine with one writer.
func (t *Tx) Lock(ctx context.Context, name string) error {
	if t.d.Lock == nil {
		return nil
	}
	return t.d.Lock(ctx, t.tx, name)
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

type rowScanner interface{ Scan(...any) error }

// Times are stored as Unix milliseconds on both engines: one encoding,
// compared and sorted as integers.

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

// queryAll runs a query and scans every row it returns with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
