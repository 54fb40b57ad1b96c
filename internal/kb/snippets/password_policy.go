package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// AccountPasswordPolicy returns the account's IAM password policy, or nil
// when the account has none (IAM's default then applies: 8 characters,
// reuse allowed).
func AccountPasswordPolicy(ctx context.Context, cfg aws.Config) (*types.PasswordPolicy, error) {
	out, err := iam.NewFromConfig(cfg).GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	var none *types.NoSuchEntityException
	switch {
	case errors.As(err, &none):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("iam:GetAccountPasswordPolicy: %w", err)
	}
	return out.PasswordPolicy, nil
}

// StrengthenPasswordPolicy raises the minimum length to minLength and
// refuses the last reuse passwords, keeping every other setting.
// UpdateAccountPasswordPolicy replaces the whole policy, so a setting left
// out of the call would silently fall back to its default.
func StrengthenPasswordPolicy(ctx context.Context, cfg aws.Config, minLength, reuse int32) error {
	current, err := AccountPasswordPolicy(ctx, cfg)
	if err != nil {
		return err
	}
	in := &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(minLength), PasswordReusePrevention: aws.Int32(reuse)}
	if p := current; p != nil {
		in.MinimumPasswordLength = aws.Int32(max(minLength, aws.ToInt32(p.MinimumPasswordLength)))
		in.PasswordReusePrevention = aws.Int32(max(reuse, aws.ToInt32(p.PasswordReusePrevention)))
		in.RequireSymbols, in.RequireNumbers = p.RequireSymbols, p.RequireNumbers
		in.RequireUppercaseCharacters, in.RequireLowercaseCharacters = p.RequireUppercaseCharacters, p.RequireLowercaseCharacters
		in.AllowUsersToChangePassword, in.HardExpiry = p.AllowUsersToChangePassword, p.HardExpiry
		in.MaxPasswordAge = p.MaxPasswordAge
	}
	if _, err := iam.NewFromConfig(cfg).UpdateAccountPasswordPolicy(ctx, in); err != nil {
		return fmt.Errorf("iam:UpdateAccountPasswordPolicy: %w", err)
	}
	return nil
}
