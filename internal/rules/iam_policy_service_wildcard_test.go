package rules

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func TestIAMPolicyServiceWildcard(t *testing.T) {
	s3All := managed("s3-all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket/*"}]}`, 1)
	spare := managed("spare", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`, 0)
	read := managed("read", readDoc, 1)
	notAction := managed("power", powerUser, 1)
	denyOnly := managed("deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, 1)
	// AWS-managed policies are out of IAM.21's scope.
	admin := awsManaged("AdministratorAccess", adminDoc, 1)
	d := &snapshot.IAMDetails{
		Users:    []snapshot.IAMUser{{Name: "alice", ARN: acctARN + "user/alice", Attached: []snapshot.AttachedPolicy{ref(s3All)}}},
		Policies: []snapshot.ManagedPolicy{s3All, spare, read, notAction, denyOnly, admin, managed("empty", "", 0)},
	}
	runResourceCases(t, IAMPolicyServiceWildcard, []resourceCase{
		{name: "customer-managed policies", acct: withDetails(d), want: map[string]userWant{
			"s3-all": {rule.Fail, "statement 1 allows s3:* (attached to user alice)"},
			// Security Hub judges unattached policies too.
			"spare": {rule.Fail, "attached to nothing"},
			"read":  {rule.Pass, "Grants no service in full"},
			"power": {rule.Fail, "NotAction"},
			"deny":  {rule.Pass, "Grants no service in full"},
			"empty": {rule.Unknown, "no document"},
		}},
		{name: "only AWS-managed policies", status: rule.Pass, acct: withDetails(&snapshot.IAMDetails{Policies: []snapshot.ManagedPolicy{admin}})},
		{name: "details denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionIAM, srcDetails, "AccessDenied"))
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})
}
