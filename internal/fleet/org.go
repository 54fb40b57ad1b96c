package fleet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Gap codes the scan itself records (the collectors record AWS's codes).
const (
	// CodeAccountTimeout: the account did not answer within its deadline.
	CodeAccountTimeout = "AccountTimeout"
	// CodeCancelled: the run was cancelled before the account finished.
	CodeCancelled = "Cancelled"
	// CodeNotCollected: the access method cannot read this section.
	CodeNotCollected = "NotCollected"
	// CodeNotReachable: no access method the scan may use reaches the account.
	CodeNotReachable = "NotReachable"
	// CodeFeatureOff: centralised root access is off, so AssumeRoot was not tried.
	CodeFeatureOff = "RootAccessNotEnabled"
	// CallScan names the scan itself in gaps that no AWS call explains.
	CallScan = "vigil:Scan"
)

// ErrNotOrganization wraps the failure to read the organisation at all.
var ErrNotOrganization = errors.New("cannot scan the organisation")

// RootCallerError is returned when the run is signed by a root user: AWS
// refuses both sts:AssumeRole and sts:AssumeRoot to root credentials. It
// wraps ErrNotOrganization; callers with advice of their own (vigil fix)
// recognise it with errors.As instead of asking STS a second time.
type RootCallerError struct{ ARN string }

func (e *RootCallerError) Error() string {
	return fmt.Sprintf("%v: the scan runs as the root user (%s), which can neither assume roles nor call sts:AssumeRoot; run it as an IAM role or user of the management account or the delegated administrator", ErrNotOrganization, e.ARN)
}

func (e *RootCallerError) Unwrap() error { return ErrNotOrganization }

// Skip reasons for the --accounts selection, exported so that callers
// which choose the selection themselves can recognise them.
const (
	ReasonNotSelected = "not selected by --accounts"
	// ReasonExcluded wins over --accounts: an account both asked for and
	// excluded is excluded, as the user said, and not missing.
	ReasonExcluded = "excluded with --exclude"
	// ReasonNotMember is followed by the organisation ID.
	ReasonNotMember = "requested with --accounts, but not a member of organization "
	// ReasonNotUnderOU: with --ou, discovery lists only the selected OUs,
	// so a requested account elsewhere is not known to be a member.
	ReasonNotUnderOU = "requested with --accounts, but not in the OUs selected with --ou"
)

// orgFacts is what a run learns of its caller and organisation before
// it scans an account: a shared reading hands it to the runs it serves
// whole (fromReading, awaitEarly).
type orgFacts struct {
	callerARN, callerAccount, callerUserID, partition string
	orgID, managementID                               string
	features                                          *snapshot.OrgFeatures
	featuresGap                                       *snapshot.Gap
}

// orgRun is one run over an organisation.
type orgRun struct {
	o    Options
	v    erased
	base aws.Config
	orgs Organizations
	iam  collect.OrgFeaturesIAM
	sts  interface {
		collect.STS
		RoleAssumer
		RootAssumer
	}
	tree *tree

	// Set before any account is scanned, but the features, which are
	// set when featuresReady closes.
	orgFacts
	featuresReady chan struct{}
	// scps are the organisation's service control policies, read beside
	// discovery for the SCP coverage rule; nil with scpsGap when they
	// could not be listed.
	scps    []snapshot.OrgPolicy
	scpsGap *snapshot.Gap

	// all, on a shared reading, is every account of the organisation,
	// where members holds only those the run selected.
	all []member

	mu       sync.Mutex
	members  []*slot
	byID     map[string]*slot
	orgGaps  []snapshot.Gap
	stopped  *snapshot.Gap // why discovery stopped early, if it did
	complete bool          // discovery listed everything
	// described: the named accounts were described, not listed, so one
	// not found is not a member (not merely outside --ou).
	described bool
	ouLabels  []string // the --ou selection, as paths
	// grew is closed, and replaced, each time discovery adds or places
	// accounts: runs sharing a reading in progress wait on it for theirs
	// (SharedReading).
	grew chan struct{}
	// placed is closed when discovery will place no more accounts in
	// the tree (its walk ended, or discovery did).
	placed     chan struct{}
	placedOnce sync.Once
}

type slot struct {
	member
	done    bool
	reach   Reach
	value   any
	outcome Outcome
}

// VisitOrg visits every selected account of the organisation the caller
// of cfg administers. cfg is the caller's configuration (its credentials,
// region, retryer and HTTP client); every account's configuration is a
// copy of it with the account's own credentials.
//
// The error is non-nil only when the organisation cannot be visited at
// all: the caller cannot be identified, is not in an organisation, or may
// not list its accounts. Everything else ends up in the run: every
// discovered account is in it exactly once, visited or skipped with the
// reason, and a cancelled run returns what it finished with Incomplete
// set.
func VisitOrg[T any](ctx context.Context, cfg aws.Config, o Options, v Visitor[T]) (*Run[T], error) {
	r, err := visitOrg(ctx, cfg, o, v.erase())
	if err != nil {
		return nil, err
	}
	return &Run[T]{At: r.at, Organization: r.org, Accounts: typed[T](r.accounts), Incomplete: r.incomplete}, nil
}

// orgResult is a finished organisation run, its values' type erased.
type orgResult struct {
	at         time.Time
	org        *snapshot.Organization
	accounts   []visitedAny
	incomplete *snapshot.Incomplete
}

func visitOrg(ctx context.Context, cfg aws.Config, o Options, v erased) (*orgResult, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	TuneHTTP(&cfg, o.Parallel)
	s := newOrgRun(cfg, o, v)
	if o.Shared != nil {
		return s.visitShared(ctx)
	}
	return s.visit(ctx)
}

// visit reads what the run needs of the organisation and visits its
// accounts.
func (s *orgRun) visit(ctx context.Context) (*orgResult, error) {
	queue, wait, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	s.work(ctx, queue)
	if err := wait(); err != nil {
		return nil, err
	}
	return s.result(ctx), nil
}

func newOrgRun(cfg aws.Config, o Options, v erased) *orgRun {
	return &orgRun{
		o: o, v: v, base: cfg, tree: newTree(),
		orgs: organizations.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg), sts: sts.NewFromConfig(cfg),
		featuresReady: make(chan struct{}), byID: map[string]*slot{},
		grew: make(chan struct{}), placed: make(chan struct{}),
	}
}

// read reads the organisation: discovery into the queue, with the
// root-access features and the SCPs beside it, and setup (who calls,
// which organisation). It returns once setup is done, so that accounts
// are scanned while discovery goes on; wait, called once the queue is
// drained, waits for the rest and returns discovery's fatal error.
func (s *orgRun) read(parent context.Context) (queue *queue, wait func() error, err error) {
	// Discovery and setup start together. A fatal setup error cancels
	// discovery; a cancelled run lets everything wind down and reports
	// what finished.
	ctx, stopDiscovery := context.WithCancel(parent)
	queue = newQueue(ctx)
	var bg sync.WaitGroup
	bg.Add(3)
	var discoverErr error
	go func() {
		defer bg.Done()
		defer s.walked()
		defer queue.close()
		discoverErr = s.discover(ctx, queue)
		if discoverErr != nil {
			stopDiscovery()
		}
		if s.o.Progress != nil {
			s.o.Progress.DiscoveryDone()
		}
	}()
	go func() {
		defer bg.Done()
		defer close(s.featuresReady)
		fctx, cancel := clock.Within(s.o.Clock, ctx, s.o.AccountTimeout)
		defer cancel()
		f, g := collect.OrgFeatures(fctx, s.iam)
		s.features, s.featuresGap = f, g
	}()
	go func() {
		// The SCPs do not depend on any account, so they are read while
		// the accounts are scanned and cost the run no wall time.
		defer bg.Done()
		if s.o.Structure == StructureNone {
			return
		}
		sctx, cancel := clock.Within(s.o.Clock, ctx, s.o.AccountTimeout)
		defer cancel()
		scps, g := collect.OrgSCPs(sctx, s.orgs)
		s.mu.Lock()
		s.scps, s.scpsGap = scps, g
		s.mu.Unlock()
	}()
	if err := s.setup(ctx); err != nil {
		stopDiscovery()
		bg.Wait()
		if discoverErr != nil {
			return nil, nil, discoverErr // the cause; setup's own calls were cut short by it
		}
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil && parent.Err() == nil {
		// Discovery failed while setup ran.
		bg.Wait()
		stopDiscovery()
		return nil, nil, discoverErr
	}
	return queue, func() error {
		bg.Wait()
		stopDiscovery()
		return discoverErr
	}, nil
}

// work visits the accounts of queue, o.Parallel at a time, until it is
// closed.
func (s *orgRun) work(ctx context.Context, queue *queue) {
	var workers sync.WaitGroup
	for range s.o.Parallel {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for sl := range queue.out {
				if ctx.Err() != nil {
					continue // left unfinished; marked below
				}
				reach, value, out := s.account(ctx, sl.member)
				s.mu.Lock()
				sl.reach, sl.value, sl.outcome, sl.done = reach, value, out, true
				s.mu.Unlock()
				s.finished(reach, value)
			}
		}()
	}
	workers.Wait()
}

// bound gives one discovery call the account deadline, on the scan's
// clock: a hung endpoint must not hang discovery.
func (s *orgRun) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return clock.Within(s.o.Clock, ctx, s.o.AccountTimeout)
}

// setup identifies the caller and the organisation; accounts cannot be
// routed without both.
func (s *orgRun) setup(ctx context.Context) error {
	ctx, cancel := clock.Within(s.o.Clock, ctx, s.o.AccountTimeout)
	defer cancel()
	var (
		wg     sync.WaitGroup
		who    *sts.GetCallerIdentityOutput
		org    *organizations.DescribeOrganizationOutput
		werr   error
		orgErr error
	)
	wg.Add(2)
	go func() { defer wg.Done(); who, werr = s.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}) }()
	go func() {
		defer wg.Done()
		org, orgErr = s.orgs.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	}()
	wg.Wait()
	if werr != nil {
		if kind, code := collect.Classify(werr); kind == collect.KindCredentials {
			return &collect.CredentialError{Call: "sts:GetCallerIdentity", Code: code, Err: werr}
		}
		return fmt.Errorf("%w: sts:GetCallerIdentity: %s", ErrNotOrganization, collect.NewGap("", "", werr).Text())
	}
	s.callerARN, s.callerAccount, s.callerUserID = aws.ToString(who.Arn), aws.ToString(who.Account), aws.ToString(who.UserId)
	if strings.HasSuffix(s.callerARN, ":root") {
		// AWS refuses both sts:AssumeRole and sts:AssumeRoot to root
		// credentials; better said once than as a denial per account.
		return &RootCallerError{ARN: s.callerARN}
	}
	s.partition = cmp.Or(collect.PartitionOf(s.callerARN), "aws")
	if orgErr != nil {
		if err := notInOrganization(orgErr, "organizations:DescribeOrganization"); err != nil {
			return err
		}
		if kind, code := collect.Classify(orgErr); kind == collect.KindCredentials {
			return &collect.CredentialError{Call: "organizations:DescribeOrganization", Code: code, Err: orgErr}
		}
		return fmt.Errorf("%w: organizations:DescribeOrganization: %s", ErrNotOrganization, collect.NewGap("", "", orgErr).Text())
	}
	s.orgID = aws.ToString(org.Organization.Id)
	s.managementID = aws.ToString(org.Organization.MasterAccountId)
	return nil
}

// notInOrganization turns "no organisation here" into the error a user
// can act on, and returns nil for any other error.
func notInOrganization(err error, call string) error {
	var notInUse *orgtypes.AWSOrganizationsNotInUseException
	if !errors.As(err, &notInUse) {
		return nil
	}
	return fmt.Errorf("%w: the caller's account is not in an AWS Organization (%s: AWSOrganizationsNotInUseException); scan it without --org, or list accounts and profiles with --targets", ErrNotOrganization, call)
}

// discover lists the accounts to scan into q. Without --ou two listings
// run side by side and feed the queue, each account once, whichever finds
// it first: every page of ListAccounts, the authoritative list, and the
// OU tree walk, which lists each OU's accounts in parallel (it is needed
// for the OU paths anyway, so the scan starts on most accounts long
// before a serial ListAccounts would reach them). Discovery is complete
// when either listing finished. With --ou only the tree is walked, and
// only below the selected OUs.
//
// Errors are fatal only when nothing can be listed at all; a later one
// stops that listing and, unless the other one finished, marks the run
// incomplete.
func (s *orgRun) discover(ctx context.Context, q *queue) error {
	found := func(accts []orgtypes.Account) { s.found(accts, q) }
	if s.named() {
		err := s.describeNamed(ctx, found)
		var stopped *namedGap
		switch {
		case err == nil:
			return nil
		case errors.As(err, &stopped):
			s.stop(ctx, stopped.g)
			s.mu.Lock()
			s.complete = false
			s.mu.Unlock()
			return nil
		case !errors.Is(err, errNamedDenied):
			return err
		}
		// A policy written before runs described their accounts: list
		// the organisation as before, and say what would be cheaper.
		s.o.Logger.Warn("cannot describe the named accounts; listing the whole organisation instead (grant the calls 'vigil policy --org' lists to make this cheaper)", "error", err)
	}
	if len(s.o.OUs) > 0 {
		if g := walkOUs(ctx, s.orgs, s.tree, false, nil, s.bound); g != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("%w: reading the OU tree for --ou: %s: %s", ErrNotOrganization, g.Call, g.Text())
		}
		parents, labels, err := resolveOUs(s.tree, s.o.OUs)
		if err != nil {
			return err
		}
		s.ouLabels = labels
		if g := listAccountsUnder(ctx, s.orgs, s.tree, parents, found, s.bound); g != nil {
			s.stop(ctx, *g)
			return nil
		}
		s.mu.Lock()
		s.complete = true
		s.mu.Unlock()
		return nil
	}

	tctx, stopTree := context.WithCancel(ctx)
	defer stopTree()
	var treeGap *snapshot.Gap
	treeDone := make(chan struct{})
	go func() {
		defer close(treeDone)
		defer s.walked()
		treeGap = walkOUs(tctx, s.orgs, s.tree, true, found, s.bound)
	}()
	listed, listGap, err := s.listAccounts(ctx, found)
	if err != nil {
		stopTree()
		<-treeDone
		return err
	}
	<-treeDone
	if treeGap != nil && ctx.Err() == nil {
		g := *treeGap
		g.Message = "OU paths are unknown: " + g.Message
		s.mu.Lock()
		s.orgGaps = append(s.orgGaps, g)
		s.mu.Unlock()
	}
	treeListed := treeGap == nil && ctx.Err() == nil
	switch {
	case listGap != nil && treeListed:
		// The walk listed every account; the failure is worth knowing,
		// but nothing is missing.
		g := *listGap
		g.Message += " (the OU tree walk listed every account instead)"
		s.mu.Lock()
		s.orgGaps = append(s.orgGaps, g)
		s.mu.Unlock()
	case listGap != nil:
		s.stop(ctx, *listGap)
	}
	if listed || treeListed {
		s.mu.Lock()
		s.complete = true
		s.mu.Unlock()
	}
	return nil
}

// listAccounts pages through ListAccounts. It reports whether it listed
// everything, the gap that stopped it, or an error when the very first
// page failed: then the caller cannot list the organisation at all.
func (s *orgRun) listAccounts(ctx context.Context, found func([]orgtypes.Account)) (bool, *snapshot.Gap, error) {
	p := organizations.NewListAccountsPaginator(s.orgs, &organizations.ListAccountsInput{MaxResults: aws.Int32(20)})
	for pages := 0; p.HasMorePages(); pages++ {
		pctx, cancel := clock.Within(s.o.Clock, ctx, s.o.AccountTimeout)
		page, err := p.NextPage(pctx)
		cancel()
		if err != nil {
			if pages == 0 && ctx.Err() == nil {
				if kind, code := collect.Classify(err); kind == collect.KindCredentials {
					return false, nil, &collect.CredentialError{Call: "organizations:ListAccounts", Code: code, Err: err}
				}
				if err := notInOrganization(err, "organizations:ListAccounts"); err != nil {
					return false, nil, err
				}
				// Only a denial is about who calls; a network failure or
				// a timeout is not cured by a policy.
				hint := ""
				if kind, _ := collect.Classify(err); kind == collect.KindDenied {
					hint = " (the caller must be the management account or a delegated administrator; see 'vigil policy --org')"
				}
				return false, nil, fmt.Errorf("%w: organizations:ListAccounts: %s%s", ErrNotOrganization, collect.NewGap("", "", err).Text(), hint)
			}
			g := collect.NewGap(snapshot.SectionOrganization, "organizations:ListAccounts", err)
			return false, &g, nil
		}
		found(page.Accounts)
	}
	return true, nil, nil
}

// walked says discovery will place no more accounts in the tree.
func (s *orgRun) walked() { s.placedOnce.Do(func() { close(s.placed) }) }

// stop records why discovery ended early. A cancelled run says so on its
// own; its discovery error is not news.
func (s *orgRun) stop(ctx context.Context, g snapshot.Gap) {
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped == nil {
		s.stopped = &g
		s.orgGaps = append(s.orgGaps, g)
	}
}

// found records a page of accounts: each once, skipped with its reason or
// queued for scanning.
func (s *orgRun) found(accts []orgtypes.Account, q *queue) {
	ms := make([]member, len(accts))
	for i, a := range accts {
		ms[i] = memberOf(a)
	}
	s.add(ms, q)
}

// add queues the discovered accounts the selection keeps, and records
// the others with the reason they are skipped.
func (s *orgRun) add(ms []member, q *queue) {
	var queued []*slot
	s.mu.Lock()
	for _, m := range ms {
		if m.id == "" || s.byID[m.id] != nil {
			continue // listed twice (an account moved while the OUs were listed)
		}
		m.skip = s.selection(m)
		sl := &slot{member: m}
		s.byID[m.id] = sl
		s.members = append(s.members, sl)
		if m.skip == "" {
			queued = append(queued, sl)
		}
	}
	// Also for accounts listed before: the walk lists an account the
	// serial listing found, and places it in the tree.
	close(s.grew)
	s.grew = make(chan struct{})
	s.mu.Unlock()
	if len(queued) > 0 && s.o.Progress != nil {
		s.o.Progress.Add(len(queued))
	}
	for _, sl := range queued {
		q.push(sl)
	}
}

// selection returns why an account is not scanned, or "".
func (s *orgRun) selection(m member) string {
	if r := stateReason(m.state); r != "" {
		return r
	}
	if slices.Contains(s.o.Exclude, m.id) {
		return ReasonExcluded
	}
	if len(s.o.Accounts) > 0 && !slices.Contains(s.o.Accounts, m.id) {
		return ReasonNotSelected
	}
	return ""
}

// queue is an unbounded FIFO between discovery and the workers, so that
// listing pages never waits for scanning: a page of twenty accounts is
// queued at once, and the next ListAccounts call goes out immediately.
type queue struct {
	in  chan *slot
	out chan *slot
}

func newQueue(ctx context.Context) *queue {
	q := &queue{in: make(chan *slot), out: make(chan *slot)}
	go func() {
		defer close(q.out)
		var pending []*slot
		in := q.in
		for in != nil || len(pending) > 0 {
			var out chan *slot
			var next *slot
			if len(pending) > 0 {
				out, next = q.out, pending[0]
			}
			select {
			case sl, ok := <-in:
				if !ok {
					in = nil
					continue
				}
				pending = append(pending, sl)
			case out <- next:
				pending[0] = nil
				pending = pending[1:]
			case <-ctx.Done():
				// Setup failed or the run was cancelled: what is still
				// queued stays unfinished (the document marks it so).
				// Discovery may still push until it notices; drain it.
				if in != nil {
					for range in {
					}
				}
				return
			}
		}
	}()
	return q
}

func (q *queue) push(sl *slot) { q.in <- sl }
func (q *queue) close()        { close(q.in) }

// route is how one account is reached.
type route struct {
	method string // snapshot.Access* constant
	note   string
	// unreachable, when set, is why no method may be used.
	unreachable *snapshot.Gap
}

func (s *orgRun) route(id string) route {
	mgmt := id == s.managementID
	switch {
	case id == s.callerAccount && (s.o.Mode == ModeRole || mgmt):
		note := "the account the scan runs from, read with the caller's own credentials"
		if mgmt && s.o.Mode == ModeRoot {
			note = "management account: sts:AssumeRoot cannot target it (and no SCP restricts its root user), so it was read directly with the caller's own credentials"
		}
		return route{method: snapshot.AccessDirect, note: note}
	case s.o.Mode == ModeRole:
		return route{method: snapshot.AccessAssumeRole}
	case mgmt && s.o.RoleForManagement:
		return route{method: snapshot.AccessAssumeRole, note: "management account: sts:AssumeRoot cannot target it, so it was reached through the role"}
	case mgmt:
		return route{unreachable: &snapshot.Gap{Section: snapshot.SectionAccess, Call: "sts:AssumeRoot", Code: CodeNotReachable,
			Message: "sts:AssumeRoot cannot target the management account; run the scan from the management account, or add --role NAME to reach it through a role"}}
	}
	<-s.featuresReady
	if f := s.features; f != nil && (f.TrustedAccessIAM != nil && !*f.TrustedAccessIAM || !f.RootCredentialsManagement && !f.RootSessions) {
		return route{unreachable: &snapshot.Gap{Section: snapshot.SectionAccess, Call: "sts:AssumeRoot", Code: CodeFeatureOff,
			Message: "not attempted: centralised root access is off in this organisation (iam:ListOrganizationsFeatures shows neither RootCredentialsManagement nor RootSessions), so sts:AssumeRoot cannot reach member accounts; enable it, or scan through a role with --role"}}
	}
	return route{method: snapshot.AccessAssumeRoot}
}

// membership is an account's place in the organisation.
func (s *orgRun) membership(id string) *snapshot.Membership {
	role := snapshot.RoleMember
	if id == s.managementID {
		role = snapshot.RoleManagement
	}
	return &snapshot.Membership{Role: role, OrganizationID: s.orgID, ManagementAccountID: s.managementID}
}

// account visits one account within its deadline, and says how the visit
// ended.
func (s *orgRun) account(ctx context.Context, m member) (Reach, any, Outcome) {
	actx, cancel := clock.Within(s.o.Clock, ctx, s.o.AccountTimeout)
	defer cancel()
	reach := s.reach(actx, m, s.route(m.id))
	value := s.v.visit(actx, reach)
	out := outcome(ctx, actx, s.v.gaps(value))
	reach.Config = aws.Config{} // the visit is over; keep no credentials
	return reach, s.v.settle(reach, value, out), out
}

// reach is how the run gets into an account, by the way the route chose:
// the caller's own credentials, a role session opened here (so a denied
// role is the denial it is), or, for sts:AssumeRoot, the base config and
// STS client for the visitor's own session with the task policy it needs.
func (s *orgRun) reach(ctx context.Context, m member, r route) Reach {
	reach := Reach{AccountID: m.id, Name: m.name, Email: m.email, Partition: s.partition, Membership: s.membership(m.id),
		Access: snapshot.Access{Method: r.method, Note: r.note}, Unreachable: r.unreachable, Base: s.base, RunCaller: s.callerARN,
		RootDuration: s.o.RootDuration, Timeout: s.o.AccountTimeout, assumer: s.sts}
	switch r.method {
	case snapshot.AccessDirect:
		reach.Config, reach.CallerARN, reach.CallerUserID = s.base, s.callerARN, s.callerUserID
	case snapshot.AccessAssumeRole:
		arn := s.o.Role.RoleARN(s.partition, m.id)
		reach.Access.RoleARN = arn
		var user *ststypes.AssumedRoleUser
		cfg, g := openSession(ctx, s.base, "sts:AssumeRole", assumeRoleAs(s.sts, s.o.Role, arn, &user))
		reach.Config, reach.Unreachable = cfg, g
		if g == nil && user != nil {
			reach.CallerARN, reach.CallerUserID = aws.ToString(user.Arn), aws.ToString(user.AssumedRoleId)
		}
	}
	return reach
}

// MarkTimedOut turns the gaps of calls that an account's deadline cut
// short into CodeAccountTimeout gaps naming the deadline, so that a report
// says which calls were still waiting when it passed. Call it only when
// the account's own deadline ended its context, not the run's
// cancellation.
func MarkTimedOut(gaps []snapshot.Gap, timeout time.Duration) {
	for i := range gaps {
		if g := &gaps[i]; g.Code == collect.CodeDeadline || g.Code == collect.CodeCancelled {
			g.Code = CodeAccountTimeout
			g.Message = fmt.Sprintf("no answer within the account's deadline (--account-timeout %s)", collect.FlagDuration(timeout))
		}
	}
}

// finished logs every call that failed in an account (one warning each,
// with the account and the call) and tells the progress display.
func (s *orgRun) finished(r Reach, value any) {
	gaps := s.v.gaps(value)
	logGaps(s.o.Logger, s.v.verb, r.AccountID, "", gaps)
	if s.o.Progress != nil {
		s.o.Progress.Done(r.AccountID, failed(gaps))
	}
}

// logGaps logs a warning per call that failed in an account, except what
// the access method cannot read by design and what a cancellation cut.
func logGaps(l *slog.Logger, verb, accountID, target string, gaps []snapshot.Gap) {
	msg := "account not fully scanned"
	if verb != "scanned" {
		msg = "call failed in account"
	}
	for _, g := range gaps {
		if g.Code == CodeNotCollected || g.Code == CodeCancelled {
			continue
		}
		args := []any{"account_id", accountID}
		if target != "" {
			args = append(args, "target", target)
		}
		l.Warn(msg, append(args, "call", g.Call, "error_code", g.Code, "error", g.Message)...)
	}
}

// CancelledGap is the gap of an account the run was cancelled before it
// finished.
func CancelledGap() snapshot.Gap { return cancelledGap() }

func cancelledGap() snapshot.Gap {
	return snapshot.Gap{Section: snapshot.SectionAccess, Call: CallScan, Code: CodeCancelled,
		Message: "not scanned: the run was cancelled before this account finished"}
}

// failed reports whether an account could not be read in full. Sections
// the access method cannot read by design do not count.
func failed(gaps []snapshot.Gap) bool {
	for _, g := range gaps {
		if g.Code != CodeNotCollected {
			return true
		}
	}
	return false
}

// controls is the organisation's structure as discovery read it, with the
// SCPs read beside it: what the SCP coverage rule judges. It reuses the
// tree discovery walked rather than walking it again. An account whose
// place in the tree is unknown (the walk did not finish) is left out and a
// gap says so: judged on a partial chain of parents it could look
// uncovered when a policy higher up covers it. Called with s.mu held.
func (s *orgRun) controls() (*snapshot.OrgControls, []snapshot.Gap) {
	t := s.tree
	t.mu.Lock()
	defer t.mu.Unlock()
	var gaps []snapshot.Gap
	if s.scpsGap != nil {
		gaps = append(gaps, *s.scpsGap)
	}
	if t.rootID == "" {
		gaps = append(gaps, snapshot.Gap{Section: snapshot.SectionOrgTree, Call: "organizations:ListRoots", Code: CodeNotCollected,
			Message: "the organisation's root was not read, so the OU tree is unknown"})
		return nil, gaps
	}
	c := &snapshot.OrgControls{
		Root:     &snapshot.OrgRoot{ID: t.rootID, Name: t.rootName, PolicyTypes: append([]string{}, t.rootPolicyTypes...)},
		OUs:      []snapshot.OrgUnit{},
		Accounts: []snapshot.OrgAccount{},
		SCPs:     s.scps,
	}
	for id, ou := range t.ous {
		c.OUs = append(c.OUs, snapshot.OrgUnit{ID: id, Name: ou.name, ParentID: ou.parent})
	}
	all := s.all
	if all == nil {
		for _, sl := range s.members {
			all = append(all, sl.member)
		}
	}
	unplaced := 0
	for _, sl := range all {
		parent, ok := t.parentOf[sl.id]
		if !ok {
			unplaced++
			continue
		}
		c.Accounts = append(c.Accounts, snapshot.OrgAccount{ID: sl.id, Name: sl.name, ParentID: parent,
			State: sl.state, JoinedMethod: sl.joinedMethod, JoinedTimestamp: sl.joined})
	}
	sort.Slice(c.OUs, func(i, j int) bool { return c.OUs[i].ID < c.OUs[j].ID })
	sort.Slice(c.Accounts, func(i, j int) bool { return c.Accounts[i].ID < c.Accounts[j].ID })
	if unplaced > 0 {
		gaps = append(gaps, snapshot.Gap{Section: snapshot.SectionOrgTree, Call: "organizations:ListAccountsForParent", Code: CodeNotCollected,
			Message: fmt.Sprintf("where %d of the discovered accounts sit in the OU tree is unknown (the OU walk did not finish), so the SCPs reaching them are unknown", unplaced)})
	}
	return c, gaps
}

// result assembles the run: every discovered account once, visited or
// skipped, in discovery order (callers sort).
func (s *orgRun) result(ctx context.Context) *orgResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := &orgResult{at: s.o.Now()}
	org := &snapshot.Organization{
		ID: s.orgID, ManagementAccountID: s.managementID, Caller: s.callerARN,
		AccessMode: s.o.Mode.Method(), Scope: s.scope(), Features: s.features,
		Gaps: append([]snapshot.Gap(nil), s.orgGaps...),
	}
	if s.featuresGap != nil {
		org.Gaps = append(org.Gaps, *s.featuresGap)
	}
	if s.o.Structure == StructureNone {
		org.Gaps = append(org.Gaps, snapshot.Gap{Section: snapshot.SectionOrgTree, Call: "organizations:ListRoots", Code: CodeNotCollected,
			Message: "not read: this run reads only its accounts, not the organisation's structure and SCPs"})
	} else {
		controls, cgaps := s.controls()
		org.Controls = controls
		org.Gaps = append(org.Gaps, cgaps...)
	}
	res.org = org
	cancelled := 0
	for _, sl := range s.members {
		if sl.skip != "" {
			org.Skipped = append(org.Skipped, snapshot.SkippedAccount{AccountID: sl.id, Name: sl.name, State: sl.state, Reason: sl.skip})
			continue
		}
		v := visitedAny{reach: sl.reach, value: sl.value, outcome: sl.outcome}
		if !sl.done {
			v.reach = Reach{AccountID: sl.id, Name: sl.name, Email: sl.email, Partition: s.partition, Membership: s.membership(sl.id), RunCaller: s.callerARN}
			v.outcome = Cancelled
			v.value = s.v.settle(v.reach, nil, Cancelled)
		}
		if v.outcome == Cancelled {
			cancelled++
		}
		if v.reach.Membership != nil {
			v.reach.Membership.Features = s.features
		}
		v.ouPath = s.tree.pathOfLocked(sl.id)
		res.accounts = append(res.accounts, v)
	}
	var why []string
	// Accounts asked for by ID and not visited make the run incomplete: a
	// gate over a run that covered less than it was asked to must not
	// pass (an ID not in the organisation once scanned nothing, exit 0).
	var missing []string
	for _, id := range s.o.Accounts {
		sl := s.byID[id]
		switch {
		case sl != nil && (sl.skip == "" || sl.skip == ReasonExcluded):
		case sl != nil:
			missing = append(missing, id+" ("+sl.skip+")")
		case !s.complete:
			// Discovery did not finish; that is said below.
		case len(s.o.OUs) == 0 || s.described:
			// Described by ID: Organizations said it is not a member.
			org.Skipped = append(org.Skipped, snapshot.SkippedAccount{AccountID: id, Reason: ReasonNotMember + s.orgID})
			missing = append(missing, id+" (not a member of organization "+s.orgID+")")
		default:
			org.Skipped = append(org.Skipped, snapshot.SkippedAccount{AccountID: id, Reason: ReasonNotUnderOU})
			missing = append(missing, id+" (not in the selected OUs)")
		}
	}
	verb := s.v.verb
	if len(missing) > 0 {
		why = append(why, fmt.Sprintf("%d of the %d account(s) asked for by ID were not %s: %s", len(missing), len(s.o.Accounts), verb, strings.Join(missing, ", ")))
	}
	if len(res.accounts) == 0 && s.complete && ctx.Err() == nil {
		why = append(why, fmt.Sprintf("no account was %s: none of those selected could be", verb))
	}
	if ctx.Err() != nil {
		why = append(why, fmt.Sprintf("the run was cancelled: %d of %d accounts finished; the others are marked as not %s", len(res.accounts)-cancelled, len(res.accounts), verb))
		if !s.complete {
			why = append(why, "discovery had not finished, so accounts not yet listed are missing")
		}
	}
	if s.stopped != nil {
		why = append(why, fmt.Sprintf("discovery stopped early (%s: %s), so accounts not yet listed are missing", s.stopped.Call, s.stopped.Text()))
	}
	if len(why) > 0 {
		res.incomplete = &snapshot.Incomplete{Reason: strings.Join(why, "; ")}
	}
	// Discovery order depends on which listing answered first.
	sort.Slice(res.accounts, func(i, j int) bool { return res.accounts[i].reach.AccountID < res.accounts[j].reach.AccountID })
	sort.SliceStable(org.Skipped, func(i, j int) bool { return org.Skipped[i].AccountID < org.Skipped[j].AccountID })
	return res
}

// scope describes the selection, empty when every account was selected.
func (s *orgRun) scope() string {
	var parts []string
	if len(s.ouLabels) > 0 {
		parts = append(parts, "OUs "+strings.Join(s.ouLabels, ", ")+" and everything below them")
	} else if len(s.o.OUs) > 0 {
		parts = append(parts, "OUs "+strings.Join(s.o.OUs, ", "))
	}
	if len(s.o.Accounts) > 0 {
		parts = append(parts, fmt.Sprintf("%d account(s) listed with --accounts", len(s.o.Accounts)))
	}
	if len(s.o.Exclude) > 0 {
		parts = append(parts, fmt.Sprintf("%d account(s) excluded", len(s.o.Exclude)))
	}
	return strings.Join(parts, "; ")
}
