package server

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// jobQueue is what the service uses of a River client, whichever driver
// (and so transaction type) it was made with.
type jobQueue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	// JobList counts the queue for the metrics.
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	// JobGet tells whether a re-scan after root activity has started.
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// sqliteQueue is a store on SQLite: River's SQLite driver on a pool of
// its own on the same file.
type sqliteQueue interface {
	QueuePool() (*sql.DB, error)
}

// pgQueue is a store on PostgreSQL (team mode): River's pgx driver on
// the store's own pool, so that replicas share jobs through the
// database, with LISTEN/NOTIFY, a leader for periodic jobs and the
// rescuer of jobs whose replica died.
type pgQueue interface {
	Pool() *pgxpool.Pool
}

// QueueStatus is the state of River's migrations in a store's database.
type QueueStatus struct {
	Applied, Pending []int
}

// withQueue calls f with the River driver of st's database; close
// releases what it opened.
func withQueue(st any, f func(open func(river.Config) (jobQueue, error), mig queueMigrator) error) error {
	switch q := st.(type) {
	case pgQueue:
		d := riverpgxv5.New(q.Pool())
		return f(func(c river.Config) (jobQueue, error) { return river.NewClient(d, &c) }, pgMigrator{newMigrator(d), q.Pool()})
	case sqliteQueue:
		pool, err := q.QueuePool()
		if err != nil {
			return err
		}
		defer pool.Close()
		d := riversqlite.New(pool)
		return f(func(c river.Config) (jobQueue, error) { return river.NewClient(d, &c) }, newMigrator(d))
	}
	return fmt.Errorf("job queue: the store %T has no database River can use", st)
}

type queueMigrator interface {
	migrate(ctx context.Context, log *slog.Logger) error
	status(ctx context.Context) (QueueStatus, error)
}

type migrator[TTx any] struct {
	driver riverdriver.Driver[TTx]
}

func newMigrator[TTx any](d riverdriver.Driver[TTx]) migrator[TTx] { return migrator[TTx]{d} }

func (m migrator[TTx]) migrate(ctx context.Context, log *slog.Logger) error {
	mg, err := rivermigrate.New(m.driver, &rivermigrate.Config{Logger: quiet(log)})
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	if _, err := mg.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue: migrating its tables: %w", err)
	}
	return nil
}

func (m migrator[TTx]) status(ctx context.Context) (QueueStatus, error) {
	mg, err := rivermigrate.New(m.driver, &rivermigrate.Config{Logger: quiet(slog.Default())})
	if err != nil {
		return QueueStatus{}, fmt.Errorf("job queue: %w", err)
	}
	have, err := mg.ExistingVersions(ctx)
	if err != nil {
		// A database River never migrated has no table to read yet.
		have = nil
	}
	done := map[int]bool{}
	var st QueueStatus
	for _, v := range have {
		done[v.Version] = true
		st.Applied = append(st.Applied, v.Version)
	}
	for _, v := range mg.AllVersions() {
		if !done[v.Version] {
			st.Pending = append(st.Pending, v.Version)
		}
	}
	return st, nil
}

// pgMigrator runs River's migrations under a session advisory lock, so
// that replicas started together migrate one after the other.
type pgMigrator struct {
	migrator[pgx.Tx]
	pool *pgxpool.Pool
}

func (m pgMigrator) migrate(ctx context.Context, log *slog.Logger) error {
	conn, err := m.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	defer conn.Release()
	const key = 0x5669676c52697672 // "ViglRivr"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(key)); err != nil {
		return fmt.Errorf("job queue: waiting for another replica's migration: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(key))
	return m.migrator.migrate(ctx, log)
}

// MigrateQueue runs River's migrations on st's database (vigil db
// migrate; vigil serve runs them on start).
func MigrateQueue(ctx context.Context, st any, log *slog.Logger) error {
	return withQueue(st, func(_ func(river.Config) (jobQueue, error), m queueMigrator) error { return m.migrate(ctx, log) })
}

// QueueMigrations reports River's applied and pending migrations.
func QueueMigrations(ctx context.Context, st any) (QueueStatus, error) {
	var out QueueStatus
	err := withQueue(st, func(_ func(river.Config) (jobQueue, error), m queueMigrator) error {
		var err error
		out, err = m.status(ctx)
		return err
	})
	return out, err
}
