package fleet

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

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
	// live is the run making the reading, set once its setup is done
	// (who calls, which organisation) and before liveReady is closed;
	// nil if that run has none to share, and again once the reading is
	// done (a tick's readings are kept while it runs, and the run's
	// slots would double each one). A run that names its accounts takes
	// them from it as soon as it has listed and placed them
	// (awaitEarly), rather than wait for the whole organisation.
	live      atomic.Pointer[orgRun]
	liveReady chan struct{}
	liveOnce  sync.Once
}

// publish makes r the live reading, nil for none (its setup failed).
func (c *readingCall) publish(r *orgRun) {
	c.liveOnce.Do(func() {
		c.live.Store(r)
		close(c.liveReady)
	})
}

// reading is what setup and discovery learnt, read-only once made.
type reading struct {
	orgFacts
	scps     []snapshot.OrgPolicy
	scpsGap  *snapshot.Gap
	tree     *tree
	members  []member
	orgGaps  []snapshot.Gap
	stopped  *snapshot.Gap
	complete bool
	ouLabels []string
}

// errReading says another run is reading the organisation right now.
var errReading = errors.New("another run is reading the organisation")

// get returns the reading, made by read if no run has made it yet. While
// it is being made, get waits for it, or with wait false returns
// errReading at once, with the call making it. The reading is made apart
// from the run that starts it, which waits for it like any other: that
// run names its accounts too, and can take them from the reading before
// it ends (five seconds of serial listing at 2,000 accounts), and a run
// that ends (cancelled, or done early) does not cut the reading short
// for the others.
func (sh *SharedReading) get(ctx context.Context, wait bool, read func(context.Context, *readingCall) (*reading, error)) (r *reading, c *readingCall, started bool, err error) {
	sh.mu.Lock()
	c = sh.call
	if c == nil {
		started = true
		c = &readingCall{done: make(chan struct{}), liveReady: make(chan struct{})}
		sh.call = c
		go func() {
			c.r, c.err = read(context.WithoutCancel(ctx), c)
			if c.err != nil || !c.r.complete {
				// Not kept: the runs waiting get this one, the next reads again.
				sh.mu.Lock()
				if sh.call == c {
					sh.call = nil
				}
				sh.mu.Unlock()
			}
			c.publish(nil)
			close(c.done)
			c.live.Store(nil)
		}()
	}
	sh.mu.Unlock()
	if !wait {
		select {
		case <-c.done:
			return c.r, c, started, c.err
		default:
			return nil, c, started, errReading
		}
	}
	r, err = c.wait(ctx)
	return r, c, started, err
}

// wait waits for the reading.
func (c *readingCall) wait(ctx context.Context) (*reading, error) {
	select {
	case <-c.done:
		return c.r, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readOrg reads the organisation as a run would, visiting nothing.
func readOrg(ctx context.Context, cfg aws.Config, o Options, c *readingCall) (*reading, error) {
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
	c.publish(s)
	for range queue.out {
		// The accounts are kept in s.members; each run visits its own.
	}
	if err := wait(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &reading{
		orgFacts: s.orgFacts,
		scps:     s.scps, scpsGap: s.scpsGap, tree: s.tree, orgGaps: s.orgGaps, stopped: s.stopped,
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
	// thousands of accounts), a run that names its accounts takes them
	// from that listing as soon as it has them, or describes them itself,
	// rather than idle until the listing is done; one that needs the
	// whole organisation waits for it.
	r, c, started, err := s.o.Shared.get(ctx, !s.named(), func(ctx context.Context, c *readingCall) (*reading, error) { return readOrg(ctx, s.base, s.o, c) })
	if errors.Is(err, errReading) {
		var res *orgResult
		res, r, err = s.awaitEarly(ctx, c)
		switch {
		case res != nil:
			return res, nil
		case r == nil && err == nil && started:
			// Its own reading: it ends with the answer.
			r, err = c.wait(ctx)
		case r == nil && err == nil:
			return s.visit(ctx)
		}
	}
	if err != nil {
		return nil, err
	}
	s.fromReading(r)
	members := r.members
	if len(s.o.Accounts) > 0 {
		members = nil
		for _, m := range r.members {
			if slices.Contains(s.o.Accounts, m.id) {
				members = append(members, m)
			}
		}
	}
	return s.visitMembers(ctx, members), nil
}

// fromReading takes setup's and discovery's findings from r.
func (s *orgRun) fromReading(r *reading) {
	s.orgFacts = r.orgFacts
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
}

// visitMembers visits members, as the run selects them.
func (s *orgRun) visitMembers(ctx context.Context, members []member) *orgResult {
	queue := newQueue(ctx)
	go func() {
		defer queue.close()
		s.add(members, queue)
		if s.o.Progress != nil {
			s.o.Progress.DiscoveryDone()
		}
	}()
	s.work(ctx, queue)
	return s.result(ctx)
}

// awaitEarly is, for a run that names its accounts and reads no
// structure, what to do while another run makes the reading (c). It
// visits the accounts as soon as that run has listed each and placed it
// in the OU tree, which the tree's walk does in a second or so where the
// serial listing of a 2,000-account organisation takes five: every
// account job of a tick's first seconds otherwise described its account
// itself, six round trips one after another (DescribeAccount, then
// ListParents and DescribeOrganizationalUnit up each level), which made
// those jobs three times as long. It returns the finished reading if the
// reading ends first, and neither reading nor error when the run must
// describe its accounts itself (the walk ended without placing one: not
// a member, or the walk failed).
func (s *orgRun) awaitEarly(ctx context.Context, c *readingCall) (*orgResult, *reading, error) {
	if !s.named() || s.o.Structure != StructureNone || len(s.o.OUs) > 0 {
		return nil, nil, nil
	}
	select {
	case <-c.liveReady:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	live := c.live.Load()
	if live == nil {
		// The reading ended (its setup failed, or it is done).
		select {
		case <-c.done:
			if c.err == nil {
				return nil, c.r, nil
			}
		default:
		}
		return nil, nil, nil
	}
	for {
		live.mu.Lock()
		grew := live.grew
		live.mu.Unlock()
		members, t := live.placedMembers(s.o.Accounts)
		if members == nil {
			select {
			case <-grew:
				continue
			case <-live.placed:
				// Placed before the walk ended, or never.
				if members, t = live.placedMembers(s.o.Accounts); members == nil {
					return nil, nil, nil
				}
			case <-c.done:
				if c.err != nil {
					return nil, nil, nil
				}
				return nil, c.r, nil
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		// The features are read beside discovery, a call or two.
		select {
		case <-live.featuresReady:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		s.orgFacts = live.orgFacts
		close(s.featuresReady)
		s.tree = t
		// As if described: each named account was found, and reads as
		// it would alone (its place, not the listing's other news).
		s.complete, s.described = true, true
		return s.visitMembers(ctx, members), nil, nil
	}
}

// placedMembers are the accounts ids as discovery found them, with a tree
// of their places (their parents up to the root), once discovery has
// found and placed every one of them; nil until then.
func (s *orgRun) placedMembers(ids []string) ([]member, *tree) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tree
	t.mu.Lock()
	defer t.mu.Unlock()
	own := newTree()
	own.rootID, own.rootName, own.rootPolicyTypes = t.rootID, t.rootName, slices.Clone(t.rootPolicyTypes)
	var out []member
	for _, id := range ids {
		sl := s.byID[id]
		if sl == nil {
			return nil, nil
		}
		parent, ok := t.parentOf[id]
		if !ok || t.pathOf(parent) == nil {
			return nil, nil
		}
		own.parentOf[id] = parent
		for cur, n := parent, 0; cur != t.rootID && n < maxOUDepth; cur, n = t.ous[cur].parent, n+1 {
			own.ous[cur] = t.ous[cur]
		}
		m := sl.member
		m.skip = ""
		out = append(out, m)
	}
	return out, own
}
