package awsemu_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

// The test world: an organization with a management account, an IAM
// delegated administrator, two members (one holding root keys and a decoy
// IAM user named "root", one suspended) and a standalone account.
const (
	mgmtID       = "111122223333"
	adminID      = "222233334444" // IAM delegated administrator
	memberID     = "444455556666"
	suspendedID  = "555566667777"
	standaloneID = "999988887777"

	mgmtRootKey     = "AKIAMGMTROOT00000001" // active
	mgmtRootKey2    = "AKIAMGMTROOT00000002" // inactive
	mgmtAdminKey    = "AKIAMGMTADMIN0000001" // IAM user "admin" in the management account
	mgmtRoleKey     = "AKIAMGMTROLE00000001" // World.Credentials: role/Auditor in the management account
	delegatedKey    = "AKIADELEGATED0000001" // IAM user "secops" in the delegated-admin account
	memberRootKey   = "AKIAMEMBERROOT000001" // active, used
	memberRootKey2  = "AKIAMEMBERROOT000002" // inactive, never used
	memberDecoyKey  = "AKIAMEMBERUSERROOT01" // IAM user literally named "root"
	memberAliceKey  = "AKIAMEMBERALICE00001"
	standaloneRoot  = "AKIASTANDALONE000001"
	standaloneAdmin = "AKIASTANDALONEADMIN1"

	ouProd = "ou-abcd-11111111"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func tp(t time.Time) *time.Time { return &t }

func testWorld() *awsemu.World {
	return &awsemu.World{
		Organization: &awsemu.Organization{
			ID:                        "o-aa111bb222",
			ManagementAccountID:       mgmtID,
			RootID:                    "r-ab12",
			OUs:                       []awsemu.OU{{ID: ouProd, Name: "Prod", ParentID: "r-ab12"}},
			TrustedAccess:             []string{"iam.amazonaws.com"},
			RootCredentialsManagement: true,
			DelegatedAdmins:           []string{adminID},
		},
		Accounts: []*awsemu.Account{
			{
				ID: mgmtID, Name: "management", Email: "mgmt@example.com",
				JoinedTimestamp: time.Date(2019, 3, 14, 9, 0, 0, 0, time.UTC),
				Root: awsemu.Root{
					CreateDate: time.Date(2019, 3, 14, 9, 21, 7, 0, time.UTC),
					Password:   true, PasswordLastUsed: tp(time.Date(2026, 10, 2, 17, 40, 12, 0, time.UTC)),
					AccessKeys: []awsemu.AccessKey{
						{ID: mgmtRootKey, Secret: "mgmt-root-secret-1", Status: "Active", CreateDate: time.Date(2019, 3, 14, 9, 45, 51, 0, time.UTC),
							LastUsed: &awsemu.KeyLastUsed{Date: time.Date(2026, 10, 30, 8, 12, 0, 0, time.UTC), Region: "us-east-1", Service: "ec2"}},
						{ID: mgmtRootKey2, Status: "Inactive", CreateDate: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)},
					},
					MFADevices: []awsemu.MFADevice{{Type: "virtual", EnableDate: time.Date(2019, 3, 15, 0, 0, 0, 0, time.UTC)}},
				},
				Users: []awsemu.User{
					{Name: "admin", CreateDate: time.Date(2021, 6, 1, 12, 0, 0, 0, time.UTC), Password: true,
						AccessKeys: []awsemu.AccessKey{{ID: mgmtAdminKey, CreateDate: time.Date(2021, 6, 1, 12, 5, 0, 0, time.UTC)}}},
				},
				Roles: []awsemu.Role{{Name: "Auditor"}},
			},
			{
				ID: adminID, Name: "security", ParentID: ouProd,
				Users: []awsemu.User{{Name: "secops", AccessKeys: []awsemu.AccessKey{{ID: delegatedKey}}}},
			},
			{
				ID: memberID, Name: "prod", Email: "prod@example.com", ParentID: ouProd,
				JoinedTimestamp: time.Date(2022, 1, 10, 8, 0, 0, 0, time.UTC),
				Root: awsemu.Root{
					CreateDate: time.Date(2022, 1, 10, 8, 0, 0, 0, time.UTC),
					AccessKeys: []awsemu.AccessKey{
						{ID: memberRootKey, CreateDate: time.Date(2022, 1, 10, 8, 30, 0, 0, time.UTC),
							LastUsed: &awsemu.KeyLastUsed{Date: time.Date(2026, 10, 31, 2, 0, 0, 0, time.UTC), Service: "s3"}},
						{ID: memberRootKey2, Status: "Inactive", CreateDate: time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)},
					},
					SigningCertificates: []awsemu.Cert{{ID: "CERTMEMBERROOT1", UploadDate: time.Date(2022, 2, 2, 0, 0, 0, 0, time.UTC)}},
				},
				Users: []awsemu.User{
					{Name: "root", CreateDate: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
						AccessKeys: []awsemu.AccessKey{{ID: memberDecoyKey, CreateDate: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)}}},
					{Name: "alice", CreateDate: time.Date(2021, 6, 1, 12, 0, 0, 0, time.UTC), Password: true,
						PasswordLastUsed:    tp(time.Date(2026, 10, 29, 18, 2, 44, 0, time.UTC)),
						PasswordLastChanged: tp(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)),
						AccessKeys:          []awsemu.AccessKey{{ID: memberAliceKey, CreateDate: time.Date(2026, 5, 1, 10, 5, 0, 0, time.UTC)}},
						MFADevices:          []awsemu.MFADevice{{EnableDate: time.Date(2021, 6, 2, 0, 0, 0, 0, time.UTC)}}},
				},
				Roles: []awsemu.Role{
					{Name: "OrganizationAccountAccessRole"},
					{Name: "VigilAudit", ExternalID: "vigil-ext-1"},
					{Name: "Locked", DenyAssume: true},
				},
			},
			{
				ID: suspendedID, Name: "old", State: "SUSPENDED",
				Roles: []awsemu.Role{{Name: "OrganizationAccountAccessRole"}},
			},
			{
				ID: standaloneID, Name: "lonely", Standalone: true,
				Root:  awsemu.Root{AccessKeys: []awsemu.AccessKey{{ID: standaloneRoot}}},
				Users: []awsemu.User{{Name: "ops", AccessKeys: []awsemu.AccessKey{{ID: standaloneAdmin}}}},
			},
		},
		Credentials: []awsemu.Credential{{AccessKeyID: mgmtRoleKey, AccountID: mgmtID, Principal: "role/Auditor"}},
	}
}

// fastRetries keeps the SDK's retry classification but drops its backoff
// delay, so tests that exhaust retries stay quick.
func fastRetries(o *config.LoadOptions) error {
	o.Retryer = func() aws.Retryer {
		return retryNoDelay()
	}
	return nil
}

type clients struct {
	iam  *iam.Client
	sts  *sts.Client
	orgs *organizations.Client
}

func clientsFor(t *testing.T, srv *awsemu.Server, keyID string, optFns ...func(*config.LoadOptions) error) clients {
	t.Helper()
	cfg := awsemutest.ConfigFor(t, srv, keyID, optFns...)
	return clients{iam.NewFromConfig(cfg), sts.NewFromConfig(cfg), organizations.NewFromConfig(cfg)}
}

func clientsForCreds(t *testing.T, srv *awsemu.Server, creds aws.Credentials) clients {
	t.Helper()
	cfg, err := srv.AWSConfig(t.Context(), creds, fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	return clients{iam.NewFromConfig(cfg), sts.NewFromConfig(cfg), organizations.NewFromConfig(cfg)}
}

// wantAPIError checks that err is an AWS error with the given code and
// HTTP status, as the SDK decoded it.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s (%d)", code, status)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v, want an API error %s", err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Errorf("error code = %q, want %q (%v)", apiErr.ErrorCode(), code, err)
	}
	var respErr *awshttp.ResponseError
	if status != 0 && errors.As(err, &respErr) && respErr.HTTPStatusCode() != status {
		t.Errorf("HTTP status = %d, want %d", respErr.HTTPStatusCode(), status)
	}
}

// wantType checks that err unwraps to the SDK's typed error T.
func wantType[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("got %T %v, want %T", err, err, target)
	}
	return target
}

// retryNoDelay is the SDK's standard retryer without backoff sleeps.
func retryNoDelay() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}
