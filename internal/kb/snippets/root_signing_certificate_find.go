package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// RootSigningCertificatesPresent reports whether the account's root user
// holds an X.509 signing certificate, active or inactive, from the
// real-time account summary.
func RootSigningCertificatesPresent(ctx context.Context, cfg aws.Config) (bool, error) {
	out, err := iam.NewFromConfig(cfg).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		return false, fmt.Errorf("iam:GetAccountSummary: %w", err)
	}
	n, ok := out.SummaryMap[string(types.SummaryKeyTypeAccountSigningCertificatesPresent)]
	if !ok {
		return false, errors.New("iam:GetAccountSummary: the summary has no AccountSigningCertificatesPresent")
	}
	return n > 0, nil
}
