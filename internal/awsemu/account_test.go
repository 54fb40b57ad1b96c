package awsemu_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

// The Account API through the real SDK: a contact never set is
// ResourceNotFoundException, put then get round-trips every field, an
// unknown type is refused, and a denied call decodes to its typed error.
func TestAlternateContacts(t *testing.T) {
	srv := awsemutest.Start(t, regionalWorld())
	ctx := context.Background()
	c := account.NewFromConfig(awsemutest.ConfigFor(t, srv, regionalKey))

	_, err := c.GetAlternateContact(ctx, &account.GetAlternateContactInput{AlternateContactType: accttypes.AlternateContactTypeSecurity})
	var notFound *accttypes.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("unset contact: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.PutAlternateContact(ctx, &account.PutAlternateContactInput{AlternateContactType: accttypes.AlternateContactTypeSecurity,
		EmailAddress: aws.String("soc@example.com"), Name: aws.String("SOC"), PhoneNumber: aws.String("+1 555 0100"), Title: aws.String("Security operations")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetAlternateContact(ctx, &account.GetAlternateContactInput{AlternateContactType: accttypes.AlternateContactTypeSecurity})
	if err != nil {
		t.Fatal(err)
	}
	got := out.AlternateContact
	if got.AlternateContactType != accttypes.AlternateContactTypeSecurity || aws.ToString(got.EmailAddress) != "soc@example.com" ||
		aws.ToString(got.Name) != "SOC" || aws.ToString(got.PhoneNumber) != "+1 555 0100" || aws.ToString(got.Title) != "Security operations" {
		t.Errorf("contact = %+v", got)
	}
	if _, err := c.GetAlternateContact(ctx, &account.GetAlternateContactInput{AlternateContactType: accttypes.AlternateContactTypeBilling}); !errors.As(err, &notFound) {
		t.Errorf("billing: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.GetAlternateContact(ctx, &account.GetAlternateContactInput{AlternateContactType: "PAYROLL"}); apiCode(err) != "ValidationException" {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := c.GetAlternateContact(ctx, &account.GetAlternateContactInput{AlternateContactType: accttypes.AlternateContactTypeSecurity, AccountId: aws.String("210987654321")}); apiCode(err) != "AccessDeniedException" {
		t.Errorf("another account from a standalone one: %v", err)
	}
	if _, err := c.DeleteAlternateContact(ctx, &account.DeleteAlternateContactInput{AlternateContactType: accttypes.AlternateContactTypeSecurity}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAlternateContact(ctx, &account.GetAlternateContactInput{AlternateContactType: accttypes.AlternateContactTypeSecurity}); !errors.As(err, &notFound) {
		t.Errorf("after delete: %v", err)
	}
	srv.SetFaults(awsemu.Fault{Service: "account", Code: "AccessDeniedException"})
	_, err = c.GetAlternateContact(ctx, &account.GetAlternateContactInput{AlternateContactType: accttypes.AlternateContactTypeSecurity})
	var denied *accttypes.AccessDeniedException
	if !errors.As(err, &denied) {
		t.Errorf("denied: %v, want AccessDeniedException", err)
	}
	if calls := srv.Calls(); calls[len(calls)-1].Service != "account" || calls[len(calls)-1].Action != "GetAlternateContact" || calls[len(calls)-1].Status != 403 {
		t.Errorf("last call %+v", calls[len(calls)-1])
	}
	if awsemu.Mutating("account", "GetAlternateContact") || !awsemu.Mutating("account", "PutAlternateContact") {
		t.Error("GetAlternateContact reads, PutAlternateContact writes")
	}
}

func TestIdentityProviders(t *testing.T) {
	w := regionalWorld()
	created := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	w.Accounts[0].SAMLProviders = []awsemu.SAMLProvider{{Name: "Okta", CreateDate: created, ValidUntil: created.AddDate(10, 0, 0)}, {Name: "AWSSSO_0123_DO_NOT_DELETE", CreateDate: created}}
	w.Accounts[0].OIDCProviders = []awsemu.OIDCProvider{{URL: "token.actions.githubusercontent.com", CreateDate: created}}
	srv := awsemutest.Start(t, w)
	ctx := context.Background()
	c := iam.NewFromConfig(awsemutest.ConfigFor(t, srv, regionalKey))
	saml, err := c.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(saml.SAMLProviderList) != 2 || aws.ToString(saml.SAMLProviderList[0].Arn) != "arn:aws:iam::123456789012:saml-provider/AWSSSO_0123_DO_NOT_DELETE" ||
		saml.SAMLProviderList[0].ValidUntil != nil || !saml.SAMLProviderList[1].ValidUntil.Equal(created.AddDate(10, 0, 0)) {
		t.Errorf("SAML providers = %+v", saml.SAMLProviderList)
	}
	oidc, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(oidc.OpenIDConnectProviderList) != 1 || aws.ToString(oidc.OpenIDConnectProviderList[0].Arn) != "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" {
		t.Errorf("OIDC providers = %+v", oidc.OpenIDConnectProviderList)
	}
}
