package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// RootPasswordPresent reports whether the account's root user has a console
// password, from the real-time account summary (AccountPasswordPresent,
// added to IAM in November 2024). Call it with credentials of the account
// itself.
func RootPasswordPresent(ctx context.Context, cfg aws.Config) (bool, error) {
	out, err := iam.NewFromConfig(cfg).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		return false, fmt.Errorf("iam:GetAccountSummary: %w", err)
	}
	n, ok := out.SummaryMap[string(types.SummaryKeyTypeAccountPasswordPresent)]
	if !ok {
		return false, errors.New("iam:GetAccountSummary: the summary has no AccountPasswordPresent")
	}
	return n > 0, nil
}

// MemberRootHasPassword asks, from the management account or the IAM
// delegated administrator, whether a member account's root user has a
// console password. It uses a centralised root session with the read-only
// audit task policy: no role in the member account is needed.
func MemberRootHasPassword(ctx context.Context, cfg aws.Config, memberAccountID string) (bool, error) {
	session, err := AssumeRoot(ctx, cfg, memberAccountID, "IAMAuditRootUserCredentials")
	if err != nil {
		return false, err
	}
	_, err = iam.NewFromConfig(session).GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
	var none *types.NoSuchEntityException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &none): // the answer when there is no password
		return false, nil
	}
	return false, fmt.Errorf("iam:GetLoginProfile in %s: %w", memberAccountID, err)
}
