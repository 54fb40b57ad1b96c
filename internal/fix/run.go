package fix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
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
			fleet.MarkTimedOut(gaps, o.AccountTimeout)
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
	r := fleet.Reach{AccountID: aws.ToString(out.Account), Partition: collect.PartitionOf(arn), Access: snapshot.Access{Method: snapshot.AccessDirect},
		Config: cfg, Base: cfg, CallerARN: arn, RunCaller: arn}
	p := &planner{o: &o}
	plan := newPlan("account "+r.AccountID, &o)
	plan.Caller = arn
	a := p.account(actx, r)
	if timedOut() {
		fleet.MarkTimedOut(a.Errors, o.AccountTimeout)
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
func PlanOrg(ctx context.Context, cfg aws.Config, oo fleet.Options, o Options) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	oo.Mode = fleet.ModeRoot
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
		// The plan names every account it leaves alone, and why ("not in
		// the snapshot"), so the run lists the organisation rather than
		// describing only the snapshot's accounts.
		oo.Structure = fleet.StructureWhole
	}
	p := &planner{o: &o}
	run, err := fleet.VisitOrg(ctx, cfg, oo, p.visitor())
	// Root credentials can neither call sts:AssumeRoot nor assume roles;
	// signed with them, only the account's own keys can be fixed.
	if rc := (*fleet.RootCallerError)(nil); errors.As(err, &rc) {
		return nil, fmt.Errorf("%w: vigil fix --org runs as an IAM role or user of the management account or the IAM delegated administrator; signed as the root user (%s) it can only remove that account's own keys: run vigil fix without --org",
			fleet.ErrNotOrganization, rc.ARN)
	}
	if err != nil {
		return nil, err
	}
	org := run.Organization
	if o.Seen != nil {
		// Planning changed nothing; a snapshot of another organisation
		// stops the run before anything could.
		if err := o.Seen.checkOrganization(org.ID); err != nil {
			return nil, err
		}
	}
	plan := newPlan("organisation "+org.ID, &o)
	plan.Caller, plan.OrganizationID = org.Caller, org.ID
	plan.collect(run)
	for _, s := range org.Skipped {
		// The selection the fleet run saw is the snapshot's accounts, so its
		// --accounts reasons are restated in terms of the snapshot.
		if o.Seen != nil && (s.Reason == fleet.ReasonNotSelected || strings.HasPrefix(s.Reason, fleet.ReasonNotMember)) {
			switch {
			case !o.Seen.Has(s.AccountID):
				s.Reason = "not in the " + o.Seen.Source
			case strings.HasPrefix(s.Reason, fleet.ReasonNotMember):
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
func PlanTargets(ctx context.Context, targets []fleet.Target, to fleet.TargetOptions, o Options) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	p := &planner{o: &o}
	run := fleet.VisitTargets(ctx, targets, to, p.visitor())
	plan := newPlan(fmt.Sprintf("%d target(s)", len(targets)), &o)
	if o.Seen != nil && len(run.Accounts) > 0 {
		var ids []string
		for _, a := range run.Accounts {
			ids = append(ids, a.AccountID)
		}
		if err := o.Seen.checkReached(ids); err != nil {
			return nil, err
		}
	}
	plan.collect(run)
	plan.Unreached = run.Unreached
	plan.notReached(&o)
	plan.sort()
	return plan, nil
}

// visitor plans each account a multi-account run reaches. An account
// the run cut short keeps nothing but why: a cancelled run's, planned
// from half of what it would have read, would look complete; one whose
// deadline passed names the calls still waiting.
func (p *planner) visitor() fleet.Visitor[*Account] {
	return fleet.Visitor[*Account]{
		Verb:  "reached",
		Visit: p.account,
		Settle: func(r fleet.Reach, a *Account, out fleet.Outcome) *Account {
			switch out {
			case fleet.Cancelled:
				return &Account{ID: r.AccountID, Path: PathNone, Credentials: []*Credential{}, Errors: []snapshot.Gap{fleet.CancelledGap()}}
			case fleet.TimedOut:
				fleet.MarkTimedOut(a.Errors, r.Timeout)
			}
			return a
		},
		Gaps: func(a *Account) []snapshot.Gap {
			if a == nil {
				return nil
			}
			return a.Errors
		},
	}
}

func newPlan(scope string, o *Options) *Plan {
	p := &Plan{Scope: scope, Accounts: []*Account{},
		Guard: Guard{MinIdleDays: int(o.MinIdle.Hours() / 24), Force: o.Force, LookbackDays: int(o.Lookback.Hours() / 24)}}
	if o.Seen != nil {
		p.Snapshot = o.Seen.Source
	}
	return p
}

// collect takes every account of the run, with its plan, and what the
// run knows of it: its name, partition, place in the organisation.
func (p *Plan) collect(run *fleet.Run[*Account]) {
	for _, v := range run.Accounts {
		a := v.Value
		a.Name = v.Name
		if a.Partition == "" {
			a.Partition = v.Partition
		}
		a.OUPath = v.OUPath
		if v.Membership != nil && v.Membership.Role != snapshot.RoleUnknown {
			a.Role = v.Membership.Role
		}
		p.Accounts = append(p.Accounts, a)
	}
	if run.Incomplete != nil {
		p.Incomplete = run.Incomplete.Reason
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
