package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// RootMFAEnabled reports whether the account's root user has an MFA
// device, from the real-time account summary. Any principal allowed
// iam:GetAccountSummary can call it.
func RootMFAEnabled(ctx context.Context, cfg aws.Config) (bool, error) {
	out, err := iam.NewFromConfig(cfg).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		return false, fmt.Errorf("iam:GetAccountSummary: %w", err)
	}
	n, ok := out.SummaryMap[string(types.SummaryKeyTypeAccountMFAEnabled)]
	if !ok {
		return false, errors.New("iam:GetAccountSummary: the summary has no AccountMFAEnabled")
	}
	return n > 0, nil
}
