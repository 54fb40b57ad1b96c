package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/rule"
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

// recordNotScanned records an account whose job failed every attempt:
// the not-scanned finding fails, and every finding the account already
// has is observed UNKNOWN, so that it keeps its state (UNKNOWN never
// resolves) and says since when and why nothing is known.
func (s *Server) recordNotScanned(ctx context.Context, a accountArgs, attempts int, cause error) error {
	now := s.cfg.Clock.Now()
	why := fmt.Sprintf("the account could not be scanned (%d attempts): %s", attempts, notify.OneLine(cause.Error()))
	fs, err := s.st.Findings(ctx, store.Filter{Accounts: []string{a.Account}, Now: now})
	if err != nil {
		return err
	}
	res := store.AccountResults{AccountID: a.Account}
	for _, f := range fs {
		if f.RuleID == NotScannedRule || f.State == lifecycle.Gone {
			continue
		}
		if res.OU == "" {
			res.OU = f.OU
		}
		res.Results = append(res.Results, lifecycle.Observation{AccountID: a.Account, AccountName: f.AccountName, RuleID: f.RuleID, Title: f.Title,
			Resource: f.Resource, Status: lifecycle.Unknown, Severity: f.Severity, Message: why})
	}
	res.Results = append(res.Results, notScanned(a.Account, lifecycle.Fail, why))
	_, err = s.st.RecordAccount(ctx, a.ScanID, res, now)
	return err
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
	return []rule.Result{{RuleID: NotScannedRule, Title: notScannedTitle, AccountID: account, Resource: account, Status: rule.Pass,
		Severity: rule.High, Message: "The account was scanned again."}}, nil
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
