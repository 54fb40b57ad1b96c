package awsemu

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Organization policies and delegated administrator registration: what the
// knowledge base's prevention steps call (create a service control policy,
// attach it, list what a target has). Only SERVICE_CONTROL_POLICY exists
// here, and it is always enabled on the root (ListRoots says so). SCPs are
// stored, not enforced: no call is denied because of one.

// Policy is an organization policy and the targets it is attached to.
type Policy struct {
	ID          string   `json:"id"` // "p-" followed by 8 to 128 lowercase letters, digits or underscores
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Type        string   `json:"type,omitempty"` // SERVICE_CONTROL_POLICY (the default)
	Content     string   `json:"content"`        // the policy document, as sent
	Targets     []string `json:"targets,omitempty"`
}

const scpType = "SERVICE_CONTROL_POLICY"

var policyIDPattern = regexp.MustCompile(`^p-[0-9a-z_]{8,128}$`)

// validatePolicies is part of World.Validate.
func validatePolicies(o *Organization, accounts map[string]*Account, bad func(string, ...any)) {
	targets := map[string]bool{o.RootID: true}
	for _, ou := range o.OUs {
		targets[ou.ID] = true
	}
	for id, a := range accounts {
		if !a.Standalone {
			targets[id] = true
		}
	}
	seen := map[string]bool{}
	for _, p := range o.Policies {
		where := fmt.Sprintf("organization: policy %q", p.ID)
		if !policyIDPattern.MatchString(p.ID) {
			bad("%s: id must be p- and 8 to 128 lowercase letters, digits or underscores", where)
		}
		if seen[p.ID] {
			bad("%s: duplicate id", where)
		}
		seen[p.ID] = true
		if p.Type != "" && p.Type != scpType {
			bad("%s: type %q: only %s is modelled", where, p.Type, scpType)
		}
		if !json.Valid([]byte(p.Content)) {
			bad("%s: content is not a JSON document", where)
		}
		for _, t := range p.Targets {
			if !targets[t] {
				bad("%s: target %q is not the root, an OU or a member account", where, t)
			}
		}
	}
}

type policySummaryJSON struct {
	Id          string `json:"Id"`
	Arn         string `json:"Arn"`
	Name        string `json:"Name"`
	Description string `json:"Description"`
	Type        string `json:"Type"`
	AwsManaged  bool   `json:"AwsManaged"`
}

type policyJSON struct {
	PolicySummary policySummaryJSON `json:"PolicySummary"`
	Content       string            `json:"Content"`
}

func (s *Server) policySummary(p *Policy) policySummaryJSON {
	return policySummaryJSON{
		Id: p.ID, Name: p.Name, Description: p.Description, Type: scpType,
		Arn: s.orgARN("policy", strings.ToLower(scpType), p.ID),
	}
}

func (s *Server) policy(o *Organization, id string) (*Policy, *apiError) {
	for i := range o.Policies {
		if o.Policies[i].ID == id {
			return &o.Policies[i], nil
		}
	}
	if !policyIDPattern.MatchString(id) {
		return nil, invalidInput("INVALID_PATTERN", "The policy ID %q is not valid.", id)
	}
	return nil, newError("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
}

// orgsPolicyAdmin: policies are managed from the management account (a
// delegated administrator for policy management is not modelled).
func (s *Server) orgsPolicyAdmin(r *request) (*Organization, *apiError) {
	o, err := s.orgsMember(r)
	if err != nil {
		return nil, err
	}
	if !s.isManagement(r.caller.account.ID) {
		return nil, newError("AccessDeniedException", "Only the management account can call %s.", r.action)
	}
	return o, nil
}

// targetKind checks that id is the root, an OU or a member account.
func (s *Server) validTarget(o *Organization, id string) *apiError {
	if id == o.RootID || slices.ContainsFunc(o.OUs, func(ou OU) bool { return ou.ID == id }) {
		return nil
	}
	if a, ok := s.accounts[id]; ok && s.inOrg(a) {
		return nil
	}
	return newError("TargetNotFoundException", "We can't find a root, OU, account, or email address with the TargetId that you specified.")
}

func (s *Server) orgsCreatePolicy(r *request) (any, *apiError) {
	var in struct {
		Content, Description, Name, Type string
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsPolicyAdmin(r)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Name == "" || in.Content == "" || in.Type == "":
		return nil, invalidInput("INPUT_REQUIRED", "Content, Name and Type are required.")
	case in.Type != scpType:
		return nil, newError("PolicyTypeNotEnabledException", "The policy type %s is not enabled in this organization (awsemu models %s only).", in.Type, scpType)
	case !json.Valid([]byte(in.Content)):
		return nil, newError("MalformedPolicyDocumentException", "The provided policy document does not meet the requirements of the specified policy type.")
	case slices.ContainsFunc(o.Policies, func(p Policy) bool { return p.Name == in.Name }):
		return nil, newError("DuplicatePolicyException", "A policy with the same name already exists.")
	}
	p := Policy{ID: s.newPolicyID(o), Name: in.Name, Description: in.Description, Type: scpType, Content: in.Content}
	o.Policies = append(o.Policies, p)
	return struct {
		Policy policyJSON `json:"Policy"`
	}{policyJSON{s.policySummary(&p), p.Content}}, nil
}

func (s *Server) newPolicyID(o *Organization) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	for {
		var b strings.Builder
		b.WriteString("p-")
		for range 8 {
			b.WriteByte(alphabet[s.rng.IntN(len(alphabet))])
		}
		id := b.String()
		if !slices.ContainsFunc(o.Policies, func(p Policy) bool { return p.ID == id }) {
			return id
		}
	}
}

func (s *Server) orgsDescribePolicy(r *request) (any, *apiError) {
	var in struct{ PolicyId string }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsAdmin(r)
	if err != nil {
		return nil, err
	}
	p, err := s.policy(o, in.PolicyId)
	if err != nil {
		return nil, err
	}
	return struct {
		Policy policyJSON `json:"Policy"`
	}{policyJSON{s.policySummary(p), p.Content}}, nil
}

func (s *Server) orgsAttachPolicy(r *request) (any, *apiError) {
	var in struct{ PolicyId, TargetId string }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsPolicyAdmin(r)
	if err != nil {
		return nil, err
	}
	p, err := s.policy(o, in.PolicyId)
	if err != nil {
		return nil, err
	}
	if err := s.validTarget(o, in.TargetId); err != nil {
		return nil, err
	}
	if slices.Contains(p.Targets, in.TargetId) {
		return nil, newError("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")
	}
	p.Targets = append(p.Targets, in.TargetId)
	return struct{}{}, nil
}

func (s *Server) orgsListPoliciesForTarget(r *request) (any, *apiError) {
	var in struct {
		pageInput
		TargetId, Filter string
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsAdmin(r)
	if err != nil {
		return nil, err
	}
	if in.Filter == "" {
		return nil, invalidInput("INPUT_REQUIRED", "Filter is required.")
	}
	if err := s.validTarget(o, in.TargetId); err != nil {
		return nil, err
	}
	list := []policySummaryJSON{}
	if in.Filter == scpType {
		for i := range o.Policies {
			if slices.Contains(o.Policies[i].Targets, in.TargetId) {
				list = append(list, s.policySummary(&o.Policies[i]))
			}
		}
	}
	out, next, err := orgsPage(r, in.pageInput, list)
	if err != nil {
		return nil, err
	}
	return struct {
		Policies  []policySummaryJSON `json:"Policies"`
		NextToken *string             `json:"NextToken,omitempty"`
	}{out, next}, nil
}

// orgsRegisterDelegatedAdministrator records a delegated administrator for
// IAM, the only service whose delegation the world models.
func (s *Server) orgsRegisterDelegatedAdministrator(r *request) (any, *apiError) {
	var in struct{ AccountId, ServicePrincipal string }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsPolicyAdmin(r)
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
