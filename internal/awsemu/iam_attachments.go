package awsemu

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// The IAM calls that change who holds which policy, the support role the
// knowledge base creates, and a user's virtual MFA device: what the pages
// of the IAM policy and user rules teach. Each acts on the caller's
// account. Error codes are IAM's; the messages follow AWS's wording where
// it is documented and are UNVERIFIED otherwise.
var iamAttachmentHandlers = map[string]handlerFunc{
	"AttachUserPolicy":         (*Server).iamAttachUserPolicy,
	"DetachUserPolicy":         (*Server).iamDetachUserPolicy,
	"DeleteUserPolicy":         (*Server).iamDeleteUserPolicy,
	"ListAttachedUserPolicies": (*Server).iamListAttachedUserPolicies,
	"ListUserPolicies":         (*Server).iamListUserPolicies,
	"GetUserPolicy":            (*Server).iamGetUserPolicy,
	"PutGroupPolicy":           (*Server).iamPutGroupPolicy,
	"AttachGroupPolicy":        (*Server).iamAttachGroupPolicy,
	"DetachGroupPolicy":        (*Server).iamDetachGroupPolicy,
	"AddUserToGroup":           (*Server).iamAddUserToGroup,
	"AttachRolePolicy":         (*Server).iamAttachRolePolicy,
	"DetachRolePolicy":         (*Server).iamDetachRolePolicy,
	"CreateRole":               (*Server).iamCreateRole,
	"DeletePolicy":             (*Server).iamDeletePolicy,
	"CreatePolicy":             (*Server).iamCreatePolicy,
	"ListEntitiesForPolicy":    (*Server).iamListEntitiesForPolicy,
	"CreateVirtualMFADevice":   (*Server).iamCreateVirtualMFADevice,
	"EnableMFADevice":          (*Server).iamEnableMFADevice,
}

// iamHandler finds an IAM operation in either table.
func iamHandler(action string) handlerFunc {
	if h := iamHandlers[action]; h != nil {
		return h
	}
	if h := iamTagHandlers[action]; h != nil {
		return h
	}
	return iamAttachmentHandlers[action]
}

// namedUser resolves the UserName parameter, which these calls require.
func namedUser(r *request) (*User, *apiError) {
	name := r.param("UserName")
	if name == "" {
		return nil, errMissingParam("UserName")
	}
	u := r.caller.account.user(name)
	if u == nil {
		return nil, errNoSuchUser(name)
	}
	return u, nil
}

func namedGroup(r *request) (*Group, *apiError) {
	name := r.param("GroupName")
	if name == "" {
		return nil, errMissingParam("GroupName")
	}
	a := r.caller.account
	for i := range a.Groups {
		if a.Groups[i].Name == name {
			return &a.Groups[i], nil
		}
	}
	return nil, newError("NoSuchEntity", "The group with name %s cannot be found.", name)
}

func namedRole(r *request) (*Role, *apiError) {
	name := r.param("RoleName")
	if name == "" {
		return nil, errMissingParam("RoleName")
	}
	ro := r.caller.account.role(name)
	if ro == nil {
		return nil, newError("NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	return ro, nil
}

// attachablePolicy checks the PolicyArn parameter names a policy the
// account can attach.
func (s *Server) attachablePolicy(r *request) (string, *apiError) {
	arn := r.param("PolicyArn")
	if arn == "" {
		return "", errMissingParam("PolicyArn")
	}
	if _, _, _, ok := policyByARN(s.partition(), r.caller.account, arn); !ok {
		return "", newError("NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	return arn, nil
}

func (s *Server) partition() string {
	if s.world.Partition == "" {
		return "aws"
	}
	return s.world.Partition
}

// attach adds arn to list once (attaching twice is not an error in IAM).
func attach(list *[]string, arn string) {
	if !slices.Contains(*list, arn) {
		*list = append(*list, arn)
	}
}

func detach(list *[]string, arn, kind, name string) *apiError {
	i := slices.Index(*list, arn)
	if i < 0 {
		return newError("NoSuchEntity", "Policy %s was not found in the policies attached to %s %s.", arn, kind, name)
	}
	*list = slices.Delete(*list, i, i+1)
	return nil
}

func (s *Server) iamAttachUserPolicy(r *request) (any, *apiError) {
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	arn, err := s.attachablePolicy(r)
	if err != nil {
		return nil, err
	}
	attach(&u.AttachedPolicies, arn)
	return nil, nil
}

func (s *Server) iamDetachUserPolicy(r *request) (any, *apiError) {
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	arn := r.param("PolicyArn")
	if arn == "" {
		return nil, errMissingParam("PolicyArn")
	}
	return nil, detach(&u.AttachedPolicies, arn, "user", u.Name)
}

func (s *Server) iamDeleteUserPolicy(r *request) (any, *apiError) {
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	name := r.param("PolicyName")
	if name == "" {
		return nil, errMissingParam("PolicyName")
	}
	i := slices.IndexFunc(u.InlinePolicies, func(p InlinePolicy) bool { return p.Name == name })
	if i < 0 {
		return nil, newError("NoSuchEntity", "The user policy with name %s cannot be found.", name)
	}
	u.InlinePolicies = slices.Delete(u.InlinePolicies, i, i+1)
	return nil, nil
}

type attachedPolicyRefXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

func (s *Server) iamListAttachedUserPolicies(r *request) (any, *apiError) {
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	var list []attachedPolicyRefXML
	for _, arn := range u.AttachedPolicies {
		name, _, _, _ := policyByARN(s.partition(), r.caller.account, arn)
		list = append(list, attachedPolicyRefXML{name, arn})
	}
	out, truncated, marker, err := iamPage(r, list)
	if err != nil {
		return nil, err
	}
	return struct {
		AttachedPolicies members[attachedPolicyRefXML] `xml:"AttachedPolicies"`
		IsTruncated      bool                          `xml:"IsTruncated"`
		Marker           string                        `xml:"Marker,omitempty"`
	}{out, truncated, marker}, nil
}

func (s *Server) iamListUserPolicies(r *request) (any, *apiError) {
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range u.InlinePolicies {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	out, truncated, marker, err := iamPage(r, names)
	if err != nil {
		return nil, err
	}
	return struct {
		PolicyNames members[string] `xml:"PolicyNames"`
		IsTruncated bool            `xml:"IsTruncated"`
		Marker      string          `xml:"Marker,omitempty"`
	}{out, truncated, marker}, nil
}

// iamGetUserPolicy returns an inline user policy, its document
// URL-encoded as IAM sends it.
func (s *Server) iamGetUserPolicy(r *request) (any, *apiError) {
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	name := r.param("PolicyName")
	if name == "" {
		return nil, errMissingParam("PolicyName")
	}
	i := slices.IndexFunc(u.InlinePolicies, func(p InlinePolicy) bool { return p.Name == name })
	if i < 0 {
		return nil, newError("NoSuchEntity", "The user policy with name %s cannot be found.", name)
	}
	return struct {
		UserName       string `xml:"UserName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{u.Name, name, encodeDocument(u.InlinePolicies[i].Document)}, nil
}

// iamPutGroupPolicy adds or replaces an inline group policy.
func (s *Server) iamPutGroupPolicy(r *request) (any, *apiError) {
	g, err := namedGroup(r)
	if err != nil {
		return nil, err
	}
	name, doc := r.param("PolicyName"), r.param("PolicyDocument")
	if name == "" {
		return nil, errMissingParam("PolicyName")
	}
	if doc == "" {
		return nil, errMissingParam("PolicyDocument")
	}
	if !json.Valid([]byte(doc)) {
		return nil, newError("MalformedPolicyDocument", "This policy contains invalid Json")
	}
	p := InlinePolicy{Name: name, Document: doc}
	if i := slices.IndexFunc(g.InlinePolicies, func(q InlinePolicy) bool { return q.Name == name }); i >= 0 {
		g.InlinePolicies[i] = p
	} else {
		g.InlinePolicies = append(g.InlinePolicies, p)
	}
	return nil, nil
}

func (s *Server) iamAttachGroupPolicy(r *request) (any, *apiError) {
	g, err := namedGroup(r)
	if err != nil {
		return nil, err
	}
	arn, err := s.attachablePolicy(r)
	if err != nil {
		return nil, err
	}
	attach(&g.AttachedPolicies, arn)
	return nil, nil
}

func (s *Server) iamDetachGroupPolicy(r *request) (any, *apiError) {
	g, err := namedGroup(r)
	if err != nil {
		return nil, err
	}
	arn := r.param("PolicyArn")
	if arn == "" {
		return nil, errMissingParam("PolicyArn")
	}
	return nil, detach(&g.AttachedPolicies, arn, "group", g.Name)
}

func (s *Server) iamAddUserToGroup(r *request) (any, *apiError) {
	g, err := namedGroup(r)
	if err != nil {
		return nil, err
	}
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	attach(&u.Groups, g.Name)
	return nil, nil
}

func (s *Server) iamAttachRolePolicy(r *request) (any, *apiError) {
	ro, err := namedRole(r)
	if err != nil {
		return nil, err
	}
	arn, err := s.attachablePolicy(r)
	if err != nil {
		return nil, err
	}
	attach(&ro.AttachedPolicies, arn)
	return nil, nil
}

func (s *Server) iamDetachRolePolicy(r *request) (any, *apiError) {
	ro, err := namedRole(r)
	if err != nil {
		return nil, err
	}
	arn := r.param("PolicyArn")
	if arn == "" {
		return nil, errMissingParam("PolicyArn")
	}
	return nil, detach(&ro.AttachedPolicies, arn, "role", ro.Name)
}

var roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// iamCreateRole makes a role. The trust policy must be JSON with
// statements; like every role of the emulator, it is not evaluated
// (Role's doc), and GetAccountAuthorizationDetails shows the account's
// standard trust policy.
func (s *Server) iamCreateRole(r *request) (any, *apiError) {
	a := r.caller.account
	name := r.param("RoleName")
	if name == "" {
		return nil, errMissingParam("RoleName")
	}
	if !roleNamePattern.MatchString(name) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	doc := r.param("AssumeRolePolicyDocument")
	if doc == "" {
		return nil, errMissingParam("AssumeRolePolicyDocument")
	}
	var trust struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal([]byte(doc), &trust) != nil || len(trust.Statement) == 0 {
		return nil, newError("MalformedPolicyDocument", "This policy contains invalid Json")
	}
	if a.role(name) != nil {
		return nil, newError("EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	ro := Role{Name: name, ID: derivedID("AROA", a.ID+"/role/"+name)}
	a.Roles = append(a.Roles, ro)
	type roleXML struct {
		Path                     string  `xml:"Path"`
		RoleName                 string  `xml:"RoleName"`
		RoleId                   string  `xml:"RoleId"`
		Arn                      string  `xml:"Arn"`
		CreateDate               isoTime `xml:"CreateDate"`
		AssumeRolePolicyDocument string  `xml:"AssumeRolePolicyDocument"`
	}
	return struct {
		Role roleXML `xml:"Role"`
	}{roleXML{"/", name, ro.ID, "arn:" + s.partition() + ":iam::" + a.ID + ":role/" + name, isoTime(r.now), encodeDocument(doc)}}, nil
}

var policyNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

// iamCreatePolicy makes a customer-managed policy with one version, the
// default.
func (s *Server) iamCreatePolicy(r *request) (any, *apiError) {
	a := r.caller.account
	name, doc, path := r.param("PolicyName"), r.param("PolicyDocument"), r.param("Path")
	if name == "" {
		return nil, errMissingParam("PolicyName")
	}
	if doc == "" {
		return nil, errMissingParam("PolicyDocument")
	}
	if !policyNamePattern.MatchString(name) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	if path == "" {
		path = "/"
	}
	var parsed struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal([]byte(doc), &parsed) != nil || len(parsed.Statement) == 0 {
		return nil, newError("MalformedPolicyDocument", "This policy contains invalid Json")
	}
	arn := managedPolicyARN(s.partition(), a.ID, path, name)
	if slices.ContainsFunc(a.Policies, func(p IAMPolicy) bool { return p.Name == name }) {
		return nil, newError("EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", name)
	}
	a.Policies = append(a.Policies, IAMPolicy{Name: name, Path: path, Document: doc})
	type policyXML struct {
		PolicyName       string  `xml:"PolicyName"`
		PolicyId         string  `xml:"PolicyId"`
		Arn              string  `xml:"Arn"`
		Path             string  `xml:"Path"`
		DefaultVersionId string  `xml:"DefaultVersionId"`
		AttachmentCount  int     `xml:"AttachmentCount"`
		IsAttachable     bool    `xml:"IsAttachable"`
		CreateDate       isoTime `xml:"CreateDate"`
		UpdateDate       isoTime `xml:"UpdateDate"`
	}
	return struct {
		Policy policyXML `xml:"Policy"`
	}{policyXML{name, derivedID("ANPA", arn), arn, path, "v1", 0, true, isoTime(r.now), isoTime(r.now)}}, nil
}

// iamDeletePolicy deletes a customer-managed policy that is attached to
// nothing, as IAM requires.
func (s *Server) iamDeletePolicy(r *request) (any, *apiError) {
	a := r.caller.account
	arn := r.param("PolicyArn")
	if arn == "" {
		return nil, errMissingParam("PolicyArn")
	}
	i := slices.IndexFunc(a.Policies, func(p IAMPolicy) bool { return managedPolicyARN(s.partition(), a.ID, p.Path, p.Name) == arn })
	if i < 0 {
		return nil, newError("NoSuchEntity", "Policy %s was not found.", arn)
	}
	if len(policyEntities(a, arn)) > 0 {
		return nil, newError("DeleteConflict", "Cannot delete a policy attached to entities.")
	}
	a.Policies = slices.Delete(a.Policies, i, i+1)
	return nil, nil
}

type policyEntity struct {
	kind, name, id string
}

// policyEntities lists who a managed policy is attached to, groups, then
// users, then roles, each by name.
func policyEntities(a *Account, arn string) []policyEntity {
	var out []policyEntity
	groups := append([]Group(nil), a.Groups...)
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	for _, g := range groups {
		if slices.Contains(g.AttachedPolicies, arn) {
			out = append(out, policyEntity{"Group", g.Name, derivedID("AGPA", a.ID+"/group/"+g.Name)})
		}
	}
	for _, u := range sortedUsers(a) {
		if slices.Contains(u.AttachedPolicies, arn) {
			out = append(out, policyEntity{"User", u.Name, u.ID})
		}
	}
	roles := append([]Role(nil), a.Roles...)
	sort.Slice(roles, func(i, j int) bool { return roles[i].Name < roles[j].Name })
	for _, ro := range roles {
		if slices.Contains(ro.AttachedPolicies, arn) {
			out = append(out, policyEntity{"Role", ro.Name, ro.ID})
		}
	}
	return out
}

func (s *Server) iamListEntitiesForPolicy(r *request) (any, *apiError) {
	a := r.caller.account
	arn := r.param("PolicyArn")
	if arn == "" {
		return nil, errMissingParam("PolicyArn")
	}
	if _, _, _, ok := policyByARN(s.partition(), a, arn); !ok {
		return nil, newError("NoSuchEntity", "Policy %s was not found.", arn)
	}
	filter := r.param("EntityFilter")
	switch filter {
	case "", "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
	default:
		return nil, errValidation("1 validation error detected: Value '%s' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]", filter)
	}
	var list []policyEntity
	for _, e := range policyEntities(a, arn) {
		if filter == "" || filter == e.kind {
			list = append(list, e)
		}
	}
	out, truncated, marker, err := iamPage(r, list)
	if err != nil {
		return nil, err
	}
	type groupXML struct {
		GroupName string `xml:"GroupName"`
		GroupId   string `xml:"GroupId"`
	}
	type userXML struct {
		UserName string `xml:"UserName"`
		UserId   string `xml:"UserId"`
	}
	type roleXML struct {
		RoleName string `xml:"RoleName"`
		RoleId   string `xml:"RoleId"`
	}
	res := struct {
		PolicyGroups members[groupXML] `xml:"PolicyGroups"`
		PolicyUsers  members[userXML]  `xml:"PolicyUsers"`
		PolicyRoles  members[roleXML]  `xml:"PolicyRoles"`
		IsTruncated  bool              `xml:"IsTruncated"`
		Marker       string            `xml:"Marker,omitempty"`
	}{PolicyGroups: members[groupXML]{}, PolicyUsers: members[userXML]{}, PolicyRoles: members[roleXML]{}, IsTruncated: truncated, Marker: marker}
	for _, e := range out {
		switch e.kind {
		case "Group":
			res.PolicyGroups = append(res.PolicyGroups, groupXML{e.name, e.id})
		case "User":
			res.PolicyUsers = append(res.PolicyUsers, userXML{e.name, e.id})
		case "Role":
			res.PolicyRoles = append(res.PolicyRoles, roleXML{e.name, e.id})
		}
	}
	return res, nil
}

// iamCreateVirtualMFADevice makes an unassigned virtual device. The seed
// is random bytes, base32 being what a reader's authenticator app wants;
// the emulator accepts any six-digit codes for it (EnableMFADevice).
func (s *Server) iamCreateVirtualMFADevice(r *request) (any, *apiError) {
	a := r.caller.account
	name := r.param("VirtualMFADeviceName")
	if name == "" {
		return nil, errMissingParam("VirtualMFADeviceName")
	}
	path := r.param("Path")
	if path == "" {
		path = "/"
	}
	serial := "arn:" + s.partition() + ":iam::" + a.ID + ":mfa" + path + name
	if slices.Contains(a.UnassignedVirtualMFA, serial) || slices.ContainsFunc(a.Users, func(u User) bool {
		return slices.ContainsFunc(u.MFADevices, func(m MFADevice) bool { return m.Serial == serial })
	}) {
		return nil, newError("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
	}
	a.UnassignedVirtualMFA = append(a.UnassignedVirtualMFA, serial)
	seed := strings.TrimRight(base32Alphabet(s.randomString(32)), "=")
	type deviceXML struct {
		SerialNumber     string `xml:"SerialNumber"`
		Base32StringSeed string `xml:"Base32StringSeed"`
		QRCodePNG        string `xml:"QRCodePNG"`
	}
	return struct {
		VirtualMFADevice deviceXML `xml:"VirtualMFADevice"`
	}{deviceXML{serial, base64.StdEncoding.EncodeToString([]byte(seed)), base64.StdEncoding.EncodeToString([]byte("awsemu placeholder QR code"))}}, nil
}

// base32Alphabet maps a random string onto the base32 alphabet.
func base32Alphabet(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte(s)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

var mfaCode = regexp.MustCompile(`^\d{6}$`)

// iamEnableMFADevice assigns an unassigned virtual device to a user. Any
// two six-digit codes are accepted: the emulator keeps no clock-based
// secret to check them against.
func (s *Server) iamEnableMFADevice(r *request) (any, *apiError) {
	a := r.caller.account
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	serial := r.param("SerialNumber")
	if serial == "" {
		return nil, errMissingParam("SerialNumber")
	}
	for _, p := range []string{"AuthenticationCode1", "AuthenticationCode2"} {
		if !mfaCode.MatchString(r.param(p)) {
			return nil, errValidation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]+", strings.ToLower(p[:1])+p[1:])
		}
	}
	i := slices.Index(a.UnassignedVirtualMFA, serial)
	if i < 0 {
		return nil, newError("NoSuchEntity", "VirtualMFADevice with serial number %s doesn't exist.", serial)
	}
	if len(u.MFADevices) >= 8 {
		return nil, newError("LimitExceeded", "Cannot exceed quota for MFADevicesPerUser: 8")
	}
	a.UnassignedVirtualMFA = slices.Delete(a.UnassignedVirtualMFA, i, i+1)
	u.MFADevices = append(u.MFADevices, MFADevice{Serial: serial, Type: MFAVirtual, EnableDate: r.now})
	return nil, nil
}
