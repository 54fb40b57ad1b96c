package clock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestManualDeadlines(t *testing.T) {
	m := clock.NewManual(t0)
	short, cancelShort := m.WithTimeout(t.Context(), time.Second)
	defer cancelShort()
	long, cancelLong := m.WithTimeout(t.Context(), time.Minute)
	defer cancelLong()
	child, cancelChild := context.WithCancel(short)
	defer cancelChild()
	if m.Pending() != 2 || short.Err() != nil || long.Err() != nil {
		t.Fatalf("pending %d, errs %v %v", m.Pending(), short.Err(), long.Err())
	}
	if _, ok := short.Deadline(); ok {
		t.Error("a manual deadline must not be offered to wall-clock code")
	}
	m.Advance(999 * time.Millisecond)
	if short.Err() != nil {
		t.Fatal("ended before its deadline")
	}
	m.Advance(time.Millisecond)
	<-short.Done()
	if !errors.Is(short.Err(), context.DeadlineExceeded) {
		t.Errorf("short: %v", short.Err())
	}
	<-child.Done()
	if !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Errorf("a child of an expired context: %v", child.Err())
	}
	if long.Err() != nil || m.Pending() != 1 {
		t.Errorf("long: %v, pending %d", long.Err(), m.Pending())
	}
	cancelLong()
	if !errors.Is(long.Err(), context.Canceled) || m.Pending() != 0 {
		t.Errorf("cancelled: %v, pending %d", long.Err(), m.Pending())
	}
}

func TestManualParentCancelled(t *testing.T) {
	m := clock.NewManual(t0)
	parent, cancel := context.WithCancel(t.Context())
	ctx, stop := m.WithTimeout(parent, time.Hour)
	defer stop()
	cancel()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("err %v", ctx.Err())
	}
	if m.Pending() != 0 {
		t.Errorf("pending %d after the parent ended", m.Pending())
	}
}

func TestManualWaitPending(t *testing.T) {
	m := clock.NewManual(t0)
	go func() {
		_, cancel := m.WithTimeout(context.Background(), time.Second)
		_ = cancel
	}()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := m.WaitPending(ctx, 1); err != nil {
		t.Fatal(err)
	}
	m.Advance(time.Second)
	if m.Pending() != 0 {
		t.Errorf("pending %d", m.Pending())
	}
}

func TestFromEnv(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == clock.SourceDateEpoch {
				return v
			}
			return ""
		}
	}
	c, err := clock.FromEnv(env("1795694400"))
	if err != nil || !c.Now().Equal(t0) {
		t.Errorf("pinned: %v %v", c, err)
	}
	if c, err := clock.FromEnv(env("")); err != nil || time.Since(c.Now()).Abs() > time.Minute {
		t.Errorf("wall: %v %v", c, err)
	}
	for _, bad := range []string{"yesterday", "-5", "1.5"} {
		if _, err := clock.FromEnv(env(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
