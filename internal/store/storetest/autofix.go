package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

// An admin's auto-fix changes: the latest per rule is in force, every
// one is kept with who and when, and the config's policies are replaced
// rule by rule.
func testAutoFix(t *testing.T, s store.Store) {
	ctx := context.Background()
	if cs, err := s.AutoFixChanges(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("changes of a new store: %+v, %v", cs, err)
	}
	set := func(rule, mode, by string, at time.Time, accounts, ous []string) store.AutoFixChange {
		t.Helper()
		c, err := s.SetAutoFix(ctx, store.AutoFixChange{AutoFixPolicy: store.AutoFixPolicy{Rule: rule, Mode: mode, MinIdle: 30 * 24 * time.Hour,
			Accounts: accounts, OUs: ous}, By: by, At: at})
		if err != nil || c.ID == 0 {
			t.Fatalf("set %s %s: %+v, %v", rule, mode, c, err)
		}
		return c
	}
	set("root-access-key", store.AutoFixApply, "alice", T0, []string{acctA, acctB}, nil)
	off := set("root-access-key", store.AutoFixOff, "bob", T0.Add(time.Hour), nil, nil)
	plan := set("root-signing-certificate", store.AutoFixPlan, "alice", T0.Add(2*time.Hour), nil, []string{"Root/Workloads"})
	cs, err := s.AutoFixChanges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != off.ID || cs[0].Mode != store.AutoFixOff || cs[0].By != "bob" || !cs[0].At.Equal(T0.Add(time.Hour)) ||
		cs[1].ID != plan.ID || !reflect.DeepEqual(cs[1].OUs, []string{"Root/Workloads"}) || len(cs[1].Accounts) != 0 || cs[1].MinIdle != 30*24*time.Hour {
		t.Fatalf("changes in force: %+v", cs)
	}
	h, err := s.AutoFixHistory(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0].ID != plan.ID || h[2].Mode != store.AutoFixApply || !reflect.DeepEqual(h[2].Accounts, []string{acctA, acctB}) {
		t.Fatalf("history: %+v", h)
	}
	if h, err := s.AutoFixHistory(ctx, 1); err != nil || len(h) != 1 || h[0].ID != plan.ID {
		t.Fatalf("history of 1: %+v, %v", h, err)
	}
	// The config's plan for root-access-key is turned off; its
	// root-signing-certificate policies give way to the change.
	baseline := []store.AutoFixPolicy{{Rule: "root-access-key", Mode: store.AutoFixPlan}, {Rule: "root-signing-certificate", Mode: store.AutoFixApply, Accounts: []string{acctA}},
		{Rule: "root-signing-certificate", Mode: store.AutoFixPlan}}
	eff := store.EffectiveAutoFix(baseline, cs)
	if len(eff) != 1 || eff[0].Rule != "root-signing-certificate" || eff[0].Mode != store.AutoFixPlan || len(eff[0].OUs) != 1 {
		t.Fatalf("effective: %+v", eff)
	}
	if eff := store.EffectiveAutoFix(baseline, nil); !reflect.DeepEqual(eff, baseline) {
		t.Fatalf("effective without changes: %+v", eff)
	}

	// A reset drops the change in force: the config's policies apply
	// again, and the reset stays in the history with who and when.
	reset := set("root-signing-certificate", store.AutoFixConfig, "carol", T0.Add(3*time.Hour), nil, nil)
	if cs, err = s.AutoFixChanges(ctx); err != nil || len(cs) != 1 || cs[0].ID != off.ID {
		t.Fatalf("changes in force after the reset: %+v, %v", cs, err)
	}
	if eff := store.EffectiveAutoFix(baseline, cs); len(eff) != 2 || eff[0].Rule != "root-signing-certificate" || eff[0].Mode != store.AutoFixApply {
		t.Fatalf("effective after the reset: %+v", eff)
	}
	if h, err := s.AutoFixHistory(ctx, 10); err != nil || len(h) != 4 || h[0].ID != reset.ID || h[0].By != "carol" || h[0].Mode != store.AutoFixConfig ||
		!h[0].At.Equal(T0.Add(3*time.Hour)) {
		t.Fatalf("history after the reset: %+v, %v", h, err)
	}
	again := set("root-signing-certificate", store.AutoFixOff, "alice", T0.Add(4*time.Hour), nil, nil)
	if cs, err = s.AutoFixChanges(ctx); err != nil || len(cs) != 2 || cs[1].ID != again.ID {
		t.Fatalf("a change after the reset: %+v, %v", cs, err)
	}

	// A change stored after another is the latest even when its time
	// was read earlier (another replica's clock ahead of this one's, a
	// request that read the clock before a concurrent one was stored):
	// its time is recorded as no earlier, so the latest by time and by
	// ID is the same change, in force and first in the history.
	ahead := set("root-access-key", store.AutoFixPlan, "dave", T0.Add(10*time.Hour), nil, nil)
	behind := set("root-access-key", store.AutoFixOff, "erin", T0.Add(9*time.Hour), nil, nil)
	if !behind.At.Equal(ahead.At) || behind.ID <= ahead.ID {
		t.Fatalf("a change read at an earlier time: %+v after %+v", behind, ahead)
	}
	cs, err = s.AutoFixChanges(ctx)
	if err != nil || len(cs) != 2 || cs[0].ID != behind.ID || cs[0].By != "erin" || !cs[0].At.Equal(T0.Add(10*time.Hour)) {
		t.Fatalf("in force after a change with an earlier clock: %+v, %v", cs, err)
	}
	if h, err := s.AutoFixHistory(ctx, 2); err != nil || len(h) != 2 || h[0].ID != behind.ID || h[1].ID != ahead.ID {
		t.Fatalf("history after a change with an earlier clock: %+v, %v", h, err)
	}

	// Admins changing one rule at once, each with a time read before
	// any was stored and in no particular order: the change in force is
	// the history's first for that rule, and the history is ordered by
	// time and ID alike.
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SetAutoFix(ctx, store.AutoFixChange{AutoFixPolicy: store.AutoFixPolicy{Rule: "root-signing-certificate", Mode: store.AutoFixPlan,
				MinIdle: time.Duration(i+1) * 24 * time.Hour}, By: fmt.Sprint("admin ", i), At: T0.Add(20*time.Hour - time.Duration(i)*time.Minute)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	h, err = s.AutoFixHistory(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var first *store.AutoFixChange
	for i := range h {
		if i > 0 && (h[i].At.After(h[i-1].At) || (h[i].Rule == h[i-1].Rule && h[i].ID > h[i-1].ID)) {
			t.Errorf("history out of order at %d: %+v after %+v", i, h[i], h[i-1])
		}
		if first == nil && h[i].Rule == "root-signing-certificate" {
			first = &h[i]
		}
	}
	cs, err = s.AutoFixChanges(ctx)
	if err != nil || len(cs) != 2 || first == nil || !reflect.DeepEqual(cs[1], *first) {
		t.Fatalf("in force after changes at once: %+v, history's latest %+v, %v", cs, first, err)
	}
}
