package snippets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// ListRootSigningCertificates lists the root user's signing certificates.
// cfg must sign with a root access key: with no UserName, IAM acts on the
// signer.
func ListRootSigningCertificates(ctx context.Context, cfg aws.Config) ([]types.SigningCertificate, error) {
	var certs []types.SigningCertificate
	pages := iam.NewListSigningCertificatesPaginator(iam.NewFromConfig(cfg), &iam.ListSigningCertificatesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListSigningCertificates: %w", err)
		}
		certs = append(certs, page.Certificates...)
	}
	return certs, nil
}

// DeleteRootSigningCertificate deletes one of the root user's signing
// certificates; cfg must sign with a root access key.
func DeleteRootSigningCertificate(ctx context.Context, cfg aws.Config, certificateID string) error {
	_, err := iam.NewFromConfig(cfg).DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{
		CertificateId: aws.String(certificateID),
	})
	if err != nil {
		return fmt.Errorf("iam:DeleteSigningCertificate %s: %w", certificateID, err)
	}
	return nil
}
