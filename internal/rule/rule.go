package rule

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Status is the outcome of a rule for one resource.
type Status string

// The four statuses. There is deliberately no "error" status: a rule that
// cannot decide says UNKNOWN and the evidence says why.
const (
	Pass          Status = "PASS"
	Fail          Status = "FAIL"
	NotApplicable Status = "NOT_APPLICABLE"
	Unknown       Status = "UNKNOWN"
)

// Statuses lists every status in report order.
var Statuses = []Status{Fail, Unknown, Pass, NotApplicable}

// Severity ranks how bad a failure is.
type Severity int

// Severities, lowest first, so that comparisons read naturally.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// Severities lists every severity, most severe first.
var Severities = []Severity{Critical, High, Medium, Low, Info}

func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames[:], ", "))
}

// MarshalText writes the severity name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Scope says what a rule is evaluated against.
type Scope int

const (
	// AccountScope rules run once per account.
	AccountScope Scope = iota
	// OrganizationScope rules run once per organisation snapshot.
	OrganizationScope
)

// Rule is one check. Its metadata lives beside its check so that neither
// can drift from the other.
type Rule struct {
	// ID is stable forever; reports, suppressions and docs refer to it.
	ID       string
	Title    string
	Severity Severity
	Category string
	Service  string
	Scope    Scope
	// RootUser marks a rule about the account's root user. Its failure in
	// an organisation's management account is raised one severity and
	// says why: no SCP and no centralised root access reach that root
	// user. Rules about IAM users, roles and policies are left as they are.
	RootUser bool
	// Check decides the outcome. It must not return PASS when the data it
	// needs is missing.
	Check func(Input) Outcome
}

// Input is what a check sees.
type Input struct {
	Account *snapshot.Account
	Doc     *snapshot.Document
	// Now is the evaluation time; injected so results are reproducible.
	Now     time.Time
	Options Options
	// shared holds what rules about one account build alike and can
	// share (the IAM users' ARNs, 100,000 of them): Evaluate gives the
	// rules of an account one map; elsewhere it is nil.
	shared map[any]any
	// rules are the rules Evaluate runs (Evaluating).
	rules []Rule
}

// Shared returns the value build makes, built once for all the rules of
// an account that ask for key within one Evaluate (outside Evaluate, at
// every call). The key is a comparable value of a type the asking package
// owns; what is shared must never be changed.
func (in Input) Shared(key any, build func() any) any {
	if in.shared == nil {
		return build()
	}
	v, ok := in.shared[key]
	if !ok {
		v = build()
		in.shared[key] = v
	}
	return v
}

// Shares reports whether Shared builds a value once for the rules of an
// account (within Evaluate) rather than at every call: a rule may then
// build more than it needs for itself, knowing the others will use it.
func (in Input) Shares() bool { return in.shared != nil }

// Evaluating reports whether the rule with the ID is among the account
// rules of this Evaluate (false outside Evaluate), so that a rule
// building for its fellows builds only for those that will ask.
func (in Input) Evaluating(id string) bool {
	// A scan of the few dozen rules, asked a handful of times per
	// account: a set of their IDs cost more to build than it saved.
	for k := range in.rules {
		if in.rules[k].ID == id && in.rules[k].Scope == AccountScope {
			return true
		}
	}
	return false
}

// Options are the user-tunable thresholds.
type Options struct {
	// RootUseWindow is how far back root use counts as recent.
	RootUseWindow time.Duration
	// MaxReportAge is the oldest credential report a rule may PASS on when
	// it is the only source; 0 means no limit.
	MaxReportAge time.Duration
}

// DefaultOptions are the thresholds used when the user sets none.
func DefaultOptions() Options {
	return Options{RootUseWindow: 30 * 24 * time.Hour, MaxReportAge: 24 * time.Hour}
}

// Outcome is what a check returns.
type Outcome struct {
	Status   Status
	Message  string
	Evidence []Evidence
	// Resources, when not empty, are the outcomes per resource (user,
	// access key, policy) of a rule about many resources: Evaluate then
	// reports one result per resource and Status, Message and Evidence
	// only summarise them for callers that look at one outcome. An
	// account-wide answer (UNKNOWN for want of data, NOT_APPLICABLE, or
	// no resource of the kind) leaves Resources empty.
	Resources []ResourceOutcome
	// Set is Resources for a rule about thousands of resources: the same
	// one result per resource, held compactly (see ResourceSet). A rule
	// gives Resources or Set, not both.
	Set *ResourceSet
}

// ResourceOutcome is the judgement of one resource.
type ResourceOutcome struct {
	// Resource is the resource's ARN (for an access key, its user's ARN
	// followed by "/access-key/<slot>", as the credential report has no
	// key ID; for an inline policy, which has no ARN, its user's, group's
	// or role's ARN followed by "/inline-policy/<name>").
	Resource string
	Status   Status
	Message  string
	Evidence []Evidence
}

// Evidence is one fact a result rests on.
type Evidence struct {
	// Source is where the fact came from: an API call ("iam:GetAccountSummary"),
	// "credential report" or "snapshot".
	Source string `json:"source"`
	// Key names the field, e.g. "AccountAccessKeysPresent".
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
	// AsOf is when the fact was true, for sources that lag (the report).
	AsOf *time.Time `json:"as_of,omitempty"`
	// AsOfSource says where AsOf comes from, for a credential report:
	// one of the snapshot.TimeFrom constants (with TimeFromNewest, AsOf
	// is a lower bound: the fact was true then or later).
	AsOfSource string `json:"as_of_source,omitempty"`
	// Error is set when the fact is that the source failed.
	Error string `json:"error,omitempty"`
}

// Result is a rule's outcome for one resource, with the rule's metadata.
//
// The metadata of the rule and the account is behind a pointer that every
// result of one rule in one account shares (a rule about 100,000 IAM users
// gives 100,000 results): a result is 96 bytes where it was 216 with the
// metadata copied into each. Its fields read as the result's own
// (r.RuleID); to change one result's, give it a Meta of its own
// (OwnMeta), never write through the shared one.
type Result struct {
	*Meta
	Status Status `json:"status"`
	// Severity is the rule's own severity (RuleSeverity), raised when the
	// failure is in a management account.
	Severity Severity   `json:"severity"`
	Resource string     `json:"resource"`
	Message  string     `json:"message"`
	Evidence []Evidence `json:"evidence"`
	// Suppression, when set, is the accepted risk that mutes this result
	// (vigil scan --suppressions): the status is kept, the result does
	// not count for --fail-on.
	Suppression *Suppression `json:"suppression,omitempty"`
}

// Meta is what the results of one rule in one account have in common.
// The JSON tags let encoding/json decode a result's fields into it (it
// allocates a Meta per result then); MarshalJSON writes them in the
// documented order.
type Meta struct {
	RuleID string `json:"rule_id"`
	Title  string `json:"title"`
	// RuleSeverity is the rule's own severity; a result's Severity is
	// higher when the failure is in a management account.
	RuleSeverity      Severity `json:"rule_severity"`
	Category          string   `json:"category"`
	Service           string   `json:"service"`
	AccountID         string   `json:"account_id"`
	AccountName       string   `json:"account_name,omitempty"`
	Partition         string   `json:"partition,omitempty"`
	ManagementAccount bool     `json:"management_account,omitempty"`
}

// OwnMeta gives r a copy of its metadata to change without changing the
// results it shared it with, and returns it.
func (r *Result) OwnMeta() *Meta {
	m := Meta{}
	if r.Meta != nil {
		m = *r.Meta
	}
	r.Meta = &m
	return r.Meta
}

// Suppression is an accepted risk: who accepted it, why, until when.
type Suppression struct {
	Reason string `json:"reason"`
	Owner  string `json:"owner"`
	Ticket string `json:"ticket,omitempty"`
	// Expires is nil for a suppression that never expires.
	Expires *time.Time `json:"expires,omitempty"`
	// Source is where it was declared ("suppressions.yaml:12").
	Source string `json:"source,omitempty"`
}

// Failed reports whether the result is a FAIL at or above min.
func (r Result) Failed(min Severity) bool { return r.Status == Fail && r.Severity >= min }

// resultJSON is a result as the JSON report writes it: its fields in
// the documented order, the metadata's among them.
type resultJSON struct {
	RuleID            string       `json:"rule_id"`
	Title             string       `json:"title"`
	Status            Status       `json:"status"`
	Severity          Severity     `json:"severity"`
	RuleSeverity      Severity     `json:"rule_severity"`
	Category          string       `json:"category"`
	Service           string       `json:"service"`
	AccountID         string       `json:"account_id"`
	AccountName       string       `json:"account_name,omitempty"`
	Partition         string       `json:"partition,omitempty"`
	Resource          string       `json:"resource"`
	ManagementAccount bool         `json:"management_account,omitempty"`
	Message           string       `json:"message"`
	Evidence          []Evidence   `json:"evidence"`
	Suppression       *Suppression `json:"suppression,omitempty"`
}

// MarshalJSON writes the result flat, in the documented order, and keeps
// evidence a list even when empty, so consumers need no null check.
func (r Result) MarshalJSON() ([]byte, error) {
	var m Meta
	if r.Meta != nil {
		m = *r.Meta
	}
	if r.Evidence == nil {
		r.Evidence = []Evidence{}
	}
	return json.Marshal(resultJSON{RuleID: m.RuleID, Title: m.Title, Status: r.Status, Severity: r.Severity, RuleSeverity: m.RuleSeverity,
		Category: m.Category, Service: m.Service, AccountID: m.AccountID, AccountName: m.AccountName, Partition: m.Partition,
		Resource: r.Resource, ManagementAccount: m.ManagementAccount, Message: r.Message, Evidence: r.Evidence, Suppression: r.Suppression})
}

// Age renders a duration in the largest sensible unit ("45s", "3h20m",
// "12d"), the way every report states how old a fact is.
func Age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		h := int(d.Hours())
		if m := int(d.Minutes()) % 60; m != 0 && h < 10 {
			return fmt.Sprintf("%dh%02dm", h, m)
		}
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// Plural counts a noun the way rule messages and reports do ("1 account",
// "3 accounts").
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
