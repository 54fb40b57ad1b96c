package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/fix"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/record"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/store"
)

// AutoFix is an opt-in policy: findings of Rule in the selected accounts
// (all when Accounts and OUs are empty) are fixed through the vigil fix
// engine as soon as they open (new or regressed), with its guard. Plan
// mode records and alerts what the fix would do; Apply makes the change.
// The management account is never fixed automatically.
type AutoFix struct {
	Rule     string
	Accounts []string
	// OUs are OU paths ("Root/Workloads"); an account below one matches.
	OUs     []string
	Apply   bool
	MinIdle time.Duration
}

func (p AutoFix) covers(account, ou string) bool {
	if len(p.Accounts) == 0 && len(p.OUs) == 0 {
		return true
	}
	if slices.Contains(p.Accounts, account) {
		return true
	}
	for _, o := range p.OUs {
		o = strings.TrimPrefix(strings.TrimSuffix(o, "/"), "Root/")
		u := strings.TrimPrefix(ou, "Root/")
		if u == o || strings.HasPrefix(u, o+"/") {
			return true
		}
	}
	return false
}

// baselinePolicies are the config's policies as the store, the API and
// the dashboard name them.
func baselinePolicies(ps []AutoFix) []store.AutoFixPolicy {
	out := make([]store.AutoFixPolicy, 0, len(ps))
	for _, p := range ps {
		mode := store.AutoFixPlan
		if p.Apply {
			mode = store.AutoFixApply
		}
		out = append(out, store.AutoFixPolicy{Rule: p.Rule, Mode: mode, MinIdle: p.MinIdle, Accounts: p.Accounts, OUs: p.OUs})
	}
	return out
}

// policies are the auto-fix policies in force: the config's, with the
// rules an admin changed (dashboard or API) replaced by the change, read
// from the store so that every replica follows the latest change.
func (s *Server) policies(ctx context.Context) ([]AutoFix, error) {
	changes, err := s.st.AutoFixChanges(ctx)
	if err != nil {
		return nil, fmt.Errorf("auto-fix policies: %w", err)
	}
	if len(changes) == 0 {
		return s.cfg.AutoFix, nil
	}
	var out []AutoFix
	for _, p := range store.EffectiveAutoFix(baselinePolicies(s.cfg.AutoFix), changes) {
		out = append(out, AutoFix{Rule: p.Rule, Accounts: p.Accounts, OUs: p.OUs, Apply: p.Mode == store.AutoFixApply, MinIdle: p.MinIdle})
	}
	return out, nil
}

// policyFor is the first policy that covers a rule's finding in an
// account.
func policyFor(ps []AutoFix, rule, account, ou string) (AutoFix, bool) {
	for _, p := range ps {
		if p.Rule == rule && p.covers(account, ou) {
			return p, true
		}
	}
	return AutoFix{}, false
}

// queueFixes starts a fix job for each finding of an account scan that
// just opened and that a policy covers.
func (s *Server) queueFixes(ctx context.Context, sch *Schedule, rep *report.Document, snap *snapshot.Document, ts []store.Transition) error {
	opened := false
	for _, t := range ts {
		opened = opened || (!t.Suppressed && (t.Kind == lifecycle.New || t.Kind == lifecycle.Regressed))
	}
	if !opened {
		return nil
	}
	ps, err := s.policies(ctx)
	if err != nil || len(ps) == 0 {
		return err
	}
	mgmt := ""
	if snap != nil && snap.Organization != nil {
		mgmt = snap.Organization.ManagementAccountID
	}
	ous := map[string]string{}
	if snap != nil {
		for _, a := range snap.Accounts {
			ous[a.ID] = strings.Join(a.OUPath, "/")
		}
	}
	byID := map[string]int{}
	for i, r := range rep.Results {
		byID[record.Observation(r).Key()] = i
	}
	for _, t := range ts {
		if t.Suppressed || (t.Kind != lifecycle.New && t.Kind != lifecycle.Regressed) {
			continue
		}
		i, ok := byID[t.FindingID]
		if !ok {
			continue
		}
		r := rep.Results[i]
		if r.ManagementAccount || r.AccountID == mgmt {
			continue // never automatically
		}
		if err := s.enqueueFix(ctx, ps, sch, t.FindingID, t.ID, r.AccountID, ous[r.AccountID], r.RuleID); err != nil {
			return err
		}
	}
	return nil
}

// enqueueFix inserts the fix job of a finding's opening when a policy
// covers it. The job is unique per (finding, transition), so enqueueing
// the same opening again, as requeueFixes does after a crash, adds
// nothing.
func (s *Server) enqueueFix(ctx context.Context, ps []AutoFix, sch *Schedule, findingID string, transitionID int64, account, ou, ruleID string) error {
	if _, ok := policyFor(ps, ruleID, account, ou); !ok {
		return nil
	}
	crashPoint("before-fix-enqueue")
	_, err := s.client.Insert(ctx, fixArgs{Schedule: sch.Name, FindingID: findingID, TransitionID: transitionID, Account: account, Rule: ruleID, OU: ou},
		&river.InsertOpts{MaxAttempts: fixAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// requeueFixes enqueues again, from the store, the fixes of the findings
// that a scan opened in an account: what queueFixes would have enqueued
// had the process not stopped between recording the account and
// enqueueing its fixes (the store and the job queue do not share a
// transaction on SQLite, where River keeps a pool of its own). It runs
// when a job finds its account recorded already, that is when the job is
// run again after a crash; the openings are the scan's own transitions,
// so an older opening whose fix was tried (and perhaps refused by the
// guard) is not tried again.
func (s *Server) requeueFixes(ctx context.Context, sch *Schedule, scanID int64, account string, management bool) error {
	if management {
		return nil // the management account is never fixed automatically
	}
	ps, err := s.policies(ctx)
	if err != nil || len(ps) == 0 {
		return err
	}
	var rules []string
	for _, p := range ps {
		if !slices.Contains(rules, p.Rule) {
			rules = append(rules, p.Rule)
		}
	}
	now := s.cfg.Clock.Now()
	fs, err := s.st.Findings(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, Accounts: []string{account}, Rules: rules, Now: now})
	if err != nil {
		return err
	}
	for _, f := range fs {
		_, ts, err := s.st.Finding(ctx, f.ID, now)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.ScanID != scanID || t.Suppressed || (t.Kind != lifecycle.New && t.Kind != lifecycle.Regressed) {
				continue
			}
			if err := s.enqueueFix(ctx, ps, sch, f.ID, t.ID, account, f.OU, f.RuleID); err != nil {
				return err
			}
		}
	}
	return nil
}

// fixAttempts is how often a fix job is tried, with River's backoff
// between attempts (1 s, 16 s, 81 s, 256 s). A retry is never blind:
// every attempt plans again from the account as it is then, through the
// guard, so a change made by an earlier attempt is not made twice and a
// key used since is refused. With one attempt, a throttled or refused
// call left an idle root key in place for as long as its finding stayed
// open, since only a new opening queues a fix.
const fixAttempts = 5

// fixArgs is one automatic fix; unique per transition, so a finding is
// fixed at most once each time it opens.
type fixArgs struct {
	Schedule     string `json:"schedule"`
	FindingID    string `json:"finding_id" river:"unique"`
	TransitionID int64  `json:"transition_id" river:"unique"`
	Account      string `json:"account"`
	// Rule and OU find the policy in force when the job runs, so that
	// an admin's change made since (off, plan instead of apply) holds.
	Rule string `json:"rule,omitempty"`
	OU   string `json:"ou,omitempty"`
	// Policy is the config policy's index, what jobs queued before
	// admins could change policies carry instead of Rule.
	Policy int `json:"policy"`
}

func (fixArgs) Kind() string { return "vigil_auto_fix" }

type fixWorker struct {
	river.WorkerDefaults[fixArgs]
	s *Server
}

func (w *fixWorker) Work(ctx context.Context, job *river.Job[fixArgs]) error {
	s, a := w.s, job.Args
	sch, ok := s.byName[a.Schedule]
	if !ok || (a.Rule == "" && a.Policy >= len(s.cfg.AutoFix)) {
		return river.JobCancel(fmt.Errorf("schedule %q or its auto-fix policy is no longer configured", a.Schedule))
	}
	var p AutoFix
	if a.Rule == "" {
		p = s.cfg.AutoFix[a.Policy]
	} else {
		ps, err := s.policies(ctx)
		if err != nil {
			return err
		}
		if p, ok = policyFor(ps, a.Rule, a.Account, a.OU); !ok {
			s.cfg.Logger.Info("auto-fix: no policy covers the finding any more (changed since it opened); nothing done",
				"account", a.Account, "finding", a.FindingID, "rule", a.Rule)
			return nil
		}
	}
	log := s.cfg.Logger.With("account", a.Account, "finding", a.FindingID, "rule", p.Rule)
	o := fix.Options{MinIdle: p.MinIdle, Certificates: p.Rule == "root-signing-certificate", Clock: s.cfg.Clock, Now: s.cfg.Clock.Now}
	var plan *fix.Plan
	var err error
	if sch.Org {
		oo := sch.Options
		oo.Accounts, oo.Exclude, oo.OUs, oo.Parallel = []string{a.Account}, nil, nil, 1
		plan, err = fix.PlanOrg(ctx, sch.Config, oo, o)
	} else {
		plan, err = fix.PlanAccount(ctx, sch.Config, o)
	}
	if err != nil {
		log.Error("auto-fix: cannot plan", "attempt", job.Attempt, "of", job.MaxAttempts, "error", err)
		return fmt.Errorf("auto-fix of %s in %s: plan: %w", a.FindingID, a.Account, err)
	}
	var acct *fix.Account
	for _, pa := range plan.Accounts {
		if pa.ID == a.Account {
			acct = pa
		}
	}
	if acct == nil || acct.Role == snapshot.RoleManagement {
		log.Warn("auto-fix: the account is not in the plan or is the management account; nothing done")
		return nil
	}
	plan.Accounts = []*fix.Account{acct}
	if len(acct.Steps) == 0 {
		log.Warn("auto-fix: nothing the guard allows", "notes", strings.Join(notes(acct), "; "))
		return nil
	}
	now := s.cfg.Clock.Now()
	if !p.Apply {
		_, err := s.st.RecordFix(ctx, a.FindingID, "planned (auto_fix mode plan, nothing changed): "+stepList(acct.Steps), now)
		return err
	}
	if s.cfg.Audit == nil {
		return river.JobCancel(fmt.Errorf("auto_fix in apply mode needs an audit log"))
	}
	aerr := fix.Apply(ctx, plan, fix.ApplyOptions{Audit: s.cfg.Audit, RunID: fmt.Sprintf("serve-fix-%d", job.ID), Parallel: 1, Clock: s.cfg.Clock, Now: s.cfg.Clock.Now})
	out := plan.Outcome()
	if out.Succeeded > 0 {
		detail := fmt.Sprintf("applied (auto_fix mode apply): %s; %d change(s) succeeded, %d failed; audit log %s", stepList(acct.Steps), out.Succeeded, out.Failed, s.cfg.Audit.Path())
		if _, err := s.st.RecordFix(ctx, a.FindingID, detail, s.cfg.Clock.Now()); err != nil {
			return err
		}
		log.Info("auto-fix applied", "succeeded", out.Succeeded, "failed", out.Failed)
	} else {
		log.Error("auto-fix: no change succeeded", "attempt", job.Attempt, "of", job.MaxAttempts, "failed", out.Failed, "skipped", out.Skipped)
	}
	if aerr != nil {
		return river.JobCancel(fmt.Errorf("audit log: %w", aerr))
	}
	if out.Failed > 0 {
		// The next attempt plans again: only what is still to do.
		return fmt.Errorf("auto-fix of %s in %s: %d change(s) failed", a.FindingID, a.Account, out.Failed)
	}
	return nil
}

func stepList(steps []change.Step) string {
	var s []string
	for _, st := range steps {
		s = append(s, st.Action+" "+st.Target)
	}
	return strings.Join(s, ", ")
}

func notes(a *fix.Account) []string {
	out := append([]string(nil), a.Notes...)
	for _, c := range a.Credentials {
		if c.Action == fix.ActRefuse {
			out = append(out, c.Label()+" refused by the guard: "+c.Reason)
		}
	}
	return out
}
