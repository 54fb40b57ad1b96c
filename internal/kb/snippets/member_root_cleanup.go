package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// RemovedCredentials is what DeleteMemberRootCredentials removed.
type RemovedCredentials struct {
	Password            bool
	AccessKeys          []string
	SigningCertificates []string
	MFADevices          []string
}

// DeleteMemberRootCredentials removes every credential of a member
// account's root user in one centralised root session, like the console's
// "Delete root user credentials": the console password, the access keys and
// the signing certificates first, the MFA devices last, so that the root
// user is never left with a password but no MFA. cfg signs as the
// management account or the IAM delegated administrator.
func DeleteMemberRootCredentials(ctx context.Context, cfg aws.Config, memberAccountID string) (RemovedCredentials, error) {
	var removed RemovedCredentials
	session, err := AssumeRoot(ctx, cfg, memberAccountID, "IAMDeleteRootUserCredentials")
	if err != nil {
		return removed, err
	}
	client := iam.NewFromConfig(session)
	where := " in " + memberAccountID

	// No UserName anywhere: in a root session IAM acts on the root user.
	_, err = client.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{})
	var none *types.NoSuchEntityException
	switch {
	case err == nil:
		removed.Password = true
	case !errors.As(err, &none): // NoSuchEntity means there was no password
		return removed, fmt.Errorf("iam:DeleteLoginProfile%s: %w", where, err)
	}

	keys, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil {
		return removed, fmt.Errorf("iam:ListAccessKeys%s: %w", where, err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if _, err := client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: k.AccessKeyId}); err != nil {
			return removed, fmt.Errorf("iam:DeleteAccessKey %s%s: %w", aws.ToString(k.AccessKeyId), where, err)
		}
		removed.AccessKeys = append(removed.AccessKeys, aws.ToString(k.AccessKeyId))
	}

	certs, err := client.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{})
	if err != nil {
		return removed, fmt.Errorf("iam:ListSigningCertificates%s: %w", where, err)
	}
	for _, c := range certs.Certificates {
		if _, err := client.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: c.CertificateId}); err != nil {
			return removed, fmt.Errorf("iam:DeleteSigningCertificate %s%s: %w", aws.ToString(c.CertificateId), where, err)
		}
		removed.SigningCertificates = append(removed.SigningCertificates, aws.ToString(c.CertificateId))
	}

	mfas, err := client.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
	if err != nil {
		return removed, fmt.Errorf("iam:ListMFADevices%s: %w", where, err)
	}
	for _, m := range mfas.MFADevices {
		if _, err := client.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: m.SerialNumber}); err != nil {
			return removed, fmt.Errorf("iam:DeactivateMFADevice %s%s: %w", aws.ToString(m.SerialNumber), where, err)
		}
		removed.MFADevices = append(removed.MFADevices, aws.ToString(m.SerialNumber))
	}
	return removed, nil
}
