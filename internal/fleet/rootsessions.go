package fleet

import (
	"context"
	"time"
)

// OpenedRootSession is an sts:AssumeRoot session a run opened: which
// member account, which task policy, and the session's access key ID
// (never its secret), which every call of the session is signed with and
// which CloudTrail records in the member account's root events.
type OpenedRootSession struct {
	AccountID   string
	AccessKeyID string
	TaskPolicy  string
	Expires     time.Time
}

// RootSessionObserver is told of each AssumeRoot session before the
// session signs its first call: `vigil serve` records them, so that the
// root events its own scans and fixes cause are known as Vigil's and do
// not alert as an intruder's.
type RootSessionObserver func(ctx context.Context, s OpenedRootSession)

type rootObserverKey struct{}

// WithRootSessionObserver returns ctx carrying f: every AssumeRoot
// session opened under ctx (scans, fixes) is reported to f. A context
// value rather than an option, because sessions are opened deep in scans
// and fixes whose options several callers build.
func WithRootSessionObserver(ctx context.Context, f RootSessionObserver) context.Context {
	return context.WithValue(ctx, rootObserverKey{}, f)
}

func observeRootSession(ctx context.Context, s OpenedRootSession) {
	if f, ok := ctx.Value(rootObserverKey{}).(RootSessionObserver); ok && f != nil {
		f(ctx, s)
	}
}
