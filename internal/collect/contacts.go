package collect

import (
	"context"
	"errors"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The evidence of the CIS items a person judges: the account's alternate
// contacts and the identity providers IAM trusts. Five calls per account
// (three contact types, two provider lists), whatever the account holds:
// neither provider list is paged.

// AccountContacts is what the scan reads of the Account Management API
// (its IAM actions are account:…).
type AccountContacts interface {
	GetAlternateContact(context.Context, *account.GetAlternateContactInput, ...func(*account.Options)) (*account.GetAlternateContactOutput, error)
}

// IdentityProvidersIAM lists the SAML and OIDC providers IAM trusts.
type IdentityProvidersIAM interface {
	ListSAMLProviders(context.Context, *iam.ListSAMLProvidersInput, ...func(*iam.Options)) (*iam.ListSAMLProvidersOutput, error)
	ListOpenIDConnectProviders(context.Context, *iam.ListOpenIDConnectProvidersInput, ...func(*iam.Options)) (*iam.ListOpenIDConnectProvidersOutput, error)
}

// AlternateContacts reads every alternate contact type of the caller's
// own account, the three at once. A type never set is an answer
// (Registered false); a type whose call fails is nil with its own gap, so
// a denied billing contact leaves the security contact judged.
func AlternateContacts(ctx context.Context, c AccountContacts) (*snapshot.AlternateContacts, []snapshot.Gap) {
	type answer struct {
		typ     string
		contact *snapshot.AlternateContact
		gap     *snapshot.Gap
	}
	ch := make(chan answer, len(snapshot.ContactTypes))
	for _, typ := range snapshot.ContactTypes {
		spawn(func() {
			v, g := alternateContact(ctx, c, typ)
			ch <- answer{typ, v, g}
		})
	}
	out := &snapshot.AlternateContacts{}
	var gaps []snapshot.Gap
	for range snapshot.ContactTypes {
		a := <-ch
		out.Set(a.typ, a.contact)
		if a.gap != nil {
			gaps = append(gaps, *a.gap)
		}
	}
	// The answers arrive in any order; the gaps are reported in one.
	sort.Slice(gaps, func(i, j int) bool { return gaps[i].Section < gaps[j].Section })
	return out, gaps
}

func alternateContact(ctx context.Context, c AccountContacts, typ string) (*snapshot.AlternateContact, *snapshot.Gap) {
	out, err := c.GetAlternateContact(ctx, &account.GetAlternateContactInput{AlternateContactType: accttypes.AlternateContactType(typ)})
	if err != nil {
		var notFound *accttypes.ResourceNotFoundException
		if errors.As(err, &notFound) {
			return &snapshot.AlternateContact{}, nil
		}
		g := gap(snapshot.SectionAlternateContact+typ, "account:GetAlternateContact", err)
		return nil, &g
	}
	ac := out.AlternateContact
	if ac == nil {
		// An answer without the contact would be a broken one: a gap,
		// never "not registered".
		g := snapshot.Gap{Section: snapshot.SectionAlternateContact + typ, Call: "account:GetAlternateContact", Message: "the answer holds no AlternateContact"}
		return nil, &g
	}
	return &snapshot.AlternateContact{Registered: true, Name: aws.ToString(ac.Name), Title: aws.ToString(ac.Title),
		EmailAddress: aws.ToString(ac.EmailAddress), PhoneNumber: aws.ToString(ac.PhoneNumber)}, nil
}

// IdentityProviders lists the SAML and the OIDC providers, one call each,
// both at once: one round trip, and a deadline that cuts the scan off
// finds both in flight rather than starting the second on a dead context.
func IdentityProviders(ctx context.Context, c IdentityProvidersIAM) (*snapshot.IdentityProviders, []snapshot.Gap) {
	out := &snapshot.IdentityProviders{}
	var gaps []snapshot.Gap
	var (
		oidc    *iam.ListOpenIDConnectProvidersOutput
		oidcErr error
		done    = make(chan struct{})
	)
	spawn(func() {
		defer close(done)
		oidc, oidcErr = c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	})
	saml, err := c.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	<-done
	if err != nil {
		gaps = append(gaps, gap(snapshot.SectionSAMLProviders, "iam:ListSAMLProviders", err))
	} else {
		out.SAMLRead = true
		for _, p := range saml.SAMLProviderList {
			out.SAML = append(out.SAML, snapshot.IdentityProvider{ARN: aws.ToString(p.Arn)})
		}
	}
	if oidcErr != nil {
		gaps = append(gaps, gap(snapshot.SectionOIDCProviders, "iam:ListOpenIDConnectProviders", oidcErr))
	} else {
		out.OIDCRead = true
		for _, p := range oidc.OpenIDConnectProviderList {
			out.OIDC = append(out.OIDC, snapshot.IdentityProvider{ARN: aws.ToString(p.Arn)})
		}
	}
	return out, gaps
}
