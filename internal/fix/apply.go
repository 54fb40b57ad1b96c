package fix

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/fleet"
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Audit receives one line per attempted change; required.
	Audit *change.AuditLog
	// RunID groups the run's audit lines.
	RunID string
	// Parallel is how many accounts are changed at once.
	Parallel int
	// AccountTimeout bounds the changes in one account.
	AccountTimeout time.Duration
	// Clock runs that deadline; the wall clock when nil.
	Clock clock.Clock
	// Now stamps the results; Clock.Now when nil.
	Now func() time.Time
}

// Apply makes a plan's changes, account by account, at most Parallel at
// a time. The caller has already asked for confirmation. In each account
// the steps run in order and a failed step skips only the steps that
// depend on it; an account that fails never stops the others. Every
// attempted change is in the audit log before the next one starts. Each
// account's Results are filled in.
//
// The error is non-nil only when the audit log could not be written: then
// nothing more is attempted anywhere, and the accounts not yet started
// say so.
func Apply(ctx context.Context, p *Plan, o ApplyOptions) error {
	if o.Audit == nil {
		return errors.New("fix.Apply needs an audit log")
	}
	if o.Parallel <= 0 {
		o.Parallel = fleet.DefaultParallel
	}
	if o.AccountTimeout <= 0 {
		o.AccountTimeout = fleet.DefaultAccountTimeout
	}
	if o.Clock == nil {
		o.Clock = clock.Wall{}
	}
	if o.Now == nil {
		o.Now = o.Clock.Now
	}
	// An audit log that fails stops every account: no change may go
	// unrecorded.
	actx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		mu      sync.Mutex
		logErr  error
		wg      sync.WaitGroup
		workers = make(chan struct{}, o.Parallel)
	)
	for _, a := range p.Accounts {
		if len(a.Steps) == 0 {
			continue
		}
		wg.Add(1)
		workers <- struct{}{}
		go func() {
			defer func() { <-workers; wg.Done() }()
			mu.Lock()
			failedLog := logErr
			mu.Unlock()
			if failedLog != nil {
				a.Results = notAttempted(a, o.Now(), "not attempted: the audit log could not be written")
				return
			}
			tctx, cancel := clock.Within(o.Clock, actx, o.AccountTimeout)
			defer cancel()
			rep, err := change.Apply(tctx, &change.Plan{Title: "vigil fix", Scope: "account " + a.ID, Steps: a.Steps},
				change.Options{Confirmer: change.Yes{}, Audit: o.Audit, Caller: a.Caller, RunID: o.RunID, Now: o.Now})
			if rep != nil {
				a.Results = rep.Results
			}
			if err != nil {
				mu.Lock()
				if logErr == nil {
					logErr = fmt.Errorf("account %s: %w", a.ID, err)
				}
				mu.Unlock()
				stop()
				if rep == nil {
					a.Results = notAttempted(a, o.Now(), "not attempted: "+err.Error())
				}
			}
		}()
	}
	wg.Wait()
	return logErr
}

func notAttempted(a *Account, now time.Time, why string) []change.Result {
	var out []change.Result
	for _, s := range a.Steps {
		out = append(out, change.Result{Step: s.ID, Action: s.Action, Target: s.Target, Status: change.Skipped, Error: why, Time: now.UTC()})
	}
	return out
}

// Outcome counts what applying a plan did.
type Outcome struct {
	Succeeded, Failed, Skipped int
	// Accounts with a failed or skipped step.
	FailedAccounts []string
}

// Outcome counts the results of an applied plan.
func (p *Plan) Outcome() Outcome {
	var out Outcome
	for _, a := range p.Accounts {
		bad := false
		for _, r := range a.Results {
			switch r.Status {
			case change.Succeeded:
				out.Succeeded++
			case change.Failed:
				out.Failed++
				bad = true
			default:
				out.Skipped++
				bad = true
			}
		}
		if bad {
			out.FailedAccounts = append(out.FailedAccounts, a.ID)
		}
	}
	return out
}
