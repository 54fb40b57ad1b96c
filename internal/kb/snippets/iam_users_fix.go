package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// DisableUserCredentials turns off an IAM user's unused credentials without
// destroying them: it deactivates the given access keys (they can be
// switched back on if something breaks) and deletes the console password
// when removePassword is set (the user or an administrator can set a new
// one). cfg signs as an administrator of the account.
func DisableUserCredentials(ctx context.Context, cfg aws.Config, user string, keyIDs []string, removePassword bool) error {
	client := iam.NewFromConfig(cfg)
	for _, id := range keyIDs {
		_, err := client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id), Status: types.StatusTypeInactive})
		if err != nil {
			return fmt.Errorf("iam:UpdateAccessKey %s of %s: %w", id, user, err)
		}
	}
	if removePassword {
		_, err := client.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(user)})
		var none *types.NoSuchEntityException
		if err != nil && !errors.As(err, &none) { // NoSuchEntity: no password to remove
			return fmt.Errorf("iam:DeleteLoginProfile %s: %w", user, err)
		}
	}
	return nil
}

// UserAccessKeyIDs lists an IAM user's access key IDs, which the credential
// report does not carry.
func UserAccessKeyIDs(ctx context.Context, cfg aws.Config, user string) ([]string, error) {
	out, err := iam.NewFromConfig(cfg).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return nil, fmt.Errorf("iam:ListAccessKeys %s: %w", user, err)
	}
	var ids []string
	for _, k := range out.AccessKeyMetadata {
		ids = append(ids, aws.ToString(k.AccessKeyId))
	}
	return ids, nil
}
