package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// DeleteMemberRootPassword deletes a member account's root console password
// through a centralised root session and reports whether there was one.
// Afterwards nobody can sign in as that root user, and its password cannot
// be recovered by email, until the management account runs the
// IAMCreateRootUserPassword task to allow recovery.
func DeleteMemberRootPassword(ctx context.Context, cfg aws.Config, memberAccountID string) (bool, error) {
	session, err := AssumeRoot(ctx, cfg, memberAccountID, "IAMDeleteRootUserCredentials")
	if err != nil {
		return false, err
	}
	_, err = iam.NewFromConfig(session).DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{})
	var none *types.NoSuchEntityException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &none):
		return false, nil
	}
	return false, fmt.Errorf("iam:DeleteLoginProfile in %s: %w", memberAccountID, err)
}
