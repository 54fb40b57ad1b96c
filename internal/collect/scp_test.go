package collect_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

const (
	mgmtID    = "111122223333"
	secID     = "222233334444"
	prodID    = "444455556666"
	legacyID  = "555566667777"
	mgmtKey   = "AKIAMGMTADMIN0000001"
	memberKey = "AKIAPRODADMIN0000001"
	ouWork    = "ou-ab12-11111111"
	ouProd    = "ou-ab12-22222222"
)

const denyRoot = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"Null":{"aws:AssumedRoot":"true"}}}]}`

// treeWorld is an organisation two OUs deep: Workloads/Prod holds prod,
// Workloads holds security, the root holds the management account and a
// legacy account invited in 2016.
func treeWorld() *awsemu.World {
	joined := time.Date(2016, 5, 1, 0, 0, 0, 0, time.UTC)
	return &awsemu.World{
		Organization: &awsemu.Organization{
			ID: "o-aa111bb222", ManagementAccountID: mgmtID, RootID: "r-ab12",
			OUs:      []awsemu.OU{{ID: ouWork, Name: "Workloads", ParentID: "r-ab12"}, {ID: ouProd, Name: "Prod", ParentID: ouWork}},
			Policies: []awsemu.Policy{{ID: "p-denyroot1", Name: "DenyRoot", Content: denyRoot, Targets: []string{ouWork}}},
		},
		Accounts: []*awsemu.Account{
			{ID: mgmtID, Name: "management", Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: mgmtKey}}}}},
			{ID: secID, Name: "security", ParentID: ouWork},
			{ID: prodID, Name: "prod", ParentID: ouProd, Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: memberKey}}}}},
			{ID: legacyID, Name: "legacy", JoinedMethod: "INVITED", JoinedTimestamp: joined},
		},
	}
}

func orgClient(t *testing.T, srv *awsemu.Server, key string) *organizations.Client {
	t.Helper()
	return organizations.NewFromConfig(awsemutest.ConfigFor(t, srv, key))
}

func TestOrgControls(t *testing.T) {
	srv := awsemutest.Start(t, treeWorld())
	c, gaps := collect.OrgControls(t.Context(), orgClient(t, srv, mgmtKey))
	if len(gaps) != 0 {
		t.Fatalf("gaps: %+v", gaps)
	}
	if c.Root == nil || c.Root.ID != "r-ab12" || !slices.Equal(c.Root.PolicyTypes, []string{"SERVICE_CONTROL_POLICY"}) {
		t.Errorf("root %+v", c.Root)
	}
	wantOUs := []snapshot.OrgUnit{{ID: ouWork, Name: "Workloads", ParentID: "r-ab12"}, {ID: ouProd, Name: "Prod", ParentID: ouWork}}
	if diff := cmp.Diff(wantOUs, c.OUs); diff != "" {
		t.Errorf("OUs (-want +got):\n%s", diff)
	}
	var ids []string
	for _, a := range c.Accounts {
		ids = append(ids, a.ID+"@"+a.ParentID+"/"+a.State)
	}
	if diff := cmp.Diff([]string{mgmtID + "@r-ab12/ACTIVE", secID + "@" + ouWork + "/ACTIVE", prodID + "@" + ouProd + "/ACTIVE", legacyID + "@r-ab12/ACTIVE"}, ids); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
	if a := c.Account(legacyID); a.JoinedMethod != "INVITED" || a.JoinedTimestamp == nil || a.JoinedTimestamp.Year() != 2016 {
		t.Errorf("legacy account %+v", a)
	}
	if got := c.Path(prodID); !slices.Equal(got, []string{"Workloads", "Prod"}) {
		t.Errorf("path %v", got)
	}
	if got := c.Chain(prodID); !slices.Equal(got, []string{prodID, ouProd, ouWork, "r-ab12"}) {
		t.Errorf("chain %v", got)
	}
	if len(c.SCPs) != 2 || c.SCPs[0].ID != "p-FullAWSAccess" || c.SCPs[1].ID != "p-denyroot1" {
		t.Fatalf("SCPs %+v", c.SCPs)
	}
	deny := c.SCPs[1]
	if deny.Content != denyRoot || !slices.Equal(deny.Targets, []string{ouWork}) || deny.AWSManaged || len(deny.Gaps) != 0 {
		t.Errorf("deny policy %+v", deny)
	}
	if !c.SCPs[0].AWSManaged || len(c.SCPs[0].Targets) != 7 {
		t.Errorf("FullAWSAccess %+v", c.SCPs[0])
	}
	for _, call := range srv.Calls() {
		if awsemu.Mutating(call.Service, call.Action) || !slices.Contains(collect.ScanActions, call.Service+":"+call.Action) {
			t.Errorf("unexpected call %s:%s", call.Service, call.Action)
		}
	}
}

func TestOrgControlsGaps(t *testing.T) {
	t.Run("policies denied", func(t *testing.T) {
		srv := awsemutest.Start(t, treeWorld(), awsemu.WithFaults(awsemu.Fault{Service: "organizations", Action: "ListPolicies", Code: "AccessDeniedException"}))
		c, gaps := collect.OrgControls(t.Context(), orgClient(t, srv, mgmtKey))
		if c.SCPs != nil {
			t.Error("SCPs known despite ListPolicies failing")
		}
		if len(gaps) != 1 || gaps[0].Section != snapshot.SectionOrgSCPs || gaps[0].Call != "organizations:ListPolicies" || gaps[0].Code != "AccessDeniedException" {
			t.Errorf("gaps %+v", gaps)
		}
		if len(c.Accounts) != 4 {
			t.Error("the tree should still be read")
		}
	})
	t.Run("one policy denied", func(t *testing.T) {
		srv := awsemutest.Start(t, treeWorld(), awsemu.WithFaults(
			awsemu.Fault{Service: "organizations", Action: "DescribePolicy", Code: "AccessDeniedException", Skip: 1},
			awsemu.Fault{Service: "organizations", Action: "ListTargetsForPolicy", Code: "ServiceException", Skip: 1}))
		c, gaps := collect.OrgControls(t.Context(), orgClient(t, srv, mgmtKey))
		if len(gaps) != 0 {
			t.Errorf("policy failures should stay on the policy: %+v", gaps)
		}
		p := c.SCPs[1]
		if p.Content != "" || p.Targets != nil || len(p.Gaps) != 2 || p.Gaps[0].Call != "organizations:DescribePolicy" {
			t.Errorf("policy %+v", p)
		}
		if c.SCPs[0].Content == "" || c.SCPs[0].Targets == nil {
			t.Error("the first policy should be complete")
		}
	})
	t.Run("tree walk fails part-way", func(t *testing.T) {
		srv := awsemutest.Start(t, treeWorld(), awsemu.WithFaults(awsemu.Fault{Service: "organizations", Action: "ListAccountsForParent", Code: "TooManyRequestsException", Skip: 1}))
		cfg := awsemutest.ConfigFor(t, srv, mgmtKey)
		cfg.RetryMaxAttempts = 1
		c, gaps := collect.OrgControls(t.Context(), organizations.NewFromConfig(cfg))
		if len(gaps) != 1 || gaps[0].Section != snapshot.SectionOrgTree || !strings.HasPrefix(gaps[0].Message, ouWork+": ") {
			t.Fatalf("gaps %+v", gaps)
		}
		if c.Root == nil || len(c.Accounts) != 2 {
			t.Errorf("partial tree: root %+v accounts %+v", c.Root, c.Accounts)
		}
	})
	t.Run("from a member account", func(t *testing.T) {
		srv := awsemutest.Start(t, treeWorld())
		c, gaps := collect.OrgControls(t.Context(), orgClient(t, srv, memberKey))
		if c.Root != nil || c.SCPs != nil || len(gaps) != 2 {
			t.Errorf("controls %+v gaps %+v", c, gaps)
		}
		for _, g := range gaps {
			if g.Code != "AccessDeniedException" {
				t.Errorf("gap %+v", g)
			}
		}
	})
}
