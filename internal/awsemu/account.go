package awsemu

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Account Management API speaks restJson1: every operation is a POST
// to its own path (/getAlternateContact, /putAlternateContact,
// /deleteAlternateContact), the input is a JSON body, and an error is its
// type with {"message": …}. An alternate contact that was never set is
// ResourceNotFoundException (404), which is an answer ("none registered"),
// not a failure. AccountId, when given and not the caller's own, names a
// member account: only the organisation's management account may.

var accountHandlers = map[string]handlerFunc{
	"GetAlternateContact":    (*Server).acctGetAlternateContact,
	"PutAlternateContact":    (*Server).acctPutAlternateContact,
	"DeleteAlternateContact": (*Server).acctDeleteAlternateContact,
}

// Alternate contact types.
var alternateContactTypes = []string{"BILLING", "OPERATIONS", "SECURITY"}

// AlternateContact is one of an account's alternate contacts (billing,
// operations, security), as the Account Management API keeps them.
type AlternateContact struct {
	Name         string `json:"name"`
	Title        string `json:"title"`
	EmailAddress string `json:"emailAddress"`
	PhoneNumber  string `json:"phoneNumber"`
}

// accountOperation names the operation of an Account Management request
// from its path.
func accountOperation(method, path string) string {
	if method != http.MethodPost {
		return ""
	}
	for op := range accountHandlers {
		if path == "/"+strings.ToLower(op[:1])+op[1:] {
			return op
		}
	}
	return ""
}

// acctStatus is the HTTP status the Account API answers an error code with.
func acctStatus(code string) int {
	switch code {
	case "AccessDeniedException":
		return 403
	case "ResourceNotFoundException":
		return 404
	case "ConflictException":
		return 409
	case "TooManyRequestsException":
		return 429
	case "InternalServerException":
		return 500
	}
	return 400
}

func acctError(code, message string) *apiError {
	return &apiError{status: acctStatus(code), code: code, message: message}
}

// contactInput is the input every alternate-contact operation shares.
type contactInput struct {
	AccountID            string `json:"AccountId"`
	AlternateContactType string `json:"AlternateContactType"`
	EmailAddress         string `json:"EmailAddress"`
	Name                 string `json:"Name"`
	PhoneNumber          string `json:"PhoneNumber"`
	Title                string `json:"Title"`
}

// contactTarget decodes the input and resolves the account it is about.
func (s *Server) contactTarget(r *request) (*Account, contactInput, *apiError) {
	var in contactInput
	if err := r.decode(&in); err != nil {
		return nil, in, acctError("ValidationException", err.message)
	}
	if !slices.Contains(alternateContactTypes, in.AlternateContactType) {
		return nil, in, acctError("ValidationException", "1 validation error detected: Value '"+in.AlternateContactType+
			"' at 'alternateContactType' failed to satisfy constraint: Member must satisfy enum value set: [BILLING, OPERATIONS, SECURITY]")
	}
	a := r.caller.account
	if in.AccountID == "" || in.AccountID == a.ID {
		return a, in, nil
	}
	target, ok := s.accounts[in.AccountID]
	if !ok || !s.isManagement(a.ID) || !s.inOrg(target) {
		return nil, in, acctError("AccessDeniedException", "User: "+r.caller.arn(s.world.Partition)+" is not authorized to perform: account:"+r.action+" on account "+in.AccountID)
	}
	return target, in, nil
}

type alternateContactJSON struct {
	AlternateContactType string `json:"AlternateContactType"`
	EmailAddress         string `json:"EmailAddress"`
	Name                 string `json:"Name"`
	PhoneNumber          string `json:"PhoneNumber"`
	Title                string `json:"Title"`
}

func (s *Server) acctGetAlternateContact(r *request) (any, *apiError) {
	a, in, err := s.contactTarget(r)
	if err != nil {
		return nil, err
	}
	c, ok := a.AlternateContacts[in.AlternateContactType]
	if !ok {
		return nil, acctError("ResourceNotFoundException", "No contact of the inputted alternate contact type found.")
	}
	return struct {
		AlternateContact alternateContactJSON `json:"AlternateContact"`
	}{alternateContactJSON{AlternateContactType: in.AlternateContactType, EmailAddress: c.EmailAddress, Name: c.Name, PhoneNumber: c.PhoneNumber, Title: c.Title}}, nil
}

func (s *Server) acctPutAlternateContact(r *request) (any, *apiError) {
	a, in, err := s.contactTarget(r)
	if err != nil {
		return nil, err
	}
	// Every field is required, within the model's lengths.
	for _, f := range []struct {
		name, value string
		max         int
	}{{"emailAddress", in.EmailAddress, 254}, {"name", in.Name, 64}, {"phoneNumber", in.PhoneNumber, 25}, {"title", in.Title, 50}} {
		if f.value == "" || len(f.value) > f.max {
			return nil, acctError("ValidationException", "1 validation error detected: Value at '"+f.name+"' failed to satisfy constraint: Member must have length between 1 and "+strconv.Itoa(f.max))
		}
	}
	if !strings.Contains(in.EmailAddress, "@") {
		return nil, acctError("ValidationException", "Invalid email address.")
	}
	if a.AlternateContacts == nil {
		a.AlternateContacts = map[string]AlternateContact{}
	}
	a.AlternateContacts[in.AlternateContactType] = AlternateContact{Name: in.Name, Title: in.Title, EmailAddress: in.EmailAddress, PhoneNumber: in.PhoneNumber}
	return struct{}{}, nil
}

func (s *Server) acctDeleteAlternateContact(r *request) (any, *apiError) {
	a, in, err := s.contactTarget(r)
	if err != nil {
		return nil, err
	}
	if _, ok := a.AlternateContacts[in.AlternateContactType]; !ok {
		return nil, acctError("ResourceNotFoundException", "No contact of the inputted alternate contact type found.")
	}
	delete(a.AlternateContacts, in.AlternateContactType)
	return struct{}{}, nil
}

// SAMLProvider and OIDCProvider are the identity providers IAM trusts for
// federation, listed by iam:ListSAMLProviders and
// iam:ListOpenIDConnectProviders.
type SAMLProvider struct {
	Name       string    `json:"name"`
	CreateDate time.Time `json:"createDate,omitzero"`
	ValidUntil time.Time `json:"validUntil,omitzero"`
}

// OIDCProvider is an OpenID Connect provider; URL is its issuer without
// the scheme ("token.actions.githubusercontent.com").
type OIDCProvider struct {
	URL        string    `json:"url"`
	CreateDate time.Time `json:"createDate,omitzero"`
}

type samlProviderXML struct {
	Arn        string   `xml:"Arn"`
	ValidUntil *isoTime `xml:"ValidUntil,omitempty"`
	CreateDate *isoTime `xml:"CreateDate,omitempty"`
}

type oidcProviderXML struct {
	Arn string `xml:"Arn"`
}

// iamListSAMLProviders lists every SAML provider; IAM does not page it.
func (s *Server) iamListSAMLProviders(r *request) (any, *apiError) {
	a := r.caller.account
	list := slices.Clone(a.SAMLProviders)
	slices.SortFunc(list, func(x, y SAMLProvider) int { return strings.Compare(x.Name, y.Name) })
	out := []samlProviderXML{}
	for _, p := range list {
		out = append(out, samlProviderXML{Arn: "arn:" + s.world.Partition + ":iam::" + a.ID + ":saml-provider/" + p.Name,
			ValidUntil: isoPtr(&p.ValidUntil), CreateDate: isoPtr(&p.CreateDate)})
	}
	return struct {
		List members[samlProviderXML] `xml:"SAMLProviderList"`
	}{out}, nil
}

// iamListOpenIDConnectProviders lists every OIDC provider; IAM does not
// page it either.
func (s *Server) iamListOpenIDConnectProviders(r *request) (any, *apiError) {
	a := r.caller.account
	list := slices.Clone(a.OIDCProviders)
	slices.SortFunc(list, func(x, y OIDCProvider) int { return strings.Compare(x.URL, y.URL) })
	out := []oidcProviderXML{}
	for _, p := range list {
		out = append(out, oidcProviderXML{Arn: "arn:" + s.world.Partition + ":iam::" + a.ID + ":oidc-provider/" + p.URL})
	}
	return struct {
		List members[oidcProviderXML] `xml:"OpenIDConnectProviderList"`
	}{out}, nil
}
