package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// Peek is a store file looked at without migrating it, for `vigil db
// status`: its schema version, and a pool for reading the job queue's.
type Peek struct {
	path string
	// Version is the file's schema version; 0 for a file no Vigil wrote.
	Version int
}

// OpenPeek reads the schema version of an existing store file.
func OpenPeek(ctx context.Context, path string) (*Peek, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no Vigil database at %s", path)
	}
	db, err := sqlOpen(path, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	defer db.Close()
	p := &Peek{path: path}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&p.Version); err != nil {
		return nil, fmt.Errorf("database %s: %w", path, explain(err))
	}
	return p, nil
}

// QueuePool opens a pool on the file for the job queue's migrations.
func (p *Peek) QueuePool() (*sql.DB, error) { return sqlOpen(p.path, 10*time.Second) }
