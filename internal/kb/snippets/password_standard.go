package snippets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// PasswordStandard is what a standard asks of the account password policy.
// A zero MinReuse or MaxAge is a setting the standard does not judge.
type PasswordStandard struct {
	Uppercase, Lowercase, Symbols, Numbers bool
	MinLength, MinReuse, MaxAge            int32
}

var (
	// SecurityHubIAM7 is Security Hub IAM.7 with its default parameters,
	// which leave reuse and expiry unjudged.
	SecurityHubIAM7 = PasswordStandard{Uppercase: true, Lowercase: true, Symbols: true, Numbers: true, MinLength: 8}
	// SecurityHubIAM10 is Security Hub IAM.10: PCI DSS 3.2.1's settings.
	SecurityHubIAM10 = PasswordStandard{Uppercase: true, Lowercase: true, Numbers: true, MinLength: 7, MinReuse: 4, MaxAge: 90}
)

// Shortfalls lists the settings of p that fall short of s. A nil p (the
// account has no policy, AccountPasswordPolicy's answer) falls short of
// every setting s asks for.
func (s PasswordStandard) Shortfalls(p *types.PasswordPolicy) []string {
	if p == nil {
		p = &types.PasswordPolicy{}
	}
	var short []string
	for _, c := range []struct {
		name        string
		asked, have bool
	}{
		{"RequireUppercaseCharacters", s.Uppercase, p.RequireUppercaseCharacters},
		{"RequireLowercaseCharacters", s.Lowercase, p.RequireLowercaseCharacters},
		{"RequireSymbols", s.Symbols, p.RequireSymbols},
		{"RequireNumbers", s.Numbers, p.RequireNumbers},
	} {
		if c.asked && !c.have {
			short = append(short, c.name+" is false")
		}
	}
	if n := aws.ToInt32(p.MinimumPasswordLength); n < s.MinLength {
		short = append(short, fmt.Sprintf("MinimumPasswordLength is %d, below %d", n, s.MinLength))
	}
	if n := aws.ToInt32(p.PasswordReusePrevention); n < s.MinReuse {
		short = append(short, fmt.Sprintf("PasswordReusePrevention is %d, below %d", n, s.MinReuse))
	}
	// MaxPasswordAge 0 or absent: passwords never expire.
	if n := aws.ToInt32(p.MaxPasswordAge); s.MaxAge > 0 && (n <= 0 || n > s.MaxAge) {
		short = append(short, fmt.Sprintf("MaxPasswordAge is %d, want 1 to %d", n, s.MaxAge))
	}
	return short
}

// MeetPasswordStandard raises the account password policy to s, keeping
// every setting that is already stricter and every setting s does not
// judge. UpdateAccountPasswordPolicy replaces the whole policy, so each
// setting to keep is passed again.
func MeetPasswordStandard(ctx context.Context, cfg aws.Config, s PasswordStandard) error {
	p, err := AccountPasswordPolicy(ctx, cfg)
	if err != nil {
		return err
	}
	if p == nil {
		// Without a policy, let users change their own password, as the
		// AWS CLI fix on the page does.
		p = &types.PasswordPolicy{AllowUsersToChangePassword: true}
	}
	in := &iam.UpdateAccountPasswordPolicyInput{
		RequireUppercaseCharacters: p.RequireUppercaseCharacters || s.Uppercase,
		RequireLowercaseCharacters: p.RequireLowercaseCharacters || s.Lowercase,
		RequireSymbols:             p.RequireSymbols || s.Symbols,
		RequireNumbers:             p.RequireNumbers || s.Numbers,
		AllowUsersToChangePassword: p.AllowUsersToChangePassword,
		HardExpiry:                 p.HardExpiry,
		MinimumPasswordLength:      aws.Int32(max(s.MinLength, aws.ToInt32(p.MinimumPasswordLength))),
	}
	if reuse := max(s.MinReuse, aws.ToInt32(p.PasswordReusePrevention)); reuse > 0 {
		in.PasswordReusePrevention = aws.Int32(reuse)
	}
	age := aws.ToInt32(p.MaxPasswordAge)
	if s.MaxAge > 0 && (age <= 0 || age > s.MaxAge) {
		age = s.MaxAge
	}
	if age > 0 {
		in.MaxPasswordAge = aws.Int32(age)
	}
	if _, err := iam.NewFromConfig(cfg).UpdateAccountPasswordPolicy(ctx, in); err != nil {
		return fmt.Errorf("iam:UpdateAccountPasswordPolicy: %w", err)
	}
	return nil
}
