package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

const findingSelect = `SELECT id, account_id, account_name, ou, rule_id, title, resource, state, status, severity, message, evidence, first_seen, last_seen, opened_at, resolved_at, regressions, resolutions, open_seconds, unknown_since, gap FROM findings`

func scanFinding(r rowScanner) (store.Finding, error) {
	var f store.Finding
	err := scanFindingInto(r, &f)
	return f, err
}

// scanFindingInto reads a row of findingSelect into *f, which the
// listing points at its result's own element: a finding scanned into a
// local escapes to the heap (Scan takes its fields' addresses), one
// allocation of the whole struct a row on top of the copy out.
func scanFindingInto(r rowScanner, f *store.Finding) error {
	var state string
	var first, last, opened int64
	var resolved, unknown sql.NullInt64
	err := r.Scan(&f.ID, &f.AccountID, &f.AccountName, &f.OU, &f.RuleID, &f.Title, &f.Resource, &state, &f.Status, &f.Severity, &f.Message, &f.Evidence,
		&first, &last, &opened, &resolved, &f.Regressions, &f.Resolutions, &f.OpenSeconds, &unknown, &f.Gap)
	if err != nil {
		return err
	}
	f.State = lifecycle.State(state)
	f.FirstSeen, f.LastSeen, f.OpenedAt = fromMs(first), fromMs(last), fromMs(opened)
	f.ResolvedAt, f.UnknownSince = ptrMs(resolved), ptrMs(unknown)
	return nil
}

// findingChunk is how many findings listFindings scans into one block.
const findingChunk = 1024

// listFindings runs a findingSelect query (packedSelect where the
// dialect packs findings: its selection follows either) and returns its
// rows. A list of all open findings is ~19,000 structs of ~400 bytes:
// grown by append, the slice is copied and left as garbage at every
// doubling (half the listing's allocated bytes, measured). Rows are
// scanned in place into one slice of hint findings, the rows the caller
// counted (0: unknown), returned as it is; past it, or without one,
// into fixed blocks copied once into a slice of the exact length (a
// short page too: a block is 400 KB to keep).
func listFindings(ctx context.Context, q querier, packed bool, hint int, query string, args ...any) ([]store.Finding, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var full [][]store.Finding
	cur := make([]store.Finding, 0, max(hint, findingChunk))
	// times holds the optional timestamps of packed findings, which
	// point into it: one allocation a block rather than one each.
	var times [][2]time.Time
	var row string
	var lastSeen int64
	for rows.Next() {
		if len(cur) == cap(cur) {
			full = append(full, cur)
			cur = make([]store.Finding, 0, findingChunk)
		}
		cur = cur[:len(cur)+1]
		f := &cur[len(cur)-1]
		if !packed {
			if err := scanFindingInto(rows, f); err != nil {
				return nil, err
			}
			continue
		}
		if len(times) == cap(times) {
			times = make([][2]time.Time, 0, findingChunk)
		}
		times = times[:len(times)+1]
		if err := rows.Scan(&row, &lastSeen); err != nil {
			return nil, err
		}
		if err := decodePacked(row, lastSeen, f, &times[len(times)-1]); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cur) == 0 && len(full) == 0 {
		return nil, nil
	}
	if hint > 0 && len(full) == 0 {
		return cur, nil
	}
	out := make([]store.Finding, 0, len(full)*findingChunk+len(cur))
	for _, c := range full {
		out = append(out, c...)
	}
	return append(out, cur...), nil
}

// findingColumns and findingConflict are an upsert of findings around
// its VALUES rows (findingArgs, in this order); where the dialect packs
// findings, each row ends with its packed value (findingPacked).
const (
	findingColumns  = `INSERT INTO findings (id, account_id, account_name, ou, rule_id, title, resource, state, status, severity, message, evidence, first_seen, last_seen, opened_at, resolved_at, regressions, resolutions, open_seconds, unknown_since, gap`
	findingPacked   = `, packed`
	findingConflict = ` ON CONFLICT (id) DO UPDATE SET account_name = excluded.account_name, ou = excluded.ou, title = excluded.title, state = excluded.state, status = excluded.status,
		severity = excluded.severity, message = excluded.message, evidence = excluded.evidence, last_seen = excluded.last_seen, opened_at = excluded.opened_at,
		resolved_at = excluded.resolved_at, regressions = excluded.regressions, resolutions = excluded.resolutions, open_seconds = excluded.open_seconds,
		unknown_since = excluded.unknown_since, gap = excluded.gap`
	findingConflictPacked = `, packed = excluded.packed`
	findingFields         = 21
)

// AccountFindings is the statement that reads an account's findings
// (its one argument is the account) as the recorder runs it. Where
// findings are clustered by state, it names every state, so that the
// read is a short range of the table per state rather than an index
// lookup and a descent of the table per finding, which comparing texts
// all the way down makes dear.
func (d *Dialect) AccountFindings() string {
	if !d.ClusteredFindings {
		return findingSelect + " WHERE account_id = ?"
	}
	states := make([]string, len(lifecycle.States))
	for i, st := range lifecycle.States {
		states[i] = "'" + string(st) + "'"
	}
	return findingSelect + " WHERE state IN (" + strings.Join(states, ", ") + ") AND account_id = ?"
}

// SeenAgain is the statement that moves the last_seen of findings seen
// again, still open as they were, to now, and its arguments. Where
// findings are clustered, it names their state and accounts, so that
// each account's open findings are a range: looking each ID up went
// through its index and down the table again, which doubled the
// statement's cost in a recording where nothing changed (pprof).
func (d *Dialect) SeenAgain(now int64, accounts, ids []string) (string, []any) {
	in, idArg := d.InStrings("id", ids)
	if !d.ClusteredFindings {
		return `UPDATE findings SET last_seen = ? WHERE ` + in, []any{now, idArg}
	}
	inAccounts, accountArg := d.InStrings("account_id", accounts)
	return `UPDATE findings SET last_seen = ? WHERE state = 'open' AND ` + inAccounts + ` AND ` + in, []any{now, accountArg, idArg}
}

// findingFields is how many values findingArgs gives a finding.
func (d *Dialect) findingFields() int {
	if d.PackedFindings {
		return findingFields + 1
	}
	return findingFields
}

// findingUpsert is the upsert of rows findings.
func (d *Dialect) findingUpsert(rows int) string {
	if d.PackedFindings {
		return findingColumns + findingPacked + ")" + valuesRows(rows, findingFields+1) + findingConflict + findingConflictPacked
	}
	return findingColumns + ")" + valuesRows(rows, findingFields) + findingConflict
}

// findingArgs appends a finding's values to args.
func (d *Dialect) findingArgs(args []any, f *lifecycle.Finding, ou string) []any {
	args = append(args, f.ID, f.AccountID, f.AccountName, ou, f.RuleID, f.Title, f.Resource, string(f.State), f.Status, f.Severity, f.Message, f.Evidence,
		ms(f.FirstSeen), ms(f.LastSeen), ms(f.OpenedAt), nullMs(f.ResolvedAt), f.Regressions, f.Resolutions, f.OpenSeconds, nullMs(f.UnknownSince), f.Gap)
	if d.PackedFindings {
		args = append(args, packFinding(f, ou))
	}
	return args
}

// findingRow is a finding to write: next over prev, as read in the
// same transaction under the account's lock (nil: not stored before),
// which is what the finding counts change by.
type findingRow struct {
	prev *lifecycle.Finding
	next lifecycle.Finding
	ou   string
}

// rowsPerStatement bounds a multi-row statement: 500 rows of 21 values
// stay well under SQLite's 32,766 and PostgreSQL's 65,535 placeholders.
const rowsPerStatement = 500

// upsertFindings writes findings with one statement per 500 (a batch's
// findings cost PostgreSQL one round trip rather than one each) and adds
// what they change to counts, which the caller applies before its
// transaction ends (applyCounts). No ID may appear twice (one statement
// cannot update a row twice).
func upsertFindings(ctx context.Context, tx *Tx, fs []findingRow, counts countDeltas) error {
	for len(fs) > 0 {
		n := min(len(fs), rowsPerStatement)
		args := make([]any, 0, n*tx.d.findingFields())
		for i := range fs[:n] {
			args = tx.d.findingArgs(args, &fs[i].next, fs[i].ou)
			counts.add(fs[i].prev, &fs[i].next)
		}
		if _, err := tx.ExecContext(ctx, tx.d.findingUpsert(n), args...); err != nil {
			return err
		}
		fs = fs[n:]
	}
	return nil
}

// valuesRows is " VALUES (?, …), (?, …)": rows rows of cols placeholders.
func valuesRows(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	var b strings.Builder
	b.Grow(8 + rows*(len(one)+2))
	b.WriteString(" VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

const (
	transitionColumns = `INSERT INTO transitions (finding_id, scan_id, kind, at, status, severity, message, detail, suppressed, pending)`
	transitionFields  = 10
)

func transitionArgs(t store.Transition) []any {
	return []any{t.FindingID, t.ScanID, string(t.Kind), ms(t.At), t.Status, t.Severity, t.Message, t.Detail, t.Suppressed, !t.Suppressed}
}

func insertTransition(ctx context.Context, tx *Tx, t *store.Transition) error {
	ts := []store.Transition{*t}
	if err := insertTransitions(ctx, tx, ts); err != nil {
		return err
	}
	t.ID = ts[0].ID
	return nil
}

// insertTransitions writes transitions with one statement per 500 and
// sets their IDs. Identity (and SQLite's rowid) values are drawn row by
// row in VALUES order, so the returned IDs in ascending order are the
// rows' in the order given; the finding IDs are checked to be sure.
func insertTransitions(ctx context.Context, tx *Tx, ts []store.Transition) error {
	for len(ts) > 0 {
		n := min(len(ts), rowsPerStatement)
		args := make([]any, 0, n*transitionFields)
		for _, t := range ts[:n] {
			args = append(args, transitionArgs(t)...)
		}
		type made struct {
			id      int64
			finding string
		}
		got, err := queryAll(ctx, tx, func(r rowScanner) (made, error) {
			var m made
			return m, r.Scan(&m.id, &m.finding)
		}, transitionColumns+valuesRows(n, transitionFields)+" RETURNING id, finding_id", args...)
		if err != nil {
			return err
		}
		if len(got) != n {
			return fmt.Errorf("insert %d transitions: %d rows came back", n, len(got))
		}
		sort.Slice(got, func(i, j int) bool { return got[i].id < got[j].id })
		for i := range got {
			if got[i].finding != ts[i].FindingID {
				return fmt.Errorf("insert transitions: row %d came back for finding %s, want %s", i, got[i].finding, ts[i].FindingID)
			}
			ts[i].ID = got[i].id
		}
		ts = ts[n:]
	}
	return nil
}

// Findings implements store.Store.
func (s *DB) Findings(ctx context.Context, f store.Filter) ([]store.Finding, error) {
	where, args := filterWhere(f)
	order := " ORDER BY account_id, rule_id, resource"
	if f.BySeverity {
		order = " ORDER BY severity DESC, account_id, rule_id, resource"
	}
	// The cursor is a row-value comparison on the sort key, so that a
	// page is an index range (findings_list, findings_severity) rather
	// than a list read whole and cut.
	if k := f.After; k != nil {
		if f.BySeverity {
			where = append(where, "(severity < ? OR (severity = ? AND (account_id, rule_id, resource) > (?, ?, ?)))")
			args = append(args, k.Severity, k.Severity, k.AccountID, k.RuleID, k.Resource)
		} else {
			where = append(where, "(account_id, rule_id, resource) > (?, ?, ?)")
			args = append(args, k.AccountID, k.RuleID, k.Resource)
		}
	}
	q := findingSelect
	if s.d.PackedFindings {
		q = packedSelect
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += order
	limitArgs := 0
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
		limitArgs = 1
	}
	// A long list is counted first (an index range, a few ms for
	// 19,000 rows), so that its rows are read straight into one slice:
	// in blocks copied once, the listing allocated and the collector
	// scanned its ~8 MB twice.
	hint := 0
	if s.d.PackedFindings && (f.Limit == 0 || f.Limit > findingChunk) {
		var n int
		cq := "SELECT count(*) FROM findings"
		if len(where) > 0 {
			cq += " WHERE " + strings.Join(where, " AND ")
		}
		if err := s.db.QueryRowContext(ctx, cq, args[:len(args)-limitArgs]...).Scan(&n); err != nil {
			return nil, fmt.Errorf("list findings: %w", s.explain(err))
		}
		hint = n
		if f.Limit > 0 {
			hint = min(n, f.Limit)
		}
	}
	out, err := listFindings(ctx, s.db, s.d.PackedFindings, hint, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", s.explain(err))
	}
	sups, err := activeSuppressions(ctx, s.db, "", f.Now)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	if len(sups) > 0 {
		for i := range out {
			out[i].Suppression = suppressedBy(sups, out[i].AccountID, out[i].RuleID, out[i].Resource)
		}
	}
	return out, nil
}

// filterWhere is the WHERE of a filter's selection (its cursor and
// limit aside), shared by Findings and Counts.
func filterWhere(f store.Filter) ([]string, []any) {
	var where []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	states := make([]string, len(f.States))
	for i, st := range f.States {
		states[i] = string(st)
	}
	in("state", states)
	in("rule_id", f.Rules)
	in("account_id", f.Accounts)
	if f.MinSeverity > 0 {
		where = append(where, "severity >= ?")
		args = append(args, f.MinSeverity)
	}
	if len(f.OUs) > 0 {
		var ors []string
		for _, ou := range f.OUs {
			ors = append(ors, "(ou = ? OR ou LIKE ? ESCAPE '\\')")
			args = append(args, ou, escapeLike(ou)+"/%")
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	return where, args
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

const transitionSelect = `SELECT id, finding_id, scan_id, kind, at, status, severity, message, detail, suppressed FROM transitions`

func scanTransition(r rowScanner) (store.Transition, error) {
	var t store.Transition
	var kind string
	var at int64
	err := r.Scan(&t.ID, &t.FindingID, &t.ScanID, &kind, &at, &t.Status, &t.Severity, &t.Message, &t.Detail, &t.Suppressed)
	t.Kind, t.At = lifecycle.Kind(kind), fromMs(at)
	return t, err
}

// Finding implements store.Store.
func (s *DB) Finding(ctx context.Context, id string, now time.Time) (store.Finding, []store.Transition, error) {
	f, err := scanFinding(s.db.QueryRowContext(ctx, findingSelect+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, nil, fmt.Errorf("finding %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return f, nil, fmt.Errorf("finding %s: %w", id, s.explain(err))
	}
	sups, err := activeSuppressions(ctx, s.db, f.AccountID, now)
	if err != nil {
		return f, nil, err
	}
	f.Suppression = suppressedBy(sups, f.AccountID, f.RuleID, f.Resource)
	ts, err := queryAll(ctx, s.db, scanTransition, transitionSelect+" WHERE finding_id = ? ORDER BY id", id)
	if err != nil {
		return f, nil, fmt.Errorf("finding %s: %w", id, s.explain(err))
	}
	return f, ts, nil
}

// Stats implements store.Store.
func (s *DB) Stats(ctx context.Context) ([]store.Stat, error) {
	var out []store.Stat
	for _, by := range []string{"rule", "account"} {
		col := by + "_id"
		rows, err := s.db.QueryContext(ctx, `SELECT `+col+`, COUNT(*) FILTER (WHERE state = 'open'), COUNT(*) FILTER (WHERE state = 'resolved'), CAST(SUM(regressions) AS BIGINT), CAST(SUM(open_seconds) AS BIGINT), CAST(SUM(resolutions) AS BIGINT) FROM findings GROUP BY `+col+` ORDER BY `+col)
		if err != nil {
			return nil, fmt.Errorf("stats: %w", s.explain(err))
		}
		for rows.Next() {
			st := store.Stat{By: by}
			var secs, n int64
			if err := rows.Scan(&st.Key, &st.Open, &st.Resolved, &st.Regressions, &secs, &n); err != nil {
				rows.Close()
				return nil, err
			}
			if n > 0 {
				st.MTTR = time.Duration(secs/n) * time.Second
			}
			out = append(out, st)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RecordFix implements store.Store.
func (s *DB) RecordFix(ctx context.Context, findingID, detail string, now time.Time) (store.Transition, error) {
	var t store.Transition
	err := s.Transact(ctx, func(tx *Tx) error {
		f, err := scanFinding(tx.QueryRowContext(ctx, findingSelect+" WHERE id = ?", findingID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("finding %s: %w", findingID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		t = store.Transition{FindingID: f.ID, Kind: lifecycle.Fixed, At: now.UTC(), Status: f.Status, Severity: f.Severity, Message: f.Message, Detail: detail}
		return insertTransition(ctx, tx, &t)
	})
	if err != nil {
		return t, fmt.Errorf("record fix: %w", err)
	}
	return t, nil
}
