package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vigil-sec/vigil/internal/store"
)

// The API tokens, as store/sqlite keeps them: a public key to find one
// by and the hash of the whole token, never the token.

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
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return t, fmt.Errorf("token %q: %w", t.Name, store.ErrExists)
	}
	if err != nil {
		return t, fmt.Errorf("add token: %w", explain(err))
	}
	return t, nil
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
