package rules

import (
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

const (
	acctARN   = "arn:aws:iam::111122223333:"
	adminDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	readDoc   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`
	powerUser = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`
)

func managed(name, doc string, attached int) snapshot.ManagedPolicy {
	return snapshot.ManagedPolicy{Name: name, ARN: acctARN + "policy/" + name, AttachmentCount: attached, DefaultVersion: "v1", Document: doc}
}

func awsManaged(name, doc string, attached int) snapshot.ManagedPolicy {
	return snapshot.ManagedPolicy{Name: name, ARN: "arn:aws:iam::aws:policy/" + name, AWSManaged: true, AttachmentCount: attached, DefaultVersion: "v1", Document: doc}
}

func ref(p snapshot.ManagedPolicy) snapshot.AttachedPolicy {
	return snapshot.AttachedPolicy{Name: p.Name, ARN: p.ARN}
}

func withDetails(d *snapshot.IAMDetails) *snapshot.Account {
	return account(func(a *snapshot.Account) { a.IAM = d })
}

// runPolicyCases checks one result per resource, keyed by the resource
// ARN's last path element.
func runPolicyCases(t *testing.T, r rule.Rule, cases []resourceCase) {
	t.Helper()
	runResourceCases(t, r, cases)
}

func TestIAMUserDirectPolicies(t *testing.T) {
	read := managed("read", readDoc, 2)
	d := &snapshot.IAMDetails{
		Users: []snapshot.IAMUser{
			{Name: "grouped", ARN: acctARN + "user/grouped", Groups: []string{"devs"}},
			{Name: "attached", ARN: acctARN + "user/attached", Attached: []snapshot.AttachedPolicy{ref(read)}},
			{Name: "inline", ARN: acctARN + "user/inline", Inline: []snapshot.InlinePolicy{{Name: "own", Document: readDoc}}, Groups: []string{"devs"}},
			{Name: "nothing", ARN: acctARN + "user/nothing"},
		},
		Groups:   []snapshot.IAMGroup{{Name: "devs", ARN: acctARN + "group/devs", Attached: []snapshot.AttachedPolicy{ref(read)}}},
		Policies: []snapshot.ManagedPolicy{read},
	}
	runPolicyCases(t, IAMUserDirectPolicies, []resourceCase{
		{name: "attached and inline user policies", acct: withDetails(d), want: map[string]userWant{
			"grouped":  {rule.Pass, "no policy of its own"},
			"attached": {rule.Fail, "attached read"},
			"inline":   {rule.Fail, "inline own"},
			"nothing":  {rule.Pass, "no policy of its own"},
		}},
		{name: "no users", status: rule.Pass, acct: withDetails(&snapshot.IAMDetails{})},
		{name: "details denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionIAM, srcDetails, "AccessDenied"))
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
			a.IAM = d
		})},
	})
}

func TestIAMPolicyFullAdmin(t *testing.T) {
	custom := managed("custom-admin", adminDoc, 1)
	unattached := managed("spare-admin", adminDoc, 0)
	read := managed("read", readDoc, 1)
	admin := awsManaged("AdministratorAccess", adminDoc, 1)
	power := awsManaged("PowerUserAccess", powerUser, 1)
	// All but one IAM action: the holder can attach itself anything.
	sneaky := managed("sneaky", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:DeleteUser","Resource":"*"}]}`, 1)
	// A narrow Deny does not make "*:*" acceptable.
	denyOne := managed("deny-one", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:DeleteAccountPasswordPolicy","Resource":"*"}]}`, 1)
	// A Deny of everything leaves nothing.
	denyAll := managed("deny-all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*"}]}`, 1)
	mfaOnly := managed("mfa-admin", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`, 1)
	broken := managed("broken", `{"Statement":`, 1)
	empty := managed("empty", "", 1)
	d := &snapshot.IAMDetails{
		Users: []snapshot.IAMUser{{Name: "alice", ARN: acctARN + "user/alice", Attached: []snapshot.AttachedPolicy{ref(custom)},
			Inline: []snapshot.InlinePolicy{{Name: "alice-admin", Document: adminDoc}}}},
		Groups: []snapshot.IAMGroup{{Name: "ops", ARN: acctARN + "group/ops", Attached: []snapshot.AttachedPolicy{ref(read), ref(power), ref(sneaky), ref(denyOne), ref(denyAll), ref(mfaOnly), ref(broken), ref(empty)},
			Inline: []snapshot.InlinePolicy{{Name: "ops-read", Document: readDoc}}}},
		Roles:    []snapshot.IAMRole{{Name: "break-glass", ARN: acctARN + "role/break-glass", Attached: []snapshot.AttachedPolicy{ref(admin)}}},
		Policies: []snapshot.ManagedPolicy{custom, unattached, read, admin, power, sneaky, denyOne, denyAll, mfaOnly, broken, empty},
	}
	runPolicyCases(t, IAMPolicyFullAdmin, []resourceCase{
		{name: "every kind of policy", acct: withDetails(d), want: map[string]userWant{
			"custom-admin": {rule.Fail, "attached to user alice"},
			"spare-admin":  {rule.NotApplicable, "attached to no user, group or role"},
			"read":         {rule.Pass, "Does not allow every action"},
			// CIS counts the AWS-managed AdministratorAccess.
			"AdministratorAccess": {rule.Fail, "CIS counts AWS-managed policies"},
			// PowerUserAccess is broad but not "*:*" (Prowler flags any Allow NotAction).
			"PowerUserAccess": {rule.Pass, "not \"*:*\""},
			"sneaky":          {rule.Fail, "grant themselves the rest"},
			"deny-one":        {rule.Fail, "takes only part of that away"},
			"deny-all":        {rule.Pass, "denies every action"},
			"mfa-admin":       {rule.Fail, "aws:multifactorauthpresent"},
			"broken":          {rule.Unknown, "not a policy document"},
			"empty":           {rule.Unknown, "IAM sent no document"},
			"alice-admin":     {rule.Fail, "Inline policy alice-admin of user alice"},
			"ops-read":        {rule.Pass, "Does not allow every action"},
		}},
		{name: "nothing to judge", status: rule.Pass, acct: withDetails(&snapshot.IAMDetails{})},
		{name: "details denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionIAM, srcDetails, "AccessDenied"))
		})},
	})
}

func TestIAMPolicyFullAdminInlineResource(t *testing.T) {
	d := &snapshot.IAMDetails{Roles: []snapshot.IAMRole{{Name: "app", ARN: acctARN + "role/app", Inline: []snapshot.InlinePolicy{{Name: "all", Document: adminDoc}}}}}
	doc := &snapshot.Document{Accounts: []snapshot.Account{*withDetails(d)}}
	res := rule.Evaluate([]rule.Rule{IAMPolicyFullAdmin}, doc, now, rule.DefaultOptions())
	if len(res) != 1 || res[0].Resource != acctARN+"role/app/inline-policy/all" || res[0].Status != rule.Fail {
		t.Fatalf("results = %+v", res)
	}
}

func TestIAMSupportRole(t *testing.T) {
	support := awsManaged("AWSSupportAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"support:*","Resource":"*"}]}`, 1)
	govSupport := snapshot.AttachedPolicy{Name: "AWSSupportAccess", ARN: "arn:aws-us-gov:iam::aws:policy/AWSSupportAccess"}
	// A customer policy that borrows the name is not AWS's.
	fake := snapshot.AttachedPolicy{Name: "AWSSupportAccess", ARN: acctARN + "policy/AWSSupportAccess"}
	// Every account has the service-linked role AWSServiceRoleForSupport
	// with AWSSupportServiceRolePolicy; that is AWS's, not a support role.
	linked := snapshot.IAMRole{Name: "AWSServiceRoleForSupport", ARN: acctARN + "role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport",
		Attached: []snapshot.AttachedPolicy{{Name: "AWSSupportServiceRolePolicy", ARN: "arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy"}}}
	runCases(t, IAMSupportRole, []ruleCase{
		{name: "a role holds it", status: rule.Pass, contains: []string{"role incident-support"}, acct: withDetails(&snapshot.IAMDetails{
			Roles: []snapshot.IAMRole{linked, {Name: "incident-support", ARN: acctARN + "role/incident-support", Attached: []snapshot.AttachedPolicy{ref(support)}}}})},
		{name: "GovCloud ARN", status: rule.Pass, acct: withDetails(&snapshot.IAMDetails{
			Roles: []snapshot.IAMRole{{Name: "support", ARN: "arn:aws-us-gov:iam::111122223333:role/support", Attached: []snapshot.AttachedPolicy{govSupport}}}})},
		{name: "only a group holds it", status: rule.Fail, contains: []string{"group helpdesk", "IAM.18 accepts"}, acct: withDetails(&snapshot.IAMDetails{
			Groups: []snapshot.IAMGroup{{Name: "helpdesk", ARN: acctARN + "group/helpdesk", Attached: []snapshot.AttachedPolicy{ref(support)}}}})},
		{name: "only the service-linked role and a look-alike", status: rule.Fail, contains: []string{"No role, user or group"}, acct: withDetails(&snapshot.IAMDetails{
			Roles: []snapshot.IAMRole{linked, {Name: "fake", ARN: acctARN + "role/fake", Attached: []snapshot.AttachedPolicy{fake}}}})},
		{name: "details denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionIAM, srcDetails, "AccessDenied"))
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})
}

func TestPasswordClassRules(t *testing.T) {
	strong := &snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 14, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true,
		RequireSymbols: true, RequireNumbers: true, MaxPasswordAge: 90, ExpirePasswords: true}
	for _, r := range []rule.Rule{IAMPasswordUppercase, IAMPasswordLowercase, IAMPasswordSymbols, IAMPasswordNumbers} {
		t.Run(r.ID, func(t *testing.T) {
			weak := *strong
			// Turn off only the setting this rule judges.
			switch r.ID {
			case "iam-password-uppercase":
				weak.RequireUppercaseCharacters = false
			case "iam-password-lowercase":
				weak.RequireLowercaseCharacters = false
			case "iam-password-symbols":
				weak.RequireSymbols = false
			case "iam-password-numbers":
				weak.RequireNumbers = false
			}
			runCases(t, r, []ruleCase{
				{name: "required", status: rule.Pass, acct: withPolicy(strong)},
				{name: "not required", status: rule.Fail, contains: []string{"does not require"}, acct: withPolicy(&weak)},
				{name: "no policy", status: rule.Fail, contains: []string{"no IAM password policy"}, acct: withPolicy(&snapshot.PasswordPolicy{Present: false})},
				{name: "denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
					a.AddGap(gap(snapshot.SectionPasswordPolicy, "iam:GetAccountPasswordPolicy", "AccessDenied"))
				})},
			})
		})
	}
}

func TestIAMPasswordExpiry(t *testing.T) {
	runCases(t, IAMPasswordExpiry, []ruleCase{
		{name: "90 days passes", status: rule.Pass, acct: withPolicy(&snapshot.PasswordPolicy{Present: true, MaxPasswordAge: 90, ExpirePasswords: true})},
		{name: "91 days fails", status: rule.Fail, contains: []string{"after 91 days"}, acct: withPolicy(&snapshot.PasswordPolicy{Present: true, MaxPasswordAge: 91, ExpirePasswords: true})},
		{name: "never expires fails", status: rule.Fail, contains: []string{"never expires"}, acct: withPolicy(&snapshot.PasswordPolicy{Present: true, MinimumPasswordLength: 14})},
		{name: "no policy fails", status: rule.Fail, acct: withPolicy(&snapshot.PasswordPolicy{Present: false})},
		{name: "denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionPasswordPolicy, "iam:GetAccountPasswordPolicy", "AccessDenied"))
		})},
	})
}

// TestDirectPoliciesStaysCompact: users who hold nothing of their own share
// one outcome.
func TestDirectPoliciesStaysCompact(t *testing.T) {
	const n = 2000
	d := &snapshot.IAMDetails{}
	for i := range n {
		name := fmt.Sprintf("user-%04d", i)
		d.Users = append(d.Users, snapshot.IAMUser{Name: name, ARN: acctARN + "user/" + name, Groups: []string{"devs"}})
	}
	doc := &snapshot.Document{Accounts: []snapshot.Account{*withDetails(d)}}
	in := rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: rule.DefaultOptions()}
	if o := IAMUserDirectPolicies.Check(in); o.Set.Len() != n || o.Status != rule.Pass {
		t.Fatalf("%d resources, status %s", o.Set.Len(), o.Status)
	}
	if allocs := testing.AllocsPerRun(5, func() { IAMUserDirectPolicies.Check(in) }); allocs > 60*raceAllocFactor {
		t.Errorf("%.0f allocations for %d users", allocs, n)
	}
}
