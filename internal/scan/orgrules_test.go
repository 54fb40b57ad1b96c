package scan_test

import (
	"context"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/scan"
)

// With OrgRulesWithManagement, a scan of one member account leaves the
// organisation's rules unjudged, and a scan of the management account
// judges them as a scan without the option does: vigil serve's account
// jobs judge them once a tick, not once per account.
func TestOrgRulesWithManagement(t *testing.T) {
	srv := demoServer(t)
	cfg := awsemutest.ConfigFor(t, srv, awsemu.DemoManagementAdminKey)
	orgRules := map[string]bool{}
	for _, r := range rules.All() {
		if r.Scope == rule.OrganizationScope {
			orgRules[r.ID] = true
		}
	}
	run := func(account string, withMgmt bool) []rule.Result {
		t.Helper()
		req := request(scan.Organization{Config: cfg, Options: fleet.Options{Mode: fleet.ModeRole, Role: fleet.Role{Name: "VigilAudit"}, Accounts: []string{account}, Parallel: 1}})
		req.OrgRulesWithManagement = withMgmt
		got, err := scan.Run(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return got.Results
	}
	count := func(rs []rule.Result) (org, acct int) {
		for _, r := range rs {
			if orgRules[r.RuleID] {
				org++
			} else {
				acct++
			}
		}
		return
	}
	if org, acct := count(run("222222222222", true)); org != 0 || acct == 0 {
		t.Errorf("member account with the option: %d organisation results, %d account results; want none and some", org, acct)
	}
	if org, _ := count(run("222222222222", false)); org != len(orgRules) {
		t.Errorf("member account without the option: %d organisation results, want %d", org, len(orgRules))
	}
	with, without := run("111111111111", true), run("111111111111", false)
	if org, _ := count(with); org != len(orgRules) {
		t.Errorf("management account with the option: %d organisation results, want %d", org, len(orgRules))
	}
	if len(with) != len(without) {
		t.Errorf("management account: %d results with the option, %d without", len(with), len(without))
	}
}
