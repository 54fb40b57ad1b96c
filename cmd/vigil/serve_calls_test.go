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
// replica's shared reading of the tick, which the management account's job
// also judges the organisation-level rules on); every other account's job
// uses that reading, or, while it is being made, describes its own account
// with a few Organizations calls, instead of listing the organisation
// again, so a tick costs calls in proportion to the accounts, not their
// square.
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
	if calls["DescribeAccount"] > n {
		t.Errorf("DescribeAccount called %d times, want at most once per member account's job (%d)", calls["DescribeAccount"], n)
	}
	// One listing by the tick and one reading by the replica: ListAccounts
	// pages of 20 (and the tick's own pages), and the OU walk once (the
	// world has 21 parents).
	listing := calls["ListAccounts"] + calls["ListAccountsForParent"] + calls["ListOrganizationalUnitsForParent"]
	if listing > 80 {
		t.Errorf("%d listing calls in one tick: the organisation is listed by account jobs (%v)", listing, calls)
	}
	if perAccount := float64(total-listing) / float64(n); perAccount > 12 {
		t.Errorf("%.1f Organizations calls per account job, want a few", perAccount)
	}
	if got, _ := recordedAccounts(t, db); got != n+1 {
		t.Errorf("%d accounts recorded, want %d", got, n+1)
	}
}
