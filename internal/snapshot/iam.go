package snapshot

import "time"

// IAMDetails is what iam:GetAccountAuthorizationDetails says about the
// account's identities and managed policies, read in pages of up to 1,000
// entities: the calls grow with pages, never with users.
type IAMDetails struct {
	Users    []IAMUser       `json:"users"`
	Groups   []IAMGroup      `json:"groups"`
	Roles    []IAMRole       `json:"roles"`
	Policies []ManagedPolicy `json:"policies"`
	// Pages is how many GetAccountAuthorizationDetails calls the read took.
	Pages int `json:"pages"`
	// TagsRead says the users' and roles' Tags were read. A snapshot
	// written before Vigil kept tags lacks it: its identities' tags are
	// unknown, not absent.
	TagsRead bool `json:"tags_read,omitempty"`
}

// Tag is one key and value on an IAM user or role, or an Access Analyzer
// analyzer.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// IAMUser is one user of the authorization details.
type IAMUser struct {
	Name       string           `json:"name"`
	ARN        string           `json:"arn"`
	CreateDate *time.Time       `json:"create_date,omitempty"`
	Groups     []string         `json:"groups,omitempty"`
	Attached   []AttachedPolicy `json:"attached_policies,omitempty"`
	Inline     []InlinePolicy   `json:"inline_policies,omitempty"`
	Tags       []Tag            `json:"tags,omitempty"`
}

// IAMGroup is one group with its policies.
type IAMGroup struct {
	Name     string           `json:"name"`
	ARN      string           `json:"arn"`
	Attached []AttachedPolicy `json:"attached_policies,omitempty"`
	Inline   []InlinePolicy   `json:"inline_policies,omitempty"`
}

// IAMRole is one role with its policies.
type IAMRole struct {
	Name     string           `json:"name"`
	ARN      string           `json:"arn"`
	Attached []AttachedPolicy `json:"attached_policies,omitempty"`
	Inline   []InlinePolicy   `json:"inline_policies,omitempty"`
	Tags     []Tag            `json:"tags,omitempty"`
}

// AttachedPolicy names a managed policy attached to an identity.
type AttachedPolicy struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
}

// InlinePolicy is an identity's embedded policy. Document is the JSON
// text, already URL-decoded.
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// ManagedPolicy is a customer-managed policy, or an AWS-managed one that
// is attached somewhere (IAM lists those only when in use). Document is
// the default version's JSON, URL-decoded; empty when IAM sent none.
type ManagedPolicy struct {
	Name            string `json:"name"`
	ARN             string `json:"arn"`
	AWSManaged      bool   `json:"aws_managed"`
	AttachmentCount int    `json:"attachment_count"`
	DefaultVersion  string `json:"default_version,omitempty"`
	Document        string `json:"document,omitempty"`
}

// PasswordPolicy is the account's IAM password policy. Present is false
// when the account has none (IAM answers NoSuchEntity), which is a fact:
// IAM then applies its default, and CIS fails it.
type PasswordPolicy struct {
	Present                    bool `json:"present"`
	MinimumPasswordLength      int  `json:"minimum_password_length,omitempty"`
	RequireSymbols             bool `json:"require_symbols,omitempty"`
	RequireNumbers             bool `json:"require_numbers,omitempty"`
	RequireUppercaseCharacters bool `json:"require_uppercase_characters,omitempty"`
	RequireLowercaseCharacters bool `json:"require_lowercase_characters,omitempty"`
	AllowUsersToChangePassword bool `json:"allow_users_to_change_password,omitempty"`
	ExpirePasswords            bool `json:"expire_passwords,omitempty"`
	MaxPasswordAge             int  `json:"max_password_age,omitempty"`
	PasswordReusePrevention    int  `json:"password_reuse_prevention,omitempty"`
	HardExpiry                 bool `json:"hard_expiry,omitempty"`
}
