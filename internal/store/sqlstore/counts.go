package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/vigil-sec/vigil/internal/lifecycle"
)

// finding_counts (a row per state and account, a column per severity) is
// kept by the statements that write findings, not by row triggers: a
// transaction adds up what its upserts change (countDeltas) and applies
// the sums with one multi-row statement at its end (applyCounts). The
// triggers of SQLite's schema 10 and PostgreSQL's 7 ran an upsert of
// finding_counts for every finding written, three per account of a
// first recording of an organisation, where the sums are one row per
// account and state. Every writer of findings goes through
// upsertFindings with the rows it read before (the account's lock held,
// so nothing else changes them in between); the conformance suite
// recounts after every kind of change.

// countCell is one row of finding_counts.
type countCell struct {
	state, account string
}

// countDeltas is what a transaction's findings writes change in
// finding_counts, by row and severity.
type countDeltas map[countCell]*[5]int64

// add counts next written over prev (nil: a finding not stored before).
// A severity outside rule.Severity's 0 to 4 has no column and is counted
// nowhere, as a count of the findings by column would count it.
func (d countDeltas) add(prev *lifecycle.Finding, next *lifecycle.Finding) {
	if prev != nil && prev.State == next.State && prev.Severity == next.Severity && prev.AccountID == next.AccountID {
		return
	}
	if prev != nil && prev.Severity >= 0 && prev.Severity <= 4 {
		d.cell(string(prev.State), prev.AccountID)[prev.Severity]--
	}
	if next.Severity >= 0 && next.Severity <= 4 {
		d.cell(string(next.State), next.AccountID)[next.Severity]++
	}
}

func (d countDeltas) cell(state, account string) *[5]int64 {
	k := countCell{state, account}
	c, ok := d[k]
	if !ok {
		c = new([5]int64)
		d[k] = c
	}
	return c
}

// countColumns and countConflict are an upsert adding to finding_counts.
const (
	countColumns  = `INSERT INTO finding_counts (state, account_id, sev0, sev1, sev2, sev3, sev4)`
	countConflict = ` ON CONFLICT (state, account_id) DO UPDATE SET sev0 = finding_counts.sev0 + excluded.sev0, sev1 = finding_counts.sev1 + excluded.sev1,
		sev2 = finding_counts.sev2 + excluded.sev2, sev3 = finding_counts.sev3 + excluded.sev3, sev4 = finding_counts.sev4 + excluded.sev4`
	countFields = 7
)

// applyCounts adds d to finding_counts, in the order of its key (two
// replicas' transactions take the rows' locks in one order) with one
// statement per 500 rows, and empties d.
func applyCounts(ctx context.Context, tx *Tx, d countDeltas) error {
	for _, args := range countStatements(d) {
		if _, err := tx.ExecContext(ctx, countColumns+valuesRows(len(args)/countFields, countFields)+countConflict, args...); err != nil {
			return fmt.Errorf("keep the finding counts: %w", err)
		}
	}
	clear(d)
	return nil
}

// countStatements are the arguments of applyCounts' statements, each of
// 500 rows at most, in the order of their keys.
func countStatements(d countDeltas) [][]any {
	keys := make([]countCell, 0, len(d))
	for k, c := range d {
		if *c != [5]int64{} {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b countCell) int {
		return cmp.Or(cmp.Compare(a.state, b.state), cmp.Compare(a.account, b.account))
	})
	var out [][]any
	for len(keys) > 0 {
		n := min(len(keys), rowsPerStatement)
		args := make([]any, 0, n*countFields)
		for _, k := range keys[:n] {
			c := d[k]
			args = append(args, k.state, k.account, c[0], c[1], c[2], c[3], c[4])
		}
		out = append(out, args)
		keys = keys[n:]
	}
	return out
}
