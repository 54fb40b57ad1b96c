package awsemu

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Group is an IAM group.
type Group struct {
	Name             string         `json:"name"`
	AttachedPolicies []string       `json:"attachedPolicies,omitempty"` // managed policy ARNs
	InlinePolicies   []InlinePolicy `json:"inlinePolicies,omitempty"`
}

// InlinePolicy is a policy embedded in a user, group or role. Document
// is plain JSON; the emulator URL-encodes it on the wire, as IAM does.
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// IAMPolicy is a customer-managed policy (one version, the default).
type IAMPolicy struct {
	Name     string `json:"name"`
	Path     string `json:"path,omitempty"` // default "/"
	Document string `json:"document"`
}

// PasswordPolicy is the account password policy; nil in the world means
// none, and GetAccountPasswordPolicy answers NoSuchEntity.
type PasswordPolicy struct {
	MinimumPasswordLength      int  `json:"minimumPasswordLength,omitempty"`
	RequireSymbols             bool `json:"requireSymbols,omitempty"`
	RequireNumbers             bool `json:"requireNumbers,omitempty"`
	RequireUppercaseCharacters bool `json:"requireUppercaseCharacters,omitempty"`
	RequireLowercaseCharacters bool `json:"requireLowercaseCharacters,omitempty"`
	AllowUsersToChangePassword bool `json:"allowUsersToChangePassword,omitempty"`
	MaxPasswordAge             int  `json:"maxPasswordAge,omitempty"`
	PasswordReusePrevention    int  `json:"passwordReusePrevention,omitempty"`
	HardExpiry                 bool `json:"hardExpiry,omitempty"`
}

// awsManagedPolicies are the AWS-managed policies a world may attach by
// ARN (arn:<partition>:iam::aws:policy/<Name>). The documents are short
// stand-ins with the same effect as AWS's for what Vigil judges, not
// copies of AWS's text.
var awsManagedPolicies = map[string]string{
	"AdministratorAccess":     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	"AWSSupportAccess":        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["support:*"],"Resource":"*"}]}`,
	"AWSCloudShellFullAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudshell:*"],"Resource":"*"}]}`,
	"ReadOnlyAccess":          `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","s3:Get*","s3:List*","ec2:Describe*"],"Resource":"*"}]}`,
}

func managedPolicyARN(partition, account, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:" + partition + ":iam::" + account + ":policy" + path + name
}

// policyByARN finds a managed policy an identity may attach: the
// account's own, or an AWS-managed one. ok is false for unknown ARNs.
func policyByARN(partition string, a *Account, arn string) (name, doc string, aws, ok bool) {
	if n, found := strings.CutPrefix(arn, "arn:"+partition+":iam::aws:policy/"); found {
		d, known := awsManagedPolicies[n]
		return n, d, true, known
	}
	for _, p := range a.Policies {
		if managedPolicyARN(partition, a.ID, p.Path, p.Name) == arn {
			return p.Name, p.Document, false, true
		}
	}
	return "", "", false, false
}

func validateIAMDetails(bad func(string, ...any), where, partition string, a *Account) {
	if partition == "" {
		partition = "aws"
	}
	checkDoc := func(w, doc string) {
		if !json.Valid([]byte(doc)) {
			bad("%s: document is not JSON", w)
		}
	}
	own := policyIndex(partition, a)
	checkAttached := func(w string, arns []string) {
		for _, arn := range arns {
			n, aws := strings.CutPrefix(arn, "arn:"+partition+":iam::aws:policy/")
			if _, known := awsManagedPolicies[n]; aws && !known || !aws && own[arn] == "" {
				bad("%s: attached policy %s is neither one of the account's policies nor a known AWS-managed policy", w, arn)
			}
		}
	}
	groups := map[string]bool{}
	for i, g := range a.Groups {
		w := where + ".groups[" + strconv.Itoa(i) + "]"
		groups[g.Name] = true
		checkAttached(w, g.AttachedPolicies)
		for _, p := range g.InlinePolicies {
			checkDoc(w+".inlinePolicies."+p.Name, p.Document)
		}
	}
	for i, p := range a.Policies {
		checkDoc(where+".policies["+strconv.Itoa(i)+"]", p.Document)
	}
	for i, u := range a.Users {
		w := where + ".users[" + strconv.Itoa(i) + "]"
		checkAttached(w, u.AttachedPolicies)
		for _, g := range u.Groups {
			if !groups[g] {
				bad("%s: group %q is not among the account's groups", w, g)
			}
		}
		for _, p := range u.InlinePolicies {
			checkDoc(w+".inlinePolicies."+p.Name, p.Document)
		}
	}
	for i, r := range a.Roles {
		w := where + ".roles[" + strconv.Itoa(i) + "]"
		checkAttached(w, r.AttachedPolicies)
		for _, p := range r.InlinePolicies {
			checkDoc(w+".inlinePolicies."+p.Name, p.Document)
		}
	}
}

// encodeDocument URL-encodes a policy document the way IAM sends it
// (RFC 3986: a space is %20).
func encodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

type inlinePolicyXML struct {
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type attachedPolicyXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type userDetailXML struct {
	Path                    string                     `xml:"Path"`
	UserName                string                     `xml:"UserName"`
	UserId                  string                     `xml:"UserId"`
	Arn                     string                     `xml:"Arn"`
	CreateDate              isoTime                    `xml:"CreateDate"`
	UserPolicyList          members[inlinePolicyXML]   `xml:"UserPolicyList"`
	GroupList               members[string]            `xml:"GroupList"`
	AttachedManagedPolicies members[attachedPolicyXML] `xml:"AttachedManagedPolicies"`
	Tags                    members[tagXML]            `xml:"Tags"`
}

type groupDetailXML struct {
	Path                    string                     `xml:"Path"`
	GroupName               string                     `xml:"GroupName"`
	GroupId                 string                     `xml:"GroupId"`
	Arn                     string                     `xml:"Arn"`
	CreateDate              isoTime                    `xml:"CreateDate"`
	GroupPolicyList         members[inlinePolicyXML]   `xml:"GroupPolicyList"`
	AttachedManagedPolicies members[attachedPolicyXML] `xml:"AttachedManagedPolicies"`
}

type roleDetailXML struct {
	Path                     string                     `xml:"Path"`
	RoleName                 string                     `xml:"RoleName"`
	RoleId                   string                     `xml:"RoleId"`
	Arn                      string                     `xml:"Arn"`
	CreateDate               isoTime                    `xml:"CreateDate"`
	AssumeRolePolicyDocument string                     `xml:"AssumeRolePolicyDocument"`
	InstanceProfileList      members[string]            `xml:"InstanceProfileList"`
	RolePolicyList           members[inlinePolicyXML]   `xml:"RolePolicyList"`
	AttachedManagedPolicies  members[attachedPolicyXML] `xml:"AttachedManagedPolicies"`
	Tags                     members[tagXML]            `xml:"Tags"`
}

type policyVersionXML struct {
	Document         string  `xml:"Document"`
	VersionId        string  `xml:"VersionId"`
	IsDefaultVersion bool    `xml:"IsDefaultVersion"`
	CreateDate       isoTime `xml:"CreateDate"`
}

type policyDetailXML struct {
	PolicyName                    string                    `xml:"PolicyName"`
	PolicyId                      string                    `xml:"PolicyId"`
	Arn                           string                    `xml:"Arn"`
	Path                          string                    `xml:"Path"`
	DefaultVersionId              string                    `xml:"DefaultVersionId"`
	AttachmentCount               int                       `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int                       `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool                      `xml:"IsAttachable"`
	CreateDate                    isoTime                   `xml:"CreateDate"`
	UpdateDate                    isoTime                   `xml:"UpdateDate"`
	PolicyVersionList             members[policyVersionXML] `xml:"PolicyVersionList"`
}

// authEntity is one entry of the combined list GetAccountAuthorizationDetails
// pages through: MaxItems counts users, groups, roles and policies alike.
type authEntity struct {
	user   *userDetailXML
	group  *groupDetailXML
	role   *roleDetailXML
	policy *policyDetailXML
}

// detailsSnapshot is an account's whole GetAccountAuthorizationDetails
// list for one filter, built once and paged from until IAM state changes
// (Server.generation): an account of 13,000 users, roles and policies is
// otherwise rebuilt, sorted and indexed for each of its 14 pages.
type detailsSnapshot struct {
	generation uint64
	filter     string
	all        []authEntity
}

func (s *Server) iamGetAccountAuthorizationDetails(r *request) (any, *apiError) {
	a := r.caller.account
	filter := map[string]bool{}
	var kinds []string
	for i := 1; ; i++ {
		v := r.param("Filter.member." + strconv.Itoa(i))
		if v == "" {
			break
		}
		switch v {
		case "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
			filter[v] = true
			kinds = append(kinds, v)
		default:
			return nil, errValidation("1 validation error detected: Value '[%s]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]", v)
		}
	}
	sort.Strings(kinds)
	key := strings.Join(kinds, ",")
	// Kept per account and filter: a scanner listing users, roles and the
	// rest side by side asks for three filters at once.
	snap := s.details[a.ID+"|"+key]
	if snap == nil || snap.generation != s.generation {
		snap = &detailsSnapshot{generation: s.generation, filter: key, all: s.authorizationDetails(a, filter)}
		if s.details == nil {
			s.details = map[string]*detailsSnapshot{}
		}
		s.details[a.ID+"|"+key] = snap
	}
	out, truncated, marker, err := iamPage(r, snap.all)
	if err != nil {
		return nil, err
	}
	res := detailsResultXML{UserDetailList: members[*userDetailXML]{}, GroupDetailList: members[*groupDetailXML]{}, RoleDetailList: members[*roleDetailXML]{},
		Policies: members[*policyDetailXML]{}, IsTruncated: truncated, Marker: marker}
	for _, e := range out {
		switch {
		case e.user != nil:
			res.UserDetailList = append(res.UserDetailList, e.user)
		case e.group != nil:
			res.GroupDetailList = append(res.GroupDetailList, e.group)
		case e.role != nil:
			res.RoleDetailList = append(res.RoleDetailList, e.role)
		case e.policy != nil:
			res.Policies = append(res.Policies, e.policy)
		}
	}
	return res, nil
}

// authorizationDetails builds the whole sorted list of an account's
// entities the filter selects (all of them when it is empty). The entries
// are shared by every page served from them, and written as XML after the
// server's lock is released: nothing may change them once built.
func (s *Server) authorizationDetails(a *Account, filter map[string]bool) []authEntity {
	part := s.world.Partition
	want := func(kind string) bool { return len(filter) == 0 || filter[kind] }
	policies := policyIndex(part, a)
	inline := func(list []InlinePolicy) members[inlinePolicyXML] {
		out := members[inlinePolicyXML]{}
		for _, p := range list {
			out = append(out, inlinePolicyXML{p.Name, encodeDocument(p.Document)})
		}
		return out
	}
	counts := map[string]int{}
	attachedXML := func(arns []string) members[attachedPolicyXML] {
		out := members[attachedPolicyXML]{}
		for _, arn := range arns {
			out = append(out, attachedPolicyXML{policies.name(part, arn), arn})
			counts[arn]++
		}
		return out
	}
	var all []authEntity
	// Attachment counts cover every identity, whatever the filter.
	var users []authEntity
	for _, u := range sortedUsers(a) {
		d := &userDetailXML{Path: u.Path, UserName: u.Name, UserId: u.ID, Arn: userARN(part, a.ID, u.Path, u.Name),
			CreateDate: isoTime(u.CreateDate), UserPolicyList: inline(u.InlinePolicies), GroupList: members[string](u.Groups),
			AttachedManagedPolicies: attachedXML(u.AttachedPolicies), Tags: tagsXML(u.Tags)}
		if d.GroupList == nil {
			d.GroupList = members[string]{}
		}
		users = append(users, authEntity{user: d})
	}
	groups := append([]Group(nil), a.Groups...)
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	var groupEntities []authEntity
	for _, g := range groups {
		groupEntities = append(groupEntities, authEntity{group: &groupDetailXML{Path: "/", GroupName: g.Name,
			GroupId: derivedID("AGPA", a.ID+"/group/"+g.Name), Arn: "arn:" + part + ":iam::" + a.ID + ":group/" + g.Name,
			CreateDate: isoTime(defaultTime), GroupPolicyList: inline(g.InlinePolicies), AttachedManagedPolicies: attachedXML(g.AttachedPolicies)}})
	}
	roles := make([]*Role, len(a.Roles))
	for i := range a.Roles {
		roles[i] = &a.Roles[i]
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].Name < roles[j].Name })
	trust := encodeDocument(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:` + part + `:iam::` + a.ID + `:root"},"Action":"sts:AssumeRole"}]}`)
	var roleEntities []authEntity
	for _, ro := range roles {
		roleEntities = append(roleEntities, authEntity{role: &roleDetailXML{Path: "/", RoleName: ro.Name, RoleId: ro.ID,
			Arn: "arn:" + part + ":iam::" + a.ID + ":role/" + ro.Name, CreateDate: isoTime(defaultTime), AssumeRolePolicyDocument: trust,
			InstanceProfileList: members[string]{}, RolePolicyList: inline(ro.InlinePolicies), AttachedManagedPolicies: attachedXML(ro.AttachedPolicies),
			Tags: tagsXML(ro.Tags)}})
	}
	if want("User") {
		all = append(all, users...)
	}
	if want("Group") {
		all = append(all, groupEntities...)
	}
	if want("Role") {
		all = append(all, roleEntities...)
	}
	policyXML := func(name, path, arn, doc string, attachable bool) *policyDetailXML {
		return &policyDetailXML{PolicyName: name, PolicyId: derivedID("ANPA", arn), Arn: arn, Path: path, DefaultVersionId: "v1",
			AttachmentCount: counts[arn], IsAttachable: attachable, CreateDate: isoTime(defaultTime), UpdateDate: isoTime(defaultTime),
			PolicyVersionList: members[policyVersionXML]{{Document: encodeDocument(doc), VersionId: "v1", IsDefaultVersion: true, CreateDate: isoTime(defaultTime)}}}
	}
	if want("LocalManagedPolicy") {
		local := append([]IAMPolicy(nil), a.Policies...)
		sort.Slice(local, func(i, j int) bool { return local[i].Name < local[j].Name })
		for _, p := range local {
			path := p.Path
			if path == "" {
				path = "/"
			}
			all = append(all, authEntity{policy: policyXML(p.Name, path, managedPolicyARN(part, a.ID, path, p.Name), p.Document, true)})
		}
	}
	if want("AWSManagedPolicy") {
		// IAM lists AWS-managed policies only where they are attached.
		names := make([]string, 0, len(awsManagedPolicies))
		for n := range awsManagedPolicies {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			arn := "arn:" + part + ":iam::aws:policy/" + n
			if counts[arn] > 0 {
				all = append(all, authEntity{policy: policyXML(n, "/", arn, awsManagedPolicies[n], true)})
			}
		}
	}
	return all
}

// policyNames maps the ARNs of an account's own managed policies to their
// names, so that naming each attachment is a lookup, not a walk over
// every policy (2,000 roles × 1,000 policies).
type policyNames map[string]string

func policyIndex(partition string, a *Account) policyNames {
	m := make(policyNames, len(a.Policies))
	for _, p := range a.Policies {
		m[managedPolicyARN(partition, a.ID, p.Path, p.Name)] = p.Name
	}
	return m
}

// name is policyByARN's name for an ARN.
func (m policyNames) name(partition, arn string) string {
	if n, aws := strings.CutPrefix(arn, "arn:"+partition+":iam::aws:policy/"); aws {
		return n
	}
	return m[arn]
}

type passwordPolicyXML struct {
	MinimumPasswordLength      int   `xml:"MinimumPasswordLength"`
	RequireSymbols             bool  `xml:"RequireSymbols"`
	RequireNumbers             bool  `xml:"RequireNumbers"`
	RequireUppercaseCharacters bool  `xml:"RequireUppercaseCharacters"`
	RequireLowercaseCharacters bool  `xml:"RequireLowercaseCharacters"`
	AllowUsersToChangePassword bool  `xml:"AllowUsersToChangePassword"`
	ExpirePasswords            bool  `xml:"ExpirePasswords"`
	MaxPasswordAge             *int  `xml:"MaxPasswordAge,omitempty"`
	PasswordReusePrevention    *int  `xml:"PasswordReusePrevention,omitempty"`
	HardExpiry                 *bool `xml:"HardExpiry,omitempty"`
}

func (s *Server) iamGetAccountPasswordPolicy(r *request) (any, *apiError) {
	a := r.caller.account
	p := a.PasswordPolicy
	if p == nil {
		return nil, newError("NoSuchEntity", "The Password Policy with domain name %s cannot be found.", a.ID)
	}
	out := passwordPolicyXML{MinimumPasswordLength: max(p.MinimumPasswordLength, 6), RequireSymbols: p.RequireSymbols,
		RequireNumbers: p.RequireNumbers, RequireUppercaseCharacters: p.RequireUppercaseCharacters,
		RequireLowercaseCharacters: p.RequireLowercaseCharacters, AllowUsersToChangePassword: p.AllowUsersToChangePassword,
		ExpirePasswords: p.MaxPasswordAge > 0}
	if p.MaxPasswordAge > 0 {
		out.MaxPasswordAge = &p.MaxPasswordAge
		out.HardExpiry = &p.HardExpiry
	}
	if p.PasswordReusePrevention > 0 {
		out.PasswordReusePrevention = &p.PasswordReusePrevention
	}
	return struct {
		PasswordPolicy passwordPolicyXML `xml:"PasswordPolicy"`
	}{out}, nil
}

// iamUpdateAccountPasswordPolicy replaces the whole policy, as IAM does: a
// setting the call leaves out goes back to its default, which is the trap
// the knowledge base warns about.
func (s *Server) iamUpdateAccountPasswordPolicy(r *request) (any, *apiError) {
	num := func(name string, lo, hi int) (int, *apiError) {
		v, set, err := r.intParam(name)
		if err != nil || !set {
			return 0, err
		}
		if v < lo || v > hi {
			return 0, errValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value between %d and %d", v, strings.ToLower(name[:1])+name[1:], lo, hi)
		}
		return v, nil
	}
	flag := func(name string) bool { return r.param(name) == "true" }
	p := &PasswordPolicy{RequireSymbols: flag("RequireSymbols"), RequireNumbers: flag("RequireNumbers"),
		RequireUppercaseCharacters: flag("RequireUppercaseCharacters"), RequireLowercaseCharacters: flag("RequireLowercaseCharacters"),
		AllowUsersToChangePassword: flag("AllowUsersToChangePassword"), HardExpiry: flag("HardExpiry")}
	var err *apiError
	if p.MinimumPasswordLength, err = num("MinimumPasswordLength", 6, 128); err != nil {
		return nil, err
	}
	if p.MaxPasswordAge, err = num("MaxPasswordAge", 1, 1095); err != nil {
		return nil, err
	}
	if p.PasswordReusePrevention, err = num("PasswordReusePrevention", 1, 24); err != nil {
		return nil, err
	}
	r.caller.account.PasswordPolicy = p
	return nil, nil
}
