package fix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/orgscan"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The three ways a run reaches accounts, as vigil scan does: the account
// of the caller's credentials, every account of its organisation, or a
// list of profiles and roles. Each plans every account it reaches exactly
// once; nothing is changed until Apply.

// PlanAccount plans the account of cfg's credentials.
func PlanAccount(ctx context.Context, cfg aws.Config, o Options) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	// The account's deadline covers identifying it too: a hung STS
	// endpoint must not hold the run.
	actx, cancel := clock.Within(o.Clock, ctx, o.AccountTimeout)
	defer cancel()
	timedOut := func() bool { return actx.Err() != nil && ctx.Err() == nil }
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(actx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if kind, code := collect.Classify(err); kind == collect.KindCredentials {
			return nil, &collect.CredentialError{Call: "sts:GetCallerIdentity", Code: code, Err: err}
		}
		if timedOut() {
			gaps := []snapshot.Gap{collect.NewGap("", "", err)}
			orgscan.MarkTimedOut(gaps, o.AccountTimeout)
			return nil, fmt.Errorf("cannot identify the account (sts:GetCallerIdentity): %s", gaps[0].Text())
		}
		return nil, collect.Explain("cannot identify the account (sts:GetCallerIdentity)", err)
	}
	arn := aws.ToString(out.Arn)
	if o.Seen != nil {
		if err := o.Seen.checkReached([]string{aws.ToString(out.Account)}); err != nil {
			return nil, err
		}
	}
	r := orgscan.Reach{AccountID: aws.ToString(out.Account), Partition: collect.PartitionOf(arn), Access: snapshot.Access{Method: snapshot.AccessDirect},
		Config: cfg, Base: cfg, CallerARN: arn, RunCaller: arn}
	p := &planner{o: &o}
	plan := newPlan("account "+r.AccountID, &o)
	plan.Caller = arn
	a := p.account(actx, r)
	if timedOut() {
		orgscan.MarkTimedOut(a.Errors, o.AccountTimeout)
	}
	plan.Accounts = append(plan.Accounts, a)
	plan.notReached(&o)
	if err := ctx.Err(); err != nil {
		plan.Incomplete = "the run was cancelled before the account was planned in full"
	}
	return plan, nil
}

// PlanOrg plans every selected account of the caller's organisation. oo
// selects and bounds them (OUs, accounts, exclusions, parallelism, the
// account deadline, progress); member accounts are reached through
// sts:AssumeRoot with the delete task policy, the management account only
// with the caller's own credentials, and never through sts:AssumeRoot.
// The error is non-nil only when the organisation cannot be listed at
// all.
func PlanOrg(ctx context.Context, cfg aws.Config, oo orgscan.Options, o Options) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	oo.Mode = orgscan.ModeRoot
	oo.RoleForManagement = false
	if o.Seen != nil {
		// Only the snapshot's accounts (within any --accounts selection).
		ids := o.Seen.AccountIDs()
		if len(oo.Accounts) > 0 {
			ids = slices.DeleteFunc(ids, func(id string) bool { return !slices.Contains(oo.Accounts, id) })
		}
		if len(ids) == 0 {
			// Nothing to do; an empty selection would mean every account.
			plan := newPlan("the accounts of the "+o.Seen.Source+" selected with --accounts", &o)
			for _, id := range oo.Accounts {
				plan.Skipped = append(plan.Skipped, snapshot.SkippedAccount{AccountID: id, Reason: "not in the " + o.Seen.Source})
			}
			plan.sort()
			return plan, nil
		}
		oo.Accounts = ids
	}
	p := &planner{o: &o}
	var planned map[string]*Account
	oo.Visit, planned = p.visitor()
	doc, err := orgscan.Run(ctx, cfg, oo)
	// Root credentials can neither call sts:AssumeRoot nor assume roles;
	// signed with them, only the account's own keys can be fixed.
	if rc := (*orgscan.RootCallerError)(nil); errors.As(err, &rc) {
		return nil, fmt.Errorf("%w: vigil fix --org runs as an IAM role or user of the management account or the IAM delegated administrator; signed as the root user (%s) it can only remove that account's own keys: run vigil fix without --org",
			orgscan.ErrNotOrganization, rc.ARN)
	}
	if err != nil {
		return nil, err
	}
	org := doc.Organization
	if o.Seen != nil {
		// Planning changed nothing; a snapshot of another organisation
		// stops the run before anything could.
		if err := o.Seen.checkOrganization(org.ID); err != nil {
			return nil, err
		}
	}
	plan := newPlan("organisation "+org.ID, &o)
	plan.Caller, plan.OrganizationID = org.Caller, org.ID
	plan.collect(doc, planned)
	for _, s := range org.Skipped {
		// The selection orgscan saw is the snapshot's accounts, so its
		// --accounts reasons are restated in terms of the snapshot.
		if o.Seen != nil && (s.Reason == orgscan.ReasonNotSelected || strings.HasPrefix(s.Reason, orgscan.ReasonNotMember)) {
			switch {
			case !o.Seen.Has(s.AccountID):
				s.Reason = "not in the " + o.Seen.Source
			case strings.HasPrefix(s.Reason, orgscan.ReasonNotMember):
				s.Reason = "in the " + o.Seen.Source + ", but not a member of organization " + org.ID
			}
		}
		plan.Skipped = append(plan.Skipped, s)
	}
	plan.sort()
	return plan, nil
}

// PlanTargets plans the accounts a list of profiles and roles reaches,
// each once.
func PlanTargets(ctx context.Context, targets []orgscan.Target, to orgscan.TargetOptions, o Options) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	p := &planner{o: &o}
	var planned map[string]*Account
	to.Visit, planned = p.visitor()
	doc := orgscan.RunTargets(ctx, targets, to)
	plan := newPlan(fmt.Sprintf("%d target(s)", len(targets)), &o)
	if o.Seen != nil && len(doc.Accounts) > 0 {
		var ids []string
		for _, a := range doc.Accounts {
			ids = append(ids, a.ID)
		}
		if err := o.Seen.checkReached(ids); err != nil {
			return nil, err
		}
	}
	plan.collect(doc, planned)
	plan.Unreached = doc.Unreached
	plan.notReached(&o)
	plan.sort()
	return plan, nil
}

// visitor plans each account a multi-account run reaches, and keeps the
// plans by account ID for collect; the run records what recordOf says.
func (p *planner) visitor() (orgscan.Visit, map[string]*Account) {
	var mu sync.Mutex
	planned := map[string]*Account{}
	return func(ctx context.Context, r orgscan.Reach) snapshot.Account {
		a := p.account(ctx, r)
		mu.Lock()
		planned[a.ID] = a
		mu.Unlock()
		return recordOf(a)
	}, planned
}

func newPlan(scope string, o *Options) *Plan {
	p := &Plan{Scope: scope, Accounts: []*Account{},
		Guard: Guard{MinIdleDays: int(o.MinIdle.Hours() / 24), Force: o.Force, LookbackDays: int(o.Lookback.Hours() / 24)}}
	if o.Seen != nil {
		p.Snapshot = o.Seen.Source
	}
	return p
}

// collect takes every account of the run's record, with its plan; an
// account the run recorded without planning (cancelled, or reached too
// late) is in the plan with why.
func (p *Plan) collect(doc *snapshot.Document, planned map[string]*Account) {
	for _, rec := range doc.Accounts {
		a := planned[rec.ID]
		cut := false
		for _, g := range rec.Gaps {
			if g.Code == orgscan.CodeCancelled && g.Call == orgscan.CallScan {
				cut = true
			}
		}
		if a == nil || cut {
			a = &Account{ID: rec.ID, Path: PathNone, Credentials: []*Credential{}, Errors: rec.Gaps}
		}
		a.Name = rec.Name
		if rec.Partition != "" {
			a.Partition = rec.Partition
		}
		a.OUPath = rec.OUPath
		if rec.Org != nil && rec.Org.Role != snapshot.RoleUnknown {
			a.Role = rec.Org.Role
		}
		for _, g := range rec.Gaps {
			if g.Code == orgscan.CodeAccountTimeout && !slices.Contains(a.Errors, g) {
				a.Errors = append(a.Errors, g)
			}
		}
		p.Accounts = append(p.Accounts, a)
	}
	if doc.Incomplete != nil {
		p.Incomplete = doc.Incomplete.Reason
	}
}

// notReached names the snapshot's accounts a targets run did not reach.
func (p *Plan) notReached(o *Options) {
	if o.Seen == nil {
		return
	}
	for _, id := range o.Seen.AccountIDs() {
		found := false
		for _, a := range p.Accounts {
			found = found || a.ID == id
		}
		if !found {
			p.Skipped = append(p.Skipped, snapshot.SkippedAccount{AccountID: id, Reason: "in the " + o.Seen.Source + ", but not reached by this run's credentials"})
		}
	}
}

// recordOf is what the multi-account run records of a planned account:
// its failed reads count it as failed (progress, warnings).
func recordOf(a *Account) snapshot.Account {
	rec := snapshot.Account{ID: a.ID, Name: a.Name, Partition: a.Partition, Gaps: append([]snapshot.Gap(nil), a.Errors...)}
	method := ""
	switch a.Path {
	case PathAssumeRoot:
		method = snapshot.AccessAssumeRoot
	case PathRootKey, PathManual:
		method = snapshot.AccessDirect
	}
	if method != "" {
		rec.Access = &snapshot.Access{Method: method, Note: a.Via}
	}
	return rec
}
