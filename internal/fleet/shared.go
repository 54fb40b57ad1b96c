package fleet

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// SharedReading is one reading of an organisation (who calls, the
// organisation, its accounts and OU tree, its root-access features and
// SCPs), made by the first run given it and reused by the others.
// `vigil serve` scans an organisation one account per job; without a
// shared reading every account's job would list the whole organisation
// again, so a tick of N accounts would cost N listings (N² calls): the
// jobs of one tick on one replica share one reading instead.
//
// A run on a shared reading that selects accounts (Options.Accounts)
// holds only those: the organisation's other accounts are not listed as
// skipped, though its controls (the OU tree, the SCPs) still cover them
// all. A reading that failed, or that did not list every account, is not
// kept: the next run reads again. A zero SharedReading is ready to use.
type SharedReading struct {
	mu   sync.Mutex
	call *readingCall
}

type readingCall struct {
	done chan struct{}
	r    *reading
	err  error
}

// reading is what setup and discovery learnt, read-only once made.
type reading struct {
	callerARN, callerAccount, callerUserID, partition string
	orgID, managementID                               string
	features                                          *snapshot.OrgFeatures
	featuresGap                                       *snapshot.Gap
	scps                                              []snapshot.OrgPolicy
	scpsGap                                           *snapshot.Gap
	tree                                              *tree
	members                                           []member
	orgGaps                                           []snapshot.Gap
	stopped                                           *snapshot.Gap
	complete                                          bool
	ouLabels                                          []string
}

// errReading says another run is reading the organisation right now.
var errReading = errors.New("another run is reading the organisation")

// get returns the reading, made by read if no run has made it yet. While
// another run is making it, get waits for it, or with wait false returns
// errReading at once.
func (sh *SharedReading) get(ctx context.Context, wait bool, read func(context.Context) (*reading, error)) (*reading, error) {
	sh.mu.Lock()
	if c := sh.call; c != nil {
		sh.mu.Unlock()
		if !wait {
			select {
			case <-c.done:
				return c.r, c.err
			default:
				return nil, errReading
			}
		}
		select {
		case <-c.done:
			return c.r, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &readingCall{done: make(chan struct{})}
	sh.call = c
	sh.mu.Unlock()
	c.r, c.err = read(ctx)
	if c.err == nil && ctx.Err() != nil {
		c.err = ctx.Err()
	}
	if c.err != nil || !c.r.complete {
		// Not kept: the runs waiting get this one, the next reads again.
		sh.mu.Lock()
		sh.call = nil
		sh.mu.Unlock()
	}
	close(c.done)
	return c.r, c.err
}

// readOrg reads the organisation as a run would, visiting nothing.
func readOrg(ctx context.Context, cfg aws.Config, o Options) (*reading, error) {
	o.Progress = nil
	// The reading serves every job of the tick, whichever job makes it:
	// it lists the whole organisation and its structure even when the
	// first job names one account or reads no structure of its own.
	o.Structure = StructureWhole
	s := newOrgRun(cfg, o, erased{})
	queue, wait, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	for range queue.out {
		// The accounts are kept in s.members; each run visits its own.
	}
	if err := wait(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &reading{
		callerARN: s.callerARN, callerAccount: s.callerAccount, callerUserID: s.callerUserID, partition: s.partition,
		orgID: s.orgID, managementID: s.managementID, features: s.features, featuresGap: s.featuresGap,
		scps: s.scps, scpsGap: s.scpsGap, tree: s.tree, orgGaps: s.orgGaps, stopped: s.stopped,
		complete: s.complete, ouLabels: s.ouLabels,
	}
	for _, sl := range s.members {
		m := sl.member
		m.skip = ""
		r.members = append(r.members, m)
	}
	return r, nil
}

// visitShared is a run on the shared reading: it reads the organisation
// only when no run has yet, and visits its own selection of the
// accounts.
func (s *orgRun) visitShared(ctx context.Context) (*orgResult, error) {
	// While the first run of a tick lists the organisation (seconds for
	// thousands of accounts), a run that names its accounts describes
	// them itself, a few calls each, rather than idle until the listing
	// is done; one that needs the whole organisation waits for it.
	r, err := s.o.Shared.get(ctx, !s.named(), func(ctx context.Context) (*reading, error) { return readOrg(ctx, s.base, s.o) })
	if errors.Is(err, errReading) {
		return s.visit(ctx)
	}
	if err != nil {
		return nil, err
	}
	s.callerARN, s.callerAccount, s.callerUserID, s.partition = r.callerARN, r.callerAccount, r.callerUserID, r.partition
	s.orgID, s.managementID = r.orgID, r.managementID
	s.features, s.featuresGap = r.features, r.featuresGap
	close(s.featuresReady)
	s.scps, s.scpsGap, s.tree = r.scps, r.scpsGap, r.tree
	s.orgGaps = append([]snapshot.Gap(nil), r.orgGaps...)
	s.stopped, s.complete, s.ouLabels = r.stopped, r.complete, r.ouLabels
	// The organisation's controls list every account; the run itself
	// holds only the accounts it selects, when it selects some. A job of
	// one account in an organisation of thousands would otherwise carry
	// (and report as skipped) every other one: work in proportion to the
	// organisation in every job.
	s.all = r.members
	members := r.members
	if len(s.o.Accounts) > 0 {
		members = nil
		for _, m := range r.members {
			if slices.Contains(s.o.Accounts, m.id) {
				members = append(members, m)
			}
		}
	}
	queue := newQueue(ctx)
	go func() {
		defer queue.close()
		s.add(members, queue)
		if s.o.Progress != nil {
			s.o.Progress.DiscoveryDone()
		}
	}()
	s.work(ctx, queue)
	return s.result(ctx), nil
}
