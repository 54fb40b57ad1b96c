package awsemu_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

func TestOrgWorldShape(t *testing.T) {
	for _, n := range []int{0, 1, 57} {
		w := awsemu.OrgWorld(n, awsemu.OrgWorldOptions{Now: testclock.Ref(), Suspended: min(n, 2), Closed: min(n, 1), DelegatedAdmin: n > 0})
		if err := w.Validate(); err != nil {
			t.Fatalf("n=%d: invalid world: %v", n, err)
		}
		if len(w.Accounts) != n+1 || w.Accounts[0].ID != awsemu.OrgWorldManagementID {
			t.Fatalf("n=%d: %d accounts, management %s", n, len(w.Accounts), w.Accounts[0].ID)
		}
		if got := len(w.Organization.OUs); got != 4+16 {
			t.Errorf("n=%d: %d OUs, want 20 (two levels of four)", n, got)
		}
	}
	// The mix is deterministic and covers every profile in a large world.
	seen := map[string]int{}
	for i := range 2000 {
		seen[awsemu.OrgWorldProfile(7, i)]++
	}
	if len(seen) != 7 || seen["no-credentials"] < 600 || seen["active-key"] < 80 {
		t.Errorf("profile mix %v", seen)
	}
	a, b := awsemu.OrgWorld(30, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 3}), awsemu.OrgWorld(30, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 3})
	for i := range a.Accounts {
		if len(a.Accounts[i].Root.AccessKeys) != len(b.Accounts[i].Root.AccessKeys) || a.Accounts[i].Root.Password != b.Accounts[i].Root.Password {
			t.Fatalf("account %d differs between two worlds of the same seed", i)
		}
	}
}

// TestOrgWorldThroughSDK lists a generated organisation of 250 accounts
// through the SDK's paginator while a third of the ListAccounts calls are
// throttled, then audits one member through AssumeRoot: what an
// organisation scan does, end to end.
func TestOrgWorldThroughSDK(t *testing.T) {
	const n = 250
	srv := awsemutest.Start(t, awsemu.OrgWorld(n, awsemu.OrgWorldOptions{Now: testclock.Ref(), Suspended: 3}),
		awsemu.WithFaults(awsemu.Fault{Service: "organizations", Action: "ListAccounts", Code: "TooManyRequestsException", Probability: 0.33}))
	retries := func(o *config.LoadOptions) error {
		o.Retryer = func() aws.Retryer { return retry.AddWithMaxAttempts(retryNoDelay(), 20) }
		return nil
	}
	c := clientsFor(t, srv, awsemu.OrgWorldAdminKey, retries)
	ctx := t.Context()
	seen := map[string]bool{}
	suspended := 0
	p := organizations.NewListAccountsPaginator(c.orgs, &organizations.ListAccountsInput{})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Accounts) > 20 {
			t.Errorf("page of %d accounts; AWS sends at most 20", len(page.Accounts))
		}
		for _, a := range page.Accounts {
			if seen[*a.Id] {
				t.Errorf("account %s listed twice", *a.Id)
			}
			seen[*a.Id] = true
			if a.State == "SUSPENDED" {
				suspended++
			}
		}
	}
	if len(seen) != n+1 || suspended != 3 || pages != (n+1+19)/20 {
		t.Errorf("listed %d accounts (%d suspended) in %d pages", len(seen), suspended, pages)
	}
	if srv.CallCount("organizations", "ListAccounts") <= pages {
		t.Error("no ListAccounts call was throttled; the fault did not fire")
	}

	member := awsemu.OrgWorldAccountID(5)
	out, err := c.sts.AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String(member),
		TaskPolicyArn: &ststypes.PolicyDescriptorType{Arn: aws.String("arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")}})
	if err != nil {
		t.Fatal(err)
	}
	sess := clientsForCreds(t, srv, aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken})
	user, err := sess.iam.GetUser(ctx, &iam.GetUserInput{})
	if err != nil || *user.User.Arn != "arn:aws:iam::"+member+":root" {
		t.Fatalf("GetUser in the AssumeRoot session: %v %v", user, err)
	}
	role, err := c.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + member + ":role/VigilAudit"), RoleSessionName: aws.String("vigil-test")})
	if err != nil || role.Credentials == nil {
		t.Fatalf("AssumeRole into the generated audit role: %v", err)
	}
	secrets := srv.IssuedSecrets()
	if len(secrets) != 4 {
		t.Errorf("IssuedSecrets = %d values, want a secret and a token for each of 2 sessions", len(secrets))
	}
}
