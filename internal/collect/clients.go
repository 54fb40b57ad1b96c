package collect

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// IAM is every IAM operation a scan may call. All are read-only;
// GenerateCredentialReport only builds a report, it changes no access.
type IAM interface {
	AccountIAM
	OrgFeaturesIAM
	RootInventoryIAM
}

// AccountIAM is what a scan reads in any account, whoever it runs as. In
// an organisation scan through a role, it is all a member account's role
// is asked for (with sts:GetCallerIdentity).
type AccountIAM interface {
	DetailsIAM
	ServerCertificatesIAM
	IdentityProvidersIAM
	GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	ListVirtualMFADevices(context.Context, *iam.ListVirtualMFADevicesInput, ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error)
}

// OrgFeaturesIAM reads the organisation's centralised root access
// features; only the management account and the IAM delegated
// administrator get an answer.
type OrgFeaturesIAM interface {
	ListOrganizationsFeatures(context.Context, *iam.ListOrganizationsFeaturesInput, ...func(*iam.Options)) (*iam.ListOrganizationsFeaturesOutput, error)
}

// RootAuditIAM is what an sts:AssumeRoot session with the
// IAMAuditRootUserCredentials task policy is used for: root's own
// credentials, its user record and the account summary. Every method is
// an action that task policy allows (a test holds them together).
type RootAuditIAM interface {
	RootInventoryIAM
	GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
}

// RootInventoryIAM is what reading root's own credentials takes. Called
// without a user name these act on the signing principal, which is root
// only when the session is root's own key or an AssumeRoot session.
type RootInventoryIAM interface {
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListSigningCertificates(context.Context, *iam.ListSigningCertificatesInput, ...func(*iam.Options)) (*iam.ListSigningCertificatesOutput, error)
	ListMFADevices(context.Context, *iam.ListMFADevicesInput, ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	GetLoginProfile(context.Context, *iam.GetLoginProfileInput, ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
}

// STS is every STS operation a single-account scan calls.
type STS interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Organizations is every Organizations operation a single-account scan
// calls.
type Organizations interface {
	DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
}

// Clients bundles the API clients of one account.
type Clients struct {
	IAM  IAM
	STS  STS
	Orgs Organizations
	// OrgPolicies reads the organisation's tree and SCPs (scp.go); only the
	// management account or a delegated administrator may.
	OrgPolicies OrgPolicies
	// EC2 and Analyzer are the regional reads (regional.go); when either
	// is nil the regions are not read and the rules that need them say
	// so (UNKNOWN, "not collected").
	EC2      EC2
	Analyzer AccessAnalyzer
	// Account reads the alternate contacts (contacts.go); when nil they
	// are not read and the rules that need them say so.
	Account AccountContacts
}

// NewClients builds real SDK clients from a config. Endpoints come from the
// config, so AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_IAM/_STS/_ORGANIZATIONS
// redirect them with no special flag.
func NewClients(cfg aws.Config) Clients {
	orgs := organizations.NewFromConfig(cfg)
	return Clients{
		IAM:         iam.NewFromConfig(cfg),
		STS:         sts.NewFromConfig(cfg),
		Orgs:        orgs,
		OrgPolicies: orgs,
		EC2:         ec2.NewFromConfig(cfg),
		Analyzer:    accessanalyzer.NewFromConfig(cfg),
		Account:     account.NewFromConfig(cfg),
	}
}
