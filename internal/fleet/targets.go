package fleet

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/redact"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Target is one account to reach outside an organisation scan: a
// profile's own credentials, or a role assumed with a base config.
type Target struct {
	// Label names the target as the user did ("profile prod", a role
	// ARN, or a name given in the targets file).
	Label string
	// Name is the account's name, when the user gave one.
	Name string
	// Config is the profile's configuration, or the base configuration
	// the role is assumed with. ConfigErr is why it could not be loaded.
	Config    aws.Config
	ConfigErr error
	// Profile is the profile name, for the report.
	Profile string
	// RoleARN, when set, is assumed with Config's credentials.
	RoleARN string
	Role    Role // external ID, session name and duration for RoleARN
}

// TargetOptions tune a multi-target run.
type TargetOptions struct {
	Parallel       int
	AccountTimeout time.Duration
	Collect        collect.Options
	Progress       Progress
	Logger         *slog.Logger
	// Now is the clock of the snapshot's collection time; Clock.Now when
	// nil.
	Now func() time.Time
	// Clock runs the account deadlines; the wall clock when nil.
	Clock clock.Clock
}

// reached is a target after its identity is known.
type reached struct {
	idx     int
	t       Target
	account string
	arn     string     // who cfg signs as, for a profile
	cfg     aws.Config // signs in the account
	gap     *snapshot.Gap
	also    []string // other targets that reached the same account
}

// VisitTargets visits each target's account once. First every target is
// identified (sts:GetCallerIdentity for a profile, sts:AssumeRole for a
// role, whose ARN also names its account); targets that reach the same
// account are merged, the first that works visiting it and the others
// named in its access note. Then every account is visited, at most
// Parallel at a time, each within AccountTimeout.
//
// A profile whose credentials fail names no account, so it is listed in
// Unreached and the run is incomplete; a role that cannot be assumed is
// its account, visited with Reach.Unreachable saying why.
func VisitTargets[T any](ctx context.Context, targets []Target, o TargetOptions, v Visitor[T]) *Run[T] {
	r := visitTargets(ctx, targets, o, v.erase())
	return &Run[T]{At: r.at, Accounts: typed[T](r.accounts), Unreached: r.unreached, Incomplete: r.incomplete}
}

// targetsResult is a finished run over targets, its values' type erased.
type targetsResult struct {
	at         time.Time
	accounts   []visitedAny
	unreached  []snapshot.Unreached
	incomplete *snapshot.Incomplete
}

func visitTargets(ctx context.Context, targets []Target, o TargetOptions, v erased) *targetsResult {
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.AccountTimeout <= 0 {
		o.AccountTimeout = DefaultAccountTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Clock, o.Now, o.Collect = runClock(o.Clock, o.Now, o.Collect)
	if o.Progress != nil {
		o.Progress.Add(len(targets))
		o.Progress.DiscoveryDone()
	}
	for i := range targets {
		if targets[i].Role.SessionName == "" {
			targets[i].Role.SessionName = DefaultSessionName
		}
		if targets[i].Role.Duration == 0 {
			targets[i].Role.Duration = DefaultRoleDuration
		}
		if targets[i].ConfigErr == nil {
			TuneHTTP(&targets[i].Config, o.Parallel)
			if targets[i].Config.RetryMaxAttempts == 0 {
				targets[i].Config.RetryMaxAttempts = DefaultMaxAttempts
			}
		}
	}

	// 1. Identify.
	found := make([]reached, len(targets))
	each(ctx, len(targets), o.Parallel, func(i int) {
		actx, cancel := clock.Within(o.Clock, ctx, o.AccountTimeout)
		defer cancel()
		found[i] = identify(actx, i, targets[i])
		if ctx.Err() != nil && found[i].gap != nil {
			g := cancelledGap()
			found[i].gap = &g
		}
	})
	for i := range found {
		if found[i].t.Label == "" { // never started: the run was cancelled
			g := cancelledGap()
			found[i] = reached{idx: i, t: targets[i], account: accountOfRole(targets[i].RoleARN), gap: &g}
		}
	}

	// 2. One visit per account: the first target that got in wins; a
	// failed one stands in only when no other reached the account.
	res := &targetsResult{at: o.Now()}
	byAccount := map[string]*reached{}
	var order []*reached
	for i := range found {
		r := &found[i]
		if r.account == "" {
			continue
		}
		prev := byAccount[r.account]
		switch {
		case prev == nil:
			byAccount[r.account] = r
			order = append(order, r)
		case prev.gap != nil && r.gap == nil:
			r.also = append(append(r.also, prev.t.Label), prev.also...)
			*prev = *r
		default:
			prev.also = append(prev.also, r.t.Label)
		}
	}
	accounts := make([]visitedAny, len(order))
	started := make([]bool, len(order))
	each(ctx, len(order), o.Parallel, func(i int) {
		started[i] = true
		accounts[i] = visitTarget(ctx, order[i], o, v)
		gaps := v.gaps(accounts[i].value)
		logGaps(o.Logger, v.verb, order[i].account, order[i].t.Label, gaps)
		if o.Progress != nil {
			o.Progress.Done(order[i].account, failed(gaps))
			for range order[i].also {
				o.Progress.Done(order[i].account, false)
			}
		}
	})
	cancelled := 0
	for i := range accounts {
		if !started[i] { // never started: the run was cancelled
			reach := targetReach(order[i])
			accounts[i] = visitedAny{reach: reach, outcome: Cancelled, value: v.settle(reach, nil, Cancelled)}
		}
		if accounts[i].outcome == Cancelled {
			cancelled++
		}
	}
	for i := range found {
		r := found[i]
		if r.account != "" {
			continue
		}
		res.unreached = append(res.unreached, snapshot.Unreached{Target: r.t.Label, Gap: *r.gap})
		o.Logger.Warn("target not scanned", "target", r.t.Label, "call", r.gap.Call, "error_code", r.gap.Code, "error", r.gap.Message)
		if o.Progress != nil {
			o.Progress.Done("", true)
		}
	}
	res.accounts = accounts

	var why []string
	if ctx.Err() != nil {
		why = append(why, fmt.Sprintf("the run was cancelled: %d of %d accounts finished; the others are marked as not %s", len(accounts)-cancelled, len(accounts), v.verb))
	}
	if n := len(res.unreached); n > 0 {
		var names []string
		for _, u := range res.unreached {
			names = append(names, u.Target)
		}
		sort.Strings(names)
		why = append(why, fmt.Sprintf("%d of %d targets could not be %s at all: %s", n, len(targets), v.verb, strings.Join(names, ", ")))
	}
	if len(why) > 0 {
		res.incomplete = &snapshot.Incomplete{Reason: strings.Join(why, "; ")}
	}
	sort.SliceStable(res.accounts, func(i, j int) bool { return res.accounts[i].reach.AccountID < res.accounts[j].reach.AccountID })
	sort.SliceStable(res.unreached, func(i, j int) bool { return res.unreached[i].Target < res.unreached[j].Target })
	return res
}

// identify finds out which account a target reaches.
func identify(ctx context.Context, i int, t Target) reached {
	r := reached{idx: i, t: t}
	if t.ConfigErr != nil {
		r.gap = &snapshot.Gap{Section: snapshot.SectionAccess, Call: "AWS configuration", Code: "ConfigError", Message: redact.Text(t.ConfigErr.Error())}
		if t.RoleARN != "" {
			r.account = accountOfRole(t.RoleARN)
		}
		return r
	}
	if t.RoleARN != "" {
		r.account = accountOfRole(t.RoleARN)
		cfg, g := openSession(ctx, t.Config, "sts:AssumeRole", assumeRole(sts.NewFromConfig(t.Config), t.Role, t.RoleARN))
		r.cfg, r.gap = cfg, g
		return r
	}
	out, err := sts.NewFromConfig(t.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		g := collect.NewGap(snapshot.SectionAccess, "sts:GetCallerIdentity", err)
		if kind, code := collect.Classify(err); kind == collect.KindCredentials {
			g.Code, g.Message = code, (&collect.CredentialError{Call: "sts:GetCallerIdentity", Code: code, Err: err}).Error()
		}
		r.gap = &g
		return r
	}
	r.account, r.arn, r.cfg = aws.ToString(out.Account), aws.ToString(out.Arn), t.Config
	return r
}

func accountOfRole(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && snapshot.IsAccountID(parts[4]) {
		return parts[4]
	}
	return ""
}

// targetReach is how the run reaches a target's account.
func targetReach(r *reached) Reach {
	access := snapshot.Access{Method: snapshot.AccessDirect, Profile: r.t.Profile}
	if r.t.RoleARN != "" {
		access = snapshot.Access{Method: snapshot.AccessAssumeRole, RoleARN: r.t.RoleARN, Profile: r.t.Profile}
	}
	if len(r.also) > 0 {
		access.Note = "also listed as " + strings.Join(r.also, ", ") + "; the account is scanned once"
	}
	return Reach{AccountID: r.account, Name: r.t.Name, Partition: cmp.Or(collect.PartitionOf(r.t.RoleARN), collect.PartitionOf(r.arn)), Access: access,
		Unreachable: r.gap, Config: r.cfg, Base: r.t.Config, CallerARN: r.arn, RunCaller: r.arn, Profile: r.t.Profile}
}

// visitTarget visits a reached target's account within its deadline.
func visitTarget(ctx context.Context, r *reached, o TargetOptions, v erased) visitedAny {
	actx, cancel := clock.Within(o.Clock, ctx, o.AccountTimeout)
	defer cancel()
	reach := targetReach(r)
	reach.Timeout = o.AccountTimeout
	value := v.visit(actx, reach)
	out := outcome(ctx, actx, v.gaps(value))
	reach.Config = aws.Config{} // the visit is over; keep no credentials
	return visitedAny{reach: reach, value: v.settle(reach, value, out), outcome: out}
}

// each runs f(0..n-1), at most limit at a time, and stops starting new
// work once ctx ends (what did not start is left as zero values, which
// callers turn into "not scanned").
func each(ctx context.Context, n, limit int, f func(int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}
