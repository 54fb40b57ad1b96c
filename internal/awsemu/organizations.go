package awsemu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Organizations speaks JSON 1.1: the operation is in X-Amz-Target, input
// and output are JSON objects, timestamps are epoch seconds, and errors are
// {"__type": code, "Message": …} with HTTP 400. (The Smithy model gives
// TooManyRequestsException 429, botocore 400; the Go SDK retries either,
// because it classifies throttles by code.)

var orgsHandlers = map[string]handlerFunc{
	"DescribeOrganization":                (*Server).orgsDescribeOrganization,
	"ListAccounts":                        (*Server).orgsListAccounts,
	"DescribeAccount":                     (*Server).orgsDescribeAccount,
	"ListRoots":                           (*Server).orgsListRoots,
	"ListOrganizationalUnitsForParent":    (*Server).orgsListOUsForParent,
	"ListAccountsForParent":               (*Server).orgsListAccountsForParent,
	"ListChildren":                        (*Server).orgsListChildren,
	"ListParents":                         (*Server).orgsListParents,
	"DescribeOrganizationalUnit":          (*Server).orgsDescribeOU,
	"ListAWSServiceAccessForOrganization": (*Server).orgsListServiceAccess,
	"EnableAWSServiceAccess":              (*Server).orgsEnableServiceAccess,
	"RegisterDelegatedAdministrator":      (*Server).orgsRegisterDelegatedAdministrator,
	"ListDelegatedAdministrators":         (*Server).orgsListDelegatedAdministrators,
	// Policies: organizations_policies.go.
	"ListPolicies":          (*Server).orgsListPolicies,
	"DescribePolicy":        (*Server).orgsDescribePolicy,
	"CreatePolicy":          (*Server).orgsCreatePolicy,
	"UpdatePolicy":          (*Server).orgsUpdatePolicy,
	"AttachPolicy":          (*Server).orgsAttachPolicy,
	"DetachPolicy":          (*Server).orgsDetachPolicy,
	"ListTargetsForPolicy":  (*Server).orgsListTargetsForPolicy,
	"ListPoliciesForTarget": (*Server).orgsListPoliciesForTarget,
	"EnablePolicyType":      (*Server).orgsEnablePolicyType,
	"DisablePolicyType":     (*Server).orgsDisablePolicyType,
}

// epochTime renders a timestamp as JSON epoch seconds.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	secs := float64(tt.Unix()) + float64(tt.Nanosecond())/1e9
	return []byte(strconv.FormatFloat(secs, 'f', -1, 64)), nil
}

type orgAccountJSON struct {
	Id              string    `json:"Id"`
	Arn             string    `json:"Arn"`
	Email           string    `json:"Email"`
	Name            string    `json:"Name"`
	Status          string    `json:"Status"`
	State           string    `json:"State"`
	JoinedMethod    string    `json:"JoinedMethod"`
	JoinedTimestamp epochTime `json:"JoinedTimestamp"`
}

type policyTypeJSON struct {
	Type   string `json:"Type"`
	Status string `json:"Status"`
}

var scpEnabled = []policyTypeJSON{{Type: "SERVICE_CONTROL_POLICY", Status: "ENABLED"}}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil {
		v = struct{}{}
	}
	body, err := json.Marshal(v)
	if err != nil {
		writeJSONError(w, &apiError{status: 500, code: "ServiceException", message: "awsemu: encode response: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func writeJSONError(w http.ResponseWriter, e *apiError) {
	body := struct {
		Type    string `json:"__type"`
		Message string `json:"Message"`
		Reason  string `json:"Reason,omitempty"`
	}{e.code, e.message, e.reason}
	writeJSON(w, e.status, body)
}

func invalidInput(reason, format string, args ...any) *apiError {
	e := newError("InvalidInputException", format, args...)
	e.reason = reason
	return e
}

// decode reads the JSON input. Unknown members are ignored, as AWS does.
func (r *request) decode(v any) *apiError {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return newError("SerializationException", "Cannot decode request: %v", err)
	}
	return nil
}

// pageInput is the paging part of every Organizations List* input.
type pageInput struct {
	MaxResults *int   `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
}

// orgsPage applies NextToken/MaxResults paging (MaxResults 1–20, default 20).
func orgsPage[T any](r *request, in pageInput, items []T) ([]T, *string, *apiError) {
	limit := 20
	if in.MaxResults != nil {
		limit = *in.MaxResults
		if limit < 1 {
			return nil, nil, invalidInput("MIN_VALUE_EXCEEDED", "MaxResults must be at least 1.")
		}
		if limit > 20 {
			return nil, nil, invalidInput("MAX_VALUE_EXCEEDED", "MaxResults must be at most 20.")
		}
	}
	offset := 0
	if in.NextToken != "" {
		var ok bool
		if offset, ok = decodeToken(r.action, in.NextToken); !ok {
			return nil, nil, invalidInput("INVALID_NEXT_TOKEN", "The NextToken is not valid.")
		}
	}
	out, next := page(r.action, items, offset, limit)
	if out == nil {
		out = []T{}
	}
	if next == "" {
		return out, nil, nil
	}
	return out, &next, nil
}

// orgsMember checks that the caller's account belongs to the organization.
func (s *Server) orgsMember(r *request) (*Organization, *apiError) {
	if s.org() == nil || !s.inOrg(r.caller.account) {
		return nil, newError("AWSOrganizationsNotInUseException", "Account %s is not a member of an organization.", r.caller.account.ID)
	}
	return s.org(), nil
}

// orgsAdmin checks that the caller is the management account or a
// delegated administrator: only they may read the organization's structure.
func (s *Server) orgsAdmin(r *request) (*Organization, *apiError) {
	o, err := s.orgsMember(r)
	if err != nil {
		return nil, err
	}
	id := r.caller.account.ID
	if !s.isManagement(id) && !s.isDelegatedAdmin(id) {
		return nil, newError("AccessDeniedException", "Only the management account or a delegated administrator can call %s.", r.action)
	}
	return o, nil
}

func (s *Server) orgARN(kind string, parts ...string) string {
	o := s.org()
	return "arn:" + s.world.Partition + ":organizations::" + o.ManagementAccountID + ":" + kind + "/" + strings.Join(append([]string{o.ID}, parts...), "/")
}

// legacyStatus maps State to the retiring Status member, which has no
// CLOSED value; closed accounts used to show as SUSPENDED.
func legacyStatus(state string) string {
	if state == StateClosed {
		return StateSuspended
	}
	return state
}

func (s *Server) orgAccount(a *Account) orgAccountJSON {
	return orgAccountJSON{
		Id:              a.ID,
		Arn:             s.orgARN("account", a.ID),
		Email:           a.Email,
		Name:            a.Name,
		Status:          legacyStatus(a.State),
		State:           a.State,
		JoinedMethod:    a.JoinedMethod,
		JoinedTimestamp: epochTime(a.JoinedTimestamp),
	}
}

// orgMembers lists the organization's accounts (under parent, if set) in world order, which is the
// listing order (AWS's own order is unspecified).
func (s *Server) orgMembers(parent string) []*Account {
	var out []*Account
	for _, a := range s.world.Accounts {
		if s.inOrg(a) && (parent == "" || a.ParentID == parent) {
			out = append(out, a)
		}
	}
	return out
}

func (s *Server) orgsDescribeOrganization(r *request) (any, *apiError) {
	o, err := s.orgsMember(r)
	if err != nil {
		return nil, err
	}
	mgmt := s.accounts[o.ManagementAccountID]
	type organization struct {
		Id                   string           `json:"Id"`
		Arn                  string           `json:"Arn"`
		FeatureSet           string           `json:"FeatureSet"`
		MasterAccountArn     string           `json:"MasterAccountArn"`
		MasterAccountId      string           `json:"MasterAccountId"`
		MasterAccountEmail   string           `json:"MasterAccountEmail"`
		AvailablePolicyTypes []policyTypeJSON `json:"AvailablePolicyTypes"`
	}
	return struct {
		Organization organization `json:"Organization"`
	}{organization{
		Id:                   o.ID,
		Arn:                  "arn:" + s.world.Partition + ":organizations::" + o.ManagementAccountID + ":organization/" + o.ID,
		FeatureSet:           o.FeatureSet,
		MasterAccountArn:     s.orgARN("account", mgmt.ID),
		MasterAccountId:      mgmt.ID,
		MasterAccountEmail:   mgmt.Email,
		AvailablePolicyTypes: scpEnabled,
	}}, nil
}

func (s *Server) orgsListAccounts(r *request) (any, *apiError) {
	var in pageInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if _, err := s.orgsAdmin(r); err != nil {
		return nil, err
	}
	return s.accountPage(r, in, s.orgMembers(""))
}

func (s *Server) accountPage(r *request, in pageInput, accounts []*Account) (any, *apiError) {
	// Page first, then render: an organisation of thousands of accounts
	// is listed a page at a time, and rendering every account for every
	// page would make listing it quadratic.
	pageOf, next, err := orgsPage(r, in, accounts)
	if err != nil {
		return nil, err
	}
	out := make([]orgAccountJSON, len(pageOf))
	for i, a := range pageOf {
		out[i] = s.orgAccount(a)
	}
	return struct {
		Accounts  []orgAccountJSON `json:"Accounts"`
		NextToken *string          `json:"NextToken,omitempty"`
	}{out, next}, nil
}

func (s *Server) orgsDescribeAccount(r *request) (any, *apiError) {
	var in struct {
		AccountId string `json:"AccountId"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if _, err := s.orgsAdmin(r); err != nil {
		return nil, err
	}
	if !accountIDPattern.MatchString(in.AccountId) {
		return nil, invalidInput("INVALID_PATTERN", "AccountId %q is not a 12-digit account ID.", in.AccountId)
	}
	a := s.accounts[in.AccountId]
	if a == nil || !s.inOrg(a) {
		return nil, newError("AccountNotFoundException", "Account %s is not in the organization.", in.AccountId)
	}
	return struct {
		Account orgAccountJSON `json:"Account"`
	}{s.orgAccount(a)}, nil
}

func (s *Server) orgsListRoots(r *request) (any, *apiError) {
	var in pageInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsAdmin(r)
	if err != nil {
		return nil, err
	}
	type root struct {
		Id          string           `json:"Id"`
		Arn         string           `json:"Arn"`
		Name        string           `json:"Name"`
		PolicyTypes []policyTypeJSON `json:"PolicyTypes"`
	}
	out, next, err := orgsPage(r, in, []root{{o.RootID, s.orgARN("root", o.RootID), "Root", s.rootPolicyTypes()}})
	if err != nil {
		return nil, err
	}
	return struct {
		Roots     []root  `json:"Roots"`
		NextToken *string `json:"NextToken,omitempty"`
	}{out, next}, nil
}

// parentKind tells whether id is the root ("ROOT"), an OU
// ("ORGANIZATIONAL_UNIT") or neither ("").
func (s *Server) parentKind(id string) string {
	o := s.org()
	if id == o.RootID {
		return "ROOT"
	}
	for _, ou := range o.OUs {
		if ou.ID == id {
			return "ORGANIZATIONAL_UNIT"
		}
	}
	return ""
}

type parentInput struct {
	pageInput
	ParentId string `json:"ParentId"`
}

func (s *Server) parentRequest(r *request) (parentInput, *apiError) {
	var in parentInput
	if err := r.decode(&in); err != nil {
		return in, err
	}
	if _, err := s.orgsAdmin(r); err != nil {
		return in, err
	}
	if in.ParentId == "" {
		return in, invalidInput("INPUT_REQUIRED", "ParentId is required.")
	}
	if s.parentKind(in.ParentId) == "" {
		return in, newError("ParentNotFoundException", "Parent %s was not found.", in.ParentId)
	}
	return in, nil
}

type ouJSON struct {
	Id   string `json:"Id"`
	Arn  string `json:"Arn"`
	Name string `json:"Name"`
}

func (s *Server) orgsListOUsForParent(r *request) (any, *apiError) {
	in, err := s.parentRequest(r)
	if err != nil {
		return nil, err
	}
	var ous []ouJSON
	for _, ou := range s.org().OUs {
		if ou.ParentID == in.ParentId {
			ous = append(ous, ouJSON{ou.ID, s.orgARN("ou", ou.ID), ou.Name})
		}
	}
	out, next, err := orgsPage(r, in.pageInput, ous)
	if err != nil {
		return nil, err
	}
	return struct {
		OrganizationalUnits []ouJSON `json:"OrganizationalUnits"`
		NextToken           *string  `json:"NextToken,omitempty"`
	}{out, next}, nil
}

func (s *Server) orgsDescribeOU(r *request) (any, *apiError) {
	var in struct {
		OrganizationalUnitId string `json:"OrganizationalUnitId"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsAdmin(r)
	if err != nil {
		return nil, err
	}
	if in.OrganizationalUnitId == "" {
		return nil, invalidInput("INPUT_REQUIRED", "OrganizationalUnitId is required.")
	}
	for _, ou := range o.OUs {
		if ou.ID == in.OrganizationalUnitId {
			return struct {
				OrganizationalUnit ouJSON `json:"OrganizationalUnit"`
			}{ouJSON{ou.ID, s.orgARN("ou", ou.ID), ou.Name}}, nil
		}
	}
	return nil, newError("OrganizationalUnitNotFoundException", "Organizational unit %s was not found.", in.OrganizationalUnitId)
}

func (s *Server) orgsListAccountsForParent(r *request) (any, *apiError) {
	in, err := s.parentRequest(r)
	if err != nil {
		return nil, err
	}
	return s.accountPage(r, in.pageInput, s.orgMembers(in.ParentId))
}

func (s *Server) orgsListChildren(r *request) (any, *apiError) {
	var in struct {
		parentInput
		ChildType string `json:"ChildType"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if _, err := s.parentRequest(r); err != nil {
		return nil, err
	}
	type child struct {
		Id   string `json:"Id"`
		Type string `json:"Type"`
	}
	var children []child
	switch in.ChildType {
	case "ACCOUNT":
		for _, a := range s.orgMembers(in.ParentId) {
			children = append(children, child{a.ID, "ACCOUNT"})
		}
	case "ORGANIZATIONAL_UNIT":
		for _, ou := range s.org().OUs {
			if ou.ParentID == in.ParentId {
				children = append(children, child{ou.ID, "ORGANIZATIONAL_UNIT"})
			}
		}
	case "":
		return nil, invalidInput("INPUT_REQUIRED", "ChildType is required.")
	default:
		return nil, invalidInput("INVALID_ENUM", "ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT.")
	}
	out, next, err := orgsPage(r, in.pageInput, children)
	if err != nil {
		return nil, err
	}
	return struct {
		Children  []child `json:"Children"`
		NextToken *string `json:"NextToken,omitempty"`
	}{out, next}, nil
}

func (s *Server) orgsListParents(r *request) (any, *apiError) {
	var in struct {
		pageInput
		ChildId string `json:"ChildId"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsAdmin(r)
	if err != nil {
		return nil, err
	}
	parentID := ""
	if a := s.accounts[in.ChildId]; a != nil && s.inOrg(a) {
		parentID = a.ParentID
	}
	for _, ou := range o.OUs {
		if ou.ID == in.ChildId {
			parentID = ou.ParentID
		}
	}
	if parentID == "" {
		return nil, newError("ChildNotFoundException", "Child %s was not found.", in.ChildId)
	}
	type parent struct {
		Id   string `json:"Id"`
		Type string `json:"Type"`
	}
	out, next, err := orgsPage(r, in.pageInput, []parent{{parentID, s.parentKind(parentID)}})
	if err != nil {
		return nil, err
	}
	return struct {
		Parents   []parent `json:"Parents"`
		NextToken *string  `json:"NextToken,omitempty"`
	}{out, next}, nil
}

func (s *Server) orgsListServiceAccess(r *request) (any, *apiError) {
	var in pageInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsAdmin(r)
	if err != nil {
		return nil, err
	}
	type enabled struct {
		ServicePrincipal string    `json:"ServicePrincipal"`
		DateEnabled      epochTime `json:"DateEnabled"`
	}
	principals := slices.Clone(o.TrustedAccess)
	sort.Strings(principals)
	var list []enabled
	for _, sp := range principals {
		list = append(list, enabled{sp, epochTime(s.trusted[sp])})
	}
	out, next, err := orgsPage(r, in, list)
	if err != nil {
		return nil, err
	}
	return struct {
		EnabledServicePrincipals []enabled `json:"EnabledServicePrincipals"`
		NextToken                *string   `json:"NextToken,omitempty"`
	}{out, next}, nil
}

func (s *Server) orgsEnableServiceAccess(r *request) (any, *apiError) {
	var in struct {
		ServicePrincipal string `json:"ServicePrincipal"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsMember(r)
	if err != nil {
		return nil, err
	}
	if !s.isManagement(r.caller.account.ID) {
		return nil, newError("AccessDeniedException", "Only the management account can call %s.", r.action)
	}
	if in.ServicePrincipal == "" {
		return nil, invalidInput("INPUT_REQUIRED", "ServicePrincipal is required.")
	}
	if !strings.HasSuffix(in.ServicePrincipal, ".amazonaws.com") {
		return nil, invalidInput("UNRECOGNIZED_SERVICE_PRINCIPAL", "%s is not a recognized service principal.", in.ServicePrincipal)
	}
	if !slices.Contains(o.TrustedAccess, in.ServicePrincipal) {
		o.TrustedAccess = append(o.TrustedAccess, in.ServicePrincipal)
		s.trusted[in.ServicePrincipal] = r.now
	}
	return struct{}{}, nil
}

func (s *Server) orgsListDelegatedAdministrators(r *request) (any, *apiError) {
	var in struct {
		pageInput
		ServicePrincipal string `json:"ServicePrincipal"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsAdmin(r)
	if err != nil {
		return nil, err
	}
	type admin struct {
		orgAccountJSON
		DelegationEnabledDate epochTime `json:"DelegationEnabledDate"`
	}
	// The world records delegated administrators for IAM only.
	var list []admin
	if in.ServicePrincipal == "" || in.ServicePrincipal == iamServicePrincipal {
		for _, id := range o.DelegatedAdmins {
			a := s.accounts[id]
			list = append(list, admin{s.orgAccount(a), epochTime(a.JoinedTimestamp)})
		}
	}
	out, next, err := orgsPage(r, in.pageInput, list)
	if err != nil {
		return nil, err
	}
	return struct {
		DelegatedAdministrators []admin `json:"DelegatedAdministrators"`
		NextToken               *string `json:"NextToken,omitempty"`
	}{out, next}, nil
}

// orgsRegisterDelegatedAdministrator makes a member account the delegated
// administrator of a service; only IAM's is modelled, since that is the one
// centralised root access uses.
func (s *Server) orgsRegisterDelegatedAdministrator(r *request) (any, *apiError) {
	var in struct{ AccountId, ServicePrincipal string }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsManagement(r)
	if err != nil {
		return nil, err
	}
	if in.AccountId == "" || in.ServicePrincipal == "" {
		return nil, invalidInput("INPUT_REQUIRED", "AccountId and ServicePrincipal are required.")
	}
	if in.ServicePrincipal != iamServicePrincipal {
		return nil, invalidInput("UNRECOGNIZED_SERVICE_PRINCIPAL", "awsemu models delegated administrators for %s only.", iamServicePrincipal)
	}
	a, ok := s.accounts[in.AccountId]
	if !ok || !s.inOrg(a) {
		return nil, newError("AccountNotFoundException", "You specified an account that doesn't exist.")
	}
	if in.AccountId == o.ManagementAccountID {
		e := newError("ConstraintViolationException", "You cannot register the management account as a delegated administrator.")
		e.reason = "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"
		return nil, e
	}
	if slices.Contains(o.DelegatedAdmins, in.AccountId) {
		return nil, newError("AccountAlreadyRegisteredException", "The provided account is already a delegated administrator for your organization.")
	}
	o.DelegatedAdmins = append(o.DelegatedAdmins, in.AccountId)
	return struct{}{}, nil
}
