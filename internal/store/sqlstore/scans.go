package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

// StartScan implements store.Store.
func (s *DB) StartScan(ctx context.Context, sc store.Scan) (store.Scan, error) {
	if sc.Outcome == "" {
		sc.Outcome = store.Running
	}
	err := s.Transact(ctx, func(tx *Tx) error {
		if sc.Schedule != "" {
			// Replicas starting the same tick together queue here, and
			// the later ones find the first one's scan.
			if err := tx.Lock(ctx, "scan:"+sc.Schedule); err != nil {
				return err
			}
			row := tx.QueryRowContext(ctx, scanSelect+" WHERE schedule = ? AND tick = ?", sc.Schedule, ms(sc.Tick))
			got, err := scanScan(row)
			if err == nil {
				sc = got
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `INSERT INTO scans (schedule, target, tick, started_at, outcome, message) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			sc.Schedule, sc.Target, ms(sc.Tick), ms(sc.StartedAt), string(sc.Outcome), sc.Message).Scan(&sc.ID)
	})
	if err != nil {
		return store.Scan{}, fmt.Errorf("start scan: %w", err)
	}
	return sc, nil
}

const scanSelect = `SELECT id, schedule, target, tick, started_at, finished_at, outcome, message, accounts, results, calls, expected FROM scans`

func scanScan(r rowScanner) (store.Scan, error) {
	var sc store.Scan
	var tick, started int64
	var finished sql.NullInt64
	var outcome string
	if err := r.Scan(&sc.ID, &sc.Schedule, &sc.Target, &tick, &started, &finished, &outcome, &sc.Message, &sc.Accounts, &sc.Results, &sc.Calls, &sc.Expected); err != nil {
		return sc, err
	}
	if tick != 0 {
		sc.Tick = fromMs(tick)
	}
	sc.StartedAt, sc.FinishedAt, sc.Outcome = fromMs(started), ptrMs(finished), store.Outcome(outcome)
	return sc, nil
}

// FinishScan implements store.Store.
func (s *DB) FinishScan(ctx context.Context, id int64, end store.End) error {
	_, err := s.EndScan(ctx, id, end)
	return err
}

// EndScan implements store.Store: an update conditional on the scan
// still running, so that of two finishers one changes the row.
func (s *DB) EndScan(ctx context.Context, id int64, end store.End) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE scans SET outcome = ?, message = ?, finished_at = ?, calls = calls + ? WHERE id = ? AND outcome = ?`,
		string(end.Outcome), end.Message, ms(end.At), end.Calls, id, string(store.Running))
	if err != nil {
		return false, fmt.Errorf("finish scan %d: %w", id, s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM scans WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("finish scan %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("finish scan %d: %w", id, s.explain(err))
	}
	return false, nil
}

// ExpectAccounts implements store.Store.
func (s *DB) ExpectAccounts(ctx context.Context, id int64, n int) error {
	res, err := s.db.ExecContext(ctx, `UPDATE scans SET expected = ? WHERE id = ?`, n, id)
	if err != nil {
		return fmt.Errorf("scan %d: expect %d accounts: %w", id, n, s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("scan %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// Scan implements store.Store.
func (s *DB) Scan(ctx context.Context, id int64) (store.Scan, error) {
	sc, err := scanScan(s.db.QueryRowContext(ctx, scanSelect+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return sc, fmt.Errorf("scan %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return sc, fmt.Errorf("scan %d: %w", id, s.explain(err))
	}
	return sc, nil
}

// AccountRecorded implements store.Store.
func (s *DB) AccountRecorded(ctx context.Context, scanID int64, account string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM scan_accounts WHERE scan_id = ? AND account_id = ?`, scanID, account).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("scan %d account %s: %w", scanID, account, s.explain(err))
	}
	return true, nil
}

// Scans implements store.Store.
func (s *DB) Scans(ctx context.Context, limit int) ([]store.Scan, error) {
	return s.ScanPage(ctx, 0, limit)
}

// ScanPage implements store.Store.
func (s *DB) ScanPage(ctx context.Context, before int64, limit int) ([]store.Scan, error) {
	if limit <= 0 {
		limit = 50
	}
	q, args := scanSelect, []any{}
	if before > 0 {
		q += " WHERE id < ?"
		args = append(args, before)
	}
	out, err := queryAll(ctx, s.db, scanScan, q+" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", s.explain(err))
	}
	return out, nil
}

// ScanAccountIDs implements store.Store.
func (s *DB) ScanAccountIDs(ctx context.Context, scanID int64) ([]string, error) {
	out, err := queryAll(ctx, s.db, func(r rowScanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, `SELECT account_id FROM scan_accounts WHERE scan_id = ? ORDER BY account_id`, scanID)
	if err != nil {
		return nil, fmt.Errorf("scan %d accounts: %w", scanID, s.explain(err))
	}
	return out, nil
}

// ScanAccounts implements store.Store.
func (s *DB) ScanAccounts(ctx context.Context, scanID int64) ([]store.ScanAccount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.account_id, a.recorded_at, a.calls, r.data, b.data FROM scan_accounts a
		LEFT JOIN result_sets r ON r.hash = a.results_hash LEFT JOIN result_sets b ON b.hash = r.base WHERE a.scan_id = ? ORDER BY a.account_id`, scanID)
	if err != nil {
		return nil, fmt.Errorf("scan %d accounts: %w", scanID, s.explain(err))
	}
	defer rows.Close()
	var out []store.ScanAccount
	for rows.Next() {
		var a store.ScanAccount
		var at int64
		var data, base []byte
		if err := rows.Scan(&a.AccountID, &at, &a.Calls, &data, &base); err != nil {
			return nil, err
		}
		a.RecordedAt = fromMs(at)
		if data != nil {
			if a.Results, err = decodeResults(data, base); err != nil {
				return nil, fmt.Errorf("scan %d account %s: %w", scanID, a.AccountID, err)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// Prune implements store.Store.
func (s *DB) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	var n int64
	err := s.Transact(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM scan_accounts WHERE scan_id IN (SELECT id FROM scans WHERE started_at < ? AND outcome <> 'running')`, ms(cutoff))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		// The deltas no scan refers to first, then the full sets that
		// neither a scan nor a delta left refers to: a base outlives its
		// own scans while a retained set is a delta of it.
		if _, err := tx.ExecContext(ctx, `DELETE FROM result_sets WHERE base IS NOT NULL
			AND hash NOT IN (SELECT results_hash FROM scan_accounts WHERE results_hash IS NOT NULL)`); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM result_sets WHERE base IS NULL
			AND hash NOT IN (SELECT results_hash FROM scan_accounts WHERE results_hash IS NOT NULL)
			AND hash NOT IN (SELECT base FROM result_sets WHERE base IS NOT NULL)`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune results before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(n), nil
}
