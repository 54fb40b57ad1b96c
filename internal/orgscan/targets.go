package orgscan

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
	// Visit, when set, is called for every reached account instead of
	// collecting it (reach.go).
	Visit Visit
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

// RunTargets scans each target's account once. First every target is
// identified (sts:GetCallerIdentity for a profile, sts:AssumeRole for a
// role, whose ARN also names its account); targets that reach the same
// account are merged, the first that works scanning it and the others
// named in its access note. Then every account is collected in full, at
// most Parallel at a time, each within AccountTimeout.
//
// A profile whose credentials fail names no account, so it is listed in
// Unreached and the run is incomplete; a role that cannot be assumed is
// its account, with every rule UNKNOWN and the denial as the reason.
func RunTargets(ctx context.Context, targets []Target, o TargetOptions) *snapshot.Document {
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.AccountTimeout <= 0 {
		o.AccountTimeout = DefaultAccountTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.Wall{}
	}
	if o.Now == nil {
		o.Now = o.Clock.Now
	}
	if o.Collect.Now == nil {
		o.Collect.Now = o.Now
	}
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

	// 2. One scan per account: the first target that got in wins; a
	// failed one stands in only when no other reached the account.
	var doc = snapshot.New(o.Now(), "", snapshot.Source{})
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
	accounts := make([]snapshot.Account, len(order))
	each(ctx, len(order), o.Parallel, func(i int) {
		accounts[i] = scanTarget(ctx, order[i], o)
		a := accounts[i]
		for _, g := range a.Gaps {
			o.Logger.Warn("account not fully scanned", "account_id", a.ID, "target", order[i].t.Label, "call", g.Call, "error_code", g.Code, "error", g.Message)
		}
		if o.Progress != nil {
			o.Progress.Done(a.ID, failed(a))
			for range order[i].also {
				o.Progress.Done(a.ID, false)
			}
		}
	})
	for i := range accounts {
		if accounts[i].ID == "" { // never started: the run was cancelled
			accounts[i] = snapshot.Account{ID: order[i].account, Name: order[i].t.Name}
			accounts[i].AddGap(cancelledGap())
		}
	}
	for i := range found {
		r := found[i]
		if r.account != "" {
			continue
		}
		doc.Unreached = append(doc.Unreached, snapshot.Unreached{Target: r.t.Label, Gap: *r.gap})
		o.Logger.Warn("target not scanned", "target", r.t.Label, "call", r.gap.Call, "error_code", r.gap.Code, "error", r.gap.Message)
		if o.Progress != nil {
			o.Progress.Done("", true)
		}
	}
	doc.Accounts = append(doc.Accounts, accounts...)
	// When the run includes exactly one organisation's management
	// account, that organisation's own settings were read from it, and
	// the organisation-level rules can run.
	var mgmt []snapshot.Account
	for _, a := range doc.Accounts {
		if a.Role() == snapshot.RoleManagement {
			mgmt = append(mgmt, a)
		}
	}
	if len(mgmt) == 1 {
		single := collect.SingleAccountDocument(mgmt[0], doc.CollectedAt, "", snapshot.Source{})
		doc.Organization = single.Organization
	}

	var why []string
	if ctx.Err() != nil {
		why = append(why, fmt.Sprintf("the run was cancelled: %d of %d accounts finished; the others are marked as not scanned", len(doc.Accounts)-countCancelled(doc.Accounts), len(doc.Accounts)))
	}
	if n := len(doc.Unreached); n > 0 {
		var names []string
		for _, u := range doc.Unreached {
			names = append(names, u.Target)
		}
		sort.Strings(names)
		// A run that visits accounts to act in them does not scan them.
		verb := "scanned"
		if o.Visit != nil {
			verb = "reached"
		}
		why = append(why, fmt.Sprintf("%d of %d targets could not be %s at all: %s", n, len(targets), verb, strings.Join(names, ", ")))
	}
	if len(why) > 0 {
		doc.Incomplete = &snapshot.Incomplete{Reason: strings.Join(why, "; ")}
	}
	doc.Sort()
	return doc
}

// identify finds out which account a target reaches.
func identify(ctx context.Context, i int, t Target) reached {
	r := reached{idx: i, t: t}
	if t.ConfigErr != nil {
		r.gap = &snapshot.Gap{Section: snapshot.SectionAccess, Call: "AWS configuration", Code: "ConfigError", Message: t.ConfigErr.Error()}
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

// scanTarget collects a reached target's account.
func scanTarget(ctx context.Context, r *reached, o TargetOptions) snapshot.Account {
	access := &snapshot.Access{Method: snapshot.AccessDirect, Profile: r.t.Profile}
	if r.t.RoleARN != "" {
		access = &snapshot.Access{Method: snapshot.AccessAssumeRole, RoleARN: r.t.RoleARN, Profile: r.t.Profile}
	}
	if len(r.also) > 0 {
		access.Note = "also listed as " + strings.Join(r.also, ", ") + "; the account is scanned once"
	}
	acct := snapshot.Account{ID: r.account, Name: r.t.Name}
	if o.Visit != nil {
		actx, cancel := clock.Within(o.Clock, ctx, o.AccountTimeout)
		defer cancel()
		reach := Reach{AccountID: r.account, Name: r.t.Name, Partition: cmp.Or(collect.PartitionOf(r.t.RoleARN), collect.PartitionOf(r.arn)), Access: *access,
			Unreachable: r.gap, Config: r.cfg, Base: r.t.Config, CallerARN: r.arn, RunCaller: r.arn}
		acct = o.Visit(actx, reach)
		acct.ID = r.account
		if acct.Name == "" {
			acct.Name = r.t.Name
		}
		if acct.Access == nil {
			acct.Access = access
		}
		settle(ctx, actx, &acct, o.AccountTimeout)
		return acct
	}
	if r.gap != nil {
		acct.AddGap(*r.gap)
		acct.Access = access
		return acct
	}
	actx, cancel := clock.Within(o.Clock, ctx, o.AccountTimeout)
	defer cancel()
	got, err := collect.Account(actx, collect.NewClients(collect.ForAccount(r.cfg, r.account)), o.Collect)
	switch {
	case err != nil:
		acct.AddGap(collect.NewGap(snapshot.SectionAccess, "sts:GetCallerIdentity", err))
	case got.ID != r.account:
		acct.AddGap(snapshot.Gap{Section: snapshot.SectionAccess, Call: "sts:GetCallerIdentity", Code: "WrongAccount",
			Message: fmt.Sprintf("the credentials belong to account %s, not %s; nothing read with them is used", got.ID, r.account)})
	default:
		acct = got
	}
	acct.Access = access
	if acct.Name == "" {
		acct.Name = r.t.Name
	}
	settle(ctx, actx, &acct, o.AccountTimeout)
	return acct
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
