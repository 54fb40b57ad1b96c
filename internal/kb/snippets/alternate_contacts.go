package snippets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
)

// SecurityContact returns the account's security alternate contact, or
// nil when none is registered. A denied call is an error, never "none".
func SecurityContact(ctx context.Context, cfg aws.Config) (*accttypes.AlternateContact, error) {
	out, err := account.NewFromConfig(cfg).GetAlternateContact(ctx, &account.GetAlternateContactInput{
		AlternateContactType: accttypes.AlternateContactTypeSecurity,
	})
	var notFound *accttypes.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account:GetAlternateContact: %w", err)
	}
	return out.AlternateContact, nil
}

// PutSecurityContact registers (or replaces) the security alternate
// contact. Use a team's address and phone, not one person's.
func PutSecurityContact(ctx context.Context, cfg aws.Config, name, title, email, phone string) error {
	_, err := account.NewFromConfig(cfg).PutAlternateContact(ctx, &account.PutAlternateContactInput{
		AlternateContactType: accttypes.AlternateContactTypeSecurity,
		Name:                 aws.String(name), Title: aws.String(title),
		EmailAddress: aws.String(email), PhoneNumber: aws.String(phone),
	})
	if err != nil {
		return fmt.Errorf("account:PutAlternateContact: %w", err)
	}
	return nil
}
