package fix_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/fix"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// waitHeld waits until the emulator holds a call of action from account.
// The minute only turns a hang into a failure.
func waitHeld(t *testing.T, srv *awsemu.Server, account, action string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := srv.WaitHeld(ctx, func(h []awsemu.Call) bool {
		return slices.ContainsFunc(h, func(c awsemu.Call) bool { return c.CallerAccount == account && c.Action == action })
	}); err != nil {
		t.Fatalf("no %s held for %s: %v", action, account, err)
	}
}

// TestAccountDeadlines: a single-account run's deadlines, for reading and
// for changing, run on the clock they are given. A call that hangs is cut
// when that clock passes the deadline, named with the deadline's flag,
// and nothing is decided from what it did not answer.
func TestAccountDeadlines(t *testing.T) {
	e := start(t)
	const timeout = 3 * time.Minute

	// Reading: the last use of root's keys never answers.
	e.srv.SetFaults(awsemu.Fault{AccountID: standalone, Service: "iam", Action: "GetAccessKeyLastUsed", Hang: true})
	clk := testclock.Manual()
	planned := make(chan *fix.Plan, 1)
	go func() {
		p, err := fix.PlanAccount(t.Context(), e.cfg(saKey1), e.opts(func(o *fix.Options) { o.Clock, o.AccountTimeout = clk, timeout }))
		if err != nil {
			t.Error(err)
		}
		planned <- p
	}()
	waitHeld(t, e.srv, standalone, "GetAccessKeyLastUsed")
	clk.Advance(timeout)
	p := <-planned
	if p == nil {
		t.FailNow()
	}
	a := account(t, p, standalone)
	cut := false
	for _, g := range a.Errors {
		if g.Call == "iam:GetAccessKeyLastUsed" && g.Code == fleet.CodeAccountTimeout && strings.Contains(g.Message, "--account-timeout 3m") {
			cut = true
		}
		if g.Code == "DeadlineExceeded" {
			t.Errorf("a call cut by the account deadline not named as such: %+v", g)
		}
	}
	if !cut {
		t.Errorf("errors %+v: want iam:GetAccessKeyLastUsed cut by the account deadline", a.Errors)
	}
	if len(a.Steps) != 0 {
		t.Errorf("steps planned although the keys' last use is unknown: %+v", a.Steps)
	}

	// Changing: the plan is made in full, then every change hangs.
	e.srv.ClearFaults()
	p = e.planAccount(saKey1)
	steps := len(account(t, p, standalone).Steps)
	if steps == 0 {
		t.Fatal("nothing to change")
	}
	e.srv.SetFaults(awsemu.Fault{AccountID: standalone, Service: "iam", Hang: true})
	log, err := change.OpenAuditLog(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	clk = testclock.Manual()
	applied := make(chan error, 1)
	go func() {
		applied <- fix.Apply(t.Context(), p, fix.ApplyOptions{Audit: log, RunID: "test-run", AccountTimeout: timeout, Clock: clk})
	}()
	waitHeld(t, e.srv, standalone, account(t, p, standalone).Steps[0].Action[len("iam:"):])
	clk.Advance(timeout)
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	if o := p.Outcome(); o.Succeeded != 0 || o.Failed+o.Skipped != steps {
		t.Errorf("outcome %+v of %d steps", o, steps)
	}
	if r := account(t, p, standalone).Results[0]; r.Status != change.Failed || !strings.Contains(r.Error, "deadline") {
		t.Errorf("the hung change: %+v", r)
	}
}
