package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// LiftRootDenyForTask lets a member account's root user do a root-only
// task while it still cannot create an access key. It detaches the SCP that
// denies root every action (denyAllID) from the account, after checking
// that this lifts it — the SCP must be attached to the account itself and
// nowhere above it, since an SCP attached to an OU or the root applies to
// every account below — and that the SCP denying root key creation
// (keysID) still reaches the account. Call restore when the task is done:
// it attaches the deny-all SCP to the account again. cfg signs as the
// management account.
func LiftRootDenyForTask(ctx context.Context, cfg aws.Config, accountID, denyAllID, keysID string) (restore func(context.Context) error, err error) {
	reaching, err := SCPsReachingAccount(ctx, cfg, accountID)
	if err != nil {
		return nil, err
	}
	direct, keys := false, false
	for _, p := range reaching {
		switch {
		case p.PolicyID == denyAllID && p.AttachedTo != accountID:
			return nil, fmt.Errorf("%s reaches %s from %s: detaching it there would lift it for every account below; move the account to an OU without it instead", denyAllID, accountID, p.AttachedTo)
		case p.PolicyID == denyAllID:
			direct = true
		case p.PolicyID == keysID:
			keys = true
		}
	}
	if !direct {
		return nil, fmt.Errorf("%s is not attached to %s: there is nothing to lift", denyAllID, accountID)
	}
	if !keys {
		return nil, fmt.Errorf("%s does not reach %s: attach it before lifting %s, or root could create an access key", keysID, accountID, denyAllID)
	}
	client := organizations.NewFromConfig(cfg)
	if _, err := client.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(denyAllID), TargetId: aws.String(accountID)}); err != nil {
		return nil, fmt.Errorf("organizations:DetachPolicy %s from %s: %w", denyAllID, accountID, err)
	}
	return func(ctx context.Context) error {
		_, err := client.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(denyAllID), TargetId: aws.String(accountID)})
		var attached *types.DuplicatePolicyAttachmentException
		if err != nil && !errors.As(err, &attached) {
			return fmt.Errorf("organizations:AttachPolicy %s to %s: %w", denyAllID, accountID, err)
		}
		return nil
	}, nil
}
