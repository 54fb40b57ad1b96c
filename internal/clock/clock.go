// Package clock is Vigil's source of time: what time it is, and when a
// deadline has passed. The product runs on the wall clock, or on one whose
// reading is pinned by SOURCE_DATE_EPOCH for reproducible output; tests
// drive a Manual clock, so that no test races the machine it runs on and
// no test depends on the day it runs.
//
// Only Vigil's own deadlines and readings go through a Clock. The AWS
// SDK's request signing and credential expiry keep the wall clock, as AWS
// does.
package clock

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Clock tells the time and bounds work in time.
type Clock interface {
	// Now is the current time, in UTC.
	Now() time.Time
	// WithTimeout is context.WithTimeout on this clock: the returned
	// context ends with context.DeadlineExceeded once d has passed on it.
	WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
}

// Wall is the real clock.
type Wall struct{}

// Now returns the wall-clock time in UTC.
func (Wall) Now() time.Time { return time.Now().UTC() }

// WithTimeout is context.WithTimeout.
func (Wall) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// Pinned reads t as the time, always; its deadlines run on the wall clock,
// so a pinned run still gives up on a dead endpoint.
type Pinned struct{ T time.Time }

// Now returns the pinned time.
func (p Pinned) Now() time.Time { return p.T.UTC() }

// WithTimeout is context.WithTimeout.
func (Pinned) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// SourceDateEpoch is the variable of the reproducible-builds convention
// (https://reproducible-builds.org/specs/source-date-epoch/): seconds
// since 1970-01-01 UTC. Vigil reads the time from it when it is set, so
// that a test and every process it starts agree on what "now" is.
const SourceDateEpoch = "SOURCE_DATE_EPOCH"

// FromEnv is the clock of a Vigil process: pinned to SOURCE_DATE_EPOCH
// when getenv has it, else the wall clock. A value that is not a whole
// number of seconds is an error rather than a silent fallback to today.
func FromEnv(getenv func(string) string) (Clock, error) {
	v := getenv(SourceDateEpoch)
	if v == "" {
		return Wall{}, nil
	}
	s, err := strconv.ParseInt(v, 10, 64)
	if err != nil || s < 0 {
		return nil, fmt.Errorf("%s=%q: want a whole number of seconds since 1970-01-01T00:00:00Z", SourceDateEpoch, v)
	}
	return Pinned{T: time.Unix(s, 0).UTC()}, nil
}

// Within bounds ctx by d on c; d <= 0 means no bound of its own (the
// context can still be cancelled).
func Within(c Clock, ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	if c == nil {
		c = Wall{}
	}
	return c.WithTimeout(ctx, d)
}

// Func reads the time from a function and runs its deadlines on the wall
// clock: what a command runs on when a test or SOURCE_DATE_EPOCH decides
// what time it is, but a dead endpoint must still be given up on.
type Func func() time.Time

// Now returns the function's time in UTC.
func (f Func) Now() time.Time { return f().UTC() }

// WithTimeout is context.WithTimeout.
func (Func) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
