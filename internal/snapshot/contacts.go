package snapshot

// What Vigil reads for the CIS items a person must judge: the account's
// alternate contacts (is a security contact registered, and is it
// current?) and the identity providers IAM trusts (are people federated
// in, or do they sign in as IAM users?). Vigil cannot decide those items,
// but it can show what it read, and say when it could not read it.

// AlternateContacts are the account's alternate contacts, one
// account:GetAlternateContact call per type. A type whose call failed is
// nil, with a gap of section SectionAlternateContact+type
// ("alternate_contact_SECURITY").
type AlternateContacts struct {
	Billing    *AlternateContact `json:"billing,omitempty"`
	Operations *AlternateContact `json:"operations,omitempty"`
	Security   *AlternateContact `json:"security,omitempty"`
}

// AlternateContact is one type's answer. Registered is false when the
// Account API answered ResourceNotFoundException: none was ever set.
type AlternateContact struct {
	Registered   bool   `json:"registered"`
	Name         string `json:"name,omitempty"`
	Title        string `json:"title,omitempty"`
	EmailAddress string `json:"email_address,omitempty"`
	PhoneNumber  string `json:"phone_number,omitempty"`
}

// Alternate contact types, as the Account API names them.
const (
	ContactBilling    = "BILLING"
	ContactOperations = "OPERATIONS"
	ContactSecurity   = "SECURITY"
)

// ContactTypes lists the alternate contact types in the order they are
// read and reported.
var ContactTypes = []string{ContactSecurity, ContactBilling, ContactOperations}

// Of returns the answer for one type, nil when it was not read.
func (c *AlternateContacts) Of(typ string) *AlternateContact {
	if c == nil {
		return nil
	}
	switch typ {
	case ContactBilling:
		return c.Billing
	case ContactOperations:
		return c.Operations
	case ContactSecurity:
		return c.Security
	}
	return nil
}

// Set records the answer for one type.
func (c *AlternateContacts) Set(typ string, v *AlternateContact) {
	switch typ {
	case ContactBilling:
		c.Billing = v
	case ContactOperations:
		c.Operations = v
	case ContactSecurity:
		c.Security = v
	}
}

// IdentityProviders are the identity providers IAM trusts for federation.
// SAML or OIDC is nil when its list call failed (a gap of section
// SectionSAMLProviders or SectionOIDCProviders).
type IdentityProviders struct {
	SAML []IdentityProvider `json:"saml,omitempty"`
	OIDC []IdentityProvider `json:"oidc,omitempty"`
	// SAMLRead and OIDCRead tell an empty list from one not read.
	SAMLRead bool `json:"saml_read"`
	OIDCRead bool `json:"oidc_read"`
}

// IdentityProvider is one SAML or OIDC provider by its ARN.
type IdentityProvider struct {
	ARN string `json:"arn"`
}

// Sections of the manual items' evidence.
const (
	// SectionAlternateContact is followed by the contact type.
	SectionAlternateContact = "alternate_contact_"
	SectionSAMLProviders    = "saml_providers"
	SectionOIDCProviders    = "oidc_providers"
)
