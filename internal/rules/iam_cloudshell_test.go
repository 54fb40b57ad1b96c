package rules

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func TestIAMCloudShellFullAccess(t *testing.T) {
	shell := awsManaged(cloudShellPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudshell:*","Resource":"*"}]}`, 3)
	govShell := snapshot.AttachedPolicy{Name: cloudShellPolicy, ARN: "arn:aws-us-gov:iam::aws:policy/" + cloudShellPolicy}
	// A customer policy that borrows the name is not AWS's policy.
	lookalike := managed(cloudShellPolicy, readDoc, 1)
	read := managed("read", readDoc, 1)
	d := &snapshot.IAMDetails{
		Users: []snapshot.IAMUser{
			{Name: "shell-user", ARN: acctARN + "user/shell-user", Attached: []snapshot.AttachedPolicy{ref(read), ref(shell)}},
			{Name: "gov-user", ARN: acctARN + "user/gov-user", Attached: []snapshot.AttachedPolicy{govShell}},
			{Name: "named-alike", ARN: acctARN + "user/named-alike", Attached: []snapshot.AttachedPolicy{ref(lookalike)}},
			// Members of a group holding it are judged through the group.
			{Name: "member", ARN: acctARN + "user/member", Groups: []string{"shellers"}},
		},
		Groups: []snapshot.IAMGroup{{Name: "shellers", ARN: acctARN + "group/shellers", Attached: []snapshot.AttachedPolicy{ref(shell)}}},
		Roles: []snapshot.IAMRole{
			{Name: "ops", ARN: acctARN + "role/ops", Attached: []snapshot.AttachedPolicy{ref(shell)}},
			// An inline grant of cloudshell:* is not the managed policy
			// Security Hub IAM.27 looks for.
			{Name: "inline", ARN: acctARN + "role/inline", Inline: []snapshot.InlinePolicy{{Name: "shell", Document: `{"Statement":[{"Effect":"Allow","Action":"cloudshell:*","Resource":"*"}]}`}}},
		},
		Policies: []snapshot.ManagedPolicy{shell, lookalike, read},
	}
	runResourceCases(t, IAMCloudShellFullAccess, []resourceCase{
		{name: "users, groups and roles", acct: withDetails(d), want: map[string]userWant{
			"shell-user":  {rule.Fail, "User shell-user holds AWSCloudShellFullAccess"},
			"gov-user":    {rule.Fail, "User gov-user holds"},
			"named-alike": {rule.Pass, "Does not hold"},
			"member":      {rule.Pass, "Does not hold"},
			"shellers":    {rule.Fail, "every member of the group"},
			"ops":         {rule.Fail, "whoever assumes the role"},
			"inline":      {rule.Pass, "Does not hold"},
		}},
		{name: "no identities", status: rule.Pass, acct: withDetails(&snapshot.IAMDetails{})},
		{name: "details denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionIAM, srcDetails, "AccessDenied"))
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
			a.IAM = d
		})},
	})
}
