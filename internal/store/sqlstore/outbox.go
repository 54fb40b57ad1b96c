package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

func newDeliveryID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "dlv_" + hex.EncodeToString(b[:])
}

// FlushOutbox implements store.Store.
func (s *DB) FlushOutbox(ctx context.Context, routes []store.Route, now time.Time) ([]store.Delivery, error) {
	return s.FlushOutboxHolding(ctx, routes, now, store.Hold{})
}

// FlushOutboxHolding implements store.Store.
func (s *DB) FlushOutboxHolding(ctx context.Context, routes []store.Route, now time.Time, hold store.Hold) ([]store.Delivery, error) {
	var out []store.Delivery
	err := s.Transact(ctx, func(tx *Tx) error {
		out = nil
		// One flush at a time across replicas, so that a transition goes
		// into one delivery.
		if err := tx.Lock(ctx, "outbox"); err != nil {
			return err
		}
		pending, err := queryAll(ctx, tx, scanTransition, transitionSelect+" WHERE pending = "+s.d.True+" ORDER BY id")
		if err != nil {
			return err
		}
		pending, err = s.release(ctx, tx, pending, now, hold)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		for _, r := range routes {
			d := store.Delivery{ID: newDeliveryID(), Channel: r.Channel, CreatedAt: now.UTC()}
			for _, t := range pending {
				if r.Wants(t) {
					d.Transitions = append(d.Transitions, t)
				}
			}
			if len(d.Transitions) == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, channel, created_at) VALUES (?, ?, ?)`, d.ID, d.Channel, ms(d.CreatedAt)); err != nil {
				return err
			}
			for _, t := range d.Transitions {
				if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_items (delivery_id, transition_id) VALUES (?, ?)`, d.ID, t.ID); err != nil {
					return err
				}
			}
			out = append(out, d)
		}
		// Only the transitions read here leave the outbox: one committed
		// since by another replica waits for the next flush.
		ids := make([]int64, len(pending))
		for i, t := range pending {
			ids[i] = t.ID
		}
		in, arg := s.d.InIDs("id", ids)
		_, err = tx.ExecContext(ctx, `UPDATE transitions SET pending = `+s.d.False+` WHERE `+in, arg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("flush the outbox: %w", err)
	}
	return out, nil
}

const deliverySelect = `SELECT id, channel, created_at, attempts, last_error, delivered_at FROM deliveries`

func scanDelivery(r rowScanner) (store.Delivery, error) {
	var d store.Delivery
	var created int64
	var delivered sql.NullInt64
	err := r.Scan(&d.ID, &d.Channel, &created, &d.Attempts, &d.LastError, &delivered)
	d.CreatedAt, d.DeliveredAt = fromMs(created), ptrMs(delivered)
	return d, err
}

// PendingDeliveries implements store.Store.
func (s *DB) PendingDeliveries(ctx context.Context) ([]store.Delivery, error) {
	out, err := queryAll(ctx, s.db, scanDelivery, deliverySelect+" WHERE delivered_at IS NULL ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("pending deliveries: %w", s.explain(err))
	}
	return out, nil
}

// Delivery implements store.Store.
func (s *DB) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	d, err := scanDelivery(s.db.QueryRowContext(ctx, deliverySelect+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("delivery %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("delivery %s: %w", id, s.explain(err))
	}
	d.Transitions, err = queryAll(ctx, s.db, scanTransition, `SELECT t.id, t.finding_id, t.scan_id, t.kind, t.at, t.status, t.severity, t.message, t.detail, t.suppressed FROM delivery_items i JOIN transitions t ON t.id = i.transition_id WHERE i.delivery_id = ? ORDER BY t.id`, id)
	if err != nil {
		return d, fmt.Errorf("delivery %s: %w", id, s.explain(err))
	}
	for i := range d.Transitions {
		f, err := scanFinding(s.db.QueryRowContext(ctx, findingSelect+" WHERE id = ?", d.Transitions[i].FindingID))
		if err != nil {
			return d, fmt.Errorf("delivery %s: finding %s: %w", id, d.Transitions[i].FindingID, err)
		}
		d.Transitions[i].Finding = &f
	}
	sort.SliceStable(d.Transitions, func(i, j int) bool { return d.Transitions[i].ID < d.Transitions[j].ID })
	return d, nil
}

// MarkDelivered implements store.Store.
func (s *DB) MarkDelivered(ctx context.Context, id string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE deliveries SET delivered_at = ?, attempts = attempts + 1 WHERE id = ? AND delivered_at IS NULL`, ms(now), id)
	if err != nil {
		return fmt.Errorf("delivery %s: %w", id, s.explain(err))
	}
	return nil
}

// MarkAttempt implements store.Store.
func (s *DB) MarkAttempt(ctx context.Context, id, message string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, last_error = ? WHERE id = ?`, message, id)
	if err != nil {
		return fmt.Errorf("delivery %s: %w", id, s.explain(err))
	}
	return nil
}

// release is what of pending leaves the outbox now: all of it but the
// transitions of a scan still running, which wait for the rest of the
// scan's, unless the first of them is hold.MaxWait old or hold.Cap of
// them wait. A scan's transitions leave together, so that a channel gets
// them in one digest.
func (s *DB) release(ctx context.Context, tx *Tx, pending []store.Transition, now time.Time, hold store.Hold) ([]store.Transition, error) {
	if hold.MaxWait <= 0 || len(pending) == 0 {
		return pending, nil
	}
	type waiting struct {
		n     int
		first time.Time
	}
	scans := map[int64]*waiting{}
	var ids []int64
	for _, t := range pending {
		if t.ScanID == 0 {
			continue // not from a scan: a fix, an expired suppression
		}
		w, ok := scans[t.ScanID]
		if !ok {
			w = &waiting{first: t.At}
			scans[t.ScanID] = w
			ids = append(ids, t.ScanID)
		}
		w.n++
		if t.At.Before(w.first) {
			w.first = t.At
		}
	}
	if len(ids) == 0 {
		return pending, nil
	}
	in, arg := s.d.InIDs("id", ids)
	running, err := queryAll(ctx, tx, func(r rowScanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT id FROM scans WHERE outcome = ? AND `+in, string(store.Running), arg)
	if err != nil {
		return nil, err
	}
	held := map[int64]bool{}
	for _, id := range running {
		w := scans[id]
		if now.Sub(w.first) < hold.MaxWait && (hold.Cap <= 0 || w.n < hold.Cap) {
			held[id] = true
		}
	}
	if len(held) == 0 {
		return pending, nil
	}
	out := pending[:0:0]
	for _, t := range pending {
		if !held[t.ScanID] {
			out = append(out, t)
		}
	}
	return out, nil
}
