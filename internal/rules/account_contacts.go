package rules

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The rules behind the CIS items a person judges (maintain current
// contact details, security contact registered, people managed centrally
// through federation). Their mappings are "evidence": a control they back
// stays MANUAL when they pass, because only a person can say whether a
// contact is current or whether everyone is federated; a FAIL or an
// UNKNOWN still reaches the control, so nothing Vigil could not read is
// ever shown as settled.

const (
	srcContacts = "account:GetAlternateContact"
	srcSAML     = "iam:ListSAMLProviders"
	srcOIDC     = "iam:ListOpenIDConnectProviders"
)

// AccountSecurityContact fails an account with no security alternate
// contact (CIS v5 1.2, v6 2.2). Without one, AWS sends security notices
// (abuse reports, exposed keys, compromised resources) only to the root
// user's email address, which in many organisations nobody reads. The
// evidence carries every alternate contact read, for the "maintain
// current contact details" item.
var AccountSecurityContact = rule.Rule{
	ID:       "account-security-contact",
	Title:    "No security contact registered for the account",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "account",
	Check:    checkAccountSecurityContact,
}

func checkAccountSecurityContact(in rule.Input) rule.Outcome {
	a := in.Account
	if o, na := assumeRootOnly(a); na {
		return o
	}
	ev := contactEvidence(a)
	sec := a.AlternateContacts.Of(snapshot.ContactSecurity)
	switch {
	case sec == nil:
		section := snapshot.SectionAlternateContact + snapshot.ContactSecurity
		return rule.Outcome{Status: rule.Unknown, Evidence: ev,
			Message: fmt.Sprintf("Cannot read the account's security contact (%s).", gapText(a, section))}
	case !sec.Registered:
		return rule.Outcome{Status: rule.Fail, Evidence: ev,
			Message: "No security contact is registered: AWS sends security notices (abuse reports, exposed keys) only to the root user's email address. Register a monitored team address as the SECURITY alternate contact."}
	}
	return rule.Outcome{Status: rule.Pass, Evidence: ev,
		Message: "Security contact registered: " + contactText(sec) + ". Check that it is current and reaches a monitored team."}
}

// contactEvidence is one line per alternate contact type: what was read,
// "not registered", or the call's failure.
func contactEvidence(a *snapshot.Account) []rule.Evidence {
	var ev []rule.Evidence
	for _, typ := range snapshot.ContactTypes {
		c := a.AlternateContacts.Of(typ)
		switch {
		case c == nil:
			e := rule.Evidence{Source: srcContacts, Key: typ, Error: "not collected"}
			if g := a.GapFor(snapshot.SectionAlternateContact + typ); g != nil {
				e.Error = g.Text()
			} else if acc := accessGaps(a); len(acc) > 0 {
				e.Source, e.Error = acc[0].Call, acc[0].Text()
			}
			ev = append(ev, e)
		case !c.Registered:
			ev = append(ev, rule.Evidence{Source: srcContacts, Key: typ, Value: "not registered (ResourceNotFoundException)"})
		default:
			ev = append(ev, rule.Evidence{Source: srcContacts, Key: typ, Value: contactText(c)})
		}
	}
	return ev
}

func contactText(c *snapshot.AlternateContact) string {
	var parts []string
	for _, p := range []string{c.Name, c.Title, c.EmailAddress, c.PhoneNumber} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// IAMIdentityFederation fails an account where people sign in as IAM
// users and no SAML identity provider federates anyone in (CIS v5 1.20,
// v6 2.20). IAM Identity Center, like any SAML federation, leaves a SAML
// provider in every account it serves. An account with no SAML provider
// and no IAM user holding a console password is reached only through
// roles from elsewhere, which is central management too. OIDC providers
// are listed as evidence but do not count: they mostly let workloads (CI
// pipelines, Kubernetes) in, not people.
var IAMIdentityFederation = rule.Rule{
	ID:       "iam-identity-federation",
	Title:    "People sign in as IAM users rather than through identity federation",
	Severity: rule.Low,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMIdentityFederation,
}

func checkIAMIdentityFederation(in rule.Input) rule.Outcome {
	a := in.Account
	if o, na := assumeRootOnly(a); na {
		return o
	}
	ip := a.IdentityProviders
	ev := providerEvidence(a)
	if ip == nil || !ip.SAMLRead {
		return rule.Outcome{Status: rule.Unknown, Evidence: ev,
			Message: fmt.Sprintf("Cannot list the account's SAML identity providers (%s).", gapText(a, snapshot.SectionSAMLProviders))}
	}
	if len(ip.SAML) > 0 {
		names := make([]string, 0, len(ip.SAML))
		for _, p := range ip.SAML {
			names = append(names, providerName(p.ARN))
		}
		return rule.Outcome{Status: rule.Pass, Evidence: ev,
			Message: fmt.Sprintf("%s federates people into the account: %s. Check that people sign in through it rather than as IAM users.",
				rule.Plural(len(names), "SAML provider", "SAML providers"), strings.Join(names, ", "))}
	}
	users, o := usersFromReport(in)
	if o != nil {
		if o.Status == rule.Pass {
			// No IAM users at all: nobody signs in here but through roles.
			o.Evidence = append(ev, o.Evidence...)
			o.Message = "No SAML identity provider, and no IAM user: people reach the account only through roles from elsewhere. " + o.Message
			return *o
		}
		o.Evidence = append(ev, o.Evidence...)
		o.Message = "No SAML identity provider, and whether IAM users sign in with passwords is unknown: " + o.Message
		return *o
	}
	var console []string
	for _, r := range users.rows {
		if r.PasswordEnabled == "true" {
			console = append(console, r.User)
		}
	}
	ev = append(ev, users.rep.evidence("users with a console password", fmt.Sprint(len(console))))
	if len(console) > 0 {
		return rule.Outcome{Status: rule.Fail, Evidence: ev,
			Message: fmt.Sprintf("No SAML identity provider federates people in, and %s a console password (%s): people are managed in this account, not centrally. Federate them (IAM Identity Center) and remove the passwords.",
				rule.Plural(len(console), "IAM user has", "IAM users have"), firstNames(console, 5))}
	}
	if !users.rep.fresh(in.Options) {
		return rule.Outcome{Status: rule.Unknown, Evidence: ev,
			Message: fmt.Sprintf("No SAML identity provider, and no IAM user had a console password, but %s.", users.rep.staleText(in.Options))}
	}
	return rule.Outcome{Status: rule.Pass, Evidence: ev,
		Message: fmt.Sprintf("No SAML identity provider, but no IAM user has a console password (%s): people reach the account only through roles from elsewhere.", users.rep.describe())}
}

func providerEvidence(a *snapshot.Account) []rule.Evidence {
	ip := a.IdentityProviders
	var ev []rule.Evidence
	for _, l := range []struct {
		src, section string
		read         bool
		list         []snapshot.IdentityProvider
	}{
		{srcSAML, snapshot.SectionSAMLProviders, ip != nil && ip.SAMLRead, samlOf(ip)},
		{srcOIDC, snapshot.SectionOIDCProviders, ip != nil && ip.OIDCRead, oidcOf(ip)},
	} {
		if !l.read {
			e := rule.Evidence{Source: l.src, Error: "not collected"}
			if g := a.GapFor(l.section); g != nil {
				e.Error = g.Text()
			} else if acc := accessGaps(a); len(acc) > 0 {
				e.Source, e.Error = acc[0].Call, acc[0].Text()
			}
			ev = append(ev, e)
			continue
		}
		arns := make([]string, 0, len(l.list))
		for _, p := range l.list {
			arns = append(arns, p.ARN)
		}
		ev = append(ev, rule.Evidence{Source: l.src, Key: "providers", Value: namesOrNone(arns)})
	}
	return ev
}

func samlOf(ip *snapshot.IdentityProviders) []snapshot.IdentityProvider {
	if ip == nil {
		return nil
	}
	return ip.SAML
}

func oidcOf(ip *snapshot.IdentityProviders) []snapshot.IdentityProvider {
	if ip == nil {
		return nil
	}
	return ip.OIDC
}

// providerName is the name in a SAML provider's ARN.
func providerName(arn string) string {
	if _, name, ok := strings.Cut(arn, ":saml-provider/"); ok {
		return name
	}
	return arn
}

// firstNames lists at most n names, then how many more.
func firstNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}
