package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Manual is a clock that moves only when told to. Its deadlines pass when
// Advance or Set moves it past them, never on their own, so a test decides
// exactly when a timeout happens instead of hoping the machine is fast
// enough. Safe for concurrent use.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	pending []*deadlineCtx
	changed chan struct{} // closed and replaced whenever pending grows
}

// NewManual returns a clock showing t.
func NewManual(t time.Time) *Manual {
	return &Manual{now: t.UTC(), changed: make(chan struct{})}
}

// Now returns the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Advance moves the clock forward by d and ends every context whose
// deadline it reaches.
func (m *Manual) Advance(d time.Duration) { m.Set(m.Now().Add(d)) }

// Set moves the clock to t (forward or back) and ends every context whose
// deadline is at or before t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.now = t.UTC()
	var due []*deadlineCtx
	keep := m.pending[:0]
	for _, c := range m.pending {
		if !c.deadline.After(m.now) {
			due = append(due, c)
		} else {
			keep = append(keep, c)
		}
	}
	m.pending = keep
	m.mu.Unlock()
	// Earliest first, so that an outer and an inner deadline that pass
	// together end in the order they would have on a real clock.
	sort.SliceStable(due, func(i, j int) bool { return due[i].deadline.Before(due[j].deadline) })
	for _, c := range due {
		c.end(context.DeadlineExceeded)
	}
}

// Pending is how many of the clock's deadlines are still to pass (their
// contexts neither expired nor cancelled).
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

// WaitPending blocks until at least n deadlines are pending, or ctx ends.
func (m *Manual) WaitPending(ctx context.Context, n int) error {
	for {
		m.mu.Lock()
		got, ch := len(m.pending), m.changed
		m.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WithTimeout returns a context that ends with context.DeadlineExceeded
// when the clock reaches now+d, or earlier when ctx ends or cancel is
// called.
func (m *Manual) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	m.mu.Lock()
	c := &deadlineCtx{parent: ctx, deadline: m.now.Add(d), done: make(chan struct{}), clock: m}
	if d <= 0 {
		m.mu.Unlock()
		c.end(context.DeadlineExceeded)
		return c, func() {}
	}
	m.pending = append(m.pending, c)
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
	c.mu.Lock()
	c.stop = context.AfterFunc(ctx, func() { c.end(ctx.Err()) })
	c.mu.Unlock()
	return c, func() { c.end(context.Canceled) }
}

func (m *Manual) forget(c *deadlineCtx) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, p := range m.pending {
		if p == c {
			m.pending = append(m.pending[:i], m.pending[i+1:]...)
			return
		}
	}
}

// deadlineCtx is a context whose deadline is on a Manual clock.
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time
	clock    *Manual
	done     chan struct{}
	stop     func() bool

	mu  sync.Mutex
	err error
}

// Deadline reports no deadline: the deadline is on the manual clock, and
// code that converts a context's deadline into a socket timeout (the
// dialer, for one) reads the wall clock, on which it would be meaningless.
func (c *deadlineCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *deadlineCtx) Done() <-chan struct{} { return c.done }

func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *deadlineCtx) Value(key any) any { return c.parent.Value(key) }

// end ends the context with err, once.
func (c *deadlineCtx) end(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	// Off the clock before Done closes: a caller woken by Done must not
	// find the context still pending (TestManualParentCancelled saw that
	// under load). No lock of the clock is held while one of a context is
	// taken, so taking the clock's here cannot deadlock.
	c.clock.forget(c)
	close(c.done)
	stop := c.stop
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}
