package kbtest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// SCPCoverage judges the organisation as a scan of the management account
// would at that moment: it reads the OU tree and the service control
// policies through the Organizations API as the management account's
// administrator, the way vigil scan collects them, and evaluates the rule
// org-root-scp-coverage on what it read. The pages' SCP commands are
// checked against this verdict, so a command that leaves an account
// uncovered fails its test however plausible its output looks.
func SCPCoverage(t testing.TB, srv *awsemu.Server, now time.Time) rule.Result {
	t.Helper()
	client := organizations.NewFromConfig(awsemutest.ConfigFor(t, srv, ManagementAdminKey))
	controls, gaps := collect.OrgControls(context.Background(), client)
	partition := srv.Partition()
	if partition == "" {
		partition = "aws"
	}
	doc := &snapshot.Document{
		CollectedAt: now,
		Organization: &snapshot.Organization{
			ID: OrgID, ManagementAccountID: ManagementID, Controls: controls, Gaps: gaps,
		},
		Accounts: []snapshot.Account{{ID: ManagementID, Partition: partition}},
	}
	res := rule.Evaluate([]rule.Rule{rules.OrgRootSCPCoverage}, doc, now, rule.DefaultOptions())
	if len(res) != 1 {
		t.Fatalf("org-root-scp-coverage gave %d results", len(res))
	}
	return res[0]
}
