package snippets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// FederationProviders lists the ARNs of the SAML and the OpenID Connect
// identity providers the account's IAM trusts. IAM Identity Center leaves
// a SAML provider (AWSSSO_…_DO_NOT_DELETE) in every account it serves;
// OIDC providers mostly let workloads in (CI pipelines, Kubernetes).
func FederationProviders(ctx context.Context, cfg aws.Config) (saml, oidc []string, err error) {
	client := iam.NewFromConfig(cfg)
	s, err := client.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	if err != nil {
		return nil, nil, fmt.Errorf("iam:ListSAMLProviders: %w", err)
	}
	for _, p := range s.SAMLProviderList {
		saml = append(saml, aws.ToString(p.Arn))
	}
	o, err := client.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return nil, nil, fmt.Errorf("iam:ListOpenIDConnectProviders: %w", err)
	}
	for _, p := range o.OpenIDConnectProviderList {
		oidc = append(oidc, aws.ToString(p.Arn))
	}
	return saml, oidc, nil
}
