package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

const rootEventColumns = `id, event_id, kind, account_id, region, event_time, event_source, event_name, identity_arn, source_ip,
	user_agent, access_key_id, mfa, error_code, error_message, new_access_key_id, own, session_principal, summary,
	received_at, message_id, problem, body, receives, alert, alert_burst`

func scanRootEvent(r rowScanner) (store.RootEvent, error) {
	var e store.RootEvent
	var at, received int64
	err := r.Scan(&e.ID, &e.EventID, &e.Kind, &e.Account, &e.Region, &at, &e.Source, &e.Name, &e.IdentityARN, &e.SourceIP,
		&e.UserAgent, &e.AccessKeyID, &e.MFA, &e.ErrorCode, &e.ErrorMessage, &e.NewAccessKeyID, &e.Own, &e.SessionPrincipal,
		&e.Summary, &received, &e.MessageID, &e.Problem, &e.Body, &e.Receives, &e.Alert, &e.Burst)
	e.Time, e.ReceivedAt = fromMs(at), fromMs(received)
	return e, err
}

// RecordRootEvent implements store.Store.
func (s *DB) RecordRootEvent(ctx context.Context, e store.RootEvent) (store.RootEvent, bool, error) {
	out, inserted, err := s.RecordRootEvents(ctx, []store.RootEvent{e})
	if err != nil {
		return e, false, err
	}
	return out[0], inserted[0], nil
}

// RecordRootEvents implements store.Store. Its three statements are
// prepared once for the batch: parsing them again for every event was a
// third of the consumer's CPU.
func (s *DB) RecordRootEvents(ctx context.Context, es []store.RootEvent) ([]store.RootEvent, []bool, error) {
	for _, e := range es {
		if e.EventID == "" {
			return nil, nil, errors.New("record root events: an event has no event ID")
		}
	}
	out := make([]store.RootEvent, len(es))
	inserted := make([]bool, len(es))
	err := s.Transact(ctx, func(tx *Tx) error {
		session, err := tx.PrepareContext(ctx, `SELECT principal, vigil FROM root_sessions WHERE access_key_id = ? AND account_id = ?`)
		if err != nil {
			return err
		}
		defer session.Close()
		insert, err := tx.PrepareContext(ctx, `INSERT INTO root_events (event_id, kind, account_id, region, event_time, event_source,
			event_name, identity_arn, source_ip, user_agent, access_key_id, mfa, error_code, error_message, new_access_key_id, own,
			session_principal, summary, received_at, message_id, problem, body, receives, alert)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (event_id) DO NOTHING RETURNING id`)
		if err != nil {
			return err
		}
		defer insert.Close()
		stored, err := tx.PrepareContext(ctx, `SELECT `+rootEventColumns+` FROM root_events WHERE event_id = ?`)
		if err != nil {
			return err
		}
		defer stored.Close()
		// In the order of their IDs: two replicas recording the same
		// events (a queue delivers a message twice) then wait for each
		// other instead of deadlocking on the unique index.
		order := make([]int, len(es))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(es[a].EventID, es[b].EventID) })
		for _, i := range order {
			e := es[i]
			// A session already known labels the event as it is stored.
			if e.AccessKeyID != "" {
				var principal string
				var vigil bool
				err := session.QueryRowContext(ctx, e.AccessKeyID, e.Account).Scan(&principal, &vigil)
				switch {
				case err == nil:
					e.SessionPrincipal, e.Own = principal, vigil
					if vigil {
						e.Alert = store.AlertNone
					}
				case !errors.Is(err, sql.ErrNoRows):
					return err
				}
			}
			if e.Receives == 0 {
				e.Receives = 1
			}
			e.Burst = 0
			err := insert.QueryRowContext(ctx, e.EventID, e.Kind, e.Account, e.Region, ms(e.Time), e.Source, e.Name, e.IdentityARN,
				e.SourceIP, e.UserAgent, e.AccessKeyID, e.MFA, e.ErrorCode, e.ErrorMessage, e.NewAccessKeyID, e.Own, e.SessionPrincipal,
				e.Summary, ms(e.ReceivedAt), e.MessageID, e.Problem, e.Body, e.Receives, e.Alert).Scan(&e.ID)
			switch {
			case err == nil:
				out[i], inserted[i] = e, true
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("event %s: %w", e.EventID, err)
			}
			if out[i], err = scanRootEvent(stored.QueryRowContext(ctx, e.EventID)); err != nil {
				return fmt.Errorf("event %s: %w", e.EventID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("record %d root events: %w", len(es), s.explain(err))
	}
	return out, inserted, nil
}

// RecordMalformed implements store.Store.
func (s *DB) RecordMalformed(ctx context.Context, messageID, problem, body string, now time.Time) (store.RootEvent, error) {
	if len(body) > store.MaxMalformedBody {
		body = strings.ToValidUTF8(body[:store.MaxMalformedBody], "")
	}
	body = strings.ToValidUTF8(strings.ReplaceAll(body, "\x00", ""), "\uFFFD")
	problem = strings.ToValidUTF8(problem, "\uFFFD")
	e, err := scanRootEvent(s.db.QueryRowContext(ctx, `INSERT INTO root_events (event_id, kind, account_id, region, event_time,
		event_source, event_name, identity_arn, source_ip, user_agent, access_key_id, mfa, error_code, error_message,
		new_access_key_id, own, session_principal, summary, received_at, message_id, problem, body, receives, alert)
		VALUES (?, ?, '', '', ?, '', '', '', '', '', '', '', '', '', '', ?, '', '', ?, ?, ?, ?, 1, '')
		ON CONFLICT (event_id) DO UPDATE SET receives = root_events.receives + 1, received_at = excluded.received_at
		RETURNING `+rootEventColumns,
		"sqs:"+messageID, store.KindMalformed, ms(now), false, ms(now), messageID, problem, body))
	if err != nil {
		return e, fmt.Errorf("record malformed message %s: %w", messageID, s.explain(err))
	}
	return e, nil
}

// RecordRootSession implements store.Store.
func (s *DB) RecordRootSession(ctx context.Context, rs store.RootSession) (int, error) {
	var n int64
	err := s.Transact(ctx, func(tx *Tx) error {
		// Vigil's own mark is never taken back: the management account's
		// event of a session Vigil opened names Vigil's principal too.
		_, err := tx.ExecContext(ctx, `INSERT INTO root_sessions (access_key_id, account_id, principal, task_policy, opened_at, vigil)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (access_key_id) DO UPDATE SET principal = excluded.principal, task_policy = excluded.task_policy,
				vigil = (root_sessions.vigil OR excluded.vigil)`,
			rs.AccessKeyID, rs.Account, rs.Principal, rs.TaskPolicy, ms(rs.OpenedAt), rs.Vigil)
		if err != nil {
			return err
		}
		var vigil bool
		if err := tx.QueryRowContext(ctx, `SELECT vigil FROM root_sessions WHERE access_key_id = ?`, rs.AccessKeyID).Scan(&vigil); err != nil {
			return err
		}
		// Events stored before the session was known: label them, and an
		// event of Vigil's own session whose alert is not yet queued
		// no longer alerts.
		res, err := tx.ExecContext(ctx, `UPDATE root_events SET session_principal = ?, own = ?,
			alert = CASE WHEN ? AND alert = ? THEN '' ELSE alert END
			WHERE access_key_id = ? AND access_key_id <> '' AND account_id = ? AND kind <> ?`,
			rs.Principal, vigil, vigil, store.AlertPending, rs.AccessKeyID, rs.Account, "assume_root")
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record root session: %w", s.explain(err))
	}
	return int(n), nil
}

// RootSession implements store.Store.
func (s *DB) RootSession(ctx context.Context, accessKeyID string) (store.RootSession, error) {
	var rs store.RootSession
	var opened int64
	err := s.db.QueryRowContext(ctx, `SELECT access_key_id, account_id, principal, task_policy, opened_at, vigil FROM root_sessions WHERE access_key_id = ?`,
		accessKeyID).Scan(&rs.AccessKeyID, &rs.Account, &rs.Principal, &rs.TaskPolicy, &opened, &rs.Vigil)
	if errors.Is(err, sql.ErrNoRows) {
		return rs, fmt.Errorf("root session %s: %w", accessKeyID, store.ErrNotFound)
	}
	if err != nil {
		return rs, fmt.Errorf("root session: %w", s.explain(err))
	}
	rs.OpenedAt = fromMs(opened)
	return rs, nil
}

// RootEvents implements store.Store.
func (s *DB) RootEvents(ctx context.Context, f store.RootEventFilter) ([]store.RootEvent, error) {
	var where []string
	var args []any
	switch {
	case f.EventID != "":
		where = append(where, "event_id = ?")
		args = append(args, f.EventID)
	case f.Burst != 0:
		// The second term lets both engines use the partial index on
		// bursts (they cannot tell a parameter is not 0).
		where = append(where, "alert_burst = ? AND alert_burst <> 0")
		args = append(args, f.Burst)
	case f.Malformed:
		where = append(where, "kind = ?")
		args = append(args, store.KindMalformed)
	default:
		where = append(where, "kind <> ?")
		args = append(args, store.KindMalformed)
	}
	if len(f.Accounts) > 0 {
		where = append(where, "account_id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.Accounts)), ", ")+")")
		for _, a := range f.Accounts {
			args = append(args, a)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "event_time >= ?")
		args = append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "event_time < ?")
		args = append(args, ms(f.Until))
	}
	if f.Before != nil {
		where = append(where, "(event_time < ? OR (event_time = ? AND id < ?))")
		args = append(args, ms(f.Before.Time), ms(f.Before.Time), f.Before.ID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	out, err := queryAll(ctx, s.db, scanRootEvent, `SELECT `+rootEventColumns+` FROM root_events WHERE `+strings.Join(where, " AND ")+
		` ORDER BY event_time DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list root events: %w", s.explain(err))
	}
	return out, nil
}

// pendingAlert selects the events whose alerts are pending, written out
// so that both engines use the partial index of pending events (they
// cannot tell that a parameter matches its condition, and scanned every
// event ever recorded instead).
const pendingAlert = `alert = '` + store.AlertPending + `'`

// GroupRootAlerts implements store.Store. Replicas group under one lock,
// so an event joins one burst.
func (s *DB) GroupRootAlerts(ctx context.Context, max int) ([]store.RootAlertBurst, error) {
	if max <= 0 {
		return nil, fmt.Errorf("group root alerts: a burst of at most %d events", max)
	}
	var out []store.RootAlertBurst
	err := s.Transact(ctx, func(tx *Tx) error {
		if err := tx.Lock(ctx, "root-alerts"); err != nil {
			return err
		}
		type row struct {
			id      int64
			account string
		}
		loose, err := queryAll(ctx, tx, func(r rowScanner) (row, error) {
			var v row
			return v, r.Scan(&v.id, &v.account)
		}, `SELECT id, account_id FROM root_events WHERE `+pendingAlert+` AND alert_burst = 0 ORDER BY id`)
		if err != nil {
			return err
		}
		// Each account's events in order, max to a burst.
		open := map[string][]int64{}
		var order []string
		var bursts [][]int64
		for _, r := range loose {
			ids, seen := open[r.account]
			if !seen {
				order = append(order, r.account)
			}
			ids = append(ids, r.id)
			if len(ids) == max {
				bursts, ids = append(bursts, ids), []int64{}
			}
			open[r.account] = ids
		}
		for _, a := range order {
			if ids := open[a]; len(ids) > 0 {
				bursts = append(bursts, ids)
			}
		}
		for _, ids := range bursts {
			pred, arg := s.d.InIDs("id", ids)
			if _, err := tx.ExecContext(ctx, `UPDATE root_events SET alert_burst = ? WHERE `+pred, ids[0], arg); err != nil {
				return err
			}
		}
		type kindCount struct {
			burst         int64
			account, kind string
			n             int
		}
		counts, err := queryAll(ctx, tx, func(r rowScanner) (kindCount, error) {
			var v kindCount
			return v, r.Scan(&v.burst, &v.account, &v.kind, &v.n)
		}, `SELECT alert_burst, account_id, kind, COUNT(*) FROM root_events WHERE `+pendingAlert+` AND alert_burst <> 0
			GROUP BY alert_burst, account_id, kind ORDER BY alert_burst, kind`)
		if err != nil {
			return err
		}
		for _, c := range counts {
			if len(out) == 0 || out[len(out)-1].ID != c.burst {
				out = append(out, store.RootAlertBurst{ID: c.burst, Account: c.account})
			}
			b := &out[len(out)-1]
			b.Events += c.n
			b.Kinds = append(b.Kinds, c.kind)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("group root alerts: %w", s.explain(err))
	}
	return out, nil
}

// SetRootBurstsQueued implements store.Store.
func (s *DB) SetRootBurstsQueued(ctx context.Context, bursts ...int64) error {
	if len(bursts) == 0 {
		return nil
	}
	pred, arg := s.d.InIDs("alert_burst", bursts)
	if _, err := s.db.ExecContext(ctx, `UPDATE root_events SET alert = ? WHERE `+pendingAlert+` AND `+pred, store.AlertQueued, arg); err != nil {
		return fmt.Errorf("mark %d root alert bursts queued: %w", len(bursts), s.explain(err))
	}
	return nil
}
