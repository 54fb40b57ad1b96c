// Package testclock is the reference time of Vigil's tests: the one "now"
// every test, emulator and vigil process a test starts agrees on.
//
// It is 2026-11-26T12:00:00Z unless VIGIL_TEST_TIME says otherwise
// (RFC 3339, or a date). CI runs the suite again with it moved years
// before and years after today: a test that still passes then reads no
// wall clock where it should read this one. Only tests and test support
// (awsemu.Start) import this package.
package testclock

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
)

// Var is the variable that moves the reference time.
const Var = "VIGIL_TEST_TIME"

// Default is the reference time when Var is unset. The golden files were
// written at it.
var Default = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var ref = sync.OnceValue(func() time.Time {
	v := os.Getenv(Var)
	if v == "" {
		return Default
	}
	t, err := Parse(v)
	if err != nil {
		panic(err)
	}
	return t
})

// Parse reads a reference time: RFC 3339 or a date (noon UTC).
func Parse(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return d.Add(12 * time.Hour), nil
	}
	return time.Time{}, fmt.Errorf("%s=%q: want an RFC 3339 time (2031-06-15T12:00:00Z) or a date (2031-06-15)", Var, v)
}

// Ref is the reference time.
func Ref() time.Time { return ref() }

// Moved reports whether the reference time is not the default, so that
// checks of absolute dates (golden files) compare the shape instead.
func Moved() bool { return !Ref().Equal(Default) }

// Epoch is Ref as SOURCE_DATE_EPOCH, for the vigil processes a test
// starts.
func Epoch() string { return strconv.FormatInt(Ref().Unix(), 10) }

// EpochAt is t as SOURCE_DATE_EPOCH.
func EpochAt(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// EnvVar is SOURCE_DATE_EPOCH=Epoch(), for an exec.Cmd's environment.
func EnvVar() string { return clock.SourceDateEpoch + "=" + Epoch() }

// Manual returns a manual clock at the reference time.
func Manual() *clock.Manual { return clock.NewManual(Ref()) }

// Days is n days before (n < 0) or after the reference time.
func Days(n int) time.Time { return Ref().Add(time.Duration(n) * 24 * time.Hour) }
