package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// CentralRootAccessFeatures lists the centralised root access features on
// in the organisation: "RootCredentialsManagement" and "RootSessions". cfg
// signs as the management account or the IAM delegated administrator. When
// IAM has no trusted access in the organisation, no feature can be on: that
// is an empty list, not an error.
func CentralRootAccessFeatures(ctx context.Context, cfg aws.Config) ([]string, error) {
	out, err := iam.NewFromConfig(cfg).ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
	var noTrustedAccess *types.ServiceAccessNotEnabledException
	if errors.As(err, &noTrustedAccess) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("iam:ListOrganizationsFeatures: %w", err)
	}
	var features []string
	for _, f := range out.EnabledFeatures {
		features = append(features, string(f))
	}
	return features, nil
}

// EnableCentralRootAccess turns centralised root access on, from the
// management account: trusted access for IAM in AWS Organizations, then
// root credentials management, then root sessions. Every step can be
// repeated safely, so the function can be re-run after a partial failure.
func EnableCentralRootAccess(ctx context.Context, cfg aws.Config) error {
	_, err := organizations.NewFromConfig(cfg).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{
		ServicePrincipal: aws.String("iam.amazonaws.com"),
	})
	if err != nil {
		return fmt.Errorf("organizations:EnableAWSServiceAccess iam.amazonaws.com: %w", err)
	}
	client := iam.NewFromConfig(cfg)
	if _, err := client.EnableOrganizationsRootCredentialsManagement(ctx, &iam.EnableOrganizationsRootCredentialsManagementInput{}); err != nil {
		return fmt.Errorf("iam:EnableOrganizationsRootCredentialsManagement: %w", err)
	}
	if _, err := client.EnableOrganizationsRootSessions(ctx, &iam.EnableOrganizationsRootSessionsInput{}); err != nil {
		return fmt.Errorf("iam:EnableOrganizationsRootSessions: %w", err)
	}
	return nil
}
