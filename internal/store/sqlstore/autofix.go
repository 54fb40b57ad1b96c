package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

// An admin's changes to the automatic fix policies: autofix_changes
// keeps every one (who, when, what), and the latest per rule is the one
// in force; the serve config's policies are the baseline they replace.

const autoFixSelect = `SELECT id, rule_id, mode, min_idle, accounts, ous, changed_by, changed_at FROM autofix_changes`

func scanAutoFix(r rowScanner) (store.AutoFixChange, error) {
	var c store.AutoFixChange
	var idle, at int64
	var accounts, ous string
	if err := r.Scan(&c.ID, &c.Rule, &c.Mode, &idle, &accounts, &ous, &c.By, &at); err != nil {
		return c, err
	}
	c.MinIdle, c.At = time.Duration(idle)*time.Millisecond, fromMs(at)
	if err := json.Unmarshal([]byte(accounts), &c.Accounts); err != nil {
		return c, fmt.Errorf("auto-fix change %d: accounts: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(ous), &c.OUs); err != nil {
		return c, fmt.Errorf("auto-fix change %d: OUs: %w", c.ID, err)
	}
	return c, nil
}

// list is a JSON array, never null.
func list(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// SetAutoFix implements store.Store. The rule's lock orders changes to
// it: on PostgreSQL two at once would otherwise take IDs in one order
// and commit in another, with times read before either, so the latest
// by time and the latest by ID could be different changes.
func (s *DB) SetAutoFix(ctx context.Context, c store.AutoFixChange) (store.AutoFixChange, error) {
	err := s.Transact(ctx, func(tx *Tx) error {
		if err := tx.Lock(ctx, "autofix:"+c.Rule); err != nil {
			return err
		}
		var latest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(changed_at) FROM autofix_changes WHERE rule_id = ?`, c.Rule).Scan(&latest); err != nil {
			return err
		}
		if latest.Valid && ms(c.At) < latest.Int64 {
			c.At = fromMs(latest.Int64)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO autofix_changes (rule_id, mode, min_idle, accounts, ous, changed_by, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.Rule, c.Mode, c.MinIdle.Milliseconds(), list(c.Accounts), list(c.OUs), c.By, ms(c.At)).Scan(&c.ID)
	})
	if err != nil {
		return c, fmt.Errorf("change auto-fix of %s: %w", c.Rule, s.explain(err))
	}
	return c, nil
}

// AutoFixChanges implements store.Store: the latest change of each rule
// (no later one by time, then ID), leaving out a rule whose latest
// change is a reset to the config. The table holds admins' clicks, a
// few rows per rule, so the anti-join reads little.
func (s *DB) AutoFixChanges(ctx context.Context) ([]store.AutoFixChange, error) {
	out, err := queryAll(ctx, s.db, scanAutoFix, autoFixSelect+` c WHERE c.mode <> ? AND NOT EXISTS (SELECT 1 FROM autofix_changes n
		WHERE n.rule_id = c.rule_id AND (n.changed_at > c.changed_at OR (n.changed_at = c.changed_at AND n.id > c.id))) ORDER BY c.rule_id`, store.AutoFixConfig)
	if err != nil {
		return nil, fmt.Errorf("auto-fix changes: %w", s.explain(err))
	}
	return out, nil
}

// AutoFixHistory implements store.Store.
func (s *DB) AutoFixHistory(ctx context.Context, limit int) ([]store.AutoFixChange, error) {
	out, err := queryAll(ctx, s.db, scanAutoFix, autoFixSelect+` ORDER BY changed_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("auto-fix history: %w", s.explain(err))
	}
	return out, nil
}
