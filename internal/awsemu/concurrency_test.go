package awsemu_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

// TestConcurrentUse drives every kind of call, and the test controls, from
// many goroutines at once. Its value is under -race.
func TestConcurrentUse(t *testing.T) {
	w := testWorld()
	for i := range 8 {
		w.Accounts[2].Users = append(w.Accounts[2].Users, awsemu.User{Name: fmt.Sprintf("worker%d", i)})
	}
	clock := awsemu.NewManualClock(t0)
	srv := awsemutest.Start(t, w, awsemu.WithClock(clock.Now),
		awsemu.WithFaults(awsemu.Fault{Service: "iam", Action: "GetAccountSummary", Code: "Throttling", Probability: 0.2}))
	ctx := t.Context()

	mgmtRoot := clientsFor(t, srv, mgmtRootKey, fastRetries)
	mgmtAdmin := clientsFor(t, srv, mgmtAdminKey, fastRetries)
	member := clientsFor(t, srv, memberAliceKey, fastRetries)

	// allowed are the errors a goroutine may legitimately meet when others
	// race it: throttles that outlast retries, reports mid-generation,
	// and key quotas.
	allowed := map[string]bool{"Throttling": true, "ReportInProgress": true, "LimitExceeded": true}
	var mu sync.Mutex
	var unexpected []error
	check := func(err error) {
		if err == nil {
			return
		}
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && allowed[apiErr.ErrorCode()] {
			return
		}
		mu.Lock()
		unexpected = append(unexpected, err)
		mu.Unlock()
	}

	// sessionClients must not call t.Fatal: it runs on other goroutines.
	sessionClients := func(c *ststypes.Credentials) (clients, error) {
		cfg, err := srv.AWSConfig(ctx, aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}, fastRetries)
		return clients{iam.NewFromConfig(cfg), sts.NewFromConfig(cfg), organizations.NewFromConfig(cfg)}, err
	}

	var wg sync.WaitGroup
	for g := range 24 {
		wg.Go(func() {
			for i := range 6 {
				switch (g + i) % 8 {
				case 0:
					_, err := mgmtRoot.iam.GetAccountSummary(ctx, nil)
					check(err)
				case 1:
					_, err := member.iam.GenerateCredentialReport(ctx, nil)
					check(err)
					_, err = member.iam.GetCredentialReport(ctx, nil)
					var notPresent *iamtypes.CredentialReportNotPresentException
					if !errors.As(err, &notPresent) {
						check(err)
					}
				case 2:
					p := organizations.NewListAccountsPaginator(mgmtAdmin.orgs, &organizations.ListAccountsInput{MaxResults: aws.Int32(2)})
					for p.HasMorePages() {
						_, err := p.NextPage(ctx)
						check(err)
						if err != nil {
							break
						}
					}
				case 3:
					out, err := mgmtAdmin.sts.AssumeRole(ctx, &sts.AssumeRoleInput{
						RoleArn: aws.String("arn:aws:iam::" + memberID + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String(fmt.Sprintf("g%d", g))})
					check(err)
					if err == nil {
						sc, err := sessionClients(out.Credentials)
						check(err)
						_, err = sc.sts.GetCallerIdentity(ctx, nil)
						check(err)
					}
				case 4:
					user := aws.String(fmt.Sprintf("worker%d", g%8))
					out, err := member.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user})
					check(err)
					if err == nil {
						_, err = member.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: out.AccessKey.AccessKeyId})
						check(err)
					}
				case 5:
					out, err := mgmtAdmin.sts.AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String(memberID),
						TaskPolicyArn: &ststypes.PolicyDescriptorType{Arn: aws.String(auditPolicy)}})
					check(err)
					if err == nil {
						sc, err := sessionClients(out.Credentials)
						check(err)
						_, err = sc.iam.ListAccessKeys(ctx, nil)
						check(err)
					}
				case 6:
					_, err := mgmtAdmin.iam.ListOrganizationsFeatures(ctx, nil)
					check(err)
					_, err = member.iam.ListVirtualMFADevices(ctx, nil)
					check(err)
				case 7:
					srv.SetLatency(time.Duration(i) * time.Millisecond)
					srv.SetServiceLatency("sts", time.Millisecond)
					srv.AddFault(awsemu.Fault{Service: "iam", Action: "NoSuchOp", Code: "Throttling"})
					clock.Advance(time.Second)
					_ = srv.Calls()
					_ = srv.CallCount("iam", "")
					_, _ = srv.Account(memberID)
					_ = srv.World()
				}
			}
		})
	}
	wg.Wait()
	for _, err := range unexpected {
		t.Error(err)
	}

	calls := srv.Calls()
	if len(calls) < 100 {
		t.Errorf("only %d calls logged", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i].Seq <= calls[i-1].Seq {
			t.Fatalf("call log out of order at %d: %d after %d", i, calls[i].Seq, calls[i-1].Seq)
		}
	}
	acct, _ := srv.Account(memberID)
	for _, u := range acct.Users {
		if len(u.AccessKeys) > 2 {
			t.Errorf("user %s has %d keys", u.Name, len(u.AccessKeys))
		}
	}
}
