package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

const rootEventColumns = `id, event_id, kind, account_id, region, event_time, event_source, event_name, identity_arn, source_ip,
	user_agent, access_key_id, mfa, error_code, error_message, new_access_key_id, own, session_principal, summary,
	received_at, message_id, problem, body, receives, alert`

func scanRootEvent(r rowScanner) (store.RootEvent, error) {
	var e store.RootEvent
	var at, received int64
	err := r.Scan(&e.ID, &e.EventID, &e.Kind, &e.Account, &e.Region, &at, &e.Source, &e.Name, &e.IdentityARN, &e.SourceIP,
		&e.UserAgent, &e.AccessKeyID, &e.MFA, &e.ErrorCode, &e.ErrorMessage, &e.NewAccessKeyID, &e.Own, &e.SessionPrincipal,
		&e.Summary, &received, &e.MessageID, &e.Problem, &e.Body, &e.Receives, &e.Alert)
	e.Time, e.ReceivedAt = fromMs(at), fromMs(received)
	return e, err
}

// RecordRootEvent implements store.Store.
func (s *DB) RecordRootEvent(ctx context.Context, e store.RootEvent) (store.RootEvent, bool, error) {
	if e.EventID == "" {
		return e, false, errors.New("record root event: no event ID")
	}
	inserted := false
	err := s.Transact(ctx, func(tx *Tx) error {
		// A session already known labels the event as it is stored.
		if e.AccessKeyID != "" {
			var principal string
			var vigil bool
			err := tx.QueryRowContext(ctx, `SELECT principal, vigil FROM root_sessions WHERE access_key_id = ? AND account_id = ?`,
				e.AccessKeyID, e.Account).Scan(&principal, &vigil)
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
		err := tx.QueryRowContext(ctx, `INSERT INTO root_events (event_id, kind, account_id, region, event_time, event_source,
			event_name, identity_arn, source_ip, user_agent, access_key_id, mfa, error_code, error_message, new_access_key_id, own,
			session_principal, summary, received_at, message_id, problem, body, receives, alert)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (event_id) DO NOTHING RETURNING id`,
			e.EventID, e.Kind, e.Account, e.Region, ms(e.Time), e.Source, e.Name, e.IdentityARN, e.SourceIP, e.UserAgent,
			e.AccessKeyID, e.MFA, e.ErrorCode, e.ErrorMessage, e.NewAccessKeyID, e.Own, e.SessionPrincipal, e.Summary,
			ms(e.ReceivedAt), e.MessageID, e.Problem, e.Body, e.Receives, e.Alert).Scan(&e.ID)
		if err == nil {
			inserted = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		e, err = scanRootEvent(tx.QueryRowContext(ctx, `SELECT `+rootEventColumns+` FROM root_events WHERE event_id = ?`, e.EventID))
		return err
	})
	if err != nil {
		return e, false, fmt.Errorf("record root event %s: %w", e.EventID, s.explain(err))
	}
	return e, inserted, nil
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
			WHERE access_key_id = ? AND account_id = ? AND kind <> ?`,
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

// PendingRootAlerts implements store.Store.
func (s *DB) PendingRootAlerts(ctx context.Context) ([]store.RootEvent, error) {
	out, err := queryAll(ctx, s.db, scanRootEvent, `SELECT `+rootEventColumns+` FROM root_events WHERE alert = ? ORDER BY id`, store.AlertPending)
	if err != nil {
		return nil, fmt.Errorf("pending root alerts: %w", s.explain(err))
	}
	return out, nil
}

// SetRootAlert implements store.Store.
func (s *DB) SetRootAlert(ctx context.Context, state string, eventIDs ...string) error {
	if len(eventIDs) == 0 {
		return nil
	}
	args := []any{state}
	for _, id := range eventIDs {
		args = append(args, id)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE root_events SET alert = ? WHERE event_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(eventIDs)), ", ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("set root alert of %d events: %w", len(eventIDs), s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("root events %v: %w", eventIDs, store.ErrNotFound)
	}
	return nil
}
