package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// The reads of the dashboard, the API and the metrics: counts, the trend,
// the accounts and the latest results, each one query that an index
// answers, so that a page over 5,000 accounts and 90 days of history
// reads what it shows and no more.

// countKey is a group of Counts.
type countKey struct {
	account  string
	state    string
	severity int
}

// Counts implements store.Store in two reads: every group's count, then
// the suppressed ones among the findings of the few accounts that have
// an active suppression. The groups are read from finding_counts (a row
// per state and account, a column per severity, which the writers of
// findings keep in their transaction: counts.go) when the filter is one
// that table can answer (states, accounts, minimum severity): a row per
// account rather than every open finding. A filter by rule or OU counts the findings
// themselves. The account's name and OU are left to Accounts.
func (s *DB) Counts(ctx context.Context, f store.Filter) ([]store.Count, error) {
	where, args := filterWhere(f)
	total, muted := map[countKey]int{}, map[countKey]int{}
	var order []countKey
	err := s.Transact(ctx, func(tx *Tx) error {
		clear(total)
		clear(muted)
		order = order[:0]
		var err error
		if len(f.Rules) == 0 && len(f.OUs) == 0 {
			err = s.keptCounts(ctx, tx, f, total, &order)
		} else {
			err = readCounts(ctx, tx, `SELECT account_id, state, severity, COUNT(*) FROM findings WHERE `+and(where)+` GROUP BY state, severity, account_id`, args, total, &order)
		}
		if err != nil {
			return err
		}
		return s.mutedCounts(ctx, tx, where, args, f.Now, muted)
	})
	if err != nil {
		return nil, fmt.Errorf("count findings: %w", s.explain(err))
	}
	out := make([]store.Count, 0, len(order)+len(muted))
	for _, k := range order {
		c := store.Count{AccountID: k.account, State: lifecycle.State(k.state), Severity: k.severity}
		if n := total[k] - muted[k]; n > 0 {
			c.N = n
			out = append(out, c)
		}
		if n := muted[k]; n > 0 {
			c.Suppressed, c.N = true, n
			out = append(out, c)
		}
	}
	return out, nil
}

// and joins conditions; no condition is true.
func and(where []string) string {
	if len(where) == 0 {
		return "1 = 1"
	}
	return strings.Join(where, " AND ")
}

// keptCounts reads f's groups from finding_counts.
func (s *DB) keptCounts(ctx context.Context, tx *Tx, f store.Filter, into map[countKey]int, order *[]countKey) error {
	var where []string
	var args []any
	if len(f.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if len(f.Accounts) > 0 {
		where = append(where, "account_id IN ("+placeholders(len(f.Accounts))+")")
		for _, a := range f.Accounts {
			args = append(args, a)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT state, account_id, sev0, sev1, sev2, sev3, sev4 FROM finding_counts WHERE `+and(where)+` ORDER BY state, account_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var state, account string
		var n [store.Severities]int
		if err := rows.Scan(&state, &account, &n[0], &n[1], &n[2], &n[3], &n[4]); err != nil {
			return err
		}
		for sev := store.Severities - 1; sev >= f.MinSeverity && sev >= 0; sev-- {
			if n[sev] > 0 {
				k := countKey{account, state, sev}
				*order = append(*order, k)
				into[k] = n[sev]
			}
		}
	}
	return rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// readCounts reads groups (account, state, severity, count) into into,
// in the query's order.
func readCounts(ctx context.Context, tx *Tx, q string, args []any, into map[countKey]int, order *[]countKey) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k countKey
		var n int
		if err := rows.Scan(&k.account, &k.state, &k.severity, &n); err != nil {
			return err
		}
		if order != nil {
			*order = append(*order, k)
		}
		into[k] += n
	}
	return rows.Err()
}

// mutedCounts counts the suppressed findings among those where selects,
// read from the findings of the accounts that have a suppression in
// force, those first (a CROSS JOIN keeps SQLite's join order):
// otherwise the planner walks every open finding through the severity
// index to test each.
func (s *DB) mutedCounts(ctx context.Context, tx *Tx, where []string, args []any, now time.Time, into map[countKey]int) error {
	q := `SELECT f.account_id, f.state, f.severity, COUNT(*)
		FROM (SELECT DISTINCT account_id AS muted_account FROM suppressions WHERE expires IS NULL OR expires > ?) m
		CROSS JOIN findings f
		WHERE f.account_id = m.muted_account AND EXISTS (SELECT 1 FROM suppressions s
		WHERE s.account_id = f.account_id AND s.rule_id = f.rule_id AND (s.resource = '' OR s.resource = f.resource) AND (s.expires IS NULL OR s.expires > ?))`
	if len(where) > 0 {
		q += " AND " + strings.Join(where, " AND ")
	}
	return readCounts(ctx, tx, q+` GROUP BY f.state, f.severity, f.account_id`, append([]any{ms(now), ms(now)}, args...), into, nil)
}

// OpenSummary implements store.Store from finding_counts: the totals
// summed over its open rows, the ranking read from its rank index (the
// first top accounts, no sort), and the accounts with a suppression in
// force, whose muted findings are subtracted, merged in.
func (s *DB) OpenSummary(ctx context.Context, now time.Time, top int) (store.OpenSummary, error) {
	var out store.OpenSummary
	err := s.Transact(ctx, func(tx *Tx) error {
		out = store.OpenSummary{}
		muted := map[countKey]int{}
		if err := s.mutedCounts(ctx, tx, []string{"state = 'open'"}, nil, now, muted); err != nil {
			return err
		}
		mutedAccts := map[string]bool{}
		var notMuted string
		var args []any
		for k, n := range muted {
			out.Suppressed[k.severity] += n
			if !mutedAccts[k.account] {
				mutedAccts[k.account] = true
				args = append(args, k.account)
			}
		}
		if len(args) > 0 {
			notMuted = " AND account_id NOT IN (" + placeholders(len(args)) + ")"
		}
		const anyOpen = ` AND (sev0 > 0 OR sev1 > 0 OR sev2 > 0 OR sev3 > 0 OR sev4 > 0)`
		err := tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(sev0), 0) AS BIGINT), CAST(COALESCE(SUM(sev1), 0) AS BIGINT), CAST(COALESCE(SUM(sev2), 0) AS BIGINT),
			CAST(COALESCE(SUM(sev3), 0) AS BIGINT), CAST(COALESCE(SUM(sev4), 0) AS BIGINT), COUNT(*) FILTER (WHERE account_id IS NOT NULL`+notMuted+anyOpen+`)
			FROM finding_counts WHERE state = 'open'`, args...).Scan(&out.Open[0], &out.Open[1], &out.Open[2], &out.Open[3], &out.Open[4], &out.Accounts)
		if err != nil {
			return err
		}
		for sev := range out.Open {
			out.Open[sev] -= out.Suppressed[sev]
		}
		scanAccounts := func(q string, args ...any) ([]store.AccountOpen, error) {
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var as []store.AccountOpen
			for rows.Next() {
				var a store.AccountOpen
				if err := rows.Scan(&a.AccountID, &a.Open[0], &a.Open[1], &a.Open[2], &a.Open[3], &a.Open[4]); err != nil {
					return nil, err
				}
				as = append(as, a)
			}
			return as, rows.Err()
		}
		const cols = `SELECT account_id, sev0, sev1, sev2, sev3, sev4 FROM finding_counts WHERE state = 'open'`
		if top > 0 {
			if out.Top, err = scanAccounts(cols+notMuted+anyOpen+` ORDER BY sev4 DESC, sev3 DESC, sev2 DESC, sev1 DESC, sev0 DESC, account_id LIMIT ?`, append(args, top)...); err != nil {
				return err
			}
		}
		if len(args) == 0 {
			return nil
		}
		// The accounts with a suppression in force, their muted findings
		// taken off, join the ranking where they now fall.
		ms, err := scanAccounts(cols+` AND account_id IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return err
		}
		for _, a := range ms {
			for sev := range a.Open {
				a.Open[sev] -= muted[countKey{a.AccountID, string(lifecycle.Open), sev}]
			}
			if a.Open != ([store.Severities]int{}) {
				out.Accounts++
				out.Top = append(out.Top, a)
			}
		}
		slices.SortFunc(out.Top, func(a, b store.AccountOpen) int {
			for sev := store.Severities - 1; sev >= 0; sev-- {
				if c := cmp.Compare(b.Open[sev], a.Open[sev]); c != 0 {
					return c
				}
			}
			return strings.Compare(a.AccountID, b.AccountID)
		})
		if len(out.Top) > top {
			out.Top = out.Top[:max(top, 0)]
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("summarise open findings: %w", s.explain(err))
	}
	return out, nil
}

// OpenTrend implements store.Store. It counts back from now: the
// findings open now, less what the transitions after each point
// opened, plus what they closed. The transitions after from are summed
// by time once (transitions_at) and kept in trendCache; later calls read
// only the transitions added since, by ID, so a page right after a scan
// reads that scan's transitions and not 30 days of them.
func (s *DB) OpenTrend(ctx context.Context, from time.Time, step time.Duration, n int) ([]int, error) {
	if n <= 0 || step <= 0 {
		return nil, fmt.Errorf("open trend: want points and a step, got %d and %s", n, step)
	}
	var open int
	var byAt map[int64]int
	err := s.Transact(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(sev0 + sev1 + sev2 + sev3 + sev4), 0) AS BIGINT) FROM finding_counts WHERE state = 'open'`).Scan(&open); err != nil {
			return err
		}
		var err error
		byAt, err = s.trend.deltas(ctx, tx, from)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open trend: %w", s.explain(err))
	}
	// Bucket b holds the transitions in (from + b·step, from + (b+1)·step]:
	// those after point b. Buckets at and past n are after every point.
	fromMs, stepMs := ms(from), step.Milliseconds()
	delta := make([]int, n+1)
	for at, d := range byAt {
		if at > fromMs {
			delta[min((at-fromMs-1)/stepMs, int64(n))] += d
		}
	}
	out := make([]int, n)
	after := delta[n]
	for k := n - 1; k >= 0; k-- {
		after += delta[k]
		out[k] = open - after
	}
	return out, nil
}

// trendCache holds, for the transitions after floor with an ID up to
// last, what they changed in the open count, summed by their time (a
// scan's transitions share its time, so there are about as many entries
// as scans). Transitions are only added, with higher IDs, and never
// changed or deleted, so adding the ones past last keeps it exact.
// It is rebuilt from scratch when asked about a time before floor and
// once floor is older than trendRebuild: on PostgreSQL a transaction
// can commit a lower ID after a higher one was read, and the rebuild
// bounds how long such a transition could be missed.
type trendCache struct {
	mu    sync.Mutex
	floor int64 // ms; 0 when empty
	last  int64
	byAt  map[int64]int
}

const trendRebuild = time.Hour

// deltas returns a copy of the sums for the transitions after from, in
// tx, bringing the cache up to date.
func (c *trendCache) deltas(ctx context.Context, tx *Tx, from time.Time) (map[int64]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := ms(from)
	q := `SELECT at, id, CASE WHEN kind IN ('new', 'regressed') THEN 1 ELSE -1 END
		FROM transitions WHERE id > ? AND kind IN ('new', 'regressed', 'resolved', 'gone')`
	args := []any{c.last}
	if c.byAt == nil || f < c.floor || f-c.floor > trendRebuild.Milliseconds() {
		c.byAt, c.floor, c.last = map[int64]int{}, f, 0
		// The first read sums by time in SQL, through transitions_at.
		q = `SELECT at, MAX(id), SUM(CASE WHEN kind IN ('new', 'regressed') THEN 1 ELSE -1 END)
			FROM transitions WHERE at > ? AND kind IN ('new', 'regressed', 'resolved', 'gone') GROUP BY at`
		args = []any{f}
	}
	if err := c.read(ctx, tx, q, args); err != nil {
		// A half-read cache is dropped, to be read afresh next time.
		c.byAt = nil
		return nil, err
	}
	out := make(map[int64]int, len(c.byAt))
	for at, d := range c.byAt {
		if at > f {
			out[at] = d
		}
	}
	return out, nil
}

func (c *trendCache) read(ctx context.Context, tx *Tx, q string, args []any) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var at, id int64
		var d int
		if err := rows.Scan(&at, &id, &d); err != nil {
			return err
		}
		// The last ID is the highest read, not a separate MAX(id): on
		// PostgreSQL each statement sees what committed before it.
		c.last = max(c.last, id)
		if at > c.floor {
			c.byAt[at] += d
		}
	}
	return rows.Err()
}

// ViewStamp implements store.Store. Transitions only grow by higher IDs
// (pruning removes the oldest), so the last one's ID moves with every
// state change. The suppressions in force at now are few: they are read
// and hashed, rule, account, resource and expiry, since an ID can come
// back (SQLite reuses the highest rowid once it is deleted).
func (s *DB) ViewStamp(ctx context.Context, now time.Time) (string, error) {
	var trans int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM transitions`).Scan(&trans); err != nil {
		return "", fmt.Errorf("view stamp: %w", s.explain(err))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, rule_id, account_id, resource, COALESCE(expires, 0) FROM suppressions
		WHERE expires IS NULL OR expires > ? ORDER BY id`, ms(now))
	if err != nil {
		return "", fmt.Errorf("view stamp: %w", s.explain(err))
	}
	defer rows.Close()
	h := fnv.New64a()
	n := 0
	for rows.Next() {
		var id, expires int64
		var ruleID, account, resource string
		if err := rows.Scan(&id, &ruleID, &account, &resource, &expires); err != nil {
			return "", fmt.Errorf("view stamp: %w", err)
		}
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00%d\n", id, ruleID, account, resource, expires)
		n++
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("view stamp: %w", s.explain(err))
	}
	return fmt.Sprintf("t%d s%d:%x", trans, n, h.Sum64()), nil
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

// AccountPage implements store.Store. The accounts table has a row per
// account (thousands, not millions), so its order is sorted, not
// indexed: a page of 5,000 accounts costs a few milliseconds.
func (s *DB) AccountPage(ctx context.Context, f store.AccountFilter) ([]store.Account, error) {
	var where []string
	var args []any
	if len(f.IDs) > 0 {
		where = append(where, "account_id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.IDs)), ",")+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if len(f.OUs) > 0 {
		var ors []string
		for _, ou := range f.OUs {
			ors = append(ors, "(ou = ? OR ou LIKE ? ESCAPE '\\')")
			args = append(args, ou, escapeLike(ou)+"/%")
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if f.After != nil {
		where = append(where, "(ou > ? OR (ou = ? AND account_id > ?))")
		args = append(args, f.After.OU, f.After.OU, f.After.AccountID)
	}
	q := `SELECT account_id, account_name, ou, last_scan_id, last_recorded_at FROM accounts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY ou, account_id"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.db, func(r rowScanner) (store.Account, error) {
		var a store.Account
		var at int64
		err := r.Scan(&a.AccountID, &a.AccountName, &a.OU, &a.LastScanID, &at)
		a.LastRecorded = fromMs(at)
		return a, err
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list a page of accounts: %w", s.explain(err))
	}
	return out, nil
}

// LatestResults implements store.Store.
func (s *DB) LatestResults(ctx context.Context) ([]store.ScanAccount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.account_id, sa.recorded_at, sa.calls, r.data, b.data FROM accounts a
		JOIN scan_accounts sa ON sa.scan_id = a.last_scan_id AND sa.account_id = a.account_id
		LEFT JOIN result_sets r ON r.hash = sa.results_hash LEFT JOIN result_sets b ON b.hash = r.base ORDER BY a.account_id`)
	if err != nil {
		return nil, fmt.Errorf("latest results: %w", s.explain(err))
	}
	defer rows.Close()
	var out []store.ScanAccount
	for rows.Next() {
		var a store.ScanAccount
		var at int64
		var data, base []byte
		if err := rows.Scan(&a.AccountID, &at, &a.Calls, &data, &base); err != nil {
			return nil, fmt.Errorf("latest results: %w", err)
		}
		a.RecordedAt = fromMs(at)
		if data != nil {
			if a.Results, err = decodeResults(data, base); err != nil {
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
	return s.DeliveryPage(ctx, failed, nil, limit)
}

// DeliveryPage implements store.Store.
func (s *DB) DeliveryPage(ctx context.Context, failed bool, after *store.DeliveryKey, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		limit = 50
	}
	q := `SELECT d.id, d.channel, d.created_at, d.attempts, d.last_error, d.delivered_at, (SELECT COUNT(*) FROM delivery_items i WHERE i.delivery_id = d.id) FROM deliveries d`
	var where []string
	var args []any
	if failed {
		where = append(where, `d.delivered_at IS NULL AND d.attempts > 0`)
	}
	if after != nil {
		where = append(where, `(d.created_at < ? OR (d.created_at = ? AND d.id < ?))`)
		args = append(args, ms(after.CreatedAt), ms(after.CreatedAt), after.ID)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += ` ORDER BY d.created_at DESC, d.id DESC LIMIT ?`
	args = append(args, limit)
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
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", s.explain(err))
	}
	return out, nil
}

// accountColumns and accountConflict are an upsert of accounts around
// its VALUES rows (account ID, name, OU, scan ID, recorded at), keeping
// the accounts table current as scans record accounts: the name and OU
// when the scan knew them, and the latest scan.
const (
	accountColumns  = `INSERT INTO accounts (account_id, account_name, ou, last_scan_id, last_recorded_at)`
	accountConflict = ` ON CONFLICT (account_id) DO UPDATE SET
	account_name = CASE WHEN excluded.account_name <> '' THEN excluded.account_name ELSE accounts.account_name END,
	ou = CASE WHEN excluded.ou <> '' THEN excluded.ou ELSE accounts.ou END,
	last_scan_id = excluded.last_scan_id, last_recorded_at = excluded.last_recorded_at
	WHERE excluded.last_recorded_at >= accounts.last_recorded_at`
	accountFields = 5
)
