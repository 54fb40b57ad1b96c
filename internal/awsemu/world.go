package awsemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// World is the complete AWS state the emulator serves: an optional
// organization, the accounts (members of the organization unless Standalone)
// and any extra signing identities. The server keeps its own deep copy, so a
// World can be reused to start several servers.
//
// JSON field names are the camelCase forms of the Go field names; because
// encoding/json matches names case-insensitively, scenario files may also
// spell them exactly like the Go fields.
type World struct {
	// Partition is "aws" (the default), "aws-us-gov" or "aws-cn". Every ARN
	// the emulator produces or accepts uses it.
	Partition string `json:"partition,omitempty"`

	// Organization is nil when no account belongs to an organization.
	Organization *Organization `json:"organization,omitempty"`

	Accounts []*Account `json:"accounts"`

	// PageLimit, when positive, caps the pages of the regional lists and
	// ListServerCertificates (regional.go) at this many items whatever
	// the client asks for, as AWS documents it may return fewer than
	// asked: a small world can then prove that a client follows every
	// page.
	PageLimit int `json:"pageLimit,omitempty"`

	// Credentials lists signing identities beyond the access keys held in
	// account state (root and IAM user keys sign requests automatically).
	// Use them for role sessions and for principals whose key should not
	// show up in the account's own credential lists.
	Credentials []Credential `json:"credentials,omitempty"`
}

// Organization describes the AWS Organizations organization, if any.
type Organization struct {
	ID                  string `json:"id"`                  // "o-" followed by 10 to 32 lowercase letters or digits
	ManagementAccountID string `json:"managementAccountId"` // must be one of World.Accounts
	FeatureSet          string `json:"featureSet,omitempty"`
	RootID              string `json:"rootId"` // "r-" followed by 4 to 32 lowercase letters or digits
	OUs                 []OU   `json:"ous,omitempty"`

	// TrustedAccess lists service principals with trusted access enabled,
	// e.g. "iam.amazonaws.com" (needed by the IAM root-access features).
	TrustedAccess []string `json:"trustedAccess,omitempty"`

	// RootCredentialsManagement and RootSessions are the two centralized
	// root access features reported by iam:ListOrganizationsFeatures.
	RootCredentialsManagement bool `json:"rootCredentialsManagement,omitempty"`
	RootSessions              bool `json:"rootSessions,omitempty"`

	// DelegatedAdmins are the account IDs registered as delegated
	// administrator for iam.amazonaws.com.
	DelegatedAdmins []string `json:"delegatedAdmins,omitempty"`

	// Policies are the organization's policies and their attachments
	// (organizations_policies.go). Unless listed, the AWS managed
	// FullAWSAccess SCP exists and is attached everywhere.
	Policies []Policy `json:"policies,omitempty"`
	// PolicyTypes are the policy types enabled on the root; nil means
	// SERVICE_CONTROL_POLICY only, and [] none.
	PolicyTypes *[]string `json:"policyTypes,omitempty"`
}

// OU is an organizational unit. ParentID is the organization root or another OU.
type OU struct {
	ID       string `json:"id"` // "ou-" then the root suffix, "-", and 8 to 32 more characters
	Name     string `json:"name"`
	ParentID string `json:"parentId"`
}

// Account states, as Organizations reports them.
const (
	StateActive         = "ACTIVE"
	StateSuspended      = "SUSPENDED"
	StatePendingClosure = "PENDING_CLOSURE"
	StateClosed         = "CLOSED"
)

// Account is one AWS account and everything IAM knows about it.
type Account struct {
	ID    string `json:"id"` // 12 digits
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	State string `json:"state,omitempty"` // ACTIVE (default), SUSPENDED, PENDING_CLOSURE or CLOSED

	// Standalone marks an account that is not a member of World.Organization:
	// Organizations answers AWSOrganizationsNotInUseException for it.
	Standalone bool `json:"standalone,omitempty"`

	ParentID        string    `json:"parentId,omitempty"`     // OU or root ID; defaults to the organization root
	JoinedMethod    string    `json:"joinedMethod,omitempty"` // CREATED (default) or INVITED (default for the management account)
	JoinedTimestamp time.Time `json:"joinedTimestamp,omitzero"`
	Alias           string    `json:"alias,omitempty"`

	Root   Root         `json:"root"`
	Users  []User       `json:"users,omitempty"`
	Roles  []Role       `json:"roles,omitempty"`
	Report ReportConfig `json:"report,omitzero"`

	// Groups, Policies and PasswordPolicy feed
	// GetAccountAuthorizationDetails and GetAccountPasswordPolicy
	// (iam_details.go). Policies are the customer-managed ones; the
	// AWS-managed policies in awsManagedPolicies are attached by ARN.
	Groups         []Group         `json:"groups,omitempty"`
	Policies       []IAMPolicy     `json:"policies,omitempty"`
	PasswordPolicy *PasswordPolicy `json:"passwordPolicy,omitempty"`

	// UnassignedVirtualMFA lists serial numbers of virtual MFA devices that
	// exist in the account but are assigned to nobody (for example after
	// DeactivateMFADevice).
	UnassignedVirtualMFA []string `json:"unassignedVirtualMfa,omitempty"`

	// CloudTrail is the account's CloudTrail event history, served by
	// LookupEvents (cloudtrail.go).
	CloudTrail []TrailEvent `json:"cloudTrail,omitempty"`

	// Regions are the account's regions with their analyzers and
	// instances (regional.go); nil means the partition's regions, the
	// opt-in ones not enabled, holding nothing.
	Regions []Region `json:"regions,omitempty"`
	// ServerCertificates are the SSL/TLS certificates stored in IAM.
	ServerCertificates []ServerCertificate `json:"serverCertificates,omitempty"`

	// AlternateContacts are the account's alternate contacts by type
	// (BILLING, OPERATIONS, SECURITY), served by the Account Management
	// API (account.go); a type not in the map was never set.
	AlternateContacts map[string]AlternateContact `json:"alternateContacts,omitempty"`
	// SAMLProviders and OIDCProviders are the identity providers IAM
	// trusts for federation (account.go).
	SAMLProviders []SAMLProvider `json:"samlProviders,omitempty"`
	OIDCProviders []OIDCProvider `json:"oidcProviders,omitempty"`
}

// Root is the account's root user. It is not an IAM user: IAM reaches its
// credentials only through calls without a UserName.
type Root struct {
	CreateDate          time.Time  `json:"createDate,omitzero"`
	Password            bool       `json:"password,omitempty"`
	PasswordLastUsed    *time.Time `json:"passwordLastUsed,omitempty"`
	PasswordLastChanged *time.Time `json:"passwordLastChanged,omitempty"` // only feeds GetLoginProfile's CreateDate

	AccessKeys          []AccessKey `json:"accessKeys,omitempty"`
	SigningCertificates []Cert      `json:"signingCertificates,omitempty"`
	MFADevices          []MFADevice `json:"mfaDevices,omitempty"`
}

// Access key and certificate statuses.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// AccessKey is a long-term access key of the root user or of an IAM user.
type AccessKey struct {
	ID string `json:"id"` // AKIA…

	// Secret is optional because signatures are not verified. It is never
	// logged and never returned by the API except from CreateAccessKey.
	Secret string `json:"secret,omitempty"`

	Status     string       `json:"status,omitempty"` // Active (default) or Inactive
	CreateDate time.Time    `json:"createDate,omitzero"`
	LastUsed   *KeyLastUsed `json:"lastUsed,omitempty"`
}

// KeyLastUsed is what GetAccessKeyLastUsed and the credential report say
// about a key's last use. An empty Region or Service is reported as "N/A".
type KeyLastUsed struct {
	Date    time.Time `json:"date"`
	Region  string    `json:"region,omitempty"`
	Service string    `json:"service,omitempty"`
}

// Cert is an X.509 signing certificate.
type Cert struct {
	ID         string    `json:"id"`
	Status     string    `json:"status,omitempty"` // Active (default) or Inactive
	UploadDate time.Time `json:"uploadDate,omitzero"`
}

// MFA device types.
const (
	MFAVirtual  = "virtual"
	MFAHardware = "hardware"
	MFAU2F      = "u2f"
)

// MFADevice is an MFA device assigned to the root user or an IAM user.
type MFADevice struct {
	// Serial defaults, for virtual devices, to
	// arn:<partition>:iam::<account>:mfa/root-account-mfa-device for root
	// and arn:<partition>:iam::<account>:mfa/<user> for users. Hardware
	// and U2F devices need an explicit serial.
	Serial     string    `json:"serial,omitempty"`
	Type       string    `json:"type,omitempty"` // virtual (default), hardware or u2f
	EnableDate time.Time `json:"enableDate,omitzero"`
}

// User is an IAM user. A user may be named "root": it is still only a user,
// which is exactly the confusion Vigil's tests must be able to stage.
type User struct {
	Name                string      `json:"name"`
	ID                  string      `json:"id,omitempty"`   // AIDA…; derived from account and name when empty
	Path                string      `json:"path,omitempty"` // default "/"
	CreateDate          time.Time   `json:"createDate,omitzero"`
	Password            bool        `json:"password,omitempty"`
	PasswordLastUsed    *time.Time  `json:"passwordLastUsed,omitempty"`
	PasswordLastChanged *time.Time  `json:"passwordLastChanged,omitempty"` // default CreateDate when Password
	AccessKeys          []AccessKey `json:"accessKeys,omitempty"`
	SigningCertificates []Cert      `json:"signingCertificates,omitempty"`
	MFADevices          []MFADevice `json:"mfaDevices,omitempty"`

	Groups           []string       `json:"groups,omitempty"`           // group names
	AttachedPolicies []string       `json:"attachedPolicies,omitempty"` // managed policy ARNs
	InlinePolicies   []InlinePolicy `json:"inlinePolicies,omitempty"`
	Tags             []Tag          `json:"tags,omitempty"`
}

// Role is an IAM role that sts:AssumeRole may assume. Trust policies are not
// evaluated; DenyAssume and ExternalID are the two refusals the tests need.
type Role struct {
	Name       string `json:"name"`
	ID         string `json:"id,omitempty"`         // AROA…; derived when empty
	ExternalID string `json:"externalId,omitempty"` // when set, AssumeRole must pass the same ExternalId
	DenyAssume bool   `json:"denyAssume,omitempty"`

	AttachedPolicies []string       `json:"attachedPolicies,omitempty"` // managed policy ARNs
	InlinePolicies   []InlinePolicy `json:"inlinePolicies,omitempty"`
	Tags             []Tag          `json:"tags,omitempty"`
}

// ReportConfig scripts the account's credential report.
type ReportConfig struct {
	// GenerationPolls is how many GenerateCredentialReport calls are
	// answered STARTED/INPROGRESS before one answers COMPLETE. 0 means 1.
	GenerationPolls int `json:"generationPolls,omitempty"`

	// Existing is a report that already exists when the server starts.
	// The emulator also stores each report it completes here, so reading
	// the world back shows the report a client would download.
	Existing *ExistingReport `json:"existing,omitempty"`

	// Expired makes GetCredentialReport answer ReportExpired until a new
	// report has been generated.
	Expired bool `json:"expired,omitempty"`

	// RootPasswordAsBool renders the root row's password_enabled column as
	// true/false instead of the documented not_supported. Some tools claim
	// AWS changed this in 2025 (UNVERIFIED); clients must cope with both.
	RootPasswordAsBool bool `json:"rootPasswordAsBool,omitempty"`
}

// ExistingReport is a stored credential report.
type ExistingReport struct {
	GeneratedAt time.Time `json:"generatedAt"`
	// CSV is served byte for byte. When empty, the emulator renders the
	// report from the account state at load time.
	CSV string `json:"csv,omitempty"`
}

// Credential is an extra signing identity.
type Credential struct {
	AccessKeyID string `json:"accessKeyId"`
	Secret      string `json:"secret,omitempty"` // informational only; never logged
	AccountID   string `json:"accountId"`
	// Principal is "root", "user/NAME" (the user must exist) or "role/NAME"
	// (acting as a session of that role named "awsemu").
	Principal string `json:"principal"`
}

// defaultTime stands in for timestamps a world leaves unset, so output
// never shows the zero time and stays deterministic.
var defaultTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// LoadWorld decodes a JSON world, rejecting unknown fields, and validates it.
func LoadWorld(r io.Reader) (*World, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read world: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w World
	if err := dec.Decode(&w); err != nil {
		return nil, describeJSONError(data, err)
	}
	if dec.More() {
		return nil, errors.New("world: trailing data after the JSON object")
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	return &w, nil
}

// LoadWorldFile is LoadWorld on a file; errors name the file.
func LoadWorldFile(path string) (*World, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load world: %w", err)
	}
	defer f.Close()
	w, err := LoadWorld(f)
	if err != nil {
		return nil, fmt.Errorf("load world %s: %w", path, err)
	}
	return w, nil
}

// describeJSONError adds a line and column to decoding errors, because a
// byte offset is useless to someone editing a scenario file.
func describeJSONError(data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return fmt.Errorf("decode world: %w", err)
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("decode world: line %d, column %d: %w", line, col, err)
}

var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	orgIDPattern     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	rootIDPattern    = regexp.MustCompile(`^r-[a-z0-9]{4,32}$`)
	ouIDPattern      = regexp.MustCompile(`^ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$`)
	iamNamePattern   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	keyIDPattern     = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
)

// partitionRegion is the region the SDK helper signs for by default.
var partitionRegion = map[string]string{
	"aws":        "us-east-1",
	"aws-us-gov": "us-gov-west-1",
	"aws-cn":     "cn-north-1",
}

// Validate checks the world for the mistakes that would make the emulator
// answer nonsense: malformed or duplicate IDs, dangling references, unknown
// enum values and more credentials than AWS quotas allow. It does not modify
// the world; the server fills defaults into its own copy.
func (w *World) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if w.Partition != "" {
		if _, ok := partitionRegion[w.Partition]; !ok {
			bad("partition %q: want aws, aws-us-gov or aws-cn", w.Partition)
		}
	}
	accounts := map[string]*Account{}
	keys := map[string]string{}
	seeKey := func(id, where string) {
		if !keyIDPattern.MatchString(id) {
			bad("%s: access key ID %q: want 16 or more uppercase letters and digits", where, id)
		}
		if prev, dup := keys[id]; dup {
			bad("%s: access key ID %s already used by %s", where, id, prev)
		}
		keys[id] = where
	}
	for i, a := range w.Accounts {
		where := fmt.Sprintf("accounts[%d]", i)
		if a == nil {
			bad("%s: null account", where)
			continue
		}
		validateIAMDetails(bad, where, w.Partition, a)
		if !accountIDPattern.MatchString(a.ID) {
			bad("%s: id %q: want 12 digits", where, a.ID)
		}
		if _, dup := accounts[a.ID]; dup {
			bad("%s: duplicate account id %s", where, a.ID)
		}
		accounts[a.ID] = a
		where = fmt.Sprintf("account %s", a.ID)
		switch a.State {
		case "", StateActive, StateSuspended, StatePendingClosure, StateClosed:
		default:
			bad("%s: state %q: want ACTIVE, SUSPENDED, PENDING_CLOSURE or CLOSED", where, a.State)
		}
		switch a.JoinedMethod {
		case "", "CREATED", "INVITED":
		default:
			bad("%s: joinedMethod %q: want CREATED or INVITED", where, a.JoinedMethod)
		}
		validateCreds(bad, seeKey, where+" root", a.Root.AccessKeys, a.Root.SigningCertificates, a.Root.MFADevices)
		users := map[string]bool{}
		for _, u := range a.Users {
			uw := fmt.Sprintf("%s user %q", where, u.Name)
			if !iamNamePattern.MatchString(u.Name) {
				bad("%s: invalid user name", uw)
			}
			if users[u.Name] {
				bad("%s: duplicate user name", uw)
			}
			users[u.Name] = true
			if u.Path != "" && (!strings.HasPrefix(u.Path, "/") || !strings.HasSuffix(u.Path, "/")) {
				bad("%s: path %q must begin and end with /", uw, u.Path)
			}
			validateCreds(bad, seeKey, uw, u.AccessKeys, u.SigningCertificates, u.MFADevices)
		}
		roles := map[string]bool{}
		for _, r := range a.Roles {
			if !iamNamePattern.MatchString(r.Name) {
				bad("%s role %q: invalid role name", where, r.Name)
			}
			if roles[r.Name] {
				bad("%s role %q: duplicate role name", where, r.Name)
			}
			roles[r.Name] = true
		}
		if a.Report.GenerationPolls < 0 {
			bad("%s: report.generationPolls must not be negative", where)
		}
		validateTrail(bad, where, a.CloudTrail)
		validateRegional(bad, where, a)
	}

	for i, c := range w.Credentials {
		where := fmt.Sprintf("credentials[%d]", i)
		seeKey(c.AccessKeyID, where)
		a, ok := accounts[c.AccountID]
		if !ok {
			bad("%s: accountId %q is not in accounts", where, c.AccountID)
			continue
		}
		kind, name, _ := strings.Cut(c.Principal, "/")
		switch {
		case c.Principal == "root":
		case kind == "user" && name != "":
			if a.user(name) == nil {
				bad("%s: principal %q: no such user in account %s", where, c.Principal, c.AccountID)
			}
		case kind == "role" && iamNamePattern.MatchString(name):
		default:
			bad(`%s: principal %q: want "root", "user/NAME" or "role/NAME"`, where, c.Principal)
		}
	}

	if o := w.Organization; o != nil {
		validateOrganization(o, w.Accounts, accounts, bad)
	} else {
		for _, a := range w.Accounts {
			if a != nil && a.ParentID != "" {
				bad("account %s: parentId set but the world has no organization", a.ID)
			}
		}
	}
	return errors.Join(errs...)
}

func validateCreds(bad func(string, ...any), seeKey func(id, where string), where string, keys []AccessKey, certs []Cert, mfas []MFADevice) {
	if len(keys) > 2 {
		bad("%s: %d access keys; AWS allows 2", where, len(keys))
	}
	for _, k := range keys {
		seeKey(k.ID, where)
		if !validStatus(k.Status) {
			bad("%s key %s: status %q: want Active or Inactive", where, k.ID, k.Status)
		}
	}
	if len(certs) > 2 {
		bad("%s: %d signing certificates; AWS allows 2", where, len(certs))
	}
	for _, c := range certs {
		if c.ID == "" {
			bad("%s: signing certificate without id", where)
		}
		if !validStatus(c.Status) {
			bad("%s certificate %s: status %q: want Active or Inactive", where, c.ID, c.Status)
		}
	}
	for _, m := range mfas {
		switch m.Type {
		case "", MFAVirtual:
		case MFAHardware, MFAU2F:
			if m.Serial == "" {
				bad("%s: %s MFA device needs a serial", where, m.Type)
			}
		default:
			bad("%s: MFA type %q: want virtual, hardware or u2f", where, m.Type)
		}
	}
}

func validStatus(s string) bool { return s == "" || s == StatusActive || s == StatusInactive }

func validateOrganization(o *Organization, list []*Account, accounts map[string]*Account, bad func(string, ...any)) {
	if !orgIDPattern.MatchString(o.ID) {
		bad("organization: id %q: want o- and 10 to 32 lowercase letters or digits", o.ID)
	}
	if !rootIDPattern.MatchString(o.RootID) {
		bad("organization: rootId %q: want r- and 4 to 32 lowercase letters or digits", o.RootID)
	}
	switch o.FeatureSet {
	case "", "ALL", "CONSOLIDATED_BILLING":
	default:
		bad("organization: featureSet %q: want ALL or CONSOLIDATED_BILLING", o.FeatureSet)
	}
	mgmt, ok := accounts[o.ManagementAccountID]
	if !ok {
		bad("organization: managementAccountId %q is not in accounts", o.ManagementAccountID)
	} else if mgmt.Standalone {
		bad("organization: management account %s is marked standalone", o.ManagementAccountID)
	}
	parents := map[string]bool{o.RootID: true}
	for _, ou := range o.OUs {
		if !ouIDPattern.MatchString(ou.ID) {
			bad("organization: OU id %q: want ou-xxxx-xxxxxxxx", ou.ID)
		}
		if parents[ou.ID] {
			bad("organization: duplicate OU id %s", ou.ID)
		}
		parents[ou.ID] = true
	}
	for _, ou := range o.OUs {
		if !parents[ou.ParentID] || ou.ParentID == ou.ID {
			bad("organization: OU %s: parentId %q is neither the root nor another OU", ou.ID, ou.ParentID)
		}
	}
	// A cycle among OUs would make ListParents loop; walk up from each.
	byID := map[string]OU{}
	for _, ou := range o.OUs {
		byID[ou.ID] = ou
	}
	for _, ou := range o.OUs {
		seen := map[string]bool{}
		for cur := ou.ID; cur != o.RootID; {
			if seen[cur] {
				bad("organization: OU %s is in a parent cycle", ou.ID)
				break
			}
			seen[cur] = true
			next, ok := byID[cur]
			if !ok {
				break
			}
			cur = next.ParentID
		}
	}
	for _, a := range list { // the slice, not the map: errors come out in a stable order
		if a == nil {
			continue
		}
		if a.ParentID != "" && !parents[a.ParentID] {
			bad("account %s: parentId %q is neither the root nor an OU", a.ID, a.ParentID)
		}
		if a.Standalone && a.ParentID != "" {
			bad("account %s: standalone but has parentId", a.ID)
		}
	}
	validatePolicies(o, accounts, parents, bad)
	for _, id := range o.DelegatedAdmins {
		a, ok := accounts[id]
		switch {
		case !ok:
			bad("organization: delegated admin %q is not in accounts", id)
		case a.Standalone:
			bad("organization: delegated admin %s is standalone", id)
		case id == o.ManagementAccountID:
			bad("organization: the management account cannot be a delegated admin")
		}
	}
}

// normalize fills defaults into the server's private copy, so handlers
// never have to repeat "if empty then …".
func (w *World) normalize() {
	if w.Partition == "" {
		w.Partition = "aws"
	}
	if o := w.Organization; o != nil && o.FeatureSet == "" {
		o.FeatureSet = "ALL"
	}
	if o := w.Organization; o != nil {
		var members []string
		for _, a := range w.Accounts {
			if !a.Standalone {
				members = append(members, a.ID)
			}
		}
		o.normalizePolicies(members)
	}
	for _, a := range w.Accounts {
		if a.State == "" {
			a.State = StateActive
		}
		if a.Name == "" {
			a.Name = "account-" + a.ID
		}
		if a.Email == "" {
			a.Email = "aws+" + a.ID + "@example.com"
		}
		if a.Root.CreateDate.IsZero() {
			a.Root.CreateDate = defaultTime
		}
		if a.JoinedTimestamp.IsZero() {
			a.JoinedTimestamp = a.Root.CreateDate
		}
		if w.Organization != nil && !a.Standalone {
			if a.ParentID == "" {
				a.ParentID = w.Organization.RootID
			}
			if a.JoinedMethod == "" {
				a.JoinedMethod = "CREATED"
				if a.ID == w.Organization.ManagementAccountID {
					a.JoinedMethod = "INVITED"
				}
			}
		}
		normalizeCreds(a.Root.AccessKeys, a.Root.SigningCertificates, a.Root.MFADevices, a.Root.CreateDate,
			"arn:"+w.Partition+":iam::"+a.ID+":mfa/root-account-mfa-device")
		for i := range a.Users {
			u := &a.Users[i]
			if u.Path == "" {
				u.Path = "/"
			}
			if u.CreateDate.IsZero() {
				u.CreateDate = defaultTime
			}
			if u.ID == "" {
				u.ID = derivedID("AIDA", a.ID+"/user/"+u.Name)
			}
			if u.Password && u.PasswordLastChanged == nil {
				t := u.CreateDate
				u.PasswordLastChanged = &t
			}
			normalizeCreds(u.AccessKeys, u.SigningCertificates, u.MFADevices, u.CreateDate,
				"arn:"+w.Partition+":iam::"+a.ID+":mfa"+u.Path+u.Name)
		}
		for i := range a.Roles {
			if a.Roles[i].ID == "" {
				a.Roles[i].ID = derivedID("AROA", a.ID+"/role/"+a.Roles[i].Name)
			}
		}
		normalizeTrail(w.Partition, a, a.CloudTrail)
		normalizeRegional(w.Partition, a)
	}
}

func normalizeCreds(keys []AccessKey, certs []Cert, mfas []MFADevice, created time.Time, virtualSerial string) {
	for i := range keys {
		if keys[i].Status == "" {
			keys[i].Status = StatusActive
		}
		if keys[i].CreateDate.IsZero() {
			keys[i].CreateDate = created
		}
	}
	for i := range certs {
		if certs[i].Status == "" {
			certs[i].Status = StatusActive
		}
		if certs[i].UploadDate.IsZero() {
			certs[i].UploadDate = created
		}
	}
	for i := range mfas {
		if mfas[i].Type == "" {
			mfas[i].Type = MFAVirtual
		}
		if mfas[i].Serial == "" {
			mfas[i].Serial = virtualSerial
		}
		if mfas[i].EnableDate.IsZero() {
			mfas[i].EnableDate = created
		}
	}
}

// clone deep-copies a world. A JSON round trip is slow but obviously
// complete, and it only runs at start-up and when a test reads state back.
func (w *World) clone() *World {
	data, err := json.Marshal(w)
	if err != nil {
		panic(fmt.Sprintf("awsemu: copy world: %v", err))
	}
	var c World
	if err := json.Unmarshal(data, &c); err != nil {
		panic(fmt.Sprintf("awsemu: copy world: %v", err))
	}
	return &c
}

func (a *Account) clone() *Account {
	data, err := json.Marshal(a)
	if err != nil {
		panic(fmt.Sprintf("awsemu: copy account: %v", err))
	}
	var c Account
	if err := json.Unmarshal(data, &c); err != nil {
		panic(fmt.Sprintf("awsemu: copy account: %v", err))
	}
	return &c
}

// stripSecrets blanks secret keys in a copy handed back to a caller: the
// API never returns them, and read-back state should not either.
func (a *Account) stripSecrets() {
	for i := range a.Root.AccessKeys {
		a.Root.AccessKeys[i].Secret = ""
	}
	for i := range a.Users {
		for j := range a.Users[i].AccessKeys {
			a.Users[i].AccessKeys[j].Secret = ""
		}
	}
}

func (a *Account) user(name string) *User {
	for i := range a.Users {
		if a.Users[i].Name == name {
			return &a.Users[i]
		}
	}
	return nil
}

func (a *Account) role(name string) *Role {
	for i := range a.Roles {
		if a.Roles[i].Name == name {
			return &a.Roles[i]
		}
	}
	return nil
}
