package main

import (
	"database/sql"
	"fmt"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/vigil-sec/vigil/internal/lifecycle"
)

// setUserVersion stamps a database with a schema version, as a newer
// Vigil would have.
func setUserVersion(t *testing.T, path string, v int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		t.Fatal(err)
	}
}

// unfinishedJobs lists the queue's jobs that have not completed, for a
// failure message.
func unfinishedJobs(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, kind, state, attempt, max_attempts, args, COALESCE(errors, ''), attempted_at, scheduled_at FROM river_job WHERE state <> 'completed' ORDER BY id`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	out := ""
	for rows.Next() {
		var id, attempt, maxA int64
		var kind, state, args, errs string
		var attempted, scheduled any
		rows.Scan(&id, &kind, &state, &attempt, &maxA, &args, &errs, &attempted, &scheduled)
		out += fmt.Sprintf("%d %s %s attempt %d/%d %s attempted %v scheduled %v %s\n", id, kind, state, attempt, maxA, args, attempted, scheduled, errs)
	}
	return out
}

// countNew counts the new transitions of each finding.
func countNew(t *testing.T, path string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT finding_id, COUNT(*) FROM transitions WHERE kind = 'new' GROUP BY finding_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// countKind counts one finding's transitions of a kind.
func countKind(t *testing.T, path, finding, kind string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM transitions WHERE finding_id = ? AND kind = ?`, finding, kind).Scan(&n); err != nil {
		return 0
	}
	return n
}

// lifecycleID is a finding's ID.
func lifecycleID(account, rule, resource string) string { return lifecycle.ID(account, rule, resource) }

// recordedScans counts the scans in the store and the complete ones.
func recordedScans(t *testing.T, path string) (all, complete int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(outcome = 'complete'), 0) FROM scans`).Scan(&all, &complete)
	return all, complete
}

// recordedAccounts counts the accounts the first scan recorded.
func recordedAccounts(t *testing.T, path string) (int, error) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT COUNT(*) FROM scan_accounts WHERE scan_id = 1`).Scan(&n)
	return n, err
}
