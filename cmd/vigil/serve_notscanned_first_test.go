package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/server"
	"github.com/vigil-sec/vigil/internal/slowtest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestServeScheduleNotScannedFirst: a schedule whose very first scan
// fails is alerted like one that fails later, although it has recorded
// no account yet. STS refuses every caller from the start: the
// credentials' own schedule, which names no account and reaches none,
// alerts itself (its stand-in account, "schedule:own"); the role
// target's schedule alerts the role's account, which its scan reaches by
// the ARN. When STS answers, both are resolved, each alerted once.
func TestServeScheduleNotScannedFirst(t *testing.T) {
	slowtest.Skip(t, "schedules whose first scan fails")
	const role = "333333333333"
	ownStandIn := "schedule:own"
	srv := awsemutest.Start(t, awsemu.DemoWorld(testclock.Ref()))
	srv.SetFaults(awsemu.Fault{Service: "sts", Code: "InvalidClientTokenId"})
	recv, hook := newReceiver(t, "first-secret")
	dir := t.TempDir()
	db, cfg := filepath.Join(dir, "vigil.db"), filepath.Join(dir, "vigil.yaml")
	os.WriteFile(filepath.Join(dir, "targets.yaml"), []byte("targets:\n  - role_arn: arn:aws:iam::"+role+":role/VigilAudit\n"), 0o600)
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
		"AWS_REGION": "us-east-1", "S": "first-secret"}
	s := startServe(t, env, "--config", cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("scans: own %v (last failed: %q), members %v (last incomplete: %q)", scheduleOutcomes(t, db, "own"), scheduleMessage(t, db, "own", "failed"),
				scheduleOutcomes(t, db, "members"), scheduleMessage(t, db, "members", "incomplete"))
		}
	})
	waitFor(t, "the role's account alerted as not scanned", s, func() bool { return recv.has("new", role, server.NotScannedRule) })
	waitFor(t, "the own schedule alerted as not scanned", s, func() bool { return recv.has("new", ownStandIn, server.NotScannedRule) })

	srv.ClearFaults()
	waitFor(t, "the role's account resolved", s, func() bool { return recv.has("resolved", role, server.NotScannedRule) })
	waitFor(t, "the own schedule resolved", s, func() bool { return recv.has("resolved", ownStandIn, server.NotScannedRule) })
	for _, a := range []string{role, ownStandIn} {
		if n := recv.count("new", a, server.NotScannedRule); n != 1 {
			t.Errorf("%s alerted not scanned %d times, want once", a, n)
		}
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
}
