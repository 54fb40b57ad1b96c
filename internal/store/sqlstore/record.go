package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// same reports whether storing next would change nothing of prev.
func same(prev, next *lifecycle.Finding, prevOU, ou string) bool {
	eqT := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
	return prev.State == next.State && prev.Status == next.Status && prev.Severity == next.Severity && prev.Message == next.Message &&
		bytes.Equal(prev.Evidence, next.Evidence) && prev.LastSeen.Equal(next.LastSeen) && eqT(prev.UnknownSince, next.UnknownSince) &&
		prev.Gap == next.Gap && prev.AccountName == next.AccountName && prev.Title == next.Title && prevOU == ou
}

// seenOnly reports whether storing next would change nothing of prev but
// its last_seen.
func seenOnly(prev, next *lifecycle.Finding, prevOU, ou string) bool {
	n := *next
	n.LastSeen = prev.LastSeen
	return same(prev, &n, prevOU, ou)
}

// RecordAccount implements store.Store.
func (s *DB) RecordAccount(ctx context.Context, scanID int64, a store.AccountResults, now time.Time) (store.Recorded, error) {
	recs, err := s.RecordAccounts(ctx, scanID, []store.AccountResults{a}, now)
	if err != nil {
		return store.Recorded{}, err
	}
	return recs[0], nil
}

// RecordAccounts implements store.Store: every account in one
// transaction. Each account's findings are read and observed in turn;
// what the batch writes (findings, transitions, result sets, the scan's
// and the accounts' rows, the finding counts) is written at its end with
// statements of many rows each: a statement per account and table was
// some thirty thousand for a first recording of 5,000 accounts, each
// with its own bind and step.
func (s *DB) RecordAccounts(ctx context.Context, scanID int64, as []store.AccountResults, now time.Time) ([]store.Recorded, error) {
	now = now.UTC()
	raws := make([][]byte, len(as))
	hashes := make([]int64, len(as))
	for i, a := range as {
		raws[i], hashes[i] = setKey(a.Results)
	}
	var recs []store.Recorded
	err := s.Transact(ctx, func(tx *Tx) error {
		recs = make([]store.Recorded, len(as))
		st, err := prepareRecord(ctx, tx, len(as) > 1)
		if err != nil {
			return err
		}
		defer st.close()
		// Several accounts lock in one order, so that two batches (two
		// one-shot scans) never deadlock.
		if len(as) > 1 {
			ids := make([]string, len(as))
			for i, a := range as {
				ids[i] = a.AccountID
			}
			sort.Strings(ids)
			for _, id := range ids {
				if err := tx.Lock(ctx, "account:"+id); err != nil {
					return err
				}
			}
		}
		ids := make([]string, len(as))
		for i, a := range as {
			ids[i] = a.AccountID
		}
		var packed [][]byte
		var bases []any
		if len(as) == 1 {
			packed, bases, err = st.claim(ctx, scanID, ids, hashes[0], raws[0])
		} else {
			packed, bases, err = newSets(ctx, tx, s.d, ids, hashes, raws)
		}
		if err != nil {
			return err
		}
		sups := &lazySuppressions{tx: tx, now: now}
		w := &batchWrites{counts: countDeltas{}, done: map[string]bool{}}
		var accounts, results, calls int
		for i, a := range as {
			done, err := st.observe(ctx, scanID, a, now, sups, hashes[i], packed[i], bases[i], i, w)
			if err != nil {
				return fmt.Errorf("record account %s: %w", a.AccountID, err)
			}
			if !done {
				recs[i].Already = true
				continue
			}
			accounts++
			results += len(a.Results)
			calls += a.Calls
		}
		// On PostgreSQL what the batch writes and the scan's count of it
		// are one statement (writeTogether), where they were up to seven
		// round trips for every account job of a first tick: each waits
		// for a PostgreSQL backend, then for the replica to be scheduled
		// again, which is what lengthened an account job most when three
		// replicas shared two cores.
		together := accounts > 0 && s.d.WritingWith && w.fitOne()
		if err := w.write(ctx, tx, s.d, recs, now, together); err != nil {
			return err
		}
		if accounts == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM scans WHERE id = ?`, scanID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("scan %d: %w", scanID, store.ErrNotFound)
			}
			return nil
		}
		// The row's lock orders recorders of one scan, so each learns the
		// count with its own account in it.
		var p store.Progress
		if together {
			p, err = w.writeTogether(ctx, tx, recs, scanID, accounts, results, calls)
		} else {
			err = tx.QueryRowContext(ctx, `UPDATE scans SET accounts = accounts + ?, results = results + ?, calls = calls + ? WHERE id = ? RETURNING accounts, expected`, accounts, results, calls, scanID).
				Scan(&p.Accounts, &p.Expected)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("scan %d: %w", scanID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		for i := range recs {
			if !recs[i].Already {
				recs[i].Progress = p
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record scan %d: %w", scanID, err)
	}
	return recs, nil
}

// recordStmts are the reads of recording, per account. Several accounts
// in one transaction prepare them once; one account runs them
// unprepared, since preparing and closing them would cost PostgreSQL
// round trips more than it saves (pgx caches the statements it runs on
// each connection anyway).
type recordStmts struct {
	tx                 *Tx
	recorded, findings stmt
	// claimed: claim has locked the one account of the batch and asked
	// whether the scan has it (already).
	claimed, already bool
}

// claim is, for a batch of one account, its lock, then in one query
// whether the scan recorded it already, whether the store has its result
// set and, when neither, the full set its previous set is (or is a delta
// of), where they were up to three round trips on PostgreSQL; it returns
// the set packed (a delta of that base where it pays, see packNew), or
// nil when the store has it (or the account is done).
func (st *recordStmts) claim(ctx context.Context, scanID int64, ids []string, hash int64, raw []byte) ([][]byte, []any, error) {
	account := ids[0]
	if err := st.tx.Lock(ctx, "account:"+account); err != nil {
		return nil, nil, err
	}
	var have bool
	var base storedSet
	var baseHash sql.NullInt64
	err := st.tx.QueryRowContext(ctx, `SELECT x.already, x.have, b.hash, b.data FROM
		(SELECT EXISTS (SELECT 1 FROM scan_accounts WHERE scan_id = ? AND account_id = ?) AS already,
			EXISTS (SELECT 1 FROM result_sets WHERE hash = ?) AS have) x
		LEFT JOIN accounts a ON a.account_id = ? AND NOT x.already AND NOT x.have`+baseJoins("LEFT JOIN"),
		scanID, account, hash, account).Scan(&st.already, &have, &baseHash, &base.data)
	if err != nil {
		return nil, nil, err
	}
	st.claimed = true
	packed, bases := make([][]byte, 1), make([]any, 1)
	if !have && !st.already {
		base.hash = baseHash.Int64
		if !baseHash.Valid {
			base = storedSet{}
		}
		if packed[0], bases[0], err = packNew(raw, base); err != nil {
			return nil, nil, fmt.Errorf("compress result set: %w", err)
		}
	}
	return packed, bases, nil
}

// stmt is a statement of recordStmts: prepared, or run as it is.
type stmt struct {
	prepared *sql.Stmt
	tx       *Tx
	query    string
}

func (s stmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	if s.prepared != nil {
		return s.prepared.QueryContext(ctx, args...)
	}
	return s.tx.QueryContext(ctx, s.query, args...)
}

func (s stmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	if s.prepared != nil {
		return s.prepared.QueryRowContext(ctx, args...)
	}
	return s.tx.QueryRowContext(ctx, s.query, args...)
}

func prepareRecord(ctx context.Context, tx *Tx, prepare bool) (*recordStmts, error) {
	st := &recordStmts{tx: tx}
	if prepare {
		tx.KeepStatements()
	}
	for _, p := range []struct {
		to *stmt
		q  string
	}{
		{&st.recorded, `SELECT 1 FROM scan_accounts WHERE scan_id = ? AND account_id = ?`},
		{&st.findings, tx.d.AccountFindings()},
	} {
		*p.to = stmt{tx: tx, query: p.q}
		if !prepare {
			continue
		}
		s, err := tx.PrepareContext(ctx, p.q)
		if err != nil {
			st.close()
			return nil, err
		}
		p.to.prepared = s
	}
	return st, nil
}

func (st *recordStmts) close() {
	for _, s := range []stmt{st.recorded, st.findings} {
		if s.prepared != nil {
			s.prepared.Close()
		}
	}
}

// batchWrites is what a batch of accounts writes, gathered as each
// account is observed and written at the end (write).
type batchWrites struct {
	findings []findingRow
	// transitions[k] belongs to the account at owners[k] of the batch.
	transitions []store.Transition
	owners      []int
	sets        []any // hash, packed, base: result_sets' rows
	scanned     []any // scan_accounts' rows
	accounts    []any // accounts' rows (accountColumns)
	counts      countDeltas
	// seen are the findings still open as they were, whose last_seen
	// moves to the batch's time and nothing else.
	seen []string
	// seenAccounts are the accounts of seen, each once.
	seenAccounts []string
	// done are the accounts of the batch recorded already: an account
	// twice in one batch is recorded once, as a second call would.
	done map[string]bool
}

// observe reads one account's findings, applies its results to them and
// adds what changed to w; false when the scan had the account already.
func (st *recordStmts) observe(ctx context.Context, scanID int64, a store.AccountResults, now time.Time, sups *lazySuppressions, hash int64, packed []byte, base any, owner int, w *batchWrites) (bool, error) {
	if st.claimed {
		if st.already {
			return false, nil
		}
	} else {
		// Two replicas never record one account's findings at once.
		if err := st.tx.Lock(ctx, "account:"+a.AccountID); err != nil {
			return false, err
		}
		if w.done[a.AccountID] {
			return false, nil
		}
		var one int
		err := st.recorded.QueryRowContext(ctx, scanID, a.AccountID).Scan(&one)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
	}
	w.done[a.AccountID] = true
	// By rule and resource (the account is this one): the finding's ID
	// is a SHA-256 of the three, and hashing every result to look it up
	// was 2.5% of a first recording's CPU, for results that mostly have
	// no finding.
	current := map[string]*store.Finding{}
	rows, err := st.findings.QueryContext(ctx, a.AccountID)
	if err != nil {
		return false, err
	}
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			rows.Close()
			return false, err
		}
		current[f.RuleID+"\x00"+f.Resource] = &f
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	var ups []findingRow
	at := map[string]int{}
	for _, o := range a.Results {
		o.AccountID = a.AccountID
		if o.AccountName == "" {
			o.AccountName = a.AccountName
		}
		var prev *lifecycle.Finding
		prevOU := ""
		if f, ok := current[o.RuleID+"\x00"+o.Resource]; ok {
			prev, prevOU = &f.Finding, f.OU
		}
		next, kind := lifecycle.Observe(prev, o, now)
		if next == nil || (kind == lifecycle.StillOpen && prev != nil && same(prev, next, prevOU, a.OU)) {
			continue
		}
		// A finding observed twice is written as last observed, as one
		// statement per observation left it; it is counted from what
		// was stored before.
		i, twice := at[next.ID]
		if !twice && kind == lifecycle.StillOpen && prev != nil && prev.State == lifecycle.Open && seenOnly(prev, next, prevOU, a.OU) {
			// Still failing as it was: only last_seen moves, for the
			// batch's such findings at once (seen), rather than each
			// row written whole with its 21 values; what a scan where
			// nothing changed mostly writes. Only an open finding's
			// last_seen moves (lifecycle.Observe), and the statement
			// names the state (ClusteredFindings).
			if len(w.seenAccounts) == 0 || w.seenAccounts[len(w.seenAccounts)-1] != a.AccountID {
				w.seenAccounts = append(w.seenAccounts, a.AccountID)
			}
			w.seen = append(w.seen, next.ID)
			continue
		}
		if twice {
			ups[i].next = *next
		} else {
			at[next.ID] = len(ups)
			ups = append(ups, findingRow{prev: prev, next: *next, ou: a.OU})
		}
		if kind == lifecycle.StillOpen {
			continue
		}
		active, err := sups.get(ctx)
		if err != nil {
			return false, err
		}
		w.transitions = append(w.transitions, store.Transition{FindingID: next.ID, ScanID: scanID, Kind: kind, At: now, Status: next.Status, Severity: next.Severity, Message: next.Message,
			Suppressed: suppressedBy(active, next.AccountID, next.RuleID, next.Resource) != nil})
		w.owners = append(w.owners, owner)
	}
	w.findings = append(w.findings, ups...)
	// The same results as an earlier scan's are stored once: packed is
	// nil when the store has them.
	if packed != nil {
		w.sets = append(w.sets, hash, packed, base)
	}
	w.scanned = append(w.scanned, scanID, a.AccountID, ms(now), a.Calls, hash)
	w.accounts = append(w.accounts, a.AccountID, a.AccountName, a.OU, scanID, ms(now))
	return true, nil
}

// write writes w, the findings before the transitions that refer to
// them, and gives each account of recs its transitions with their IDs;
// when together, only the findings merely seen again, writeTogether
// writing the rest.
func (w *batchWrites) write(ctx context.Context, tx *Tx, d *Dialect, recs []store.Recorded, now time.Time, together bool) error {
	if len(w.seen) > 0 {
		q, args := d.SeenAgain(ms(now), w.seenAccounts, w.seen)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	if together {
		return nil
	}
	if err := upsertFindings(ctx, tx, w.findings, w.counts); err != nil {
		return err
	}
	if err := applyCounts(ctx, tx, w.counts); err != nil {
		return err
	}
	if err := insertTransitions(ctx, tx, w.transitions); err != nil {
		return err
	}
	w.assign(recs)
	for _, r := range w.rowInserts() {
		if err := insertRows(ctx, tx, r.head, r.tail, r.fields, r.args); err != nil {
			return err
		}
	}
	return nil
}

// assign gives each account of recs its transitions, with their IDs.
func (w *batchWrites) assign(recs []store.Recorded) {
	for k, t := range w.transitions {
		recs[w.owners[k]].Transitions = append(recs[w.owners[k]].Transitions, t)
	}
}

// rowInsert is one table's rows of a batch: head VALUES … tail.
type rowInsert struct {
	head, tail string
	fields     int
	args       []any
}

// rowInserts are the batch's rows of each account, written after its
// findings and transitions.
func (w *batchWrites) rowInserts() []rowInsert {
	return []rowInsert{
		{`INSERT INTO result_sets (hash, data, base)`, ` ON CONFLICT DO NOTHING`, 3, w.sets},
		{`INSERT INTO scan_accounts (scan_id, account_id, recorded_at, calls, results_hash)`, ``, 5, w.scanned},
		{accountColumns, accountConflict, accountFields, w.accounts},
	}
}

// fitOne reports whether writeTogether can write the batch: each table's
// rows in one VALUES list of 500 at most, as the statements of write
// have them (some 20,000 parameters at most, of PostgreSQL's 65,535).
func (w *batchWrites) fitOne() bool {
	if len(w.findings) > rowsPerStatement || len(w.transitions) > rowsPerStatement {
		return false
	}
	for _, r := range w.rowInserts() {
		if len(r.args)/r.fields > rowsPerStatement {
			return false
		}
	}
	return true
}

// writeTogether writes what write would, and adds the batch to the scan's
// counts, in one statement of data-modifying WITH clauses (PostgreSQL):
// its findings, their counts, their transitions, its result sets,
// scan_accounts and accounts rows, then the scan's row, whose new count
// it returns. The tables are distinct, so no row is written twice in the
// statement (the findings merely seen again are write's, before it), and
// the foreign keys of transitions to findings and of scan_accounts to
// scans are checked at its end, when the rows they refer to are there.
// Counts beyond 500 rows (a batch of many accounts) are added first,
// each 500 a statement of its own.
func (w *batchWrites) writeTogether(ctx context.Context, tx *Tx, recs []store.Recorded, scanID int64, accounts, results, calls int) (store.Progress, error) {
	// Sized for the statement's text and arguments up front: grown part
	// by part, they were a fifth of a recording's allocations.
	var b strings.Builder
	b.Grow(2048 + 120*(len(w.findings)+len(w.transitions)))
	args := make([]any, 0, 4+tx.d.findingFields()*len(w.findings)+2*countFields*len(w.findings)+transitionFields*len(w.transitions)+len(w.sets)+len(w.scanned)+len(w.accounts))
	part := func(name, q string, a []any) {
		if b.Len() == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(name + " AS (" + q + ")")
		args = append(args, a...)
	}
	if len(w.findings) > 0 {
		part("f", tx.d.findingUpsert(len(w.findings)), nil)
		for i := range w.findings {
			args = tx.d.findingArgs(args, &w.findings[i].next, w.findings[i].ou)
			w.counts.add(w.findings[i].prev, &w.findings[i].next)
		}
	}
	counts := countStatements(w.counts)
	clear(w.counts)
	for len(counts) > 1 {
		last := counts[len(counts)-1]
		if _, err := tx.ExecContext(ctx, countColumns+valuesRows(len(last)/countFields, countFields)+countConflict, last...); err != nil {
			return store.Progress{}, fmt.Errorf("keep the finding counts: %w", err)
		}
		counts = counts[:len(counts)-1]
	}
	if len(counts) == 1 {
		part("c", countColumns+valuesRows(len(counts[0])/countFields, countFields)+countConflict, counts[0])
	}
	if len(w.transitions) > 0 {
		part("t", transitionColumns+valuesRows(len(w.transitions), transitionFields)+" RETURNING id, finding_id", nil)
		for _, t := range w.transitions {
			args = append(args, transitionArgs(t)...)
		}
	} else {
		part("t", "SELECT NULL::BIGINT AS id, NULL::TEXT AS finding_id WHERE FALSE", nil)
	}
	for i, r := range w.rowInserts() {
		if len(r.args) > 0 {
			part("r"+strconv.Itoa(i), r.head+valuesRows(len(r.args)/r.fields, r.fields)+r.tail, r.args)
		}
	}
	part("u", `UPDATE scans SET accounts = accounts + ?, results = results + ?, calls = calls + ? WHERE id = ? RETURNING accounts, expected`,
		[]any{accounts, results, calls, scanID})
	b.WriteString(" SELECT u.accounts, u.expected, t.id, t.finding_id FROM u LEFT JOIN t ON TRUE ORDER BY t.id")
	rows, err := tx.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return store.Progress{}, err
	}
	defer rows.Close()
	var p store.Progress
	found, k := false, 0
	for rows.Next() {
		var id sql.NullInt64
		var finding sql.NullString
		if err := rows.Scan(&p.Accounts, &p.Expected, &id, &finding); err != nil {
			return store.Progress{}, err
		}
		found = true
		if !id.Valid {
			continue
		}
		// In the order of their IDs, which is the order of the VALUES
		// rows, as insertTransitions checks too.
		if k >= len(w.transitions) || w.transitions[k].FindingID != finding.String {
			return store.Progress{}, fmt.Errorf("insert transitions: row %d came back for finding %s", k, finding.String)
		}
		w.transitions[k].ID = id.Int64
		k++
	}
	if err := rows.Err(); err != nil {
		return store.Progress{}, err
	}
	if !found {
		return store.Progress{}, sql.ErrNoRows
	}
	if k != len(w.transitions) {
		return store.Progress{}, fmt.Errorf("insert %d transitions: %d rows came back", len(w.transitions), k)
	}
	w.assign(recs)
	return p, nil
}

// insertRows runs head VALUES … tail over args, fields values a row, with
// a statement per 500 rows.
func insertRows(ctx context.Context, tx *Tx, head, tail string, fields int, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/fields, rowsPerStatement)
		if _, err := tx.ExecContext(ctx, head+valuesRows(n, fields)+tail, args[:n*fields]...); err != nil {
			return err
		}
		args = args[n*fields:]
	}
	return nil
}

// newSets packs, for each account of a batch, its result set when the
// store does not have it yet (nil when it does), with the hash of the
// full set it is a delta of (nil when it is full): one query for the
// batch, where one per account was a seventh of a first recording's
// statements, and the packing spread over the processors, since
// compressing is most of the CPU left outside SQLite. Read inside the
// recording's transaction, so that no prune removes a set between the
// check and the reference (and the base's foreign key stops one that
// would on PostgreSQL).
func newSets(ctx context.Context, tx *Tx, d *Dialect, ids []string, hashes []int64, bodies [][]byte) ([][]byte, []any, error) {
	pred, arg := d.InIDs("hash", hashes)
	have := map[int64]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT hash FROM result_sets WHERE `+pred, arg)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return nil, nil, err
		}
		have[h] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	packed := make([][]byte, len(hashes))
	bases := make([]any, len(hashes))
	var todo []int
	for i, h := range hashes {
		if !have[h] {
			// Two accounts with the same results (rare: the account is
			// in them) pack once.
			have[h] = true
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return packed, bases, nil
	}
	prev, err := previousBases(ctx, tx, d, ids, todo)
	if err != nil {
		return nil, nil, fmt.Errorf("read the previous result sets: %w", err)
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo), 8)
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := w; k < len(todo); k += workers {
				i := todo[k]
				packed[i], bases[i], errs[k] = packNew(bodies[i], prev[ids[i]])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, fmt.Errorf("compress result sets: %w", err)
	}
	return packed, bases, nil
}

// storedSet is a full result set as stored.
type storedSet struct {
	hash int64
	data []byte
}

// baseJoins reach, from an account row a, the full set b its last
// recorded set is or is a delta of (through scan_accounts sa and that set
// r), joined with join: previousBases needs only accounts that have one,
// claim its one account's whether or not.
func baseJoins(join string) string {
	return `
		` + join + ` scan_accounts sa ON sa.scan_id = a.last_scan_id AND sa.account_id = a.account_id
		` + join + ` result_sets r ON r.hash = sa.results_hash
		` + join + ` result_sets b ON b.hash = COALESCE(r.base, r.hash)`
}

// previousBases are, by account, the full set its last recorded set is
// (or is a delta of), for the accounts of todo: the base a changed set
// is compressed against. A first recording has none, and reads nothing
// more than the query.
func previousBases(ctx context.Context, tx *Tx, d *Dialect, ids []string, todo []int) (map[string]storedSet, error) {
	want := make([]string, len(todo))
	for k, i := range todo {
		want[k] = ids[i]
	}
	pred, arg := d.InStrings("a.account_id", want)
	rows, err := tx.QueryContext(ctx, `SELECT a.account_id, b.hash, b.data FROM accounts a`+baseJoins("JOIN")+` WHERE `+pred, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]storedSet{}
	for rows.Next() {
		var id string
		var b storedSet
		if err := rows.Scan(&id, &b.hash, &b.data); err != nil {
			return nil, err
		}
		out[id] = b
	}
	return out, rows.Err()
}

// packNew is a new set as stored: a delta of base when base is a full
// set of the compact encoding and the delta is at most a quarter of its
// size, or else the set in full (base nil). A base that does not read
// serves as none: a delta of it could not be read either, and failing
// would stop the account's recordings for good.
func packNew(body []byte, base storedSet) ([]byte, any, error) {
	if base.data != nil {
		if dict, ok, err := fullBody(base.data); err == nil && ok {
			if delta, err := packDelta(body, dict); err == nil && len(delta) <= len(base.data)/4 {
				return delta, base.hash, nil
			}
		}
	}
	full, err := packSet(body)
	return full, nil, err
}

// lazySuppressions are the active suppressions, read when a transition
// first needs them: most recordings have none, and save the query.
type lazySuppressions struct {
	tx   *Tx
	now  time.Time
	read bool
	sups []store.Suppression
}

func (l *lazySuppressions) get(ctx context.Context) ([]store.Suppression, error) {
	if !l.read {
		sups, err := activeSuppressions(ctx, l.tx, "", l.now)
		if err != nil {
			return nil, err
		}
		l.sups, l.read = sups, true
	}
	return l.sups, nil
}

// LeaveAccounts implements store.Store.
func (s *DB) LeaveAccounts(ctx context.Context, scanID int64, present []string, now time.Time) ([]store.Transition, error) {
	here := map[string]bool{}
	for _, a := range present {
		here[a] = true
	}
	var out []store.Transition
	err := s.Transact(ctx, func(tx *Tx) error {
		out = nil
		if err := tx.Lock(ctx, "leave"); err != nil {
			return err
		}
		// The accounts first, then the findings of those that left (few,
		// usually none): reading every kept finding to pick them out held
		// an organisation's whole history in memory at the end of each
		// tick, the service's peak at 5,000 accounts.
		accounts, err := queryAll(ctx, tx, func(r rowScanner) (string, error) {
			var id string
			return id, r.Scan(&id)
		}, "SELECT DISTINCT account_id FROM findings WHERE state <> 'gone' ORDER BY account_id")
		if err != nil {
			return err
		}
		var leaving []store.Finding
		for _, a := range accounts {
			if here[a] {
				continue
			}
			// The account's lock, as a recording takes it: the counts
			// change by what is read here, which a recording of the
			// account in between would make stale.
			if err := tx.Lock(ctx, "account:"+a); err != nil {
				return err
			}
			fs, err := queryAll(ctx, tx, scanFinding, findingSelect+" WHERE account_id = ? AND state <> 'gone' ORDER BY rule_id, resource", a)
			if err != nil {
				return err
			}
			leaving = append(leaving, fs...)
		}
		sups, err := activeSuppressions(ctx, tx, "", now)
		if err != nil {
			return err
		}
		counts := countDeltas{}
		for _, f := range leaving {
			next, kind := lifecycle.Leave(f.Finding, now)
			if err := upsertFindings(ctx, tx, []findingRow{{prev: &f.Finding, next: next, ou: f.OU}}, counts); err != nil {
				return err
			}
			if kind == lifecycle.StillOpen {
				continue
			}
			t := store.Transition{FindingID: f.ID, ScanID: scanID, Kind: kind, At: now.UTC(), Status: f.Status, Severity: f.Severity, Message: f.Message,
				Detail: "the account is no longer in the organisation", Suppressed: suppressedBy(sups, f.AccountID, f.RuleID, f.Resource) != nil}
			if err := insertTransition(ctx, tx, &t); err != nil {
				return err
			}
			out = append(out, t)
		}
		return applyCounts(ctx, tx, counts)
	})
	if err != nil {
		return nil, fmt.Errorf("close the findings of accounts that left: %w", err)
	}
	return out, nil
}
