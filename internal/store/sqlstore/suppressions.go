package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

func activeSuppressions(ctx context.Context, q querier, account string, now time.Time) ([]store.Suppression, error) {
	query := suppressionSelect + " WHERE (expires IS NULL OR expires > ?)"
	args := []any{ms(now)}
	if account != "" {
		query += " AND account_id = ?"
		args = append(args, account)
	}
	out, err := queryAll(ctx, q, scanSuppression, query+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func suppressedBy(sups []store.Suppression, account, rule, resource string) *store.Suppression {
	for i := range sups {
		if sups[i].Matches(account, rule, resource) {
			return &sups[i]
		}
	}
	return nil
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
	err := s.db.QueryRowContext(ctx, `INSERT INTO suppressions (rule_id, account_id, resource, reason, owner, ticket, expires, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		sp.RuleID, sp.AccountID, sp.Resource, sp.Reason, sp.Owner, sp.Ticket, nullMs(sp.Expires), ms(sp.CreatedAt)).Scan(&sp.ID)
	if err != nil {
		return sp, fmt.Errorf("add suppression: %w", s.explain(err))
	}
	return sp, nil
}

// Suppressions implements store.Store.
func (s *DB) Suppressions(ctx context.Context) ([]store.Suppression, error) {
	out, err := queryAll(ctx, s.db, scanSuppression, suppressionSelect+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list suppressions: %w", s.explain(err))
	}
	return out, nil
}

// SuppressionPage implements store.Store.
func (s *DB) SuppressionPage(ctx context.Context, after int64, limit int) ([]store.Suppression, error) {
	out, err := queryAll(ctx, s.db, scanSuppression, suppressionSelect+" WHERE id > ? ORDER BY id LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("list a page of suppressions: %w", s.explain(err))
	}
	return out, nil
}

// RemoveSuppression implements store.Store.
func (s *DB) RemoveSuppression(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM suppressions WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("remove suppression %d: %w", id, s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("suppression %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// ExpireSuppressions implements store.Store.
func (s *DB) ExpireSuppressions(ctx context.Context, now time.Time) ([]store.Transition, error) {
	var out []store.Transition
	err := s.Transact(ctx, func(tx *Tx) error {
		out = nil
		// One expiry pass at a time across replicas: each expiry alerts once.
		if err := tx.Lock(ctx, "suppressions"); err != nil {
			return err
		}
		expired, err := queryAll(ctx, tx, scanSuppression, suppressionSelect+" WHERE expires IS NOT NULL AND expires <= ? AND expiry_handled = "+s.d.False+" ORDER BY id", ms(now))
		if err != nil {
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
			if _, err := tx.ExecContext(ctx, `UPDATE suppressions SET expiry_handled = `+s.d.True+` WHERE id = ?`, sp.ID); err != nil {
				return err
			}
			q := findingSelect + " WHERE account_id = ? AND rule_id = ? AND state = 'open'"
			args := []any{sp.AccountID, sp.RuleID}
			if sp.Resource != "" {
				q += " AND resource = ?"
				args = append(args, sp.Resource)
			}
			fs, err := queryAll(ctx, tx, scanFinding, q, args...)
			if err != nil {
				return err
			}
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
