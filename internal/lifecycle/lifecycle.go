// Package lifecycle owns what a finding is over time: one finding per
// (account, rule, resource), opened by a FAIL, resolved only by a PASS or
// NOT_APPLICABLE, open again ("regressed") when a FAIL comes back, closed
// as "gone" when its account leaves the organisation. UNKNOWN never moves
// a finding: it keeps its state and records since when nothing could be
// decided and why. The functions here are pure (time comes in as an
// argument) so that every store implementation applies the same rules and
// a property test can hold them.
package lifecycle

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// State is where a finding stands.
type State string

// The states of a finding.
const (
	Open     State = "open"
	Resolved State = "resolved"
	Gone     State = "gone"
)

// States are every state a finding can be in. The SQLite store reads an
// account's findings state by state (a range of its table each), so a
// state left out here would hide its findings from the recorder;
// TestStatesComplete checks that no transition leads outside them.
var States = []State{Open, Resolved, Gone}

// Kind names a transition; alert channels choose the kinds they want.
type Kind string

// The transitions.
const (
	New                Kind = "new"
	StillOpen          Kind = "" // no transition
	ResolvedKind       Kind = "resolved"
	Regressed          Kind = "regressed"
	GoneKind           Kind = "gone"
	SuppressionExpired Kind = "suppression_expired"
	Fixed              Kind = "fixed"
)

// Kinds are every transition a channel can ask for, in documentation
// order.
var Kinds = []Kind{New, Regressed, ResolvedKind, GoneKind, SuppressionExpired, Fixed}

// Result statuses as the rules write them. They are repeated here, not
// imported, so that the store never depends on the rules.
const (
	Pass          = "PASS"
	Fail          = "FAIL"
	NotApplicable = "NOT_APPLICABLE"
	Unknown       = "UNKNOWN"
)

// Observation is one rule result of one scan, as the lifecycle needs it.
type Observation struct {
	AccountID   string
	AccountName string
	RuleID      string
	Title       string
	Resource    string
	Status      string
	Severity    int
	Message     string
	// Evidence is the result's evidence as JSON, kept for the finding's
	// page and the alerts.
	Evidence []byte
}

// Key is the identity of a finding.
func (o Observation) Key() string { return ID(o.AccountID, o.RuleID, o.Resource) }

// ID is the stable identifier of the finding of (account, rule,
// resource): the same on every machine and in every store, so that a
// finding named in an alert can be looked up anywhere.
func ID(account, rule, resource string) string {
	h := sha256.Sum256([]byte(account + "\x00" + rule + "\x00" + resource))
	return "f-" + hex.EncodeToString(h[:8])
}

// Finding is the current state of one (account, rule, resource).
type Finding struct {
	ID          string
	AccountID   string
	AccountName string
	RuleID      string
	Title       string
	Resource    string
	State       State
	// Status is the last decided status (FAIL, PASS, NOT_APPLICABLE);
	// an UNKNOWN result does not replace it.
	Status   string
	Severity int
	Message  string
	Evidence []byte

	FirstSeen time.Time // first FAIL
	LastSeen  time.Time // last FAIL
	// OpenedAt is when the current (or last) open period began.
	OpenedAt   time.Time
	ResolvedAt *time.Time
	// Regressions counts the times a resolved finding failed again.
	Regressions int
	// Resolutions and OpenSeconds give the mean time to resolve:
	// OpenSeconds/Resolutions over every closed open period.
	Resolutions int
	OpenSeconds int64

	// UnknownSince is when results started coming back UNKNOWN; Gap is
	// why (the last UNKNOWN's message). Both clear on a decided result.
	UnknownSince *time.Time
	Gap          string
}

// MTTR is the mean time to resolve of the finding's closed open periods,
// or 0 when it was never resolved.
func (f Finding) MTTR() time.Duration {
	if f.Resolutions == 0 {
		return 0
	}
	return time.Duration(f.OpenSeconds/int64(f.Resolutions)) * time.Second
}

// Observe applies one scan's result to a finding. prev is nil when the
// (account, rule, resource) has no finding yet. It returns the finding to
// keep (nil when there is none: a resource that never failed has no
// finding) and the transition, StillOpen when there is none.
func Observe(prev *Finding, o Observation, now time.Time) (*Finding, Kind) {
	now = now.UTC()
	if prev == nil {
		if o.Status != Fail {
			return nil, StillOpen
		}
		f := &Finding{
			ID: o.Key(), AccountID: o.AccountID, RuleID: o.RuleID, Resource: o.Resource,
			State: Open, FirstSeen: now, LastSeen: now, OpenedAt: now,
		}
		f.describe(o)
		return f, New
	}
	f := *prev
	if o.AccountName != "" {
		f.AccountName = o.AccountName
	}
	switch o.Status {
	case Unknown:
		// Nothing is decided: the state stays, the gap is recorded.
		if f.UnknownSince == nil {
			t := now
			f.UnknownSince = &t
		}
		f.Gap = o.Message
		return &f, StillOpen
	case Fail:
		f.UnknownSince, f.Gap = nil, ""
		f.describe(o)
		f.LastSeen = now
		if f.State == Open {
			return &f, StillOpen
		}
		f.State, f.OpenedAt, f.ResolvedAt = Open, now, nil
		f.Regressions++
		return &f, Regressed
	case Pass, NotApplicable:
		f.UnknownSince, f.Gap = nil, ""
		if f.State == Gone {
			// The account is back and clean: nothing to alert.
			f.State = Resolved
		}
		if f.State != Open {
			return &f, StillOpen
		}
		f.describe(o)
		f.State = Resolved
		t := now
		f.ResolvedAt = &t
		f.Resolutions++
		if d := now.Sub(f.OpenedAt); d > 0 {
			f.OpenSeconds += int64(d / time.Second)
		}
		return &f, ResolvedKind
	}
	// A status this package does not know decides nothing, like UNKNOWN.
	return &f, StillOpen
}

// Leave closes the finding of an account that left the organisation.
// Only an open finding makes a transition; a resolved one is marked gone
// quietly.
func Leave(prev Finding, now time.Time) (Finding, Kind) {
	f := prev
	if f.State == Gone {
		return f, StillOpen
	}
	was := f.State
	f.State = Gone
	f.UnknownSince, f.Gap = nil, ""
	if was == Open {
		t := now.UTC()
		f.ResolvedAt = &t
		return f, GoneKind
	}
	return f, StillOpen
}

func (f *Finding) describe(o Observation) {
	f.Status, f.Severity, f.Message, f.Evidence = o.Status, o.Severity, o.Message, o.Evidence
	if o.Title != "" {
		f.Title = o.Title
	}
	if o.AccountName != "" {
		f.AccountName = o.AccountName
	}
}
