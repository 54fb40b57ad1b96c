package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/sqlite"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// The fix path reads the policies in force: the config's until an admin
// changes a rule's, then the change (apply, off), from the store every
// replica shares.
func TestPoliciesInForce(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &Server{st: st, cfg: Config{AutoFix: []AutoFix{{Rule: "root-access-key", OUs: []string{"Root/Workloads"}, MinIdle: 30 * 24 * time.Hour}}}}
	covered := func(rule, account, ou string) (AutoFix, bool) {
		t.Helper()
		ps, err := s.policies(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return policyFor(ps, rule, account, ou)
	}
	if p, ok := covered("root-access-key", "222222222222", "Root/Workloads/Prod"); !ok || p.Apply {
		t.Fatalf("config's plan: %+v %v", p, ok)
	}
	if _, ok := covered("root-access-key", "222222222222", "Root/Sandbox"); ok {
		t.Fatal("an account outside the config's OUs is covered")
	}
	set := func(mode string, accounts []string) {
		t.Helper()
		if _, err := st.SetAutoFix(ctx, store.AutoFixChange{AutoFixPolicy: store.AutoFixPolicy{Rule: "root-access-key", Mode: mode, MinIdle: 60 * 24 * time.Hour,
			Accounts: accounts}, By: "token alice", At: testclock.Ref()}); err != nil {
			t.Fatal(err)
		}
	}
	set(store.AutoFixApply, []string{"333333333333"})
	if p, ok := covered("root-access-key", "333333333333", "Root/Sandbox"); !ok || !p.Apply || p.MinIdle != 60*24*time.Hour {
		t.Fatalf("the admin's apply: %+v %v", p, ok)
	}
	if _, ok := covered("root-access-key", "222222222222", "Root/Workloads/Prod"); ok {
		t.Fatal("the config's policy still covers what the change left out")
	}
	set(store.AutoFixOff, nil)
	if p, ok := covered("root-access-key", "333333333333", ""); ok {
		t.Fatalf("off, yet covered: %+v", p)
	}
	// A reset drops the change: the config's plan covers its OUs again.
	set(store.AutoFixConfig, nil)
	if p, ok := covered("root-access-key", "222222222222", "Root/Workloads/Prod"); !ok || p.Apply || p.MinIdle != 30*24*time.Hour {
		t.Fatalf("the config's plan after a reset: %+v %v", p, ok)
	}
	if p, ok := covered("root-access-key", "333333333333", "Root/Sandbox"); ok {
		t.Fatalf("the dropped change still covers: %+v", p)
	}
}
