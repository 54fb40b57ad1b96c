package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func contacts(sec, billing, ops *snapshot.AlternateContact) *snapshot.AlternateContacts {
	return &snapshot.AlternateContacts{Security: sec, Billing: billing, Operations: ops}
}

var (
	soc          = &snapshot.AlternateContact{Registered: true, Name: "SOC", Title: "Security operations", EmailAddress: "soc@example.com", PhoneNumber: "+1 555 0100"}
	notSet       = &snapshot.AlternateContact{}
	deniedSecGap = gap(snapshot.SectionAlternateContact+snapshot.ContactSecurity, "account:GetAlternateContact", "AccessDeniedException")
)

func TestAccountSecurityContact(t *testing.T) {
	runCases(t, AccountSecurityContact, []ruleCase{
		{name: "registered", status: rule.Pass, contains: []string{"SOC, Security operations, soc@example.com", "current"},
			acct: account(func(a *snapshot.Account) { a.AlternateContacts = contacts(soc, notSet, notSet) })},
		{name: "never set", status: rule.Fail, contains: []string{"No security contact", "root user's email"},
			acct: account(func(a *snapshot.Account) { a.AlternateContacts = contacts(notSet, soc, soc) })},
		// The other types denied do not hide a registered security contact.
		{name: "billing denied", status: rule.Pass,
			acct: account(func(a *snapshot.Account) {
				a.AlternateContacts = contacts(soc, nil, notSet)
				a.AddGap(gap(snapshot.SectionAlternateContact+snapshot.ContactBilling, "account:GetAlternateContact", "AccessDeniedException"))
			})},
		// Denied is never "not registered" and never a pass.
		{name: "security denied", status: rule.Unknown, contains: []string{"account:GetAlternateContact: AccessDeniedException"},
			acct: account(func(a *snapshot.Account) {
				a.AlternateContacts = contacts(nil, notSet, notSet)
				a.AddGap(deniedSecGap)
			})},
		{name: "not collected (an older snapshot)", status: rule.Unknown, contains: []string{"not collected"}, acct: account(nil)},
		{name: "assume-root session", status: rule.NotApplicable, contains: []string{"sts:AssumeRoot"},
			acct: account(func(a *snapshot.Account) { a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot} })},
	})
}

// The evidence names every type: what was read, "not registered", or the
// call's failure.
func TestSecurityContactEvidence(t *testing.T) {
	a := account(func(a *snapshot.Account) {
		a.AlternateContacts = contacts(nil, soc, notSet)
		a.AddGap(deniedSecGap)
	})
	out := checkAccountSecurityContact(rule.Input{Account: a, Now: now, Options: rule.DefaultOptions()})
	want := []rule.Evidence{
		{Source: srcContacts, Key: "SECURITY", Error: "AccessDeniedException: User is not authorized"},
		{Source: srcContacts, Key: "BILLING", Value: "SOC, Security operations, soc@example.com, +1 555 0100"},
		{Source: srcContacts, Key: "OPERATIONS", Value: "not registered (ResourceNotFoundException)"},
	}
	if !slices.Equal(out.Evidence, want) {
		t.Errorf("evidence = %+v\nwant %+v", out.Evidence, want)
	}
}

func TestIAMIdentityFederation(t *testing.T) {
	sso := []snapshot.IdentityProvider{{ARN: "arn:aws:iam::111122223333:saml-provider/AWSSSO_0123_DO_NOT_DELETE"}}
	github := []snapshot.IdentityProvider{{ARN: "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}}
	console := userRow("alice")
	console.PasswordEnabled = "true"
	providers := func(saml, oidc []snapshot.IdentityProvider) *snapshot.IdentityProviders {
		return &snapshot.IdentityProviders{SAML: saml, OIDC: oidc, SAMLRead: true, OIDCRead: true}
	}
	runCases(t, IAMIdentityFederation, []ruleCase{
		{name: "Identity Center's SAML provider", status: rule.Pass, contains: []string{"1 SAML provider", "AWSSSO_0123_DO_NOT_DELETE"},
			acct: account(func(a *snapshot.Account) {
				a.IdentityProviders = providers(sso, nil)
				a.CredentialReport = usersReport(time.Hour, console)
			})},
		// Prowler fails every account without a SAML provider; one that
		// nobody signs in to as an IAM user is reached through roles.
		{name: "no provider, no console user", status: rule.Pass, contains: []string{"only through roles"},
			acct: account(func(a *snapshot.Account) {
				a.IdentityProviders = providers(nil, nil)
				a.CredentialReport = usersReport(time.Hour, userRow("ci"))
			})},
		{name: "no provider, no IAM user", status: rule.Pass, contains: []string{"no IAM user"},
			acct: account(func(a *snapshot.Account) {
				a.IdentityProviders = providers(nil, nil)
				a.CredentialReport = usersReport(time.Hour)
			})},
		// An OIDC provider lets workloads in, not people.
		{name: "only an OIDC provider, console users", status: rule.Fail, contains: []string{"1 IAM user has a console password (alice)"},
			acct: account(func(a *snapshot.Account) {
				a.IdentityProviders = providers(nil, github)
				a.CredentialReport = usersReport(time.Hour, console, userRow("ci"))
			})},
		{name: "no provider, stale report", status: rule.Unknown,
			acct: account(func(a *snapshot.Account) {
				a.IdentityProviders = providers(nil, nil)
				a.CredentialReport = usersReport(72*time.Hour, userRow("ci"))
			})},
		{name: "no provider, report denied", status: rule.Unknown, contains: []string{"No SAML identity provider", "GetCredentialReport"},
			acct: account(func(a *snapshot.Account) {
				a.IdentityProviders = providers(nil, nil)
				a.AddGap(gap(snapshot.SectionCredentialReport, "iam:GetCredentialReport", "AccessDenied"))
			})},
		{name: "SAML list denied", status: rule.Unknown, contains: []string{"iam:ListSAMLProviders: AccessDenied"},
			acct: account(func(a *snapshot.Account) {
				a.IdentityProviders = &snapshot.IdentityProviders{OIDCRead: true}
				a.AddGap(gap(snapshot.SectionSAMLProviders, "iam:ListSAMLProviders", "AccessDenied"))
				a.CredentialReport = usersReport(time.Hour)
			})},
		// The OIDC list denied does not matter: it never decides.
		{name: "OIDC list denied", status: rule.Pass,
			acct: account(func(a *snapshot.Account) {
				a.IdentityProviders = &snapshot.IdentityProviders{SAML: sso, SAMLRead: true}
				a.AddGap(gap(snapshot.SectionOIDCProviders, "iam:ListOpenIDConnectProviders", "AccessDenied"))
			})},
		{name: "not collected", status: rule.Unknown, acct: account(nil)},
		{name: "assume-root session", status: rule.NotApplicable,
			acct: account(func(a *snapshot.Account) { a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot} })},
	})
}
