package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// RootAccessKeysPresent reports whether the account's root user holds an
// access key, active or inactive, from the real-time account summary. Any
// principal allowed iam:GetAccountSummary can call it; no root credentials
// are needed.
func RootAccessKeysPresent(ctx context.Context, cfg aws.Config) (bool, error) {
	out, err := iam.NewFromConfig(cfg).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		return false, fmt.Errorf("iam:GetAccountSummary: %w", err)
	}
	n, ok := out.SummaryMap[string(types.SummaryKeyTypeAccountAccessKeysPresent)]
	if !ok {
		return false, errors.New("iam:GetAccountSummary: the summary has no AccountAccessKeysPresent")
	}
	return n > 0, nil
}
