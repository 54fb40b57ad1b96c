package rules

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// TestIAMSupportAccess holds the rule to Security Hub IAM.18's Config rule
// (iam-policy-in-use, ANY): a user, a group with members or a role
// holding AWS's AWSSupportAccess passes, where iam-support-role, the CIS
// reading, wants a role.
func TestIAMSupportAccess(t *testing.T) {
	support := awsManaged(supportPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"support:*","Resource":"*"}]}`, 1)
	cnSupport := snapshot.AttachedPolicy{Name: supportPolicy, ARN: "arn:aws-cn:iam::aws:policy/AWSSupportAccess"}
	fake := snapshot.AttachedPolicy{Name: supportPolicy, ARN: acctARN + "policy/AWSSupportAccess"}
	linked := snapshot.IAMRole{Name: "AWSServiceRoleForSupport", ARN: acctARN + "role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport",
		Attached: []snapshot.AttachedPolicy{{Name: "AWSSupportServiceRolePolicy", ARN: "arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy"}}}
	helpdesk := snapshot.IAMGroup{Name: "helpdesk", ARN: acctARN + "group/helpdesk", Attached: []snapshot.AttachedPolicy{ref(support)}}
	member := snapshot.IAMUser{Name: "carol", ARN: acctARN + "user/carol", Groups: []string{"helpdesk"}}

	cases := []ruleCase{
		{name: "a role holds it", status: rule.Pass, contains: []string{"1 identity: role incident-support"}, excludes: []string{"No role holds it"}, acct: withDetails(&snapshot.IAMDetails{
			Roles: []snapshot.IAMRole{linked, {Name: "incident-support", ARN: acctARN + "role/incident-support", Attached: []snapshot.AttachedPolicy{ref(support)}}}})},
		// The case iam-support-role fails: Security Hub passes a user.
		{name: "only a user holds it", status: rule.Pass, contains: []string{"user dave", "No role holds it, which CIS asks for"}, acct: withDetails(&snapshot.IAMDetails{
			Users: []snapshot.IAMUser{{Name: "dave", ARN: acctARN + "user/dave", Attached: []snapshot.AttachedPolicy{ref(support)}}}})},
		{name: "a group with a member holds it", status: rule.Pass, contains: []string{"group helpdesk (1 member)"}, acct: withDetails(&snapshot.IAMDetails{
			Users: []snapshot.IAMUser{member}, Groups: []snapshot.IAMGroup{helpdesk}})},
		// Config counts a group only with one or more users.
		{name: "only an empty group holds it", status: rule.Fail, contains: []string{"only to a group without members"}, acct: withDetails(&snapshot.IAMDetails{
			Users: []snapshot.IAMUser{{Name: "erin", ARN: acctARN + "user/erin", Groups: []string{"other"}}}, Groups: []snapshot.IAMGroup{helpdesk}})},
		{name: "China partition", status: rule.Pass, acct: withDetails(&snapshot.IAMDetails{
			Roles: []snapshot.IAMRole{{Name: "support", ARN: "arn:aws-cn:iam::111122223333:role/support", Attached: []snapshot.AttachedPolicy{cnSupport}}}})},
		{name: "only the service-linked role and a look-alike", status: rule.Fail, contains: []string{"No user, group or role"}, acct: withDetails(&snapshot.IAMDetails{
			Users: []snapshot.IAMUser{{Name: "mallory", ARN: acctARN + "user/mallory", Attached: []snapshot.AttachedPolicy{fake}}},
			Roles: []snapshot.IAMRole{linked}})},
		{name: "no identities at all", status: rule.Fail, acct: withDetails(&snapshot.IAMDetails{})},
		{name: "details denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionIAM, srcDetails, "AccessDenied"))
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	}
	runCases(t, IAMSupportAccess, cases)
	// Where the two readings differ: a user alone passes IAM.18 and fails
	// the CIS item.
	userOnly := cases[1].acct
	doc := &snapshot.Document{Accounts: []snapshot.Account{*userOnly}}
	in := rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: rule.DefaultOptions()}
	if got := IAMSupportRole.Check(in).Status; got != rule.Fail {
		t.Errorf("iam-support-role with a user alone = %s, want FAIL", got)
	}
}

// TestIAMSupportAccessEvidence: the evidence names who holds the policy
// by ARN, kind by kind, and "none" where nobody does.
func TestIAMSupportAccessEvidence(t *testing.T) {
	support := snapshot.AttachedPolicy{Name: supportPolicy, ARN: "arn:aws:iam::aws:policy/AWSSupportAccess"}
	a := withDetails(&snapshot.IAMDetails{
		Users: []snapshot.IAMUser{{Name: "dave", ARN: acctARN + "user/dave", Attached: []snapshot.AttachedPolicy{support}}},
		Roles: []snapshot.IAMRole{{Name: "support", ARN: acctARN + "role/support", Attached: []snapshot.AttachedPolicy{support}}},
	})
	doc := &snapshot.Document{Accounts: []snapshot.Account{*a}}
	out := IAMSupportAccess.Check(rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: rule.DefaultOptions()})
	got := map[string]string{}
	for _, e := range out.Evidence {
		got[e.Key] = e.Value
	}
	want := map[string]string{
		"users with AWSSupportAccess":              acctARN + "user/dave",
		"groups with members and AWSSupportAccess": "none",
		"roles with AWSSupportAccess":              acctARN + "role/support",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("evidence %q = %q, want %q", k, got[k], v)
		}
	}
	if out.Status != rule.Pass || !strings.Contains(out.Message, "2 identities") {
		t.Errorf("%s: %s", out.Status, out.Message)
	}
}
