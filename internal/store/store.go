// Package store owns what Vigil remembers between scans: the scans (when,
// what, how they ended, calls made), each scan's results for the
// retention window, the current findings, every transition of a finding,
// the suppressions, and the outbox of alert deliveries. Store is the one
// interface every backend implements (store/sqlite embedded, PostgreSQL in
// team mode); storetest is the conformance suite they all pass.
//
// Only what changes is stored: a finding row per (account, rule,
// resource) that ever failed, a transition row when its state moves, and
// per scan and account a reference to the results, whose content is kept
// once however many scans saw the same results.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
)

// Store is Vigil's memory. Methods are safe for concurrent use; every
// method that writes does so in one transaction.
type Store interface {
	// StartScan records a scan. When s.Schedule and s.Tick are set and a
	// scan of that schedule and tick exists already (a restart after a
	// crash), that scan is returned instead, so that a tick is one scan.
	StartScan(ctx context.Context, s Scan) (Scan, error)
	// RecordAccount applies one account's results of a scan to its
	// findings and writes the transitions and their outbox entries, all in
	// one transaction. It is idempotent per (scan, account): a second call
	// records nothing and returns Recorded.Already.
	RecordAccount(ctx context.Context, scanID int64, a AccountResults, now time.Time) (Recorded, error)
	// RecordAccounts is RecordAccount for several accounts in one
	// transaction: what a one-shot scan of a whole organisation records.
	RecordAccounts(ctx context.Context, scanID int64, as []AccountResults, now time.Time) ([]Recorded, error)
	// LeaveAccounts closes as gone the findings of every account not in
	// present: what a scan of a whole organisation learns of the accounts
	// that left it.
	LeaveAccounts(ctx context.Context, scanID int64, present []string, now time.Time) ([]Transition, error)
	// ExpectAccounts records how many accounts a scan is to record: an
	// organisation's tick, which queues its accounts while it lists them,
	// knows only at the end.
	ExpectAccounts(ctx context.Context, scanID int64, n int) error
	// FinishScan records how a scan ended. A scan that has ended
	// already is left as it is (nil): two jobs finishing a tick at once
	// both call it.
	FinishScan(ctx context.Context, scanID int64, end End) error
	// EndScan is FinishScan saying whether this call ended the scan
	// (false: it had ended already, nothing changed), so that what is
	// done once per scan (a metric, a log line) is done once.
	EndScan(ctx context.Context, scanID int64, end End) (bool, error)
	// Scan returns one scan; ErrNotFound when there is none.
	Scan(ctx context.Context, id int64) (Scan, error)
	// AccountRecorded reports whether a scan recorded an account already,
	// so that a job handed back after a crash does not scan it again.
	AccountRecorded(ctx context.Context, scanID int64, account string) (bool, error)
	// Scans lists the latest scans, newest first.
	Scans(ctx context.Context, limit int) ([]Scan, error)
	// ScanPage is Scans after a keyset cursor: the scans whose ID is
	// below before (every scan when before is 0).
	ScanPage(ctx context.Context, before int64, limit int) ([]Scan, error)
	// ScanAccounts lists the accounts a scan recorded.
	ScanAccounts(ctx context.Context, scanID int64) ([]ScanAccount, error)
	// ScanAccountIDs lists the IDs of the accounts a scan recorded, in
	// order, without their results: what a tick of thousands of accounts
	// needs to know at its end, where decoding every account's results
	// at once was the service's peak of memory.
	ScanAccountIDs(ctx context.Context, scanID int64) ([]string, error)
	// Findings lists the findings f selects, sorted by account, rule,
	// resource (or most severe first with f.BySeverity), at most f.Limit
	// of them after f.After: a page read with an index, not a list cut.
	Findings(ctx context.Context, f Filter) ([]Finding, error)
	// Counts counts the findings f selects (its Limit and After aside)
	// per account, state and severity, suppressed ones apart.
	Counts(ctx context.Context, f Filter) ([]Count, error)
	// OpenSummary is what an overview shows of the findings open at now:
	// their number per severity, the suppressed ones apart, how many
	// accounts have an open finding no suppression mutes, and the first
	// top of those accounts, most critical first (then high, medium,
	// low, info, then by ID), with their counts. It reads counts the
	// store keeps as it records, not every open finding.
	OpenSummary(ctx context.Context, now time.Time, top int) (OpenSummary, error)
	// SetAutoFix records an admin's change to a rule's automatic fix
	// policy: it replaces the policy in force for that rule (the serve
	// config's, or an earlier change) and is kept in the history of
	// changes, in one transaction. Every replica reads it. A change of
	// mode AutoFixConfig drops the change in force: the config's policy
	// applies again. Changes to one rule are made one at a time, and
	// the one made last is the latest: its time is recorded as no
	// earlier than the rule's latest change (a replica's clock behind
	// another's, or a request that read the clock before a concurrent
	// one was stored), so that time and ID order agree.
	SetAutoFix(ctx context.Context, c AutoFixChange) (AutoFixChange, error)
	// AutoFixChanges lists the change in force per rule, by rule: each
	// rule's latest change (by time, then ID), unless that is a reset
	// to the config.
	AutoFixChanges(ctx context.Context) ([]AutoFixChange, error)
	// AutoFixHistory lists every change made, resets included, newest
	// first (by time, then ID), at most limit of them.
	AutoFixHistory(ctx context.Context, limit int) ([]AutoFixChange, error)
	// OpenTrend counts the findings open at n points in time, from and
	// every step after it, replayed from the transitions.
	OpenTrend(ctx context.Context, from time.Time, step time.Duration, n int) ([]int, error)
	// ViewStamp changes whenever what Counts and OpenTrend read at now
	// changes: a transition recorded, the suppressions in force (one
	// added, removed or expired). A view computed from them can be kept
	// while it is equal. It is cheap: the last transition's ID and the
	// suppressions in force.
	ViewStamp(ctx context.Context, now time.Time) (string, error)
	// Accounts lists every account a scan recorded, by ID: its name and
	// OU as last recorded, and its latest scan.
	Accounts(ctx context.Context) ([]Account, error)
	// AccountPage lists the accounts f selects in OU then ID order, a
	// page at a time: what the accounts pages of the API and the
	// dashboard show.
	AccountPage(ctx context.Context, f AccountFilter) ([]Account, error)
	// LatestResults gives each account's results as the latest scan
	// that recorded it saw them (nil once pruned), by account ID.
	LatestResults(ctx context.Context) ([]ScanAccount, error)
	// Finding returns one finding and its transitions, oldest first;
	// ErrNotFound when there is none.
	Finding(ctx context.Context, id string, now time.Time) (Finding, []Transition, error)
	// Stats gives MTTR and regressions per rule and per account.
	Stats(ctx context.Context) ([]Stat, error)

	// AddSuppression records a suppression and returns it with its ID.
	AddSuppression(ctx context.Context, s Suppression) (Suppression, error)
	// Suppressions lists every suppression, expired ones included.
	Suppressions(ctx context.Context) ([]Suppression, error)
	// SuppressionPage lists suppressions by ID, those above after, at
	// most limit: a page of Suppressions.
	SuppressionPage(ctx context.Context, after int64, limit int) ([]Suppression, error)
	// RemoveSuppression deletes one; ErrNotFound when there is none.
	RemoveSuppression(ctx context.Context, id int64) error
	// ExpireSuppressions handles the suppressions whose expiry has
	// passed: each open finding they muted is alerted again
	// (suppression_expired). Each expiry is handled once.
	ExpireSuppressions(ctx context.Context, now time.Time) ([]Transition, error)

	// RecordFix writes a fixed transition (an automatic fix planned or
	// applied), with its outbox entry.
	RecordFix(ctx context.Context, findingID string, detail string, now time.Time) (Transition, error)

	// FlushOutbox turns the transitions waiting in the outbox into
	// deliveries, one per channel of routes holding every transition that
	// channel wants (a digest), each with an ID kept across retries.
	// Transitions no channel wants leave the outbox too.
	FlushOutbox(ctx context.Context, routes []Route, now time.Time) ([]Delivery, error)
	// FlushOutboxHolding is FlushOutbox that leaves in the outbox the
	// transitions of a scan still running, as hold says, so that what
	// one scan finds reaches a channel as one digest rather than as
	// many as the flushes its recording spans.
	FlushOutboxHolding(ctx context.Context, routes []Route, now time.Time, hold Hold) ([]Delivery, error)
	// PendingDeliveries lists the deliveries not yet delivered.
	PendingDeliveries(ctx context.Context) ([]Delivery, error)
	// Deliveries lists the latest deliveries, newest first, with their
	// transitions counted (Items) but not loaded; with failed, only those
	// not delivered whose last attempt failed.
	Deliveries(ctx context.Context, failed bool, limit int) ([]Delivery, error)
	// DeliveryPage is Deliveries after a keyset cursor: those that sort
	// after the key (older, or as old with a lower ID) when it is set.
	DeliveryPage(ctx context.Context, failed bool, after *DeliveryKey, limit int) ([]Delivery, error)
	// Delivery returns one delivery with its transitions.
	Delivery(ctx context.Context, id string) (Delivery, error)
	// MarkDelivered records a delivery's success; MarkAttempt a failed try.
	MarkDelivered(ctx context.Context, id string, now time.Time) error
	MarkAttempt(ctx context.Context, id string, message string, now time.Time) error

	// Prune deletes the per-scan results of scans started before cutoff;
	// findings, transitions and scans themselves are kept.
	Prune(ctx context.Context, cutoff time.Time) (int, error)

	// AddToken records an API token (only its hash); ErrExists when an
	// unrevoked token has the name already.
	AddToken(ctx context.Context, t Token) (Token, error)
	// Tokens lists every token, revoked ones included, oldest first.
	Tokens(ctx context.Context) ([]Token, error)
	// TokenByKey returns the token with that public key, revoked or not;
	// ErrNotFound when there is none.
	TokenByKey(ctx context.Context, key string) (Token, error)
	// RevokeToken revokes the unrevoked token of that name; ErrNotFound
	// when there is none.
	RevokeToken(ctx context.Context, name string, now time.Time) error

	// RecordRootEvent stores a root event unless one of its EventID is
	// stored already, in which case it returns the stored one and false.
	// In the same transaction it labels the event from a known AssumeRoot
	// session with its access key (Own, SessionPrincipal); an Own event
	// does not alert.
	RecordRootEvent(ctx context.Context, e RootEvent) (RootEvent, bool, error)
	// RecordRootEvents records events as RecordRootEvent does each, all
	// in one transaction (a batch of the queue costs one commit); for
	// each it returns the stored event and whether it was new. An event
	// ID twice in es is stored once.
	RecordRootEvents(ctx context.Context, es []RootEvent) ([]RootEvent, []bool, error)
	// RecordMalformed records a message that is not a readable event, once
	// per message ID, counting its receives.
	RecordMalformed(ctx context.Context, messageID, problem, body string, now time.Time) (RootEvent, error)
	// RecordRootSession records an AssumeRoot session and labels the root
	// events of its key already stored; it returns how many it labelled.
	RecordRootSession(ctx context.Context, s RootSession) (int, error)
	// RootSession returns the session of an access key; ErrNotFound when
	// none is known.
	RootSession(ctx context.Context, accessKeyID string) (RootSession, error)
	// RootEvents lists the root events f selects, newest first.
	RootEvents(ctx context.Context, f RootEventFilter) ([]RootEvent, error)
	// GroupRootAlerts puts the events whose alerts are pending and in no
	// burst yet into bursts, one account's to a burst and at most max
	// events each, and returns every burst that still has pending
	// events: the new ones and those grouped before a stop that came
	// before SetRootBurstsQueued. Bursts come in the order of their IDs.
	GroupRootAlerts(ctx context.Context, max int) ([]RootAlertBurst, error)
	// SetRootBurstsQueued marks the pending events of these bursts queued.
	SetRootBurstsQueued(ctx context.Context, bursts ...int64) error

	Close() error
}

// ErrNotFound is returned for an ID that names nothing.
var ErrNotFound = errors.New("not found")

// ErrExists is returned for a name that is taken.
var ErrExists = errors.New("exists already")

// Outcome is how a scan ended.
type Outcome string

// Scan outcomes.
const (
	Running    Outcome = "running"
	Complete   Outcome = "complete"
	Incomplete Outcome = "incomplete"
	Failed     Outcome = "failed"
)

// End is how a scan ended.
type End struct {
	Outcome Outcome
	Message string
	// Calls adds AWS calls counted for the whole scan rather than per
	// account.
	Calls int
	At    time.Time
}

// Scan is one scan: a one-shot `vigil scan --db`, or one tick of a
// schedule.
type Scan struct {
	ID         int64
	Schedule   string // "" for a one-shot scan
	Target     string // what was scanned, in words
	Tick       time.Time
	StartedAt  time.Time
	FinishedAt *time.Time
	Outcome    Outcome
	Message    string
	// Accounts, Results and Calls count what the scan recorded.
	Accounts, Results, Calls int
	// Expected is how many accounts the scan is to record, once known
	// (ExpectAccounts); 0 before.
	Expected int
}

// AccountResults is one account's results in a scan.
type AccountResults struct {
	AccountID   string
	AccountName string
	// OU is the account's organisational unit path ("Root/Workloads"),
	// for filters.
	OU      string
	Calls   int
	Results []lifecycle.Observation
}

// ScanAccount is an account recorded by a scan, with its results while
// they are within retention.
type ScanAccount struct {
	AccountID  string
	RecordedAt time.Time
	Calls      int
	Results    []lifecycle.Observation // nil once pruned
}

// Recorded is what recording an account changed.
type Recorded struct {
	Already     bool
	Transitions []Transition
	// Progress is the scan's count of accounts recorded, this one's
	// transaction included, and the accounts it expects (0 while
	// unknown): from the recording itself, so that an account job knows
	// without another read whether it may have been the tick's last. Zero
	// when nothing was recorded.
	Progress Progress
}

// Progress is how far a scan is: accounts recorded of those expected.
type Progress struct{ Accounts, Expected int }

// Finding is a finding as stored: its lifecycle state and where it lives.
type Finding struct {
	lifecycle.Finding
	OU string
	// Suppression is the suppression muting the finding now, if any.
	Suppression *Suppression
}

// Transition is one move of a finding.
type Transition struct {
	ID        int64
	FindingID string
	ScanID    int64 // 0 when not made by a scan (expiry, fix)
	Kind      lifecycle.Kind
	At        time.Time
	// Status, Severity and Message are the finding's as of the transition.
	Status   string
	Severity int
	Message  string
	Detail   string
	// Suppressed transitions are recorded but alert no one.
	Suppressed bool
	// Finding is filled in for deliveries: the finding as it was at
	// delivery time.
	Finding *Finding
}

// Filter selects findings. Zero values select everything.
type Filter struct {
	States      []lifecycle.State
	MinSeverity int
	Rules       []string
	Accounts    []string
	// OUs match an OU path or any path below it.
	OUs []string
	// Now decides which suppressions are still in force.
	Now time.Time
	// BySeverity sorts most severe first, then by account, rule and
	// resource.
	BySeverity bool
	// After starts the list after this key, in the list's order: a
	// keyset cursor. Limit caps the list; 0 is no cap.
	After *Key
	Limit int
}

// Key is where a finding sorts: by account, rule and resource, and by
// severity first in a list sorted by severity.
type Key struct {
	Severity                    int
	AccountID, RuleID, Resource string
}

// KeyOf is a finding's key.
func KeyOf(f Finding) Key {
	return Key{Severity: f.Severity, AccountID: f.AccountID, RuleID: f.RuleID, Resource: f.Resource}
}

// Count is how many findings of an account are in a state at a
// severity, suppressed or not. AccountName and OU may be empty: Accounts
// has them.
type Count struct {
	AccountID, AccountName, OU string
	State                      lifecycle.State
	Severity                   int
	Suppressed                 bool
	N                          int
}

// AutoFix modes: a policy's mode, and Off for a rule fixed by no policy.
const (
	AutoFixOff   = "off"
	AutoFixPlan  = "plan"
	AutoFixApply = "apply"
	// AutoFixConfig is the mode of a change that drops the admins'
	// change to a rule, so that the serve config's policy applies again:
	// kept in the history with who and when like any change, never a
	// policy in force. A row, not a deletion, so the history stays.
	AutoFixConfig = "config"
)

// AutoFixPolicy is how the findings of one rule are fixed automatically:
// Mode (off, plan or apply), in the accounts listed or below the OUs
// listed (every account when both are empty), with MinIdle as the
// guard's idle time.
type AutoFixPolicy struct {
	Rule     string
	Mode     string
	MinIdle  time.Duration
	Accounts []string
	OUs      []string
}

// AutoFixChange is an admin's change to a rule's policy: who made it
// (the token's name) and when.
type AutoFixChange struct {
	ID int64
	AutoFixPolicy
	By string
	At time.Time
}

// EffectiveAutoFix is the policies in force: the serve config's
// (baseline), except that a rule an admin changed has the changed
// policy alone (none when it was turned off). A reset to the config
// (AutoFixConfig) changes nothing.
func EffectiveAutoFix(baseline []AutoFixPolicy, changes []AutoFixChange) []AutoFixPolicy {
	changed := map[string]AutoFixPolicy{}
	for _, c := range changes {
		if c.Mode == AutoFixConfig {
			delete(changed, c.Rule)
			continue
		}
		changed[c.Rule] = c.AutoFixPolicy
	}
	var out []AutoFixPolicy
	done := map[string]bool{}
	for _, p := range baseline {
		c, ok := changed[p.Rule]
		switch {
		case !ok:
			out = append(out, p)
		case !done[p.Rule] && c.Mode != AutoFixOff:
			out = append(out, c)
		}
		done[p.Rule] = true
	}
	for _, c := range changes {
		if p, ok := changed[c.Rule]; ok && !done[c.Rule] && p.Mode != AutoFixOff {
			out = append(out, p)
			done[c.Rule] = true
		}
	}
	return out
}

// Severities is how many severities a finding may have (rule.Severity,
// 0 for info to 4 for critical): the store counts findings per severity.
const Severities = 5

// OpenSummary is the overview's view of the open findings.
type OpenSummary struct {
	// Open and Suppressed count the open findings by severity, the
	// suppressed ones apart (not in Open).
	Open, Suppressed [Severities]int
	// Accounts is how many accounts have an open finding no suppression
	// mutes.
	Accounts int
	// Top are the first of those accounts, ranked.
	Top []AccountOpen
}

// AccountOpen is an account's open findings that no suppression mutes,
// by severity.
type AccountOpen struct {
	AccountID string
	Open      [Severities]int
}

// Account is an account some scan recorded.
type Account struct {
	AccountID, AccountName, OU string
	// LastScanID and LastRecorded are the latest scan that recorded it.
	LastScanID   int64
	LastRecorded time.Time
}

// AccountFilter selects recorded accounts. Zero values select everything.
type AccountFilter struct {
	// OUs match an OU path or any path below it.
	OUs []string
	// IDs are account IDs.
	IDs []string
	// After starts the list after this key (OU, then account ID): a
	// keyset cursor. Limit caps the list; 0 is no cap.
	After *AccountKey
	Limit int
}

// AccountKey is where an account sorts in AccountPage: by OU, then ID.
type AccountKey struct {
	OU, AccountID string
}

// Stat is the resolution record of a rule or an account.
type Stat struct {
	By          string // "rule" or "account"
	Key         string
	Open        int
	Resolved    int
	Regressions int
	MTTR        time.Duration
}

// Suppression mutes the findings of a rule in an account (one resource,
// or all when Resource is ""), with who decided, why and until when.
type Suppression struct {
	ID        int64
	RuleID    string
	AccountID string
	Resource  string
	Reason    string
	Owner     string
	Ticket    string
	// Expires is nil only for a suppression added with --no-expiry.
	Expires   *time.Time
	CreatedAt time.Time
}

// Active reports whether the suppression is in force at now.
func (s Suppression) Active(now time.Time) bool { return s.Expires == nil || s.Expires.After(now) }

// Matches reports whether the suppression covers the finding of
// (account, rule, resource).
func (s Suppression) Matches(account, rule, resource string) bool {
	return s.AccountID == account && s.RuleID == rule && (s.Resource == "" || s.Resource == resource)
}

// Hold is how long the outbox keeps a running scan's transitions:
// until the scan ends, but no longer than MaxWait after the first of
// them, and not once Cap of them wait (a digest is read by a person).
// The zero Hold keeps nothing back.
type Hold struct {
	MaxWait time.Duration
	Cap     int
}

// Route is what an alert channel wants.
type Route struct {
	Channel     string
	Kinds       []lifecycle.Kind
	MinSeverity int
}

// Wants reports whether the channel wants t.
func (r Route) Wants(t Transition) bool {
	if t.Suppressed || t.Severity < r.MinSeverity {
		return false
	}
	for _, k := range r.Kinds {
		if k == t.Kind {
			return true
		}
	}
	return false
}

// Delivery is one message to one channel: a digest of transitions.
type Delivery struct {
	ID          string
	Channel     string
	CreatedAt   time.Time
	Attempts    int
	LastError   string
	DeliveredAt *time.Time
	Transitions []Transition
	// Items is how many transitions the delivery holds.
	Items int
}

// DeliveryKey is where a delivery sorts in Deliveries: newest first,
// then by ID, descending.
type DeliveryKey struct {
	CreatedAt time.Time
	ID        string
}

// Role is what a token may do: viewers read, admins also write.
type Role string

// Roles.
const (
	Viewer Role = "viewer"
	Admin  Role = "admin"
)

// Token is an API token as stored: a public key to find it by and the
// SHA-256 of the whole token, never the token itself.
type Token struct {
	ID        int64
	Name      string
	Role      Role
	Key       string
	Hash      []byte
	CreatedAt time.Time
	RevokedAt *time.Time
}
