package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

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
	err := s.db.QueryRowContext(ctx, `INSERT INTO tokens (name, role, key, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		t.Name, string(t.Role), t.Key, t.Hash, ms(t.CreatedAt)).Scan(&t.ID)
	if err != nil && s.d.Unique(err) {
		return t, fmt.Errorf("token %q: %w", t.Name, store.ErrExists)
	}
	if err != nil {
		return t, fmt.Errorf("add token: %w", s.explain(err))
	}
	return t, nil
}

// Tokens implements store.Store.
func (s *DB) Tokens(ctx context.Context) ([]store.Token, error) {
	out, err := queryAll(ctx, s.db, scanToken, tokenSelect+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", s.explain(err))
	}
	return out, nil
}

// TokenByKey implements store.Store.
func (s *DB) TokenByKey(ctx context.Context, key string) (store.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, tokenSelect+" WHERE key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("token: %w", s.explain(err))
	}
	return t, nil
}

// RevokeToken implements store.Store.
func (s *DB) RevokeToken(ctx context.Context, name string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL`, ms(now), name)
	if err != nil {
		return fmt.Errorf("revoke token %q: %w", name, s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %q: %w", name, store.ErrNotFound)
	}
	return nil
}
