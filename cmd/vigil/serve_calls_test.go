package main

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestServeOrgCallsPerAccount: a tick of vigil serve over an organisation
// lists it once (the tick) and reads it once more per replica (the
// reading its account jobs share); no account's job lists the
// organisation again, so a tick costs Organizations calls in proportion
// to the organisation, not its square.
func TestServeOrgCallsPerAccount(t *testing.T) {
	const n = 60
	w := awsemu.OrgWorld(n, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 5})
	srv := awsemutest.Start(t, w)
	db := filepath.Join(t.TempDir(), "vigil.db")
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.OrgWorldAdminKey, "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
	s := startServe(t, env, "--org", "--every", "1h", "--db", db, "--workers", "4")
	waitFor(t, "the first tick", s, func() bool { _, complete := recordedScans(t, db); return complete > 0 })
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done

	calls := map[string]int{}
	total := 0
	for _, c := range srv.Calls() {
		if c.Service == "organizations" {
			calls[c.Action]++
			total++
		}
	}
	t.Logf("Organizations calls for a tick of %d accounts: %d %v", n+1, total, calls)
	// The tick's ListAccounts pages and one full reading (ListAccounts
	// pages of 20, the OU walk over the world's 21 parents, the SCPs):
	// about 60. Each job listing the organisation again made it about
	// 2,800.
	if perAccount := float64(total) / float64(n+1); perAccount > 3 {
		t.Errorf("%.1f Organizations calls per account in one tick (%v): the account jobs read the organisation again", perAccount, calls)
	}
	if got, _ := recordedAccounts(t, db); got != n+1 {
		t.Errorf("%d accounts recorded, want %d", got, n+1)
	}
}
