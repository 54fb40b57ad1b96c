package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/store"
)

// NotScannedRule is the finding an account gets when its job failed
// every attempt: Vigil is blind to that account, and a root key created
// there now would go unseen. It is a finding like any other, so that it
// is listed, kept with its history and alerted (new, and resolved once
// the account is scanned again) through the outbox like the rules'
// findings, without a channel of its own.
const NotScannedRule = "vigil-account-not-scanned"

// notScannedTitle is the finding's title.
const notScannedTitle = "Vigil could not scan the account"

// recordNotScanned records accounts a tick could not scan (an account
// job that failed every attempt, a schedule whose scan failed as a
// whole): the not-scanned finding fails, and every finding the account
// already has is observed UNKNOWN, so that it keeps its state (UNKNOWN
// never resolves) and says since when and why nothing is known. In
// batches: an organisation that cannot be listed is thousands of them,
// and one batch's findings is what is held at once.
func (s *Server) recordNotScanned(ctx context.Context, scanID int64, accounts []string, why string) error {
	const batch = 500
	for i := 0; i < len(accounts); i += batch {
		part := accounts[i:min(i+batch, len(accounts))]
		now := s.cfg.Clock.Now()
		fs, err := s.st.Findings(ctx, store.Filter{Accounts: part, Now: now})
		if err != nil {
			return err
		}
		by := make(map[string]*store.AccountResults, len(part))
		res := make([]store.AccountResults, len(part))
		for j, a := range part {
			res[j].AccountID = a
			res[j].AccountName = standInName(a)
			by[a] = &res[j]
		}
		for _, f := range fs {
			r := by[f.AccountID]
			if r == nil || f.RuleID == NotScannedRule || f.State == lifecycle.Gone {
				continue
			}
			if r.OU == "" {
				r.OU = f.OU
			}
			if r.AccountName == "" {
				r.AccountName = f.AccountName
			}
			r.Results = append(r.Results, lifecycle.Observation{AccountID: f.AccountID, AccountName: f.AccountName, RuleID: f.RuleID, Title: f.Title,
				Resource: f.Resource, Status: lifecycle.Unknown, Severity: f.Severity, Message: why})
		}
		for j := range res {
			res[j].Results = append(res[j].Results, notScanned(res[j].AccountID, lifecycle.Fail, why))
		}
		if _, err := s.st.RecordAccounts(ctx, scanID, res, now); err != nil {
			return err
		}
	}
	return nil
}

// missedAccounts records as not scanned, with why, each account the
// schedule's latest scan that recorded any accounts recorded and that is
// not among reached; it returns them. A schedule that never recorded an
// account stands for the accounts its config names (its role targets',
// its organisation filter's), or, naming none, for itself (standIn): a
// first scan refused by STS is as blind as any later one, and is alerted
// the same way.
func (s *Server) missedAccounts(ctx context.Context, sch *Schedule, scanID int64, reached []string, why string) ([]string, error) {
	known, err := s.scheduleAccounts(ctx, sch.Name, scanID)
	if err != nil {
		return nil, err
	}
	stand := standIn(sch.Name)
	if len(known) > 1 {
		known = slices.DeleteFunc(known, func(a string) bool { return a == stand })
	}
	if len(known) == 0 || (len(known) == 1 && known[0] == stand) {
		known = namedAccounts(sch)
		if len(known) == 0 {
			known = []string{stand}
		}
	}
	var out []string
	for _, a := range known {
		if !slices.Contains(reached, a) {
			out = append(out, a)
		}
	}
	return out, s.recordNotScanned(ctx, scanID, out, why)
}

// standIn is the account under which a schedule that never recorded an
// account, and names none, records its not-scanned finding: listed,
// alerted and resolved like an account's, with the schedule's name.
func standIn(schedule string) string { return "schedule:" + schedule }

// standInName is the stand-in's account name, for lists and alerts.
func standInName(account string) string {
	if name, ok := strings.CutPrefix(account, "schedule:"); ok {
		return "schedule " + name + " (no account recorded yet)"
	}
	return ""
}

// namedAccounts lists the accounts a schedule's config names: those of
// its role targets' ARNs, and an organisation schedule's account filter.
func namedAccounts(sch *Schedule) []string {
	var out []string
	for _, t := range sch.Targets {
		if a, err := arn.Parse(t.RoleARN); err == nil && a.AccountID != "" && !slices.Contains(out, a.AccountID) {
			out = append(out, a.AccountID)
		}
	}
	if sch.Org {
		for _, a := range sch.Options.Accounts {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}

// clearStandIn resolves the schedule's stand-in not-scanned finding,
// when open, once the schedule has recorded its accounts.
func (s *Server) clearStandIn(ctx context.Context, sch *Schedule, scanID int64, now time.Time) error {
	stand := standIn(sch.Name)
	clear, err := s.clearNotScanned(ctx, scanID, stand, now)
	if err != nil || len(clear) == 0 {
		return err
	}
	_, err = s.st.RecordAccounts(ctx, scanID, []store.AccountResults{{AccountID: stand,
		Results: []lifecycle.Observation{notScanned(stand, lifecycle.Pass, "The schedule scanned its accounts.")}}}, now)
	return err
}

// scheduleAccounts lists the accounts of the latest scan of the schedule
// before scan id that recorded any.
func (s *Server) scheduleAccounts(ctx context.Context, schedule string, id int64) ([]string, error) {
	scans, err := s.st.Scans(ctx, 200)
	if err != nil {
		return nil, err
	}
	for _, sc := range scans {
		if sc.Schedule != schedule || sc.ID >= id || sc.Accounts == 0 {
			continue
		}
		return s.st.ScanAccountIDs(ctx, sc.ID)
	}
	return nil, nil
}

// failedAttempts says why an account's job or a schedule's scan gave up.
func failedAttempts(attempts int, cause error) string {
	return fmt.Sprintf("the account could not be scanned (%d attempts): %s", attempts, notify.OneLine(cause.Error()))
}

// unreadable lists the accounts of a scan that could not be read at all,
// with why: no way in (a role that cannot be assumed, AssumeRoot refused,
// credentials that name no identity). Every rule's result for such an
// account is UNKNOWN, which keeps its findings as they were, so without
// the not-scanned finding an account whose audit role was deleted would
// go quiet without anyone being told. A run stopped half-way is not
// unreadable: its accounts are scanned again.
func unreadable(doc *snapshot.Document) map[string]string {
	out := map[string]string{}
	if doc == nil {
		return out
	}
	for _, a := range doc.Accounts {
		for _, g := range a.Gaps {
			if g.Section == snapshot.SectionAccess && g.Code != fleet.CodeCancelled {
				out[a.ID] = "the account could not be read: " + g.Call + ": " + notify.OneLine(g.Text())
				break
			}
		}
	}
	return out
}

// notScannedResult is the not-scanned finding as a rule's result, for an
// account recorded with the rules' results.
func notScannedResult(account string, status rule.Status, message string) rule.Result {
	return rule.Result{Meta: &rule.Meta{RuleID: NotScannedRule, Title: notScannedTitle, AccountID: account},
		Resource: account, Status: status,
		Severity: rule.High, Message: message}
}

// notScanned is the not-scanned finding's observation.
func notScanned(account, status, message string) lifecycle.Observation {
	if message == "" {
		message = "The account was scanned."
	}
	return lifecycle.Observation{AccountID: account, RuleID: NotScannedRule, Title: notScannedTitle, Resource: account,
		Status: status, Severity: int(rule.High), Message: message}
}

// clearNotScanned adds a PASS of the not-scanned finding to a scanned
// account's results when it has that finding open, which resolves it.
// Accounts without one get nothing added, so their stored results stay
// as they were.
func (s *Server) clearNotScanned(ctx context.Context, scanID int64, account string, now time.Time) ([]rule.Result, error) {
	blind, err := s.blind.of(ctx, s.st, scanID, now)
	if err != nil || !blind[account] {
		return nil, err
	}
	return []rule.Result{notScannedResult(account, rule.Pass, "The account was scanned again.")}, nil
}

// blindAccounts holds, per scan being recorded, the accounts whose
// not-scanned finding was open when this replica's first job of that
// scan asked: one read a tick, where a read per account job (two
// queries, on PostgreSQL sometimes an index scan of every open finding)
// cost more than the rest of the job's reads. Within a tick no account's
// not-scanned finding opens before its own job has scanned it: the
// finding opens only when that job gives up.
type blindAccounts struct {
	mu     sync.Mutex
	byScan map[int64]*blindSet
}

type blindSet struct {
	once sync.Once
	ids  map[string]bool
	err  error
}

func (b *blindAccounts) of(ctx context.Context, st Store, scanID int64, now time.Time) (map[string]bool, error) {
	b.mu.Lock()
	set, ok := b.byScan[scanID]
	if !ok {
		if b.byScan == nil {
			b.byScan = map[int64]*blindSet{}
		}
		if len(b.byScan) >= keepReadings {
			oldest := scanID
			for k := range b.byScan {
				oldest = min(oldest, k)
			}
			delete(b.byScan, oldest)
		}
		set = &blindSet{}
		b.byScan[scanID] = set
	}
	b.mu.Unlock()
	set.once.Do(func() {
		fs, err := st.Findings(ctx, store.Filter{Rules: []string{NotScannedRule}, States: []lifecycle.State{lifecycle.Open}, Now: now})
		if err != nil {
			set.err = fmt.Errorf("accounts not scanned before: %w", err)
			return
		}
		set.ids = make(map[string]bool, len(fs))
		for _, f := range fs {
			set.ids[f.AccountID] = true
		}
	})
	if set.err != nil {
		// Read again by the next job rather than failing every job of
		// the tick on one error.
		b.mu.Lock()
		if b.byScan[scanID] == set {
			delete(b.byScan, scanID)
		}
		b.mu.Unlock()
	}
	return set.ids, set.err
}

// notScannedIn lists the accounts a scan could not scan: those whose
// not-scanned finding failed since the scan started.
func (s *Server) notScannedIn(ctx context.Context, sc store.Scan) ([]string, error) {
	fs, err := s.st.Findings(ctx, store.Filter{Rules: []string{NotScannedRule}, States: []lifecycle.State{lifecycle.Open}, Now: s.cfg.Clock.Now()})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range fs {
		if !f.LastSeen.Before(sc.StartedAt) {
			out = append(out, f.AccountID)
		}
	}
	return out, nil
}

// partialMessage says which accounts a tick could not scan.
func partialMessage(failed []string, of int) string {
	const named = 10
	list := failed
	more := ""
	if len(list) > named {
		list, more = list[:named], fmt.Sprintf(" and %d more", len(failed)-named)
	}
	return fmt.Sprintf("%d of %d accounts could not be scanned (%s%s); their findings keep their state, marked UNKNOWN, and each has an open %s finding",
		len(failed), of, strings.Join(list, ", "), more, NotScannedRule)
}
