package snippets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// DeleteMemberRootAccessKeys deletes every access key of a member account's
// root user through a centralised root session, and returns the IDs it
// deleted. cfg signs as the management account or the IAM delegated
// administrator. The task policy allows deleting but not deactivating, so
// check each key's last use first (GetAccessKeyLastUsed works in the same
// session).
func DeleteMemberRootAccessKeys(ctx context.Context, cfg aws.Config, memberAccountID string) ([]string, error) {
	session, err := AssumeRoot(ctx, cfg, memberAccountID, "IAMDeleteRootUserCredentials")
	if err != nil {
		return nil, err
	}
	client := iam.NewFromConfig(session)
	// The root user holds at most two keys: one page is the whole list.
	out, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil {
		return nil, fmt.Errorf("iam:ListAccessKeys in %s: %w", memberAccountID, err)
	}
	var deleted []string
	for _, k := range out.AccessKeyMetadata {
		id := aws.ToString(k.AccessKeyId)
		if _, err := client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: k.AccessKeyId}); err != nil {
			return deleted, fmt.Errorf("iam:DeleteAccessKey %s in %s: %w", id, memberAccountID, err)
		}
		deleted = append(deleted, id)
	}
	return deleted, nil
}
