package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Scan collects every selected account of the organisation the caller of
// cfg administers into one snapshot (VisitOrg, with the collectors of
// package collect as the visitor). Every discovered account is in it
// exactly once: scanned, with the gaps that explain what is missing, or
// skipped, with the reason. The error is VisitOrg's.
func Scan(ctx context.Context, cfg aws.Config, o Options) (*snapshot.Document, error) {
	_, _, c := runClock(o.Clock, o.Now, o.Collect)
	run, err := VisitOrg(ctx, cfg, o, collector(c))
	if err != nil {
		return nil, err
	}
	doc := snapshot.New(run.At, "", snapshot.Source{})
	doc.Organization = run.Organization
	doc.Accounts = accountsOf(run.Accounts)
	doc.Incomplete = run.Incomplete
	doc.Sort()
	return doc, nil
}

// ScanTargets collects each target's account once into one snapshot
// (VisitTargets, with the collectors as the visitor). When the run
// includes exactly one organisation's management account, that
// organisation's own settings were read from it, and the snapshot carries
// them, so that the organisation-level rules can run.
func ScanTargets(ctx context.Context, targets []Target, o TargetOptions) *snapshot.Document {
	_, _, c := runClock(o.Clock, o.Now, o.Collect)
	run := VisitTargets(ctx, targets, o, collector(c))
	doc := snapshot.New(run.At, "", snapshot.Source{})
	doc.Accounts = accountsOf(run.Accounts)
	doc.Unreached = run.Unreached
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
	doc.Incomplete = run.Incomplete
	doc.Sort()
	return doc
}

// accountsOf is the snapshot's accounts of a scan.
func accountsOf(visited []Visited[snapshot.Account]) []snapshot.Account {
	out := make([]snapshot.Account, 0, len(visited))
	for _, v := range visited {
		a := v.Value
		a.OUPath = v.OUPath
		out = append(out, a)
	}
	return out
}

// runClock fills in a run's clock defaults: the wall clock, Now from it,
// and the collection's Now from the run's, so that a credential report's
// age is judged on the clock the run is dated by. Scan and ScanTargets
// build their visitor before VisitOrg and VisitTargets fill in their
// defaults, so they call it too.
func runClock(clk clock.Clock, now func() time.Time, c collect.Options) (clock.Clock, func() time.Time, collect.Options) {
	if clk == nil {
		clk = clock.Wall{}
	}
	if now == nil {
		now = clk.Now
	}
	if c.Now == nil {
		c.Now = now
	}
	return clk, now, c
}

// knownIdentity is who the reach's config signs as, when the run already
// learnt it and it is in the account being read; nil otherwise, and the
// collection asks sts:GetCallerIdentity.
func knownIdentity(r Reach) *collect.Identity {
	if r.CallerARN == "" || r.CallerUserID == "" || collect.AccountOfARN(r.CallerARN) != r.AccountID {
		return nil
	}
	return &collect.Identity{Account: r.AccountID, ARN: r.CallerARN, UserID: r.CallerUserID}
}

// collector is the visitor of a scan: the single-account collection,
// through whichever way in the run found.
func collector(o collect.Options) Visitor[snapshot.Account] {
	return Visitor[snapshot.Account]{
		Verb:   "scanned",
		Visit:  func(ctx context.Context, r Reach) snapshot.Account { return collectReached(ctx, r, o) },
		Settle: settleAccount,
		Gaps:   func(a snapshot.Account) []snapshot.Gap { return a.Gaps },
	}
}

// collectReached reads one account: what could be read, and a gap for
// everything else.
func collectReached(ctx context.Context, r Reach, o collect.Options) snapshot.Account {
	acct := snapshot.Account{ID: r.AccountID}
	inOrg := r.Membership != nil
	if inOrg {
		acct.Partition = r.Partition
		o.Membership = r.Membership
	}
	access := r.Access
	switch {
	case r.Unreachable != nil:
		acct.AddGap(*r.Unreachable)
	case access.Method == snapshot.AccessDirect, access.Method == snapshot.AccessAssumeRole:
		o.Identity = knownIdentity(r)
		acct = collectAccount(ctx, collect.NewClients(collect.ForAccount(r.Config, r.AccountID)), o, acct)
	case access.Method == snapshot.AccessAssumeRoot:
		access.RoleARN = collect.TaskPolicyARN(r.Partition, collect.AuditTaskPolicy)
		assumer := r.assumer
		if assumer == nil {
			assumer = sts.NewFromConfig(r.Base)
		}
		cfg, g := openSession(ctx, r.Base, "sts:AssumeRoot", assumeRoot(assumer, r.Partition, r.AccountID, r.RootDuration))
		if g != nil {
			acct.AddGap(*g)
			break
		}
		sum, inv, gaps := collect.RootAudit(ctx, iam.NewFromConfig(collect.ForAccount(cfg, r.AccountID)))
		acct.Summary, acct.RootCredentials = sum, inv
		for _, g := range gaps {
			acct.AddGap(g)
		}
		const why = "not allowed by the " + collect.AuditTaskPolicy + " task policy of an AssumeRoot session; the exact inventory of root's credentials replaces it"
		acct.AddGap(snapshot.Gap{Section: snapshot.SectionCredentialReport, Call: "iam:GetCredentialReport", Code: CodeNotCollected, Message: why})
		acct.AddGap(snapshot.Gap{Section: snapshot.SectionRootVirtualMFA, Call: "iam:ListVirtualMFADevices", Code: CodeNotCollected, Message: why})
	}
	if access.Method != "" {
		acct.Access = &access
	}
	acct.ID = r.AccountID
	if inOrg {
		acct.Name, acct.Email, acct.Org = r.Name, r.Email, r.Membership
		if acct.Partition == "" {
			acct.Partition = r.Partition
		}
	} else if acct.Name == "" {
		acct.Name = r.Name
	}
	return acct
}

// collectAccount runs the single-account collection. It only fails when
// the account's identity cannot be read; that is a gap here, and the
// partial account is dropped (nothing in it can be attributed with
// confidence).
func collectAccount(ctx context.Context, c collect.Clients, o collect.Options, acct snapshot.Account) snapshot.Account {
	const call = "sts:GetCallerIdentity"
	got, err := collect.Account(ctx, c, o)
	if err != nil {
		acct.AddGap(collect.NewGap(snapshot.SectionAccess, call, err))
		return acct
	}
	if got.ID != "" && got.ID != acct.ID {
		acct.AddGap(snapshot.Gap{Section: snapshot.SectionAccess, Call: call, Code: "WrongAccount",
			Message: fmt.Sprintf("the credentials belong to account %s, not %s; nothing read with them is used", got.ID, acct.ID)})
		return acct
	}
	return got
}

// settleAccount turns the way an account's scan ended into gaps: an
// account whose deadline passed says so per call; one cut short by a
// cancelled run keeps nothing but that fact (a half-read account would
// look like a finished one).
func settleAccount(r Reach, acct snapshot.Account, o Outcome) snapshot.Account {
	switch o {
	case Cancelled:
		cut := snapshot.Account{ID: r.AccountID, Name: acct.Name, Email: acct.Email, Partition: acct.Partition, Org: acct.Org, Access: acct.Access}
		if cut.Name == "" {
			cut.Name = r.Name
		}
		if r.Membership != nil {
			cut.Name, cut.Email, cut.Org = r.Name, r.Email, r.Membership
			if cut.Partition == "" {
				cut.Partition = r.Partition
			}
		}
		cut.AddGap(cancelledGap())
		return cut
	case TimedOut:
		MarkTimedOut(acct.Gaps, r.Timeout)
	}
	return acct
}
