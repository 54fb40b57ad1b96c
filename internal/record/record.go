// Package record turns a finished scan into history: it groups a
// report's results by account, hands each account's results to the store
// (which applies the finding lifecycle and writes the transitions and
// their outbox entries in one transaction), and closes the findings of
// accounts that left the organisation. `vigil scan --db` and `vigil serve`
// both record through it.
package record

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/store"
)

// Recorder is what recording needs of a store.
type Recorder interface {
	StartScan(ctx context.Context, s store.Scan) (store.Scan, error)
	RecordAccounts(ctx context.Context, scanID int64, as []store.AccountResults, now time.Time) ([]store.Recorded, error)
	LeaveAccounts(ctx context.Context, scanID int64, present []string, now time.Time) ([]store.Transition, error)
	FinishScan(ctx context.Context, scanID int64, end store.End) error
}

// Request is one scan to record.
type Request struct {
	// Scan describes it; Scan.ID, when set, names a scan started already
	// (a schedule's tick).
	Scan store.Scan
	// Report holds the results (redacted by report.Build, so no secret
	// reaches the store); Snapshot the accounts' OU paths.
	Report   *report.Document
	Snapshot *snapshot.Document
	// WholeOrganization says the scan covered every account of the
	// organisation, so that an account with findings that is no longer
	// among them has left it.
	WholeOrganization bool
	// Calls is how many AWS calls the scan made: the account's when it
	// records one account of a tick.
	Calls int
	// Now dates the transitions.
	Now time.Time
	// Finish ends the scan after recording (false when other accounts of
	// the same tick are still to come).
	Finish bool
	// Incomplete, when set, says what the scan missed besides what its
	// snapshot says (accounts the caller could not scan): the scan ends
	// incomplete.
	Incomplete string
}

// Summary is what recording changed.
type Summary struct {
	Scan        store.Scan
	Accounts    int
	Transitions []store.Transition
	// Progress is the scan's, as the last recording left it.
	Progress store.Progress
}

// Scan records req.
func Scan(ctx context.Context, st Recorder, req Request) (Summary, error) {
	sum := Summary{Scan: req.Scan}
	if sum.Scan.ID == 0 {
		sc, err := st.StartScan(ctx, req.Scan)
		if err != nil {
			return sum, err
		}
		sum.Scan = sc
	}
	byAccount := Accounts(req.Report, req.Snapshot)
	calls := req.Calls
	if len(byAccount) == 1 && !req.Finish {
		// One account of a tick: its calls are its own.
		byAccount[0].Calls, calls = calls, 0
	}
	// In batches: one transaction per account would cost a commit each,
	// one for thousands would hold the write lock for long. 1,000
	// accounts hold it a fifth of a 5,000-account recording (under half
	// a second on a quiet machine): each transaction writes
	// again the index pages it touches (the findings' IDs are hashes, so
	// every batch touches most of them), and 500 wrote them twice as
	// often.
	const batch = 1000
	for i := 0; i < len(byAccount); i += batch {
		recs, err := st.RecordAccounts(ctx, sum.Scan.ID, byAccount[i:min(i+batch, len(byAccount))], req.Now)
		if err != nil {
			return sum, err
		}
		for _, rec := range recs {
			if !rec.Already {
				sum.Accounts++
				sum.Progress = rec.Progress
			}
			sum.Transitions = append(sum.Transitions, rec.Transitions...)
		}
	}
	if req.WholeOrganization && req.Snapshot != nil && req.Snapshot.Incomplete == nil && req.Incomplete == "" {
		present := make([]string, 0, len(req.Snapshot.Accounts))
		for _, a := range req.Snapshot.Accounts {
			present = append(present, a.ID)
		}
		ts, err := st.LeaveAccounts(ctx, sum.Scan.ID, present, req.Now)
		if err != nil {
			return sum, err
		}
		sum.Transitions = append(sum.Transitions, ts...)
	}
	if req.Finish {
		end := store.End{Outcome: store.Complete, Calls: calls, At: req.Now}
		var why []string
		if req.Snapshot != nil && req.Snapshot.Incomplete != nil {
			why = append(why, req.Snapshot.Incomplete.Reason)
		}
		if req.Incomplete != "" {
			why = append(why, req.Incomplete)
		}
		if len(why) > 0 {
			end.Outcome, end.Message = store.Incomplete, strings.Join(why, "; ")
		}
		if err := st.FinishScan(ctx, sum.Scan.ID, end); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// Accounts groups a report's results by account, in account order, with
// each account's name and OU path from the snapshot.
func Accounts(rep *report.Document, snap *snapshot.Document) []store.AccountResults {
	ou := map[string]string{}
	names := map[string]string{}
	var order []string
	if snap != nil {
		for _, a := range snap.Accounts {
			if len(a.OUPath) > 0 {
				ou[a.ID] = strings.Join(a.OUPath, "/")
			}
			names[a.ID] = a.Name
		}
	}
	by := map[string]*store.AccountResults{}
	for _, r := range rep.Results {
		a, ok := by[r.AccountID]
		if !ok {
			a = &store.AccountResults{AccountID: r.AccountID, AccountName: names[r.AccountID], OU: ou[r.AccountID]}
			by[r.AccountID] = a
			order = append(order, r.AccountID)
		}
		a.Results = append(a.Results, Observation(r))
	}
	out := make([]store.AccountResults, 0, len(order))
	for _, id := range order {
		out = append(out, *by[id])
	}
	return out
}

// Observation is a rule result as the lifecycle sees it.
func Observation(r rule.Result) lifecycle.Observation {
	ev, err := json.Marshal(r.Evidence)
	if err != nil || len(r.Evidence) == 0 {
		ev = nil
	}
	return lifecycle.Observation{
		AccountID: r.AccountID, AccountName: r.AccountName, RuleID: r.RuleID, Title: r.Title, Resource: r.Resource,
		Status: string(r.Status), Severity: int(r.Severity), Message: r.Message, Evidence: ev,
	}
}

// Describe says in words what a scan covered, for `vigil scans`.
func Describe(snap *snapshot.Document) string {
	if snap == nil {
		return ""
	}
	n := len(snap.Accounts)
	if snap.Organization != nil {
		return fmt.Sprintf("organisation %s (%d accounts)", snap.Organization.ID, n)
	}
	if n == 1 {
		return "account " + snap.Accounts[0].ID
	}
	return fmt.Sprintf("%d accounts", n)
}
