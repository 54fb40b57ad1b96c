package awsemu

import (
	"sync"
	"time"
)

// ManualClock is a clock that moves only when told to; pass its Now to
// WithClock or SetClock. Safe for concurrent use.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	changed chan struct{} // closed and replaced when the clock moves
}

// NewManualClock returns a clock showing t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.moved()
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	c.moved()
}

// Changed returns a channel closed the next time the clock moves, so
// that a waiter on the clock (an SQS long poll) wakes when a test
// advances it.
func (c *ManualClock) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}

func (c *ManualClock) moved() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}
