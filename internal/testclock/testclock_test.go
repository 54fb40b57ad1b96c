package testclock

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2019-06-15":                time.Date(2019, 6, 15, 12, 0, 0, 0, time.UTC),
		"2034-03-10T08:30:00Z":      time.Date(2034, 3, 10, 8, 30, 0, 0, time.UTC),
		"2034-03-10T08:30:00+02:00": time.Date(2034, 3, 10, 6, 30, 0, 0, time.UTC),
	} {
		if got, err := Parse(in); err != nil || !got.Equal(want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2019-13-01", "1795694400"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestRunning(t *testing.T) {
	c := Running()
	a := c()
	if a.Before(Ref()) || a.Sub(Ref()) > time.Hour {
		t.Errorf("first reading %v, reference %v", a, Ref())
	}
	if b := c(); b.Before(a) {
		t.Errorf("went back from %v to %v", a, b)
	}
}

// TestShifted runs in a child process per reference time, since the
// reference time is read once per process.
func TestShifted(t *testing.T) {
	if os.Getenv(Var) == "" {
		for _, ref := range []string{"2019-06-15", "2034-03-10T12:00:00Z", "2030-01-01T00:00:30Z"} {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestShifted$")
			// GORACE: no second's sleep at exit under -race.
			cmd.Env = append(os.Environ(), Var+"="+ref, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s=%s: %v\n%s", Var, ref, err, out)
			}
		}
		// At the default reference time, plain equality.
		if err := Shifted("at 2026-11-26T12:00:00Z", "at 2026-11-26T12:00:00Z"); err != nil {
			t.Error(err)
		}
		if err := Shifted("at 2026-11-26T12:00:00Z", "at 2026-11-27T12:00:00Z"); err == nil {
			t.Error("a different date matched at the default reference time")
		}
		return
	}
	if !Moved() {
		t.Fatal("the reference time did not move")
	}
	d := Ref().Sub(Default)
	at := func(layout string, t time.Time) string { return t.Add(d).Format(layout) }
	golden := "planned 2026-11-26T12:00:00Z, key created 2019-03-14T09:45:51Z, policy 2012-10-17,\n" +
		"report 2026-11-24 12:00, day 2026-11-25, at 2026-11-26T11:00:00+00:00, demo 2026-11-26T12:00:0NZ"
	good := strings.NewReplacer(
		"2026-11-26T12:00:00Z", at(time.RFC3339, Default),
		"2026-11-24 12:00", at("2006-01-02 15:04", Default.Add(-48*time.Hour)),
		"2026-11-25", at(time.DateOnly, Default.Add(-24*time.Hour)),
		"2026-11-26T11:00:00+00:00", at("2006-01-02T15:04:05-07:00", Default.Add(-time.Hour)),
		"2026-11-26T12:00:0NZ", at("2006-01-02T15:04", Default)+":0NZ",
	).Replace(golden)
	if err := Shifted(golden, good); err != nil {
		t.Errorf("every date moved or data: %v\n%s", err, good)
	}
	if err := Shifted(golden, golden); err != nil {
		t.Errorf("no date moved: %v", err)
	}
	for name, bad := range map[string]string{
		"a date from the wall clock": strings.Replace(good, at(time.RFC3339, Default), time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Format(time.RFC3339), 1),
		"moved by another amount":    strings.Replace(good, at(time.RFC3339, Default), at(time.RFC3339, Default.Add(time.Hour)), 1),
		"text around a date":         strings.Replace(good, "key created", "key made", 1),
		"a date missing":             strings.Replace(good, ", policy 2012-10-17", "", 1),
		"text at the end":            good + ".",
	} {
		if err := Shifted(golden, bad); err == nil {
			t.Errorf("%s: matched\n%s", name, bad)
		}
	}
}
