package snippets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// These functions pass no UserName, so IAM acts on whoever signs the
// request: cfg must sign with a root access key.

// ListRootAccessKeys lists the root user's access keys, active and inactive.
func ListRootAccessKeys(ctx context.Context, cfg aws.Config) ([]types.AccessKeyMetadata, error) {
	var keys []types.AccessKeyMetadata
	pages := iam.NewListAccessKeysPaginator(iam.NewFromConfig(cfg), &iam.ListAccessKeysInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListAccessKeys: %w", err)
		}
		keys = append(keys, page.AccessKeyMetadata...)
	}
	return keys, nil
}

// RootAccessKeyLastUse says when, in which Region and for which service a
// key was last used. LastUsedDate is nil when no use was ever recorded.
func RootAccessKeyLastUse(ctx context.Context, cfg aws.Config, keyID string) (*types.AccessKeyLastUsed, error) {
	out, err := iam.NewFromConfig(cfg).GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	if err != nil {
		return nil, fmt.Errorf("iam:GetAccessKeyLastUsed %s: %w", keyID, err)
	}
	return out.AccessKeyLastUsed, nil
}

// DeactivateRootAccessKey switches a root key off. It can be switched back
// on (Status Active), so deactivate first and wait: whatever still uses the
// key fails, but the loss is not final.
func DeactivateRootAccessKey(ctx context.Context, cfg aws.Config, keyID string) error {
	_, err := iam.NewFromConfig(cfg).UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		AccessKeyId: aws.String(keyID),
		Status:      types.StatusTypeInactive,
	})
	if err != nil {
		return fmt.Errorf("iam:UpdateAccessKey %s: %w", keyID, err)
	}
	return nil
}

// DeleteRootAccessKey deletes a root key for good. If cfg signs with this
// very key, this is the last call the key can make.
func DeleteRootAccessKey(ctx context.Context, cfg aws.Config, keyID string) error {
	if _, err := iam.NewFromConfig(cfg).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(keyID)}); err != nil {
		return fmt.Errorf("iam:DeleteAccessKey %s: %w", keyID, err)
	}
	return nil
}
