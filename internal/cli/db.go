package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/server"
	"github.com/vigil-sec/vigil/internal/store/postgres"
	"github.com/vigil-sec/vigil/internal/store/sqlite"
)

// databaseFromEnv is VIGIL_DATABASE_URL: how team mode's replicas are
// given a URL that may hold a password without it reaching a command
// line or a config file.
func databaseFromEnv() string { return os.Getenv(envDatabaseURL) }

func isPostgresURL(s string) bool { return postgres.IsURL(s) }

// dbLabel names a store location for output: a URL without its password.
func dbLabel(loc string) string {
	if postgres.IsURL(loc) {
		return postgres.Label(loc)
	}
	return loc
}

func newDBCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Migrate the store's database, or show its migrations",
		Long: `The store (SQLite file or PostgreSQL database) and River, the job queue of
vigil serve, keep their tables in the same database. vigil serve migrates
both on start; vigil db migrate does it ahead of a rollout (one command,
then start the replicas of the new version), and vigil db status shows
what is applied and what is pending. The database is --db/--database,
else VIGIL_DATABASE_URL, else the database of --config, else vigil.db.`,
		Args: noArgs,
	}
	var sf storeFlags
	migrate := &cobra.Command{
		Use:     "migrate",
		Short:   "Bring the store's and the job queue's tables to this version",
		Example: "  VIGIL_DATABASE_URL=postgres://vigil@db.example/vigil vigil db migrate\n  vigil db migrate --db vigil.db",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDBMigrate(cmd.Context(), app.Stdout, &sf)
		},
	}
	status := &cobra.Command{
		Use:     "status",
		Short:   "Show the schema versions and the pending migrations",
		Example: "  vigil db status --database postgres://vigil@db.example/vigil\n  vigil db status --config vigil.yaml",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDBStatus(cmd.Context(), app.Stdout, &sf)
		},
	}
	for _, c := range []*cobra.Command{migrate, status} {
		addStoreFlags(c.Flags(), &sf, "the SQLite file or postgres:// URL of the store (default vigil.db)")
	}
	cmd.AddCommand(migrate, status)
	return cmd
}

func runDBMigrate(ctx context.Context, w io.Writer, sf *storeFlags) error {
	loc, err := sf.location()
	if err != nil {
		return err
	}
	var before, after int
	var st any
	if postgres.IsURL(loc) {
		db, err := postgres.Connect(ctx, loc)
		if err != nil {
			return err
		}
		defer db.Close()
		if before, err = db.Migrate(ctx); err != nil {
			return err
		}
		st, after = db, postgres.Version
	} else {
		if p, err := sqlite.OpenPeek(ctx, loc); err == nil {
			before = p.Version
		}
		db, err := sqlite.Open(ctx, loc, sqlite.Options{})
		if err != nil {
			return err
		}
		defer db.Close()
		st, after = db, sqlite.Version
	}
	q, err := server.QueueMigrations(ctx, st)
	if err != nil {
		return err
	}
	if err := server.MigrateQueue(ctx, st, slog.Default()); err != nil {
		return err
	}
	fmt.Fprintf(w, "database   %s\n", dbLabel(loc))
	if before == after {
		fmt.Fprintf(w, "store      schema version %d: up to date\n", after)
	} else {
		fmt.Fprintf(w, "store      schema version %d -> %d\n", before, after)
	}
	if len(q.Pending) == 0 {
		fmt.Fprintf(w, "job queue  River migrations up to date (version %s)\n", last(q.Applied))
	} else {
		fmt.Fprintf(w, "job queue  River migrations applied: %s\n", versions(q.Pending))
	}
	return nil
}

func runDBStatus(ctx context.Context, w io.Writer, sf *storeFlags) error {
	loc, err := sf.location()
	if err != nil {
		return err
	}
	var have, want int
	var st any
	if postgres.IsURL(loc) {
		db, err := postgres.Connect(ctx, loc)
		if err != nil {
			return err
		}
		defer db.Close()
		if have, err = db.Version(ctx); err != nil {
			return err
		}
		st, want = db, postgres.Version
	} else {
		p, err := sqlite.OpenPeek(ctx, loc)
		if err != nil {
			return err
		}
		st, have, want = p, p.Version, sqlite.Version
	}
	q, err := server.QueueMigrations(ctx, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "database   %s\n", dbLabel(loc))
	switch {
	case have > want:
		fmt.Fprintf(w, "store      schema version %d: written by a newer Vigil (this one knows up to %d); upgrade Vigil\n", have, want)
	case have == want:
		fmt.Fprintf(w, "store      schema version %d: up to date\n", have)
	default:
		fmt.Fprintf(w, "store      schema version %d of %d: pending %s (vigil db migrate)\n", have, want, versions(span(have+1, want)))
	}
	if len(q.Pending) == 0 {
		fmt.Fprintf(w, "job queue  River migrations up to date (version %s)\n", last(q.Applied))
	} else {
		fmt.Fprintf(w, "job queue  River migrations applied: %s; pending %s (vigil db migrate)\n", versions(q.Applied), versions(q.Pending))
	}
	if have > want {
		// A deployment script that checks the database before starting
		// this binary must not read "fine" from a database it cannot use.
		return fmt.Errorf("the database's schema version %d is newer than this Vigil knows (%d): upgrade Vigil", have, want)
	}
	return nil
}

func span(from, to int) []int {
	var out []int
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}

func versions(vs []int) string {
	if len(vs) == 0 {
		return "none"
	}
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}

func last(vs []int) string {
	if len(vs) == 0 {
		return "none"
	}
	return strconv.Itoa(vs[len(vs)-1])
}
