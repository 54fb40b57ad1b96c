package notify

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
)

// Transition is a change in a finding's life that a channel can be told
// about.
type Transition string

// The transitions channels subscribe to.
const (
	// New: a finding failed for the first time.
	New Transition = "new"
	// Regressed: a resolved finding fails again.
	Regressed Transition = "regressed"
	// Resolved: a finding passed (or no longer applies).
	Resolved Transition = "resolved"
	// SuppressionExpired: the suppression muting an open finding ended.
	SuppressionExpired Transition = "suppression_expired"
	// Fixed: an automatic fix removed what the finding was about (or, in
	// plan mode, would have).
	Fixed Transition = "fixed"
	// Gone: the finding's account left the organisation; it is closed
	// without having been resolved.
	Gone Transition = "gone"
	// RootActivity: the root user acted (an event of the root-activity
	// queue, not a finding's transition); the event's Activity says what.
	RootActivity Transition = "root_activity"
)

// Transitions lists every transition, in the order alerts show them.
var Transitions = []Transition{New, Regressed, SuppressionExpired, Fixed, Resolved, Gone, RootActivity}

// ParseTransition reads a transition name.
func ParseTransition(s string) (Transition, error) {
	for _, t := range Transitions {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown transition %q (want one of %s)", s, strings.Join(TransitionNames(), ", "))
}

// TransitionNames are the names of Transitions.
func TransitionNames() []string {
	out := make([]string, len(Transitions))
	for i, t := range Transitions {
		out[i] = string(t)
	}
	return out
}

func (t Transition) rank() int {
	if i := slices.Index(Transitions, t); i >= 0 {
		return i
	}
	return len(Transitions)
}

// Finding is the finding an event is about, as a channel shows it.
type Finding struct {
	// ID is the store's stable identifier of the finding (one per
	// account, rule and resource).
	ID          string `json:"id"`
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name,omitempty"`
	RuleID      string `json:"rule_id"`
	// Title is the rule's title, when the sender knows it.
	Title    string        `json:"title,omitempty"`
	Resource string        `json:"resource"`
	Severity rule.Severity `json:"severity"`
	// Status is the latest result's status.
	Status rule.Status `json:"status"`
	// State is the finding's state after the transition (open, resolved,
	// suppressed, gone), when the sender knows it.
	State    string          `json:"state,omitempty"`
	Message  string          `json:"message"`
	Evidence []rule.Evidence `json:"evidence,omitempty"`
	// FirstSeen, LastSeen and Regressions are the finding's history, when
	// known.
	FirstSeen   time.Time `json:"first_seen,omitzero"`
	LastSeen    time.Time `json:"last_seen,omitzero"`
	Regressions int       `json:"regressions,omitempty"`
	// Link is where a reader sees the finding (the dashboard, or the
	// rule's knowledge page); empty when there is none.
	Link string `json:"link,omitempty"`
}

// Event is one transition of one finding.
type Event struct {
	Transition Transition `json:"transition"`
	// At is when the transition happened (the scan's time).
	At time.Time `json:"at"`
	// Detail says more about this transition when there is more to say:
	// the suppression that expired, what a fix did or would do.
	Detail  string  `json:"detail,omitempty"`
	Finding Finding `json:"finding"`
	// Activity is what root did, for a root_activity event; Finding then
	// names the account, the root user as resource, the severity and the
	// summary as message.
	Activity *Activity `json:"activity,omitempty"`
}

// Activity is one root event as an alert carries it.
type Activity struct {
	// EventID is CloudTrail's event ID.
	EventID string `json:"event_id"`
	// Kind is Vigil's name for it (root_access_key_created,
	// root_console_login, root_api_call...).
	Kind      string    `json:"kind"`
	EventName string    `json:"event_name"`
	Source    string    `json:"event_source"`
	Region    string    `json:"region"`
	Time      time.Time `json:"time"`
	SourceIP  string    `json:"source_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	// AccessKeyID signed the call (empty for a console sign-in).
	AccessKeyID string `json:"access_key_id,omitempty"`
	// MFA is "yes", "no" or empty when the event does not say.
	MFA       string `json:"mfa,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	// NewAccessKeyID is the key a CreateAccessKey made.
	NewAccessKeyID string `json:"new_access_key_id,omitempty"`
	// SessionPrincipal is who opened the sts:AssumeRoot session the call
	// was made in, when known.
	SessionPrincipal string `json:"session_principal,omitempty"`
}

// Delivery is what one channel is sent at once: every event of one scan
// (or one expiry sweep) that passed the channel's filter, as one message.
type Delivery struct {
	// ID identifies the delivery for idempotency: a retry carries the
	// same ID, so a receiver can drop duplicates.
	ID string
	// Channel is the name of the alert channel in the config.
	Channel string
	// At is when the delivery was created, from the service's clock.
	At     time.Time
	Events []Event
}

// Sender sends deliveries to one channel.
//
// Send either delivers d or returns an error; Retryable tells whether
// trying again later can help. Send honours ctx's deadline and
// cancellation, and its errors never contain a secret (a password, an
// HMAC key, a webhook URL that is itself a credential).
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// Filter is what a channel wants to hear about.
type Filter struct {
	// On are the transitions the channel wants; empty means all.
	On []Transition
	// MinSeverity is the lowest severity it wants (rule.Info: all).
	MinSeverity rule.Severity
}

// Match reports whether the channel wants e.
func (f Filter) Match(e Event) bool {
	if len(f.On) > 0 && !slices.Contains(f.On, e.Transition) {
		return false
	}
	return e.Finding.Severity >= f.MinSeverity
}

// Apply returns the events f matches, in their order.
func (f Filter) Apply(events []Event) []Event {
	var out []Event
	for _, e := range events {
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out
}

// Ordered returns the events in the order every channel shows them:
// transition (new first), then severity (highest first), account, rule,
// resource and finding ID. The input is not modified.
func Ordered(events []Event) []Event {
	out := slices.Clone(events)
	slices.SortStableFunc(out, func(a, b Event) int {
		if c := a.Transition.rank() - b.Transition.rank(); c != 0 {
			return c
		}
		if c := int(b.Finding.Severity) - int(a.Finding.Severity); c != 0 {
			return c
		}
		for _, p := range [][2]string{
			{a.Finding.AccountID, b.Finding.AccountID},
			{a.Finding.RuleID, b.Finding.RuleID},
			{a.Finding.Resource, b.Finding.Resource},
			{a.Finding.ID, b.Finding.ID},
		} {
			if c := strings.Compare(p[0], p[1]); c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

// DeliveryID derives a delivery's ID from what makes the delivery unique
// (the channel and the scan, tick or sweep it reports), so that a delivery
// made again after a crash carries the same ID and a receiver drops the
// duplicate. Parts are length-prefixed: ("a", "bc") and ("ab", "c")
// differ.
func DeliveryID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return "dlv_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h.Sum(nil)[:15]))
}

// Deliveries splits the events of one source — a scan, a suppression
// expiry sweep — into one delivery per channel that takes any of them
// (filters by channel name), each a digest of all it takes, with an ID
// from DeliveryID(channel, source): making them again for the same source
// gives the same IDs. Deliveries come in channel-name order; a channel
// that takes nothing gets none.
func Deliveries(source string, at time.Time, events []Event, filters map[string]Filter) []Delivery {
	names := make([]string, 0, len(filters))
	for name := range filters {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []Delivery
	for _, name := range names {
		taken := Ordered(filters[name].Apply(events))
		if len(taken) == 0 {
			continue
		}
		out = append(out, Delivery{ID: DeliveryID(name, source), Channel: name, At: at, Events: taken})
	}
	return out
}
