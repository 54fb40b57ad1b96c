package awsemu

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Organizations policies: service control policies and the other policy
// types, their attachments to the root, OUs and accounts, and the policy
// types enabled on the root. Shapes and error codes follow the
// Organizations API model (botocore organizations/2016-11-28).
//
// Behaviour chosen where AWS documents it:
//   - AWS managed FullAWSAccess (p-FullAWSAccess) always exists while SCPs
//     are enabled, and enabling SCPs on the root attaches it to the root
//     and to every OU and account, as AWS does; disabling SCPs removes every
//     SCP attachment.
//   - CreatePolicy works whether or not the type is enabled on the root
//     (its model has no PolicyTypeNotEnabledException); AttachPolicy needs
//     it enabled.
//   - SCP content is limited to 5,120 characters, whitespace included, as
//     through the API (ConstraintViolationException POLICY_CONTENT_LIMIT_EXCEEDED).
//   - At most five policies of a type per target
//     (MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED), and DetachPolicy refuses
//     to leave a target with no SCP (MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED).
//   - Attaching an SCP to the management account succeeds, as in AWS, and
//     has no effect there; that is for the client to know and say.
//
// Chosen where AWS does not say (UNVERIFIED): UpdatePolicy on an AWS
// managed policy answers AccessDeniedException; CreatePolicy checks the
// content is a JSON object with a Statement but not the full SCP grammar
// (MalformedPolicyDocumentException otherwise); writes are refused to
// delegated administrators (Organizations can delegate policy management
// through a resource policy, which the emulator does not model).

// Policy is an Organizations policy with its attachments.
type Policy struct {
	// ID is "p-" and 8 to 128 letters, digits or underscores; AWS managed
	// policies have names as IDs (p-FullAWSAccess).
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Type is SERVICE_CONTROL_POLICY (the default) or another policy type.
	Type       string `json:"type,omitempty"`
	AWSManaged bool   `json:"awsManaged,omitempty"`
	// Content is the policy text, served byte for byte.
	Content string `json:"content"`
	// Targets are the root, OU and account IDs the policy is attached to.
	Targets []string `json:"targets,omitempty"`
}

// Policy types the emulator accepts (the model has more; these are the
// ones a root-credential tool meets).
const (
	PolicyTypeSCP      = "SERVICE_CONTROL_POLICY"
	PolicyTypeRCP      = "RESOURCE_CONTROL_POLICY"
	PolicyTypeTag      = "TAG_POLICY"
	PolicyTypeBackup   = "BACKUP_POLICY"
	PolicyTypeAIOptOut = "AISERVICES_OPT_OUT_POLICY"
)

var knownPolicyTypes = []string{PolicyTypeAIOptOut, PolicyTypeBackup, PolicyTypeRCP, PolicyTypeSCP, PolicyTypeTag}

// FullAWSAccessID is the ID of the AWS managed SCP that allows everything.
const FullAWSAccessID = "p-FullAWSAccess"

const fullAWSAccessContent = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

const (
	scpMaxContent        = 5120
	maxPoliciesPerTarget = 5
	maxPoliciesPerType   = 1000
	maxPolicyNameLength  = 128
	maxPolicyDescLength  = 512
)

var policyIDPattern = regexp.MustCompile(`^p-[0-9a-zA-Z_]{8,128}$`)

// enabledPolicyTypes returns the policy types enabled on the root: by
// default SCPs only, the state of most organizations with all features.
func (o *Organization) enabledPolicyTypes() []string {
	if o.PolicyTypes == nil {
		return []string{PolicyTypeSCP}
	}
	return *o.PolicyTypes
}

func (o *Organization) policyTypeEnabled(t string) bool {
	return slices.Contains(o.enabledPolicyTypes(), t)
}

func (o *Organization) policy(id string) *Policy {
	for i := range o.Policies {
		if o.Policies[i].ID == id {
			return &o.Policies[i]
		}
	}
	return nil
}

// validatePolicies checks a world's policies: IDs, names, types, targets
// and the attachment limits.
func validatePolicies(o *Organization, accounts map[string]*Account, parents map[string]bool, bad func(string, ...any)) {
	if o.PolicyTypes != nil {
		for _, t := range *o.PolicyTypes {
			if !slices.Contains(knownPolicyTypes, t) {
				bad("organization: policyTypes: unknown policy type %q", t)
			}
		}
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	perTarget := map[string]int{}
	for i, p := range o.Policies {
		where := fmt.Sprintf("organization: policies[%d]", i)
		if !policyIDPattern.MatchString(p.ID) {
			bad("%s: id %q: want p- and 8 to 128 letters, digits or underscores", where, p.ID)
		}
		if ids[p.ID] {
			bad("%s: duplicate policy id %s", where, p.ID)
		}
		ids[p.ID] = true
		typ := p.Type
		if typ == "" {
			typ = PolicyTypeSCP
		}
		if !slices.Contains(knownPolicyTypes, typ) {
			bad("%s: type %q is not a known policy type", where, p.Type)
		}
		if p.Name == "" || len(p.Name) > maxPolicyNameLength {
			bad("%s: name must be 1 to %d characters", where, maxPolicyNameLength)
		}
		if names[typ+"/"+p.Name] {
			bad("%s: a %s named %q already exists", where, typ, p.Name)
		}
		names[typ+"/"+p.Name] = true
		if !json.Valid([]byte(p.Content)) {
			bad("%s: content is not valid JSON", where)
		}
		seen := map[string]bool{}
		for _, t := range p.Targets {
			if seen[t] {
				bad("%s: target %s listed twice", where, t)
			}
			seen[t] = true
			a := accounts[t]
			if !parents[t] && (a == nil || a.Standalone) {
				bad("%s: target %q is neither the root, an OU nor an account of the organization", where, t)
			}
			perTarget[typ+"/"+t]++
		}
		if len(p.Targets) > 0 && !slices.Contains(o.enabledPolicyTypes(), typ) && p.ID != FullAWSAccessID {
			bad("%s: attached, but policy type %s is not enabled on the root (policyTypes)", where, typ)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(perTarget)) {
		if perTarget[k] > maxPoliciesPerTarget {
			typ, target, _ := strings.Cut(k, "/")
			bad("organization: target %s has %d policies of type %s; AWS allows %d", target, perTarget[k], typ, maxPoliciesPerTarget)
		}
	}
}

// normalizePolicies fills defaults: policy types, and the AWS managed
// FullAWSAccess SCP attached everywhere when the world does not list it.
func (o *Organization) normalizePolicies(members []string) {
	for i := range o.Policies {
		if o.Policies[i].Type == "" {
			o.Policies[i].Type = PolicyTypeSCP
		}
	}
	if !o.policyTypeEnabled(PolicyTypeSCP) || o.policy(FullAWSAccessID) != nil {
		return
	}
	full := fullAWSAccess()
	full.Targets = o.allTargets(members)
	o.Policies = append([]Policy{full}, o.Policies...)
}

func fullAWSAccess() Policy {
	return Policy{ID: FullAWSAccessID, Name: "FullAWSAccess", Description: "Allows access to every operation",
		Type: PolicyTypeSCP, AWSManaged: true, Content: fullAWSAccessContent}
}

// allTargets is the root, every OU and every member account.
func (o *Organization) allTargets(members []string) []string {
	out := []string{o.RootID}
	for _, ou := range o.OUs {
		out = append(out, ou.ID)
	}
	return append(out, members...)
}

// Wire shapes.

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

type policyTargetJSON struct {
	TargetId string `json:"TargetId"`
	Arn      string `json:"Arn"`
	Name     string `json:"Name"`
	Type     string `json:"Type"`
}

// policyTypeSegment is the policy type as it appears in policy ARNs.
func policyTypeSegment(t string) string {
	return strings.ToLower(t)
}

func (s *Server) policyARN(p *Policy) string {
	if p.AWSManaged {
		return "arn:" + s.world.Partition + ":organizations::aws:policy/" + policyTypeSegment(p.Type) + "/" + p.ID
	}
	return s.orgARN("policy", policyTypeSegment(p.Type), p.ID)
}

func (s *Server) policySummary(p *Policy) policySummaryJSON {
	return policySummaryJSON{Id: p.ID, Arn: s.policyARN(p), Name: p.Name, Description: p.Description, Type: p.Type, AwsManaged: p.AWSManaged}
}

func (s *Server) rootPolicyTypes() []policyTypeJSON {
	out := []policyTypeJSON{}
	types := slices.Clone(s.org().enabledPolicyTypes())
	sort.Strings(types)
	for _, t := range types {
		out = append(out, policyTypeJSON{Type: t, Status: "ENABLED"})
	}
	return out
}

// policyTarget describes a root, OU or account ID of the organization, or
// returns ok=false.
func (s *Server) policyTarget(id string) (policyTargetJSON, bool) {
	o := s.org()
	switch {
	case id == o.RootID:
		return policyTargetJSON{TargetId: id, Arn: s.orgARN("root", id), Name: "Root", Type: "ROOT"}, true
	case strings.HasPrefix(id, "ou-"):
		for _, ou := range o.OUs {
			if ou.ID == id {
				return policyTargetJSON{TargetId: id, Arn: s.orgARN("ou", id), Name: ou.Name, Type: "ORGANIZATIONAL_UNIT"}, true
			}
		}
	default:
		if a := s.accounts[id]; a != nil && s.inOrg(a) {
			return policyTargetJSON{TargetId: id, Arn: s.orgARN("account", id), Name: a.Name, Type: "ACCOUNT"}, true
		}
	}
	return policyTargetJSON{}, false
}

func validPolicyType(t string) bool { return slices.Contains(knownPolicyTypes, t) }

func (s *Server) policyByID(id string) (*Policy, *apiError) {
	if id == "" {
		return nil, invalidInput("INPUT_REQUIRED", "PolicyId is required.")
	}
	if !policyIDPattern.MatchString(id) {
		return nil, invalidInput("INVALID_PATTERN", "PolicyId %q is not a valid policy ID.", id)
	}
	p := s.org().policy(id)
	if p == nil {
		return nil, newError("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
	}
	return p, nil
}

// orgsManagement checks the caller is the management account: only it may
// change policies here.
func (s *Server) orgsManagement(r *request) (*Organization, *apiError) {
	o, err := s.orgsMember(r)
	if err != nil {
		return nil, err
	}
	if !s.isManagement(r.caller.account.ID) {
		return nil, newError("AccessDeniedException", "You don't have permissions to access this resource: only the management account can call %s.", r.action)
	}
	return o, nil
}

func (s *Server) orgsListPolicies(r *request) (any, *apiError) {
	var in struct {
		pageInput
		Filter string `json:"Filter"`
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
	if !validPolicyType(in.Filter) {
		return nil, invalidInput("INVALID_ENUM", "Filter %q is not a policy type.", in.Filter)
	}
	var list []policySummaryJSON
	for i := range o.Policies {
		if o.Policies[i].Type == in.Filter {
			list = append(list, s.policySummary(&o.Policies[i]))
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

func (s *Server) orgsDescribePolicy(r *request) (any, *apiError) {
	var in struct {
		PolicyId string `json:"PolicyId"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if _, err := s.orgsAdmin(r); err != nil {
		return nil, err
	}
	p, err := s.policyByID(in.PolicyId)
	if err != nil {
		return nil, err
	}
	return struct {
		Policy policyJSON `json:"Policy"`
	}{policyJSON{s.policySummary(p), p.Content}}, nil
}

// checkContent applies what Organizations checks of a policy text.
func checkContent(typ, content string) *apiError {
	if content == "" {
		return invalidInput("INPUT_REQUIRED", "Content is required.")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return newError("MalformedPolicyDocumentException", "The provided policy document does not meet the requirements of the specified policy type: %v", err)
	}
	if typ == PolicyTypeSCP || typ == PolicyTypeRCP {
		if _, ok := doc["Statement"]; !ok {
			return newError("MalformedPolicyDocumentException", "The provided policy document does not meet the requirements of the specified policy type: it has no Statement.")
		}
		if len(content) > scpMaxContent {
			e := newError("ConstraintViolationException", "You attempted to create a policy that is larger than the maximum size (%d characters; this one has %d).", scpMaxContent, len(content))
			e.reason = "POLICY_CONTENT_LIMIT_EXCEEDED"
			return e
		}
	}
	return nil
}

func constraint(reason, format string, args ...any) *apiError {
	e := newError("ConstraintViolationException", format, args...)
	e.reason = reason
	return e
}

func (s *Server) orgsCreatePolicy(r *request) (any, *apiError) {
	var in struct {
		Content     string `json:"Content"`
		Description string `json:"Description"`
		Name        string `json:"Name"`
		Type        string `json:"Type"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsManagement(r)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Name == "":
		return nil, invalidInput("INPUT_REQUIRED", "Name is required.")
	case len(in.Name) > maxPolicyNameLength:
		return nil, invalidInput("MAX_LENGTH_EXCEEDED", "Name must be at most %d characters.", maxPolicyNameLength)
	case len(in.Description) > maxPolicyDescLength:
		return nil, invalidInput("MAX_LENGTH_EXCEEDED", "Description must be at most %d characters.", maxPolicyDescLength)
	case in.Type == "":
		return nil, invalidInput("INPUT_REQUIRED", "Type is required.")
	case !validPolicyType(in.Type):
		return nil, invalidInput("INVALID_ENUM", "Type %q is not a policy type.", in.Type)
	}
	if o.FeatureSet != "ALL" {
		return nil, newError("PolicyTypeNotAvailableForOrganizationException", "You can't use %s in an organization without all features enabled.", in.Type)
	}
	if err := checkContent(in.Type, in.Content); err != nil {
		return nil, err
	}
	n := 0
	for _, p := range o.Policies {
		if p.Type != in.Type {
			continue
		}
		n++
		if p.Name == in.Name {
			return nil, newError("DuplicatePolicyException", "A policy with the same name already exists.")
		}
	}
	if n >= maxPoliciesPerType {
		return nil, constraint("POLICY_NUMBER_LIMIT_EXCEEDED", "You attempted to exceed the number of policies that you can have in an organization.")
	}
	p := Policy{ID: s.newPolicyID(o, in.Name), Name: in.Name, Description: in.Description, Type: in.Type, Content: in.Content}
	o.Policies = append(o.Policies, p)
	return struct {
		Policy policyJSON `json:"Policy"`
	}{policyJSON{s.policySummary(&p), p.Content}}, nil
}

// newPolicyID derives a policy ID from the organization, the name and the
// request sequence, so IDs are unique and the same run gives the same IDs.
// Callers hold s.mu.
func (s *Server) newPolicyID(o *Organization, name string) string {
	for n := 0; ; n++ {
		id := "p-" + strings.ToLower(derivedID("", o.ID+"/"+name+"/"+strconv.Itoa(s.seq)+"/"+strconv.Itoa(n))[:8])
		if o.policy(id) == nil {
			return id
		}
	}
}

func (s *Server) orgsUpdatePolicy(r *request) (any, *apiError) {
	var in struct {
		PolicyId    string  `json:"PolicyId"`
		Name        *string `json:"Name"`
		Description *string `json:"Description"`
		Content     *string `json:"Content"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsManagement(r)
	if err != nil {
		return nil, err
	}
	p, err := s.policyByID(in.PolicyId)
	if err != nil {
		return nil, err
	}
	if p.AWSManaged {
		return nil, newError("AccessDeniedException", "You can't modify an AWS managed policy.")
	}
	if in.Name != nil {
		if *in.Name == "" || len(*in.Name) > maxPolicyNameLength {
			return nil, invalidInput("MAX_LENGTH_EXCEEDED", "Name must be 1 to %d characters.", maxPolicyNameLength)
		}
		for _, q := range o.Policies {
			if q.ID != p.ID && q.Type == p.Type && q.Name == *in.Name {
				return nil, newError("DuplicatePolicyException", "A policy with the same name already exists.")
			}
		}
	}
	if in.Content != nil {
		if err := checkContent(p.Type, *in.Content); err != nil {
			return nil, err
		}
	}
	if in.Description != nil && len(*in.Description) > maxPolicyDescLength {
		return nil, invalidInput("MAX_LENGTH_EXCEEDED", "Description must be at most %d characters.", maxPolicyDescLength)
	}
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.Content != nil {
		p.Content = *in.Content
	}
	return struct {
		Policy policyJSON `json:"Policy"`
	}{policyJSON{s.policySummary(p), p.Content}}, nil
}

type attachInput struct {
	PolicyId string `json:"PolicyId"`
	TargetId string `json:"TargetId"`
}

func (s *Server) attachRequest(r *request) (*Organization, *Policy, string, *apiError) {
	var in attachInput
	if err := r.decode(&in); err != nil {
		return nil, nil, "", err
	}
	o, err := s.orgsManagement(r)
	if err != nil {
		return nil, nil, "", err
	}
	if in.TargetId == "" {
		return nil, nil, "", invalidInput("INPUT_REQUIRED", "TargetId is required.")
	}
	p, err := s.policyByID(in.PolicyId)
	if err != nil {
		return nil, nil, "", err
	}
	if _, ok := s.policyTarget(in.TargetId); !ok {
		return nil, nil, "", newError("TargetNotFoundException", "We can't find a root, OU, or account with the TargetId that you specified.")
	}
	return o, p, in.TargetId, nil
}

func (s *Server) orgsAttachPolicy(r *request) (any, *apiError) {
	o, p, target, err := s.attachRequest(r)
	if err != nil {
		return nil, err
	}
	if !o.policyTypeEnabled(p.Type) {
		return nil, newError("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types: %s is not enabled on the root.", p.Type)
	}
	if slices.Contains(p.Targets, target) {
		return nil, newError("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")
	}
	if s.attachedCount(o, p.Type, target) >= maxPoliciesPerTarget {
		return nil, constraint("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
			"You attempted to exceed the number of policies of a certain type that can be attached to an entity at one time (%d).", maxPoliciesPerTarget)
	}
	p.Targets = append(p.Targets, target)
	return struct{}{}, nil
}

func (s *Server) orgsDetachPolicy(r *request) (any, *apiError) {
	o, p, target, err := s.attachRequest(r)
	if err != nil {
		return nil, err
	}
	i := slices.Index(p.Targets, target)
	if i < 0 {
		return nil, newError("PolicyNotAttachedException", "The policy isn't attached to the specified target in the specified root.")
	}
	if p.Type == PolicyTypeSCP && s.attachedCount(o, p.Type, target) <= 1 {
		return nil, constraint("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
			"You attempted to detach a policy from an entity that would cause the entity to have fewer than the minimum number of policies of a certain type required.")
	}
	p.Targets = slices.Delete(p.Targets, i, i+1)
	return struct{}{}, nil
}

func (s *Server) attachedCount(o *Organization, typ, target string) int {
	n := 0
	for _, p := range o.Policies {
		if p.Type == typ && slices.Contains(p.Targets, target) {
			n++
		}
	}
	return n
}

func (s *Server) orgsListTargetsForPolicy(r *request) (any, *apiError) {
	var in struct {
		pageInput
		PolicyId string `json:"PolicyId"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if _, err := s.orgsAdmin(r); err != nil {
		return nil, err
	}
	p, err := s.policyByID(in.PolicyId)
	if err != nil {
		return nil, err
	}
	var list []policyTargetJSON
	for _, id := range p.Targets {
		if t, ok := s.policyTarget(id); ok {
			list = append(list, t)
		}
	}
	out, next, err := orgsPage(r, in.pageInput, list)
	if err != nil {
		return nil, err
	}
	return struct {
		Targets   []policyTargetJSON `json:"Targets"`
		NextToken *string            `json:"NextToken,omitempty"`
	}{out, next}, nil
}

func (s *Server) orgsListPoliciesForTarget(r *request) (any, *apiError) {
	var in struct {
		pageInput
		TargetId string `json:"TargetId"`
		Filter   string `json:"Filter"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o, err := s.orgsAdmin(r)
	if err != nil {
		return nil, err
	}
	switch {
	case in.TargetId == "":
		return nil, invalidInput("INPUT_REQUIRED", "TargetId is required.")
	case in.Filter == "":
		return nil, invalidInput("INPUT_REQUIRED", "Filter is required.")
	case !validPolicyType(in.Filter):
		return nil, invalidInput("INVALID_ENUM", "Filter %q is not a policy type.", in.Filter)
	}
	if _, ok := s.policyTarget(in.TargetId); !ok {
		return nil, newError("TargetNotFoundException", "We can't find a root, OU, or account with the TargetId that you specified.")
	}
	var list []policySummaryJSON
	for i := range o.Policies {
		p := &o.Policies[i]
		if p.Type == in.Filter && slices.Contains(p.Targets, in.TargetId) {
			list = append(list, s.policySummary(p))
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

type policyTypeInput struct {
	RootId     string `json:"RootId"`
	PolicyType string `json:"PolicyType"`
}

func (s *Server) policyTypeRequest(r *request) (*Organization, policyTypeInput, *apiError) {
	var in policyTypeInput
	if err := r.decode(&in); err != nil {
		return nil, in, err
	}
	o, err := s.orgsManagement(r)
	if err != nil {
		return nil, in, err
	}
	switch {
	case in.RootId == "":
		return nil, in, invalidInput("INPUT_REQUIRED", "RootId is required.")
	case in.PolicyType == "":
		return nil, in, invalidInput("INPUT_REQUIRED", "PolicyType is required.")
	case !validPolicyType(in.PolicyType):
		return nil, in, invalidInput("INVALID_ENUM", "PolicyType %q is not a policy type.", in.PolicyType)
	}
	if in.RootId != o.RootID {
		return nil, in, newError("RootNotFoundException", "We can't find a root with the RootId that you specified.")
	}
	if o.FeatureSet != "ALL" {
		return nil, in, newError("PolicyTypeNotAvailableForOrganizationException", "You can't use %s in an organization without all features enabled.", in.PolicyType)
	}
	return o, in, nil
}

func (s *Server) rootJSON(o *Organization) any {
	type root struct {
		Id          string           `json:"Id"`
		Arn         string           `json:"Arn"`
		Name        string           `json:"Name"`
		PolicyTypes []policyTypeJSON `json:"PolicyTypes"`
	}
	return struct {
		Root root `json:"Root"`
	}{root{o.RootID, s.orgARN("root", o.RootID), "Root", s.rootPolicyTypes()}}
}

func (s *Server) orgsEnablePolicyType(r *request) (any, *apiError) {
	o, in, err := s.policyTypeRequest(r)
	if err != nil {
		return nil, err
	}
	if o.policyTypeEnabled(in.PolicyType) {
		return nil, newError("PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled.")
	}
	types := append(slices.Clone(o.enabledPolicyTypes()), in.PolicyType)
	o.PolicyTypes = &types
	if in.PolicyType == PolicyTypeSCP {
		// AWS attaches FullAWSAccess everywhere, so enabling SCPs changes
		// no one's permissions.
		full := o.policy(FullAWSAccessID)
		if full == nil {
			o.Policies = append([]Policy{fullAWSAccess()}, o.Policies...)
			full = &o.Policies[0]
		}
		full.Targets = o.allTargets(s.memberIDs())
	}
	return s.rootJSON(o), nil
}

func (s *Server) orgsDisablePolicyType(r *request) (any, *apiError) {
	o, in, err := s.policyTypeRequest(r)
	if err != nil {
		return nil, err
	}
	if !o.policyTypeEnabled(in.PolicyType) {
		return nil, newError("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
	}
	types := slices.DeleteFunc(slices.Clone(o.enabledPolicyTypes()), func(t string) bool { return t == in.PolicyType })
	o.PolicyTypes = &types
	// Disabling a type detaches every policy of that type.
	for i := range o.Policies {
		if o.Policies[i].Type == in.PolicyType {
			o.Policies[i].Targets = nil
		}
	}
	return s.rootJSON(o), nil
}

// memberIDs lists the organization's member account IDs in world order.
func (s *Server) memberIDs() []string {
	var out []string
	for _, a := range s.orgMembers("") {
		out = append(out, a.ID)
	}
	return out
}
