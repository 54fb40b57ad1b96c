package fix

import (
	"sort"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Path is how an account's root credentials can be removed.
type Path string

// Paths.
const (
	// PathAssumeRoot: an Organizations member account, through an
	// sts:AssumeRoot session with the IAMDeleteRootUserCredentials task
	// policy. Deleting is the only move.
	PathAssumeRoot Path = "assume-root"
	// PathRootKey: signed with one of the root user's own access keys.
	// Keys are deactivated first, deleted on a later run (or at once with
	// Delete); the signing key goes last.
	PathRootKey Path = "root-key"
	// PathManual: Vigil cannot remove them; the plan says why and which
	// steps a person takes.
	PathManual Path = "manual"
	// PathNone: the account could not be planned at all (see Errors).
	PathNone Path = "none"
)

// Kind is the kind of a root credential.
type Kind string

// Credential kinds.
const (
	KindAccessKey   Kind = "access-key"
	KindCertificate Kind = "signing-certificate"
	KindPassword    Kind = "console-password"
	KindMFA         Kind = "mfa-device"
)

// Action is what the plan does with a credential.
type Action string

// Actions.
const (
	ActDelete     Action = "delete"
	ActDeactivate Action = "deactivate"
	// ActRefuse: the guard refused an access key (recent or unknown use).
	ActRefuse Action = "refuse"
	// ActLeave: not asked for, or not possible on this path; Reason says.
	ActLeave Action = "leave"
	// ActGone: the snapshot recorded it and it is no longer there.
	ActGone Action = "gone"
	// ActUnseen: it exists, but the snapshot did not record it, so the
	// run does not touch it.
	ActUnseen Action = "unseen"
	// ActManual: present; the manual steps remove it.
	ActManual Action = "manual"
)

// Use is a credential's last recorded use and where that record comes
// from.
type Use struct {
	// Date is nil when no use was ever recorded.
	Date    *time.Time `json:"date,omitempty"`
	Region  string     `json:"region,omitempty"`
	Service string     `json:"service,omitempty"`
	// Source is the call or document that said so.
	Source string `json:"source"`
}

// Event is one CloudTrail event made with a key.
type Event struct {
	Time      time.Time `json:"time"`
	Region    string    `json:"region"`
	Source    string    `json:"event_source"`
	Name      string    `json:"event_name"`
	SourceIP  string    `json:"source_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	Error     string    `json:"error_code,omitempty"`
}

// Credential is one root credential as the plan sees it.
type Credential struct {
	Kind Kind `json:"kind"`
	// ID is the access key, certificate or MFA serial number; empty for
	// the console password and for a key known only by its credential
	// report slot.
	ID      string     `json:"id,omitempty"`
	Slot    int        `json:"report_slot,omitempty"`
	Status  string     `json:"status,omitempty"`
	Created *time.Time `json:"created,omitempty"`
	MFAType string     `json:"mfa_type,omitempty"`
	// LastUsed is the live record (iam:GetAccessKeyLastUsed, or
	// iam:GetUser for the console password); nil when it could not be
	// read, and LastUsedError says why.
	LastUsed      *Use   `json:"last_used,omitempty"`
	LastUsedError string `json:"last_used_error,omitempty"`
	// Report is what a credential report said about it.
	Report *Use `json:"credential_report,omitempty"`
	// Events are the newest CloudTrail events made with an access key;
	// Trail says what was searched, or why nothing could be.
	Events []Event `json:"cloudtrail_events,omitempty"`
	Trail  string  `json:"cloudtrail,omitempty"`
	// Signing marks the access key this run signs its requests with.
	Signing bool   `json:"signing,omitempty"`
	Action  Action `json:"action"`
	Reason  string `json:"reason,omitempty"`
	// Step is the ID of the plan step that removes it.
	Step string `json:"step,omitempty"`
}

// Label names the credential for people.
func (c *Credential) Label() string {
	switch c.Kind {
	case KindAccessKey:
		if c.ID == "" {
			return "access key (credential report slot " + itoa(c.Slot) + ")"
		}
		return "access key " + c.ID
	case KindCertificate:
		if c.ID == "" {
			return "signing certificate (credential report slot " + itoa(c.Slot) + ")"
		}
		return "signing certificate " + c.ID
	case KindPassword:
		return "console password"
	case KindMFA:
		if c.ID == "" {
			return "MFA"
		}
		return "MFA device " + c.ID
	}
	return string(c.Kind) + " " + c.ID
}

// Account is one account's part of the plan.
type Account struct {
	ID        string           `json:"account_id"`
	Name      string           `json:"name,omitempty"`
	OUPath    []string         `json:"ou_path,omitempty"`
	Role      snapshot.OrgRole `json:"role,omitempty"`
	Partition string           `json:"partition,omitempty"`
	Path      Path             `json:"path"`
	// Via is what the changes are signed with: the task-policy session or
	// the root access key. Caller is who runs them.
	Via    string `json:"via,omitempty"`
	Caller string `json:"caller,omitempty"`
	// Manual says why Vigil cannot do it, and which steps to follow.
	Manual      *Manual       `json:"manual,omitempty"`
	Credentials []*Credential `json:"credentials"`
	Steps       []change.Step `json:"steps"`
	// Notes are facts about the account the reader needs (CloudTrail not
	// reachable, what a flag could not do here).
	Notes []string `json:"notes,omitempty"`
	// Errors are reads that failed: what they would have shown is not in
	// the plan, and the run exits non-zero.
	Errors []snapshot.Gap `json:"errors,omitempty"`
	// Results are filled in when the plan is applied.
	Results []change.Result `json:"results,omitempty"`
}

// Plan is what a run would do, account by account.
type Plan struct {
	// Scope names what the run covers: an account, an organisation, a
	// list of targets.
	Scope          string `json:"scope"`
	Caller         string `json:"caller,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
	// Snapshot names the snapshot the run is limited to, if any.
	Snapshot string `json:"snapshot,omitempty"`
	// Guard restates the guard's settings.
	Guard    Guard                     `json:"guard"`
	Accounts []*Account                `json:"accounts"`
	Skipped  []snapshot.SkippedAccount `json:"skipped,omitempty"`
	// Unreached are targets that named no account at all.
	Unreached []snapshot.Unreached `json:"unreached,omitempty"`
	// Incomplete says why the run did not cover everything it was asked
	// to (cancelled, discovery cut short).
	Incomplete string `json:"incomplete,omitempty"`
}

// Guard is the guard's settings, for the reader of a plan.
type Guard struct {
	MinIdleDays  int  `json:"min_idle_days"`
	Force        bool `json:"force"`
	LookbackDays int  `json:"cloudtrail_lookback_days"`
}

// StepCount is the number of changes planned.
func (p *Plan) StepCount() int {
	n := 0
	for _, a := range p.Accounts {
		n += len(a.Steps)
	}
	return n
}

// Failed reports whether any read failed or the run is incomplete: the
// plan may then miss something.
func (p *Plan) Failed() bool {
	if p.Incomplete != "" || len(p.Unreached) > 0 {
		return true
	}
	for _, a := range p.Accounts {
		if len(a.Errors) > 0 {
			return true
		}
	}
	return false
}

func (p *Plan) sort() {
	sort.Slice(p.Accounts, func(i, j int) bool { return p.Accounts[i].ID < p.Accounts[j].ID })
	sort.Slice(p.Skipped, func(i, j int) bool { return p.Skipped[i].AccountID < p.Skipped[j].AccountID })
}

func itoa(n int) string { return strconv.Itoa(n) }
