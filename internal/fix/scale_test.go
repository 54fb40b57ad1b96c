package fix_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/fix"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/slowtest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestLargeOrganisation: hundreds of accounts, planned and changed in
// parallel, each exactly once; afterwards no access key is left that the
// guard let through, and a new plan has nothing to do.
func TestLargeOrganisation(t *testing.T) {
	slowtest.Skip(t, "a plan and its application in 300 accounts")
	const n = 300
	srv := awsemutest.Start(t, awsemu.OrgWorld(n, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 7, Suspended: 5}))
	cfg := awsemutest.ConfigFor(t, srv, awsemu.OrgWorldAdminKey, quickRetries)
	o := fix.Options{MinIdle: fix.DefaultMinIdle, Force: true, Certificates: true, Now: testclock.Running()}
	o.Collect.Now = o.Now
	p, err := fix.PlanOrg(t.Context(), cfg, fleet.Options{Logger: quiet(), Parallel: 16}, o)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, a := range p.Accounts {
		seen[a.ID]++
	}
	if len(p.Accounts)+len(p.Skipped) != n+1 || len(p.Skipped) != 5 {
		t.Errorf("%d accounts planned, %d skipped, of %d", len(p.Accounts), len(p.Skipped), n+1)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s planned %d times", id, c)
		}
	}
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			t.Fatalf("the plan made a mutating call %s:%s", c.Service, c.Action)
		}
	}
	steps := p.StepCount()
	if steps < 20 {
		t.Fatalf("only %d steps: the world should hold keys and certificates", steps)
	}
	log, err := change.OpenAuditLog(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	if err := fix.Apply(t.Context(), p, fix.ApplyOptions{Audit: log, Parallel: 16}); err != nil {
		t.Fatal(err)
	}
	if out := p.Outcome(); out.Succeeded != steps || out.Failed+out.Skipped != 0 {
		t.Errorf("outcome %+v of %d steps", out, steps)
	}
	again, err := fix.PlanOrg(t.Context(), cfg, fleet.Options{Logger: quiet(), Parallel: 16}, o)
	if err != nil {
		t.Fatal(err)
	}
	if again.StepCount() != 0 {
		t.Errorf("%d steps left after applying", again.StepCount())
	}
}

// TestApplyCancelled: a cancelled run attempts nothing more, and says so.
func TestApplyCancelled(t *testing.T) {
	e := start(t)
	p := e.planOrg()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	log, _ := change.OpenAuditLog(filepath.Join(t.TempDir(), "audit.jsonl"))
	defer log.Close()
	e.srv.ResetCalls()
	if err := fix.Apply(ctx, p, fix.ApplyOptions{Audit: log}); err != nil {
		t.Fatal(err)
	}
	noMutations(t, e)
	for _, a := range p.Accounts {
		for _, r := range a.Results {
			if r.Status != change.Skipped || !strings.Contains(r.Error, "cancelled") {
				t.Errorf("%s: %+v", a.ID, r)
			}
		}
	}
}

// TestApplyStopsWhenTheAuditLogFails: no change goes unrecorded; the run
// stops everywhere.
func TestApplyStopsWhenTheAuditLogFails(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	e := start(t)
	p := e.planOrg(func(o *fix.Options) { o.Force = true })
	log, err := change.OpenAuditLog("/dev/full")
	if err != nil {
		t.Skip(err)
	}
	defer log.Close()
	err = fix.Apply(t.Context(), p, fix.ApplyOptions{Audit: log, Parallel: 1})
	if err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Fatalf("err = %v", err)
	}
	changed := 0
	for _, c := range e.srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("%d changes made, want the one whose line failed", changed)
	}
}
