package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// The reads of the dashboard, the API and the metrics: counts, the trend,
// the accounts and the latest results, each one query that an index
// answers, so that a page over 5,000 accounts and 90 days of history
// reads what it shows and no more.

// suppressedSQL is 1 when an active suppression (expiring after the
// one argument) covers the finding f, else 0.
const suppressedSQL = `CASE WHEN EXISTS (SELECT 1 FROM suppressions s WHERE s.account_id = f.account_id AND s.rule_id = f.rule_id
	AND (s.resource = '' OR s.resource = f.resource) AND (s.expires IS NULL OR s.expires > ?)) THEN 1 ELSE 0 END`

// Counts implements store.Store.
func (s *DB) Counts(ctx context.Context, f store.Filter) ([]store.Count, error) {
	where, args := filterWhere(f)
	q := `SELECT f.account_id, MAX(f.account_name), MAX(f.ou), f.state, f.severity, ` + suppressedSQL + `, COUNT(*) FROM findings f`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " GROUP BY 1, 4, 5, 6 ORDER BY 1, 4, 5 DESC, 6"
	rows, err := s.db.QueryContext(ctx, q, append([]any{ms(f.Now)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("count findings: %w", s.explain(err))
	}
	defer rows.Close()
	var out []store.Count
	for rows.Next() {
		var c store.Count
		var state string
		var sup int
		if err := rows.Scan(&c.AccountID, &c.AccountName, &c.OU, &state, &c.Severity, &sup, &c.N); err != nil {
			return nil, fmt.Errorf("count findings: %w", err)
		}
		c.State, c.Suppressed = lifecycle.State(state), sup == 1
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count findings: %w", s.explain(err))
	}
	return out, nil
}

// OpenTrend implements store.Store. It counts back from now: the
// findings open now, less what the transitions after each point
// opened, plus what they closed. Only the transitions after from are
// read (transitions_at), however long the history.
func (s *DB) OpenTrend(ctx context.Context, from time.Time, step time.Duration, n int) ([]int, error) {
	if n <= 0 || step <= 0 {
		return nil, fmt.Errorf("open trend: want points and a step, got %d and %s", n, step)
	}
	stepMs := step.Milliseconds()
	// Bucket b holds the transitions in (from + b·step, from + (b+1)·step]:
	// those after point b. Buckets at and past n are after every point.
	var open int
	delta := make([]int, n+1)
	err := s.Transact(ctx, func(tx *Tx) error {
		clear(delta)
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM findings WHERE state = 'open'`).Scan(&open); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT (at - ? - 1) / ?, SUM(CASE WHEN kind IN ('new', 'regressed') THEN 1 ELSE -1 END)
			FROM transitions WHERE at > ? AND kind IN ('new', 'regressed', 'resolved', 'gone') GROUP BY 1`, ms(from), stepMs, ms(from))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b int64
			var d int
			if err := rows.Scan(&b, &d); err != nil {
				return err
			}
			delta[min(b, int64(n))] += d
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("open trend: %w", s.explain(err))
	}
	out := make([]int, n)
	after := delta[n]
	for k := n - 1; k >= 0; k-- {
		after += delta[k]
		out[k] = open - after
	}
	return out, nil
}

// Accounts implements store.Store.
func (s *DB) Accounts(ctx context.Context) ([]store.Account, error) {
	out, err := queryAll(ctx, s.db, func(r rowScanner) (store.Account, error) {
		var a store.Account
		var at int64
		err := r.Scan(&a.AccountID, &a.AccountName, &a.OU, &a.LastScanID, &at)
		a.LastRecorded = fromMs(at)
		return a, err
	}, `SELECT account_id, account_name, ou, last_scan_id, last_recorded_at FROM accounts ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", s.explain(err))
	}
	return out, nil
}

// LatestResults implements store.Store.
func (s *DB) LatestResults(ctx context.Context) ([]store.ScanAccount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.account_id, sa.recorded_at, sa.calls, r.data FROM accounts a
		JOIN scan_accounts sa ON sa.scan_id = a.last_scan_id AND sa.account_id = a.account_id
		LEFT JOIN result_sets r ON r.hash = sa.results_hash ORDER BY a.account_id`)
	if err != nil {
		return nil, fmt.Errorf("latest results: %w", s.explain(err))
	}
	defer rows.Close()
	var out []store.ScanAccount
	for rows.Next() {
		var a store.ScanAccount
		var at int64
		var data []byte
		if err := rows.Scan(&a.AccountID, &at, &a.Calls, &data); err != nil {
			return nil, fmt.Errorf("latest results: %w", err)
		}
		a.RecordedAt = fromMs(at)
		if data != nil {
			if a.Results, err = decodeResults(data); err != nil {
				return nil, fmt.Errorf("latest results of account %s: %w", a.AccountID, err)
			}
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("latest results: %w", s.explain(err))
	}
	return out, nil
}

// Deliveries implements store.Store.
func (s *DB) Deliveries(ctx context.Context, failed bool, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		limit = 50
	}
	q := `SELECT d.id, d.channel, d.created_at, d.attempts, d.last_error, d.delivered_at, (SELECT COUNT(*) FROM delivery_items i WHERE i.delivery_id = d.id) FROM deliveries d`
	if failed {
		q += ` WHERE d.delivered_at IS NULL AND d.attempts > 0`
	}
	q += ` ORDER BY d.created_at DESC, d.id DESC LIMIT ?`
	out, err := queryAll(ctx, s.db, func(r rowScanner) (store.Delivery, error) {
		var d store.Delivery
		var created int64
		var delivered *int64
		err := r.Scan(&d.ID, &d.Channel, &created, &d.Attempts, &d.LastError, &delivered, &d.Items)
		d.CreatedAt = fromMs(created)
		if delivered != nil {
			t := fromMs(*delivered)
			d.DeliveredAt = &t
		}
		return d, err
	}, q, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", s.explain(err))
	}
	return out, nil
}

// accountUpsert keeps the accounts table current as scans record
// accounts: the name and OU when the scan knew them, and the latest scan.
const accountUpsert = `INSERT INTO accounts (account_id, account_name, ou, last_scan_id, last_recorded_at) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (account_id) DO UPDATE SET
	account_name = CASE WHEN excluded.account_name <> '' THEN excluded.account_name ELSE accounts.account_name END,
	ou = CASE WHEN excluded.ou <> '' THEN excluded.ou ELSE accounts.ou END,
	last_scan_id = excluded.last_scan_id, last_recorded_at = excluded.last_recorded_at
	WHERE excluded.last_recorded_at >= accounts.last_recorded_at`
