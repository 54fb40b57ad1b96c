package snippets

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// ExpiredServerCertificates lists the SSL/TLS certificates stored in IAM
// whose expiry is at or before now. The list's metadata carries each
// expiry, so one paged call covers the account.
func ExpiredServerCertificates(ctx context.Context, cfg aws.Config, now time.Time) ([]types.ServerCertificateMetadata, error) {
	var expired []types.ServerCertificateMetadata
	p := iam.NewListServerCertificatesPaginator(iam.NewFromConfig(cfg), &iam.ListServerCertificatesInput{MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListServerCertificates: %w", err)
		}
		for _, c := range page.ServerCertificateMetadataList {
			if c.Expiration != nil && !now.Before(*c.Expiration) {
				expired = append(expired, c)
			}
		}
	}
	return expired, nil
}

// DeleteServerCertificate removes a certificate from IAM. Delete only what
// nothing uses: a load balancer or CloudFront distribution still serving
// it would break.
func DeleteServerCertificate(ctx context.Context, cfg aws.Config, name string) error {
	_, err := iam.NewFromConfig(cfg).DeleteServerCertificate(ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("iam:DeleteServerCertificate %s: %w", name, err)
	}
	return nil
}
