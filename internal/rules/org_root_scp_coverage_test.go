package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

const (
	scpMgmt    = "111122223333"
	scpSec     = "222233334444"
	scpProd    = "444455556666"
	scpSandbox = "666677778888"
	scpLegacy  = "555566667777"
	scpRoot    = "r-ab12"
	ouWork     = "ou-ab12-11111111"
	ouProdOU   = "ou-ab12-22222222"
	ouSandbox  = "ou-ab12-33333333"
)

const (
	fullAccess   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	denyRootExem = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"Null":{"aws:AssumedRoot":"true"}}}]}`
	denyRootAll  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`
	denyRootKeys = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:root"}]}`
	denyRegional = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`
	allowListEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","s3:*"],"Resource":"*"}]}`
)

var joinedOld = time.Date(2016, 5, 1, 0, 0, 0, 0, time.UTC)

// scpDoc is an organisation of four member accounts:
//
//	root ─ management (111122223333), legacy (555566667777, invited 2016)
//	  └ Workloads ─ security (222233334444)
//	      ├ Prod ─ prod (444455556666)
//	      └ Sandbox ─ sandbox (666677778888)
//
// with FullAWSAccess everywhere and the given policies added.
func scpDoc(policies ...snapshot.OrgPolicy) *snapshot.Document {
	all := []string{scpRoot, ouWork, ouProdOU, ouSandbox, scpMgmt, scpSec, scpProd, scpSandbox, scpLegacy}
	c := &snapshot.OrgControls{
		Root: &snapshot.OrgRoot{ID: scpRoot, PolicyTypes: []string{"SERVICE_CONTROL_POLICY"}},
		OUs: []snapshot.OrgUnit{{ID: ouWork, Name: "Workloads", ParentID: scpRoot}, {ID: ouProdOU, Name: "Prod", ParentID: ouWork},
			{ID: ouSandbox, Name: "Sandbox", ParentID: ouWork}},
		Accounts: []snapshot.OrgAccount{
			{ID: scpMgmt, Name: "management", ParentID: scpRoot, State: "ACTIVE", JoinedMethod: "INVITED"},
			{ID: scpSec, Name: "security", ParentID: ouWork, State: "ACTIVE", JoinedMethod: "CREATED"},
			{ID: scpProd, Name: "prod", ParentID: ouProdOU, State: "ACTIVE", JoinedMethod: "CREATED"},
			{ID: scpSandbox, Name: "sandbox", ParentID: ouSandbox, State: "ACTIVE", JoinedMethod: "CREATED"},
			{ID: scpLegacy, Name: "legacy", ParentID: scpRoot, State: "ACTIVE", JoinedMethod: "INVITED", JoinedTimestamp: &joinedOld},
		},
		SCPs: append([]snapshot.OrgPolicy{{ID: "p-FullAWSAccess", Name: "FullAWSAccess", AWSManaged: true, Content: fullAccess, Targets: all}}, policies...),
	}
	return &snapshot.Document{
		Organization: &snapshot.Organization{ID: "o-aa111bb222", ManagementAccountID: scpMgmt, Controls: c},
		Accounts:     []snapshot.Account{{ID: scpMgmt, Partition: "aws"}},
	}
}

func scpResult(t *testing.T, doc *snapshot.Document) rule.Result {
	t.Helper()
	res := rule.Evaluate([]rule.Rule{OrgRootSCPCoverage}, doc, now, rule.DefaultOptions())
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	r := res[0]
	if r.Message == "" || len(r.Evidence) == 0 {
		t.Fatalf("result without message or evidence: %+v", r)
	}
	if !strings.Contains(r.Message, "management account "+scpMgmt+" is outside every SCP's reach") {
		t.Errorf("message does not call out the management account: %s", r.Message)
	}
	return r
}

func TestOrgRootSCPCoverage(t *testing.T) {
	deny := func(id, name, content string, targets ...string) snapshot.OrgPolicy {
		return snapshot.OrgPolicy{ID: id, Name: name, Content: content, Targets: targets}
	}
	cases := []struct {
		name     string
		doc      *snapshot.Document
		status   rule.Status
		contains []string
		absent   []string
		// evidence maps an account ID to a fragment its evidence must hold.
		evidence map[string]string
	}{
		{
			name: "attached to the root: everyone covered", doc: scpDoc(deny("p-denyroot1", "DenyRoot", denyRootExem, scpRoot)),
			status:   rule.Pass,
			contains: []string{"reaches all 4 active member accounts", "legacy", "2017-09-15", "legacy (555566667777, joined 2016-05-01)"},
			absent:   []string{"AssumeRoot sessions (it has no"},
		},
		{
			name: "an OU without the SCP and an account-level attachment", doc: scpDoc(
				deny("p-denyroot1", "DenyRoot", denyRootExem, ouProdOU, scpSec)),
			status:   rule.Fail,
			contains: []string{"2 of 4 member accounts have no SCP", "sandbox (666677778888, OU Workloads/Sandbox)", "legacy (555566667777, under the root)"},
			absent:   []string{"prod (444455556666", "security (222233334444"},
			evidence: map[string]string{scpSandbox: "no root-restricting SCP reaches it", scpLegacy: "no root-restricting SCP reaches it", "p-denyroot1 (DenyRoot)": "restricts root in 2 accounts"},
		},
		{
			name: "no AssumeRoot exemption blocks central remediation", doc: scpDoc(deny("p-denyall01", "DenyRootAll", denyRootAll, scpRoot)),
			status:   rule.Pass,
			contains: []string{"p-denyall01 (DenyRootAll) also denies sts:AssumeRoot sessions", "fails in 4 accounts", `"Null": {"aws:AssumedRoot": "true"}`},
		},
		{
			name: "keys only", doc: scpDoc(deny("p-denykeys1", "DenyRootKeys", denyRootKeys, scpRoot)),
			status:   rule.Pass,
			contains: []string{"In 4 accounts only root access key creation is denied"},
		},
		{
			name: "mixed strengths", doc: scpDoc(deny("p-denykeys1", "DenyRootKeys", denyRootKeys, scpRoot), deny("p-denyroot1", "DenyRoot", denyRootExem, ouWork)),
			status:   rule.Pass,
			contains: []string{"every root action is denied in 3, root access key creation only in 1"},
		},
		{
			name: "a condition Vigil cannot evaluate", doc: scpDoc(deny("p-regional1", "DenyRootOutsideEU", denyRegional, scpRoot)),
			status:   rule.Unknown,
			contains: []string{"could not be decided", "aws:RequestedRegion"},
		},
		{
			name: "allow list without IAM denies key creation implicitly",
			doc: func() *snapshot.Document {
				d := scpDoc(deny("p-allowlist", "AllowComputeOnly", allowListEC2, ouWork))
				// Replace FullAWSAccess on the Workloads OU with the allow list.
				full := &d.Organization.Controls.SCPs[0]
				full.Targets = []string{scpRoot, ouProdOU, ouSandbox, scpMgmt, scpSec, scpProd, scpSandbox, scpLegacy}
				return d
			}(),
			status:   rule.Fail,
			contains: []string{"1 of 4 member accounts has no SCP", "legacy"},
			evidence: map[string]string{"allow list at " + ouWork: "restricts root in 3 accounts"},
		},
		{
			name: "policies not listable", doc: func() *snapshot.Document {
				d := scpDoc()
				d.Organization.Controls.SCPs = nil
				d.Organization.Gaps = []snapshot.Gap{{Section: snapshot.SectionOrgSCPs, Call: "organizations:ListPolicies", Code: "AccessDeniedException", Message: "denied"}}
				return d
			}(),
			status:   rule.Unknown,
			contains: []string{"could not be listed"},
			evidence: map[string]string{"": "AccessDeniedException: denied"},
		},
		{
			name: "one policy's text denied", doc: func() *snapshot.Document {
				d := scpDoc(snapshot.OrgPolicy{ID: "p-secret001", Name: "Hidden", Targets: []string{scpRoot},
					Gaps: []snapshot.Gap{{Section: snapshot.SectionOrgSCPs, Call: "organizations:DescribePolicy", Code: "AccessDeniedException", Message: "denied"}}})
				return d
			}(),
			status:   rule.Unknown,
			contains: []string{"p-secret001 (Hidden) is attached to r-ab12 but its text could not be read"},
			evidence: map[string]string{"p-secret001": "AccessDeniedException: denied"},
		},
		{
			name: "a restricting policy whose targets are unknown", doc: func() *snapshot.Document {
				return scpDoc(snapshot.OrgPolicy{ID: "p-denyroot1", Name: "DenyRoot", Content: denyRootExem, Targets: nil,
					Gaps: []snapshot.Gap{{Section: snapshot.SectionOrgSCPs, Call: "organizations:ListTargetsForPolicy", Code: "TooManyRequestsException", Message: "slow down"}}})
			}(),
			status:   rule.Unknown,
			contains: []string{"the targets of p-denyroot1 (DenyRoot) could not be read"},
		},
		{
			name: "tree not readable", doc: func() *snapshot.Document {
				d := scpDoc()
				d.Organization.Controls = nil
				d.Organization.Gaps = []snapshot.Gap{{Section: snapshot.SectionOrgTree, Call: "organizations:ListRoots", Code: "AccessDeniedException", Message: "denied"}}
				return d
			}(),
			status:   rule.Unknown,
			contains: []string{"could not be read (organizations:ListRoots: AccessDeniedException)"},
		},
		{
			name: "not collected at all", doc: func() *snapshot.Document {
				d := scpDoc()
				d.Organization.Controls = nil
				return d
			}(),
			status:   rule.Unknown,
			contains: []string{"were not read by this run"},
			absent:   []string{"could not be read"},
		},
		{
			name: "tree read part-way, all read accounts covered", doc: func() *snapshot.Document {
				d := scpDoc(deny("p-denyroot1", "DenyRoot", denyRootExem, scpRoot))
				d.Organization.Gaps = []snapshot.Gap{{Section: snapshot.SectionOrgTree, Call: "organizations:ListAccountsForParent", Code: "TooManyRequestsException", Message: ouSandbox + ": slow down"}}
				return d
			}(),
			status:   rule.Unknown,
			contains: []string{"could not be read completely"},
		},
		{
			name: "tree read part-way, an uncovered account still fails", doc: func() *snapshot.Document {
				d := scpDoc(deny("p-denyroot1", "DenyRoot", denyRootExem, ouWork))
				d.Organization.Gaps = []snapshot.Gap{{Section: snapshot.SectionOrgTree, Call: "organizations:ListAccountsForParent", Code: "TooManyRequestsException", Message: ouSandbox + ": slow down"}}
				return d
			}(),
			status:   rule.Fail,
			contains: []string{"legacy", "could not be read completely"},
		},
		{
			name: "SCPs disabled on the root", doc: func() *snapshot.Document {
				d := scpDoc(deny("p-denyroot1", "DenyRoot", denyRootExem, scpRoot))
				d.Organization.Controls.Root.PolicyTypes = []string{}
				return d
			}(),
			status:   rule.Fail,
			contains: []string{"not enabled on the root r-ab12", "4 accounts"},
		},
		{
			name: "a policy for another partition does not count", doc: func() *snapshot.Document {
				d := scpDoc(deny("p-denyroot1", "DenyRoot", strings.ReplaceAll(denyRootAll, "arn:aws:", "arn:aws-us-gov:"), scpRoot))
				return d
			}(),
			status:   rule.Fail,
			contains: []string{"4 of 4 member accounts"},
		},
		{
			name: "no attachment data for a level", doc: func() *snapshot.Document {
				d := scpDoc(deny("p-denyroot1", "DenyRoot", denyRootExem, ouWork))
				d.Organization.Controls.SCPs[0].Targets = []string{scpRoot, ouWork, ouProdOU, scpSec, scpProd, scpSandbox, scpLegacy}
				return d
			}(),
			// Sandbox is covered through Workloads; the missing attachment
			// on its OU cannot make it "allowed".
			status: rule.Fail,
		},
		{
			name: "suspended accounts are not judged", doc: func() *snapshot.Document {
				d := scpDoc(deny("p-denyroot1", "DenyRoot", denyRootExem, ouWork))
				d.Organization.Controls.Accounts[4].State = "SUSPENDED"
				return d
			}(),
			status:   rule.Pass,
			contains: []string{"all 3 active member accounts", "1 account suspended, closed or closing is not judged"},
		},
		{
			name: "no member accounts", doc: func() *snapshot.Document {
				d := scpDoc()
				d.Organization.Controls.Accounts = d.Organization.Controls.Accounts[:1]
				return d
			}(),
			status: rule.NotApplicable,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := scpResult(t, c.doc)
			if r.Status != c.status {
				t.Fatalf("status %s, want %s: %s\nevidence: %+v", r.Status, c.status, r.Message, r.Evidence)
			}
			for _, f := range c.contains {
				if !strings.Contains(r.Message, f) {
					t.Errorf("message lacks %q:\n%s", f, r.Message)
				}
			}
			for _, f := range c.absent {
				if strings.Contains(r.Message, f) {
					t.Errorf("message has %q:\n%s", f, r.Message)
				}
			}
			for key, frag := range c.evidence {
				found := false
				for _, e := range r.Evidence {
					if e.Key == key && strings.Contains(e.Value+e.Error, frag) {
						found = true
					}
				}
				if !found {
					t.Errorf("no evidence %q containing %q in %+v", key, frag, r.Evidence)
				}
			}
		})
	}
}

func TestOrgRootSCPCoverageNeverPassesOnGaps(t *testing.T) {
	// Every single failure a collection can record turns a PASS into
	// something else.
	base := func() *snapshot.Document {
		return scpDoc(snapshot.OrgPolicy{ID: "p-denyroot1", Name: "DenyRoot", Content: denyRootExem, Targets: []string{scpRoot}})
	}
	if r := scpResult(t, base()); r.Status != rule.Pass {
		t.Fatalf("baseline %s: %s", r.Status, r.Message)
	}
	mutations := map[string]func(d *snapshot.Document){
		"tree gap": func(d *snapshot.Document) {
			d.Organization.Gaps = append(d.Organization.Gaps, snapshot.Gap{Section: snapshot.SectionOrgTree, Call: "x", Code: "y"})
		},
		"policy text gap":   func(d *snapshot.Document) { d.Organization.Controls.SCPs[1].Content = "" },
		"policy target gap": func(d *snapshot.Document) { d.Organization.Controls.SCPs[1].Targets = nil },
		"root unknown":      func(d *snapshot.Document) { d.Organization.Controls.Root = nil },
		"SCPs unknown":      func(d *snapshot.Document) { d.Organization.Controls.SCPs = nil },
		"garbled policy":    func(d *snapshot.Document) { d.Organization.Controls.SCPs[1].Content = "{not json" },
	}
	for name, mutate := range mutations {
		d := base()
		mutate(d)
		if r := scpResult(t, d); r.Status == rule.Pass {
			t.Errorf("%s: passed: %s", name, r.Message)
		}
	}
}
