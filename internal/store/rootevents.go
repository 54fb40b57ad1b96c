package store

import "time"

// Root events: what the events consumer of `vigil serve` records from the
// organisation's root-activity queue, and the sts:AssumeRoot sessions
// that say whose a root event is.

// Alert states of a root event.
const (
	// AlertPending: the event alerts and its alert jobs are not yet
	// queued (queued after the event is recorded; queued again if the
	// consumer stopped in between).
	AlertPending = "pending"
	// AlertQueued: the alert jobs are queued.
	AlertQueued = "queued"
	// AlertNone: the event does not alert (Vigil's own session, not root,
	// a malformed message).
	AlertNone = ""
)

// KindMalformed is the kind of a message that is not a readable event.
const KindMalformed = "malformed"

// RootEvent is one event of the queue as stored.
type RootEvent struct {
	ID int64
	// EventID is CloudTrail's event ID, unique: the same event delivered
	// twice is stored once. A malformed message is stored under
	// "sqs:" + its message ID.
	EventID string
	Kind    string // events.Kind, or KindMalformed
	Account string
	Region  string
	Time    time.Time
	Source  string
	Name    string
	// IdentityARN is who made the call (root's ARN, or for an AssumeRoot
	// event the principal that called it).
	IdentityARN  string
	SourceIP     string
	UserAgent    string
	AccessKeyID  string
	MFA          string // "yes", "no" or "" (unknown)
	ErrorCode    string
	ErrorMessage string
	// NewAccessKeyID is the key a root CreateAccessKey created.
	NewAccessKeyID string
	// Own is true when the call was made in an sts:AssumeRoot session
	// Vigil opened itself.
	Own bool
	// SessionPrincipal is who opened the AssumeRoot session the call was
	// made in, when that is known.
	SessionPrincipal string
	Summary          string
	ReceivedAt       time.Time
	MessageID        string
	// Problem says why a malformed message could not be read; Body holds
	// its first bytes; Receives counts how often it was received.
	Problem  string
	Body     string
	Receives int
	Alert    string
	// Burst is the alert burst the event was grouped in (0: none yet).
	Burst int64
}

// RootAlertBurst is the pending events of one account whose alerts go
// out together: one alert per channel names them all.
type RootAlertBurst struct {
	// ID is the row ID of the burst's first event.
	ID      int64
	Account string
	// Events counts its pending events; Kinds are their kinds, sorted.
	Events int
	Kinds  []string
}

// RootSession is an sts:AssumeRoot session in a member account: one Vigil
// opened (Vigil true), or one the management account's AssumeRoot event
// showed someone else opening.
type RootSession struct {
	AccessKeyID string
	Account     string // the member account the session acts in
	Principal   string // who called AssumeRoot
	TaskPolicy  string
	OpenedAt    time.Time
	Vigil       bool
}

// RootEventFilter selects root events; zero values select everything.
type RootEventFilter struct {
	// EventID selects one event (malformed or not).
	EventID string
	// Burst selects the events of one alert burst.
	Burst    int64
	Accounts []string
	// Since and Until bound the events' time (Until exclusive).
	Since, Until time.Time
	// Malformed lists only malformed messages; otherwise they are left out.
	Malformed bool
	// Before starts the list after this event in its order (newest
	// first): a keyset cursor, the key of the last event of a page.
	Before *RootEventKey
	// Limit bounds how many are returned (newest first); 0 means 1,000.
	Limit int
}

// RootEventKey is where a root event sorts: by its time, then by the
// order it was stored in (CloudTrail's times are whole seconds, so many
// events share one).
type RootEventKey struct {
	Time time.Time
	ID   int64
}

// MaxMalformedBody is how much of a malformed message is kept.
const MaxMalformedBody = 4096
