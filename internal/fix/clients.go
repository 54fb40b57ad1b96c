package fix

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-sec/vigil/internal/collect"
)

// DeleteTaskPolicy is the AWS-managed root task policy of the sessions
// vigil fix opens in member accounts.
const DeleteTaskPolicy = "IAMDeleteRootUserCredentials"

// DeleteTaskPolicyActions are the actions IAMDeleteRootUserCredentials
// leaves allowed, on the root user only (it is deny-only). Source: the IAM
// User Guide's AWS managed policies page; iam:DeleteVirtualMFADevice was
// removed from it on 2025-01-07. It allows neither iam:UpdateAccessKey
// (deactivating) nor iam:GetAccountSummary, nor any CloudTrail action.
var DeleteTaskPolicyActions = []string{
	"iam:DeactivateMFADevice",
	"iam:DeleteAccessKey",
	"iam:DeleteLoginProfile",
	"iam:DeleteSigningCertificate",
	"iam:GetAccessKeyLastUsed",
	"iam:GetLoginProfile",
	"iam:GetUser",
	"iam:ListAccessKeys",
	"iam:ListMFADevices",
	"iam:ListSigningCertificates",
}

// MemberIAM is every IAM call made in a member account's sts:AssumeRoot
// session. Each is an action the delete task policy allows (a test holds
// them together), called without a user name so that it acts on the root
// user.
type MemberIAM interface {
	collect.RootInventoryIAM
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	DeleteSigningCertificate(context.Context, *iam.DeleteSigningCertificateInput, ...func(*iam.Options)) (*iam.DeleteSigningCertificateOutput, error)
	DeleteLoginProfile(context.Context, *iam.DeleteLoginProfileInput, ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error)
	DeactivateMFADevice(context.Context, *iam.DeactivateMFADeviceInput, ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error)
}

// RootKeyIAM is every IAM call made signed with one of the root user's own
// access keys. None passes a user name, so IAM acts on the signer. With
// such a key AWS refuses to omit the user name on the login profile and
// MFA deactivation calls (only AssumeRoot sessions may), so this path
// never plans them: RootInventory is asked not to read the login profile,
// and nothing here deletes one.
type RootKeyIAM interface {
	collect.RootInventoryIAM
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	DeleteSigningCertificate(context.Context, *iam.DeleteSigningCertificateInput, ...func(*iam.Options)) (*iam.DeleteSigningCertificateOutput, error)
}

// Trail reads CloudTrail's event history: who used a key, for what, from
// where.
type Trail interface {
	LookupEvents(context.Context, *cloudtrail.LookupEventsInput, ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}
