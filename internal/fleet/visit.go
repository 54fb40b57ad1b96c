package fleet

import (
	"context"
	"time"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Outcome is how a run ended one account's visit.
type Outcome int

const (
	// Done: the visit returned on its own.
	Done Outcome = iota
	// TimedOut: the account's deadline (AccountTimeout) passed while the
	// visit was waiting on AWS; its value holds what it read before.
	TimedOut
	// Cancelled: the run was cancelled before the visit finished, or
	// before it began (the value is then T's zero value). What a
	// half-finished visit read would look like a finished one, so callers
	// keep nothing of it but the fact.
	Cancelled
)

// Visitor is what a caller does in each account a run reaches. The run
// discovers the accounts, routes each one, bounds it with its deadline,
// runs it on the worker pool and records it exactly once; the visitor
// decides what to do inside and what to keep, in a type of its own.
type Visitor[T any] struct {
	// Visit acts in one account. It runs within the account's deadline,
	// on the run's workers, concurrently with other accounts. r says how
	// the run reaches the account (r.Unreachable says why it cannot).
	Visit func(ctx context.Context, r Reach) T
	// Settle adjusts what Visit returned once the run knows how the
	// account ended; for an account the run never visited (cancelled
	// first) value is T's zero value. Optional.
	Settle func(r Reach, value T, o Outcome) T
	// Gaps is what went wrong in the account: each gap is logged (a
	// warning naming the account and the call), and an account with any
	// gap but CodeNotCollected counts as failed in the progress display.
	// It also tells the run whether a deadline or a cancellation cut the
	// visit short (gaps with collect.CodeDeadline or CodeCancelled).
	Gaps func(value T) []snapshot.Gap
	// Verb is what the run does to accounts, for the run's incomplete
	// reasons ("scanned", "reached").
	Verb string
}

// Visited is one account of a run, as the run reached it, with the
// visitor's value.
type Visited[T any] struct {
	// Reach is how the run reached the account: its identity, place in
	// the organisation and access. Its Config is cleared once the visit
	// is over.
	Reach
	// OUPath is the account's place in the organisation's OU tree, from
	// the root's child down; empty outside an organisation, or when the
	// tree walk did not place it.
	OUPath  []string
	Value   T
	Outcome Outcome
}

// Run is what a multi-account run visited.
type Run[T any] struct {
	// At is when the run started reading, by the run's clock.
	At time.Time
	// Organization describes an organisation run (its caller, access
	// mode, selection, skipped accounts, structure and the gaps of
	// discovery); nil for a run over targets.
	Organization *snapshot.Organization
	// Accounts are every account visited, or that would have been had
	// the run not been cancelled, each once, by ID.
	Accounts []Visited[T]
	// Unreached are targets that yielded no account at all.
	Unreached []snapshot.Unreached
	// Incomplete, when set, says why the run covered less than it was
	// asked to.
	Incomplete *snapshot.Incomplete
}

// erased is a Visitor with its type erased, which is what the run's
// machinery, shared by every T, works with.
type erased struct {
	visit  func(ctx context.Context, r Reach) any
	settle func(r Reach, value any, o Outcome) any
	gaps   func(value any) []snapshot.Gap
	verb   string
}

func (v Visitor[T]) erase() erased {
	e := erased{verb: v.Verb}
	e.visit = func(ctx context.Context, r Reach) any { return v.Visit(ctx, r) }
	e.settle = func(r Reach, value any, o Outcome) any {
		t, _ := value.(T)
		if v.Settle != nil {
			t = v.Settle(r, t, o)
		}
		return t
	}
	e.gaps = func(value any) []snapshot.Gap {
		t, _ := value.(T)
		if v.Gaps == nil {
			return nil
		}
		return v.Gaps(t)
	}
	if e.verb == "" {
		e.verb = "reached"
	}
	return e
}

// outcome is how a visit ended: cut short (a gap of a call the context
// ended) by the run's cancellation or by the account's own deadline, or
// done.
func outcome(run, account context.Context, gaps []snapshot.Gap) Outcome {
	cut := false
	for _, g := range gaps {
		if g.Code == collect.CodeDeadline || g.Code == collect.CodeCancelled {
			cut = true
		}
	}
	switch {
	case !cut:
		return Done
	case run.Err() != nil:
		return Cancelled
	case account.Err() != nil:
		return TimedOut
	}
	return Done
}

// typed converts the run's accounts back to the visitor's type.
func typed[T any](accts []visitedAny) []Visited[T] {
	out := make([]Visited[T], len(accts))
	for i, a := range accts {
		t, _ := a.value.(T)
		out[i] = Visited[T]{Reach: a.reach, OUPath: a.ouPath, Value: t, Outcome: a.outcome}
	}
	return out
}

// visitedAny is a Visited with its value's type erased.
type visitedAny struct {
	reach   Reach
	ouPath  []string
	value   any
	outcome Outcome
}
