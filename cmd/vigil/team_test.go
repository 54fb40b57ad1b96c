package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemuproc"
	"github.com/vigil-sec/vigil/internal/slowtest"
	"github.com/vigil-sec/vigil/internal/store/postgres"
	"github.com/vigil-sec/vigil/internal/store/postgres/pgtest"
)

// pgQuery runs one query on a test database and renders its rows, for
// counts and for failure messages.
func pgQuery(t *testing.T, url, q string) [][]string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = fmt.Sprint(v)
		}
		out = append(out, row)
	}
	return out
}

// TestTeamReplicasShareATickAndSurviveAKill is team mode end to end:
// three vigil serve replicas on one PostgreSQL database watch a
// 500-account organisation (50 ms a call); one is killed -9 in the middle
// of the tick. The others take its accounts over once River rescues its
// jobs, the tick completes with every account recorded exactly once, and
// every new finding reaches the webhook once, under one delivery ID.
func TestTeamReplicasShareATickAndSurviveAKill(t *testing.T) {
	slowtest.Skip(t, "three replicas on PostgreSQL, one killed")
	url := pgtest.NewDatabase(t)
	const n = 500
	// The emulator is a process of its own, as the replicas are.
	emu := awsemuproc.Start(t, awsemuproc.Spec{Accounts: n, Seed: 11, Latency: 50 * time.Millisecond})
	recv, hook := newReceiver(t, "team-secret")
	env := map[string]string{
		"AWS_ENDPOINT_URL": emu.URL, "AWS_ACCESS_KEY_ID": awsemu.OrgWorldAdminKey,
		"AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1", "HOOK_SECRET": "team-secret",
		"VIGIL_DATABASE_URL": url,
	}
	// A replica's jobs are rescued 20 s after they started: long enough
	// for an account at 50 ms a call on a loaded machine, short enough
	// for a test.
	args := []string{"--org", "--every", "1h", "--webhook", hook.URL, "--webhook-secret-env", "HOOK_SECRET", "--rescue-after", "20s", "--workers", "4"}
	var replicas []*served
	for i := 0; i < 3; i++ {
		replicas = append(replicas, startServe(t, env, args...))
	}
	type scanRow struct {
		ID       int64  `json:"id"`
		Schedule string `json:"schedule"`
		Accounts int    `json:"accounts"`
		Outcome  string `json:"outcome"`
	}
	first := func() scanRow {
		r := vigil(t, map[string]string{"VIGIL_DATABASE_URL": url}, "scans", "--format", "json")
		var doc struct {
			Scans []scanRow `json:"scans"`
		}
		if json.Unmarshal([]byte(r.stdout), &doc) != nil || len(doc.Scans) == 0 {
			return scanRow{}
		}
		return doc.Scans[len(doc.Scans)-1]
	}
	deadline := time.Now().Add(300 * time.Second)
	for {
		sc := first()
		if sc.Accounts >= n/4 {
			break
		}
		if sc.Outcome == "complete" || time.Now().After(deadline) {
			t.Fatalf("no chance to kill mid-tick: %+v\n%s", sc, replicas[0].stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Every replica took a share of the tick before the kill.
	victim := replicas[0]
	victim.cmd.Process.Signal(syscall.SIGKILL)
	<-victim.done
	sc := first()
	if sc.Accounts >= n {
		t.Fatalf("the tick finished before the kill: %+v", sc)
	}
	t.Logf("killed one replica with %d of %d accounts recorded", sc.Accounts, n)

	deadline = time.Now().Add(300 * time.Second)
	for {
		sc = first()
		if sc.Outcome == "complete" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tick did not complete after the kill: %+v\njobs: %v\n%s", sc,
				pgQuery(t, url, `SELECT state, attempt, count(*) FROM river_job GROUP BY 1, 2 ORDER BY 1, 2`), replicas[1].stderr)
		}
		time.Sleep(250 * time.Millisecond)
	}
	all := n + 1 // the members and the management account
	if sc.Accounts != all {
		t.Fatalf("tick complete with %d accounts, want %d", sc.Accounts, all)
	}
	// Exactly once per account: the tick's rows, and the store's count.
	rows := pgQuery(t, url, fmt.Sprintf(`SELECT count(*), count(DISTINCT account_id) FROM scan_accounts WHERE scan_id = %d`, sc.ID))
	if rows[0][0] != fmt.Sprint(all) || rows[0][1] != fmt.Sprint(all) {
		t.Fatalf("scan_accounts of the tick: %v, want %d distinct", rows, all)
	}
	if ticks := pgQuery(t, url, `SELECT count(*) FROM scans WHERE schedule = 'default'`); ticks[0][0] != "1" {
		// A later tick may only start once this one is done.
		t.Logf("scans of the schedule: %v", ticks)
	}
	// Each account was read once, but for those in flight at the kill
	// (at most one per worker of the victim), read again by a survivor.
	summaries := map[string]int{}
	calls, _ := emu.Stop(t)
	for _, c := range calls.Calls {
		if c.Action == "GetAccountSummary" && c.Status == 200 {
			summaries[c.CallerAccount] += c.N
		}
	}
	twice := 0
	for acct, k := range summaries {
		if k > 2 {
			t.Errorf("account %s read %d times in one tick", acct, k)
		}
		if k == 2 {
			twice++
		}
	}
	if len(summaries) != all || twice > 4 {
		t.Errorf("%d accounts read, %d of them twice", len(summaries), twice)
	}
	// Every replica took accounts: River records which client worked
	// each job last, and the victim's finished jobs count too.
	by := pgQuery(t, url, `SELECT attempted_by[array_length(attempted_by, 1)], count(*) FROM river_job WHERE kind = 'vigil_scan_account' AND state = 'completed' GROUP BY 1`)
	if len(by) != 3 {
		t.Errorf("account jobs completed by %d replicas, want 3: %v", len(by), by)
	}
	t.Logf("account jobs per replica: %v", by)

	// Every open finding has one new transition, and reached the
	// receiver under exactly one delivery ID. Findings, not rules: a rule
	// about many resources (a region's analyzer, a user's key) opens one
	// finding per resource.
	news := map[string]int{}
	for _, r := range pgQuery(t, url, `SELECT t.finding_id, count(*) FROM transitions t WHERE t.kind = 'new' GROUP BY 1`) {
		var k int
		fmt.Sscan(r[1], &k)
		news[r[0]] = k
	}
	if len(news) == 0 {
		t.Fatal("no finding was opened")
	}
	waitFor(t, "every new alert", replicas[1], func() bool {
		for id := range news {
			if !recv.hasFinding("new", id) {
				return false
			}
		}
		return true
	})
	for id, c := range news {
		if c != 1 {
			t.Errorf("finding %s: %d new transitions", id, c)
		}
	}
	recv.mu.Lock()
	ids := map[string]map[string]bool{}
	for _, a := range recv.got {
		k := a.Transition + " " + a.Finding
		if ids[k] == nil {
			ids[k] = map[string]bool{}
		}
		ids[k][a.Delivery] = true
	}
	recv.mu.Unlock()
	for k, d := range ids {
		if len(d) != 1 {
			t.Errorf("%s sent under %d delivery IDs", k, len(d))
		}
	}
	for _, r := range replicas[1:] {
		r.cmd.Process.Signal(syscall.SIGTERM)
		<-r.done
	}
}

// TestDBMigrateAndStatus: vigil db on both engines, and start-up
// refusing a database from a newer Vigil.
func TestDBMigrateAndStatus(t *testing.T) {
	url := pgtest.NewDatabase(t)
	withPassword := strings.Replace(url, "postgres@", "postgres:hunter2@", 1)
	r := vigil(t, nil, "db", "status", "--database", withPassword).want(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("schema version 0 of %d: pending 1", postgres.Version)) || !strings.Contains(r.stdout, "job queue  River migrations applied: none; pending 1,") {
		t.Errorf("status of an empty database:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "hunter2") {
		t.Errorf("the password was printed:\n%s%s", r.stdout, r.stderr)
	}
	r = vigil(t, map[string]string{"VIGIL_DATABASE_URL": withPassword}, "db", "migrate").want(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("schema version 0 -> %d", postgres.Version)) || strings.Contains(r.stdout, "hunter2") {
		t.Errorf("migrate:\n%s", r.stdout)
	}
	r = vigil(t, map[string]string{"VIGIL_DATABASE_URL": url}, "db", "status").want(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("schema version %d: up to date", postgres.Version)) || !strings.Contains(r.stdout, "River migrations up to date") {
		t.Errorf("status after migrate:\n%s", r.stdout)
	}
	pgQuery(t, url, `UPDATE vigil_schema SET version = 99`)
	r = vigil(t, nil, "db", "status", "--database", url).want(t, 1)
	if !strings.Contains(r.stdout, "written by a newer Vigil") || !strings.Contains(r.stderr, "upgrade Vigil") {
		t.Errorf("status of a newer database:\n%s", r.stdout)
	}
	r = vigil(t, nil, "serve", "--demo", "--listen", "127.0.0.1:0", "--database", withPassword).want(t, 1)
	if !strings.Contains(r.stderr, "newer Vigil") || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("serve on a newer database: %s", r.stderr)
	}

	db := t.TempDir() + "/vigil.db"
	vigil(t, nil, "db", "migrate", "--db", db).want(t, 0)
	r = vigil(t, nil, "db", "status", "--db", db).want(t, 0)
	if !strings.Contains(r.stdout, "up to date") || !strings.Contains(r.stdout, "River migrations up to date") {
		t.Errorf("status of a SQLite file:\n%s", r.stdout)
	}
}

// TestConfigDatabaseEnv: the store commands find team mode's database
// through the config's database_env, as vigil serve does.
func TestConfigDatabaseEnv(t *testing.T) {
	url := pgtest.NewDatabase(t)
	cfg := t.TempDir() + "/vigil.yaml"
	if err := os.WriteFile(cfg, []byte("version: 1\ndatabase_env: TEAM_DB\nschedules:\n  - name: org\n    every: 1h\n    scan: {org: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vigil(t, map[string]string{"TEAM_DB": url}, "db", "migrate", "--config", cfg).want(t, 0)
	if got := pgQuery(t, url, `SELECT version FROM vigil_schema`); len(got) != 1 || got[0][0] != strconv.Itoa(postgres.Version) {
		t.Fatalf("schema after migrate through the config: %v", got)
	}
	r := vigil(t, map[string]string{"TEAM_DB": url}, "scans", "--config", cfg).want(t, 0)
	if strings.Contains(r.stderr, "vigil.db") {
		t.Errorf("scans read a SQLite file: %s", r.stderr)
	}
	r = vigil(t, nil, "scans", "--config", cfg).want(t, 2)
	if !strings.Contains(r.stderr, "vigil.yaml:2") || !strings.Contains(r.stderr, "TEAM_DB is not set") {
		t.Errorf("missing variable: %s", r.stderr)
	}
}
