package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/server"
	"github.com/vigil-sec/vigil/internal/slowtest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestServeScheduleNotScanned: schedules that are not an organisation
// alert their failed accounts as an organisation's do. Two schedules of
// a config file, on the built binary against the emulator: the
// credentials' own account, and a targets file with a role and a
// profile. When STS refuses the credentials, each account gets the
// vigil-account-not-scanned finding, alerted as new at a webhook receiver
// that checks signatures: the own account once its scan has failed
// every attempt, the role's account (reached, but not readable) and the
// profile's account (its target names no account now, so the account it
// reached before stands for it). Their findings keep their state, marked
// UNKNOWN; the scans end failed and incomplete, naming the accounts.
// When STS answers again, every not-scanned finding is resolved and no
// other finding was.
func TestServeScheduleNotScanned(t *testing.T) {
	slowtest.Skip(t, "schedules whose accounts cannot be scanned")
	const own, role, profile = "111111111111", "333333333333", "222222222222"
	w := awsemu.DemoWorld(testclock.Ref())
	for _, a := range w.Accounts {
		if a.ID == profile {
			a.Users = append(a.Users, awsemu.User{Name: "auditor", AccessKeys: []awsemu.AccessKey{{ID: "AKIADEMOSECAUDIT0001"}}})
		}
	}
	srv := awsemutest.Start(t, w)
	recv, hook := newReceiver(t, "ns-secret")
	dir := t.TempDir()
	db, cfg := filepath.Join(dir, "vigil.db"), filepath.Join(dir, "vigil.yaml")
	os.WriteFile(filepath.Join(dir, "targets.yaml"), []byte(`targets:
  - role_arn: arn:aws:iam::`+role+`:role/VigilAudit
  - profile: security
`), 0o600)
	os.WriteFile(filepath.Join(dir, "aws-config"), []byte("[profile security]\nregion = us-east-1\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "aws-credentials"), []byte("[security]\naws_access_key_id = AKIADEMOSECAUDIT0001\naws_secret_access_key = x\n"), 0o600)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 1
database: %s
listen: 127.0.0.1:0
schedules:
  - name: own
    every: 1s
    scan: {}
  - name: members
    every: 1s
    scan: {targets_file: targets.yaml}
alerts:
  - name: hook
    type: webhook
    url: %s
    secret_env: S
    on: [new, resolved]
    min_severity: high
`, db, hook.URL)), 0o600)
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.DemoManagementAdminKey, "AWS_SECRET_ACCESS_KEY": "x",
		"AWS_REGION": "us-east-1", "S": "ns-secret",
		"AWS_CONFIG_FILE": filepath.Join(dir, "aws-config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "aws-credentials")}
	s := startServe(t, env, "--config", cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("scans: own %v (last failed: %q), members %v (last incomplete: %q)", scheduleOutcomes(t, db, "own"), scheduleMessage(t, db, "own", "failed"),
				scheduleOutcomes(t, db, "members"), scheduleMessage(t, db, "members", "incomplete"))
		}
	})
	rootKey := lifecycleID(own, "root-access-key", "arn:aws:iam::"+own+":root")
	waitFor(t, "the own account's root key alerted", s, func() bool { return recv.has("new", own, "root-access-key") })
	waitFor(t, "a complete scan of both schedules", s, func() bool {
		return scheduleOutcomes(t, db, "own")["complete"] > 0 && scheduleOutcomes(t, db, "members")["complete"] > 0
	})
	for _, a := range []string{own, role, profile} {
		if recv.has("new", a, server.NotScannedRule) {
			t.Fatalf("account %s alerted as not scanned while STS answered", a)
		}
	}

	// STS refuses every caller now: the own account's credentials, the
	// role and the profile's role chain.
	srv.SetFaults(awsemu.Fault{Service: "sts", Code: "InvalidClientTokenId"})
	for _, a := range []string{role, profile, own} {
		waitFor(t, "the not-scanned alert of "+a, s, func() bool { return recv.has("new", a, server.NotScannedRule) })
	}
	var failed, incomplete string
	waitFor(t, "the failed and the incomplete scans", s, func() bool {
		failed, incomplete = scheduleMessage(t, db, "own", "failed"), scheduleMessage(t, db, "members", "incomplete")
		return strings.Contains(failed, own) && strings.Contains(incomplete, role) && strings.Contains(incomplete, profile)
	})
	if !strings.Contains(failed, "InvalidClientTokenId") || !strings.Contains(failed, "could not be scanned") {
		t.Errorf("the own schedule's failed scan says %q", failed)
	}
	state, unknownSince, gap := findingState(t, db, rootKey)
	if state != "open" || !unknownSince || !strings.Contains(gap, "could not be scanned") {
		t.Errorf("the own account's root key after a failed scan: %s, unknown since set %v, gap %q", state, unknownSince, gap)
	}

	srv.ClearFaults()
	for _, a := range []string{role, profile, own} {
		waitFor(t, "the not-scanned finding of "+a+" resolved", s, func() bool { return recv.has("resolved", a, server.NotScannedRule) })
	}
	waitFor(t, "the root key known again", s, func() bool { _, unk, _ := findingState(t, db, rootKey); return !unk })
	if n := countKind(t, db, rootKey, "resolved"); n != 0 {
		t.Errorf("the root key finding was resolved %d times by scans that read nothing", n)
	}
	for _, a := range []string{role, profile, own} {
		if n := recv.count("new", a, server.NotScannedRule); n != 1 {
			t.Errorf("account %s alerted not scanned %d times, want once", a, n)
		}
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
}

// scheduleOutcomes counts a schedule's scans by outcome.
func scheduleOutcomes(t *testing.T, path, schedule string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]int{}
	rows, err := db.Query(`SELECT outcome, COUNT(*) FROM scans WHERE schedule = ? GROUP BY outcome`, schedule)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var o string
		var n int
		if rows.Scan(&o, &n) == nil {
			out[o] = n
		}
	}
	return out
}

// scheduleMessage is the message of a schedule's latest scan that ended
// with outcome, or "". Ticks skipped while the previous scan ran are
// recorded failed too; they are passed over.
func scheduleMessage(t *testing.T, path, schedule, outcome string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var m string
	if db.QueryRow(`SELECT COALESCE(message, '') FROM scans WHERE schedule = ? AND outcome = ? AND COALESCE(message, '') NOT LIKE 'skipped:%' ORDER BY id DESC LIMIT 1`, schedule, outcome).Scan(&m) != nil {
		return ""
	}
	return m
}
