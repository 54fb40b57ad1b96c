package snapshot

import (
	"time"
)

// Schema and Version identify the snapshot format. Version changes whenever
// a field changes meaning or a required field is added; a reader refuses
// versions it does not know rather than guess.
const (
	Schema  = "vigil.snapshot"
	Version = 1
)

// Document is one collection run: a single account, a list of profiles or a
// whole organisation.
type Document struct {
	Schema      string    `json:"schema"`
	Version     int       `json:"version"`
	ToolVersion string    `json:"tool_version,omitempty"`
	CollectedAt time.Time `json:"collected_at"`
	Source      Source    `json:"source"`
	// Organization is set when the run discovered accounts through AWS
	// Organizations.
	Organization *Organization `json:"organization,omitempty"`
	Accounts     []Account     `json:"accounts"`
	// Incomplete is set when the run stopped before every account was
	// finished (cancelled, deadline). Accounts not finished carry a gap.
	Incomplete *Incomplete `json:"incomplete,omitempty"`
	// Unreached lists targets of a multi-account run whose account could
	// not even be identified (a profile whose credentials fail), so they
	// cannot appear among the accounts but must not vanish either.
	Unreached []Unreached `json:"unreached,omitempty"`
}

// Unreached is a target that yielded no account.
type Unreached struct {
	// Target names it as the user did: "profile prod", a role ARN.
	Target string `json:"target"`
	Gap    Gap    `json:"gap"`
}

// Source says where the state came from, so a report can say so.
type Source struct {
	// Kind is one of the SourceKind constants.
	Kind string `json:"kind"`
	// Detail is a file path, a profile name or an endpoint; never a secret.
	Detail string `json:"detail,omitempty"`
}

// Source kinds.
const (
	SourceAWS              = "aws"
	SourceCredentialReport = "credential-report"
	SourceDemo             = "demo"
)

// Incomplete records why a run did not finish.
type Incomplete struct {
	Reason string `json:"reason"`
}

// Organization is what was learned about the AWS Organization as a whole.
type Organization struct {
	ID                  string `json:"id"`
	ManagementAccountID string `json:"management_account_id"`
	// Caller is the identity that discovered the accounts (the management
	// account or the IAM delegated administrator), when the organisation
	// was scanned as a whole.
	Caller string `json:"caller_arn,omitempty"`
	// AccessMode is how member accounts were reached: AccessAssumeRole or
	// AccessAssumeRoot; empty when the organisation was not scanned as a
	// whole.
	AccessMode string `json:"access_mode,omitempty"`
	// Scope describes the --ou, --accounts and --exclude selection; empty
	// when every account was selected.
	Scope string `json:"scope,omitempty"`
	// Features are the centralised root access features, nil when they
	// could not be read (see Gaps).
	Features *OrgFeatures `json:"features,omitempty"`
	// Accounts skipped by discovery (suspended, closed, excluded) with the
	// reason, so that every discovered account is accounted for.
	Skipped []SkippedAccount `json:"skipped,omitempty"`
	// Controls are the OU tree and the service control policies, nil when
	// not collected (org_controls.go).
	Controls *OrgControls `json:"controls,omitempty"`
	Gaps     []Gap        `json:"gaps,omitempty"`
}

// OrgFeatures is the answer of iam:ListOrganizationsFeatures plus whether
// trusted access for IAM is on.
type OrgFeatures struct {
	TrustedAccessIAM          *bool `json:"trusted_access_iam,omitempty"`
	RootCredentialsManagement bool  `json:"root_credentials_management"`
	RootSessions              bool  `json:"root_sessions"`
}

// SkippedAccount is an account discovery found but did not scan.
type SkippedAccount struct {
	AccountID string `json:"account_id"`
	Name      string `json:"name,omitempty"`
	State     string `json:"state,omitempty"`
	Reason    string `json:"reason"`
}

// OrgRole is an account's place in AWS Organizations.
type OrgRole string

// Organisation roles. The empty role means unknown.
const (
	RoleUnknown    OrgRole = ""
	RoleStandalone OrgRole = "standalone"
	RoleManagement OrgRole = "management"
	RoleMember     OrgRole = "member"
)

// Account is the state of one AWS account.
type Account struct {
	ID        string `json:"account_id"`
	Partition string `json:"partition,omitempty"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	// OUPath is the chain of organisational unit names from the root,
	// when the account was discovered through Organizations.
	OUPath []string `json:"ou_path,omitempty"`
	// Access says how the account was reached.
	Access *Access `json:"access,omitempty"`
	// Caller is who the scan ran as, nil when unknown.
	Caller *Caller `json:"caller,omitempty"`
	// Org is the account's membership, nil when unknown.
	Org *Membership `json:"organization,omitempty"`
	// Summary is the root-relevant part of iam:GetAccountSummary.
	Summary *Summary `json:"summary,omitempty"`
	// CredentialReport holds the root row of the IAM credential report.
	CredentialReport *CredentialReport `json:"credential_report,omitempty"`
	// RootVirtualMFA is what iam:ListVirtualMFADevices says about the root
	// user's virtual MFA devices.
	RootVirtualMFA *RootVirtualMFA `json:"root_virtual_mfa,omitempty"`
	// RootCredentials is the inventory read inside an sts:AssumeRoot audit
	// session (or with root's own key): exact keys, certificates, MFA
	// devices and login profile.
	RootCredentials *RootCredentials `json:"root_credentials,omitempty"`
	// IAM is iam:GetAccountAuthorizationDetails: users, groups, roles and
	// managed policies with their documents; nil when not read (see Gaps).
	IAM *IAMDetails `json:"iam,omitempty"`
	// PasswordPolicy is iam:GetAccountPasswordPolicy; nil when not read.
	PasswordPolicy *PasswordPolicy `json:"password_policy,omitempty"`
	// Regions are the account's regions from ec2:DescribeRegions, with
	// what was read in each (regional.go); nil when the list could not be
	// read (see Gaps).
	Regions []Region `json:"regions,omitempty"`
	// ServerCertificates is iam:ListServerCertificates; nil when not read.
	ServerCertificates *ServerCertificates `json:"server_certificates,omitempty"`
	// AlternateContacts is account:GetAlternateContact for each type and
	// IdentityProviders the SAML and OIDC providers (contacts.go): the
	// evidence of the manual CIS items. Nil when not read.
	AlternateContacts *AlternateContacts `json:"alternate_contacts,omitempty"`
	IdentityProviders *IdentityProviders `json:"identity_providers,omitempty"`
	Gaps              []Gap              `json:"gaps,omitempty"`
}

// Access is the way into an account.
type Access struct {
	// Method is "direct", "assume-role" or "assume-root".
	Method string `json:"method"`
	// RoleARN is the role assumed, or the task policy for assume-root.
	RoleARN string `json:"role_arn,omitempty"`
	Profile string `json:"profile,omitempty"`
	// Note explains a choice the scan made about this account, e.g. that
	// the management account was read with the caller's own credentials
	// because AssumeRoot cannot target it, or that another target reached
	// the same account.
	Note string `json:"note,omitempty"`
}

// Access methods.
const (
	AccessDirect     = "direct"
	AccessAssumeRole = "assume-role"
	AccessAssumeRoot = "assume-root"
)

// Caller is the identity the collector ran as.
type Caller struct {
	ARN    string `json:"arn"`
	UserID string `json:"user_id,omitempty"`
	// IsRoot is true when the calls were signed by the root user itself.
	IsRoot bool `json:"is_root"`
}

// Membership is the account's relationship with an organisation.
type Membership struct {
	Role                OrgRole `json:"role"`
	OrganizationID      string  `json:"organization_id,omitempty"`
	ManagementAccountID string  `json:"management_account_id,omitempty"`
	// Features is nil when the caller could not read them; from a member
	// account they are only readable by the management account or the
	// delegated administrator.
	Features *OrgFeatures `json:"features,omitempty"`
}

// Summary is the root-relevant part of iam:GetAccountSummary. It is real
// time and counts inactive keys. A nil field means the key was missing from
// SummaryMap (older partitions lack AccountPasswordPresent).
type Summary struct {
	AccessKeysPresent          *bool `json:"account_access_keys_present"`
	MFAEnabled                 *bool `json:"account_mfa_enabled"`
	PasswordPresent            *bool `json:"account_password_present"`
	SigningCertificatesPresent *bool `json:"account_signing_certificates_present"`
}

// CredentialReport is the part of the IAM credential report Vigil keeps: the
// root row and enough metadata to judge how far to trust it.
//
// How old a report is matters: a report may support a PASS only while it
// is recent (--max-report-age). A CSV carries no generation time, and a
// file's modification time says when it was copied, not when IAM built
// it, so it is never used.
type CredentialReport struct {
	// GeneratedTime is when IAM built the report, nil when unknown (a CSV
	// file). TimeSource says where it came from.
	GeneratedTime *time.Time `json:"generated_time,omitempty"`
	// NewestTime is the newest time recorded in the report, kept when the
	// generation time is unknown: IAM built the report at or after it, so
	// it is a lower bound of GeneratedTime (the report is at most that
	// old, and may be as old).
	NewestTime *time.Time `json:"newest_time,omitempty"`
	// TimeSource says where the report's time came from: one of the
	// TimeFrom constants ("file modification time" in snapshots written
	// before Vigil stopped trusting it).
	TimeSource string `json:"time_source,omitempty"`
	// FileTime is the modification time of a report file, recorded by
	// earlier versions of Vigil and ignored: copying a file makes it new.
	FileTime *time.Time `json:"file_time,omitempty"`
	// Columns is the number of columns in the header (22 today, 16 in
	// reports from 2014).
	Columns int `json:"columns"`
	// Users is the number of IAM user rows (the root row not counted).
	Users int `json:"users"`
	// Root is the <root_account> row; nil when the report had none.
	Root *CredentialRow `json:"root,omitempty"`
	// UserRows are the IAM user rows. Snapshots written before Vigil kept
	// them have none although Users > 0: see UserRowsKnown.
	UserRows []CredentialRow `json:"user_rows,omitempty"`
}

// UserRowsKnown reports whether the IAM user rows are all here; a snapshot
// written before Vigil kept them counts users it does not list.
func (r *CredentialReport) UserRowsKnown() bool { return len(r.UserRows) == r.Users }

// Where a credential report's time comes from (CredentialReport.TimeSource).
const (
	// TimeFromAPI: GeneratedTime of iam:GetCredentialReport.
	TimeFromAPI = "GetCredentialReport"
	// TimeFromFile: GeneratedTime in the JSON that aws iam
	// get-credential-report prints.
	TimeFromFile = "GeneratedTime in the file"
	// TimeFromFlag: the user gave it (vigil scan --report-time).
	TimeFromFlag = "--report-time"
	// TimeFromNewest: the newest time recorded in the report, a lower
	// bound of when it was generated.
	TimeFromNewest = "the newest time recorded in the report (a lower bound)"
)

// ClockSkew is how far after the clock of the run a report may say it
// was generated before that is an error rather than a clock difference
// between AWS and this machine.
const ClockSkew = 5 * time.Minute

// AsOf is the time the report describes: its generation time when known
// (exact), else the newest time recorded in it, a lower bound of the
// generation time (the report is at most as old as that time, and may be
// as old). ok is false when neither is known.
func (r *CredentialReport) AsOf() (t time.Time, exact, ok bool) {
	switch {
	case r.GeneratedTime != nil:
		return *r.GeneratedTime, true, true
	case r.NewestTime != nil:
		return *r.NewestTime, false, true
	}
	return time.Time{}, false, false
}

// Label names the report for people, with its date: "credential report
// of 2026-11-26T10:30:00Z", "credential report generated at or after …"
// when only a lower bound is known, or "credential report (date unknown)".
func (r *CredentialReport) Label() string {
	t, exact, ok := r.AsOf()
	switch {
	case !ok:
		return "credential report (date unknown)"
	case exact:
		return "credential report of " + t.UTC().Format(time.RFC3339)
	}
	return "credential report generated at or after " + t.UTC().Format(time.RFC3339)
}

// CredentialRow is one credential report row.
type CredentialRow struct {
	User         string `json:"user"`
	ARN          string `json:"arn"`
	CreationTime Stamp  `json:"user_creation_time"`
	// PasswordEnabled is the raw lower-cased cell: "true", "false" or
	// "not_supported" (the documented value for root).
	PasswordEnabled     string      `json:"password_enabled"`
	PasswordLastUsed    Stamp       `json:"password_last_used"`
	PasswordLastChanged Stamp       `json:"password_last_changed"`
	MFAActive           bool        `json:"mfa_active"`
	AccessKeys          [2]KeySlot  `json:"access_keys"`
	Certificates        [2]CertSlot `json:"certificates"`
	// Missing lists the columns the report did not have (old formats).
	Missing []string `json:"missing_columns,omitempty"`
}

// KeySlot is one of the two access key columns groups of a row.
type KeySlot struct {
	Active          bool   `json:"active"`
	LastRotated     Stamp  `json:"last_rotated"`
	LastUsedDate    Stamp  `json:"last_used_date"`
	LastUsedRegion  string `json:"last_used_region,omitempty"`
	LastUsedService string `json:"last_used_service,omitempty"`
}

// Present reports whether a key exists in the slot. The report says
// active=false both for "no key" and for "inactive key"; an inactive key
// still has a last-rotated time, which is how the two are told apart.
func (k KeySlot) Present() bool { return k.Active || k.LastRotated.IsSet() }

// CertSlot is one of the two signing certificate column groups.
type CertSlot struct {
	Active      bool  `json:"active"`
	LastRotated Stamp `json:"last_rotated"`
}

// Present reports whether a certificate exists in the slot.
func (c CertSlot) Present() bool { return c.Active || c.LastRotated.IsSet() }

// RootVirtualMFA is the root user's share of iam:ListVirtualMFADevices.
type RootVirtualMFA struct {
	// Devices are the virtual devices assigned to the root user, matched by
	// the root user's ARN (never by a user name).
	Devices []MFADevice `json:"devices"`
}

// MFAType classifies an MFA device.
type MFAType string

// MFA device types.
const (
	MFAVirtual  MFAType = "virtual"
	MFAHardware MFAType = "hardware"
	MFAFIDO     MFAType = "fido"
	MFAUnknown  MFAType = "unknown"
)

// MFADevice is one MFA device.
type MFADevice struct {
	Serial     string     `json:"serial"`
	Type       MFAType    `json:"type"`
	EnableDate *time.Time `json:"enable_date,omitempty"`
}

// RootCredentials is an exact inventory of the root user's credentials. Each
// part is nil when it could not be read (see the account's gaps); an empty,
// non-nil list means "read, and there are none". JSON keeps the difference:
// null versus [].
type RootCredentials struct {
	AccessKeys          []AccessKey   `json:"access_keys"`
	SigningCertificates []SigningCert `json:"signing_certificates"`
	MFADevices          []MFADevice   `json:"mfa_devices"`
	LoginProfile        *LoginProfile `json:"login_profile"`
	// User is iam:GetUser without a user name in an AssumeRoot session:
	// the root user's own record, with its last console sign-in in real
	// time. Nil when not read.
	User *RootUser `json:"user,omitempty"`
}

// RootUser is the root user's iam:GetUser record.
type RootUser struct {
	CreateDate *time.Time `json:"create_date,omitempty"`
	// PasswordLastUsed is nil when IAM reports no sign-in: the password
	// was never used, not since tracking began (2014-10-20), or there is
	// no password.
	PasswordLastUsed *time.Time `json:"password_last_used,omitempty"`
}

// AccessKey is one root access key with its last use.
type AccessKey struct {
	ID         string     `json:"access_key_id"`
	Status     string     `json:"status"`
	CreateDate *time.Time `json:"create_date,omitempty"`
	LastUsed   *KeyUse    `json:"last_used,omitempty"`
}

// KeyUse is iam:GetAccessKeyLastUsed's answer.
type KeyUse struct {
	Date    *time.Time `json:"date,omitempty"`
	Region  string     `json:"region,omitempty"`
	Service string     `json:"service,omitempty"`
}

// SigningCert is one root X.509 signing certificate.
type SigningCert struct {
	ID         string     `json:"certificate_id"`
	Status     string     `json:"status"`
	UploadDate *time.Time `json:"upload_date,omitempty"`
}

// LoginProfile says whether root has a console password.
type LoginProfile struct {
	Present    bool       `json:"present"`
	CreateDate *time.Time `json:"create_date,omitempty"`
}

// Gap records a section of state that could not be collected.
type Gap struct {
	// Section is the Section constant of the missing part.
	Section string `json:"section"`
	// Call is the API call that failed, as "service:Action".
	Call string `json:"call"`
	// Region is set for a call made in one region (the rest of the
	// section may have been read in other regions).
	Region    string `json:"region,omitempty"`
	Code      string `json:"error_code,omitempty"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// Text is what failed, for people: the error code and the message, or
// the message alone when the failure has no AWS error code.
func (g Gap) Text() string {
	if g.Code != "" {
		return g.Code + ": " + g.Message
	}
	return g.Message
}

// Sections of an account that can be missing.
const (
	SectionCaller           = "caller"
	SectionOrganization     = "organization"
	SectionOrgFeatures      = "organization_features"
	SectionSummary          = "summary"
	SectionCredentialReport = "credential_report"
	SectionRootVirtualMFA   = "root_virtual_mfa"
	SectionRootCredentials  = "root_credentials"
	SectionAccess           = "access"
	SectionIAM              = "iam_authorization_details"
	SectionPasswordPolicy   = "password_policy"
)

// GapFor returns the first gap recorded for a section, or nil.
func (a *Account) GapFor(section string) *Gap {
	for i := range a.Gaps {
		if a.Gaps[i].Section == section {
			return &a.Gaps[i]
		}
	}
	return nil
}

// AddGap records a gap.
func (a *Account) AddGap(g Gap) { a.Gaps = append(a.Gaps, g) }

// RootARN is the root user's ARN in the account's partition.
func (a *Account) RootARN() string {
	p := a.Partition
	if p == "" {
		p = "aws"
	}
	return RootARN(p, a.ID)
}

// RootARN is the ARN of the root user of an account in a partition.
func RootARN(partition, accountID string) string {
	return "arn:" + partition + ":iam::" + accountID + ":root"
}

// Role returns the account's organisation role, RoleUnknown when unknown.
func (a *Account) Role() OrgRole {
	if a.Org == nil {
		return RoleUnknown
	}
	return a.Org.Role
}
