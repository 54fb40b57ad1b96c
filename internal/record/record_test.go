package record

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/sqlite"
	"github.com/vigil-sec/vigil/internal/testclock"
)

func result(acct, ruleID string, st rule.Status) rule.Result {
	return rule.Result{Meta: &rule.Meta{RuleID: ruleID, AccountID: acct},
		Status: st, Severity: rule.High, Resource: "arn:aws:iam::" + acct + ":root", Message: string(st),
		Evidence: []rule.Evidence{{Source: "test", Key: "k", Value: "v"}}}
}

func TestAccounts(t *testing.T) {
	rep := &report.Document{Results: []rule.Result{result("111111111111", "a", rule.Fail), result("111111111111", "b", rule.Pass), result("222222222222", "a", rule.Unknown)}}
	snap := &snapshot.Document{Accounts: []snapshot.Account{{ID: "111111111111", Name: "prod", OUPath: []string{"Root", "Workloads"}}, {ID: "222222222222"}}}
	got := Accounts(rep, snap)
	if len(got) != 2 || got[0].AccountID != "111111111111" || len(got[0].Results) != 2 || got[0].OU != "Root/Workloads" || got[0].AccountName != "prod" || len(got[1].Results) != 1 {
		t.Fatalf("%+v", got)
	}
	if o := got[0].Results[0]; o.Status != lifecycle.Fail || string(o.Evidence) != `[{"source":"test","key":"k","value":"v"}]` {
		t.Errorf("observation %+v", o)
	}
}

// TestScanWholeOrganization: a complete scan of a whole organisation
// closes the findings of an account no longer in it; a filtered or
// incomplete one does not.
func TestScanWholeOrganization(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := testclock.Ref()
	both := &report.Document{Results: []rule.Result{result("111111111111", "a", rule.Fail), result("222222222222", "a", rule.Fail)}}
	snapBoth := &snapshot.Document{Accounts: []snapshot.Account{{ID: "111111111111"}, {ID: "222222222222"}}}
	sum, err := Scan(ctx, st, Request{Scan: store.Scan{StartedAt: now}, Report: both, Snapshot: snapBoth, WholeOrganization: true, Calls: 7, Now: now, Finish: true})
	if err != nil || sum.Accounts != 2 || len(sum.Transitions) != 2 {
		t.Fatalf("%+v %v", sum, err)
	}
	one := &report.Document{Results: []rule.Result{result("111111111111", "a", rule.Fail)}}
	snapOne := &snapshot.Document{Accounts: []snapshot.Account{{ID: "111111111111"}}}
	// Incomplete: nothing is concluded about the missing account.
	inc := *snapOne
	inc.Incomplete = &snapshot.Incomplete{Reason: "cancelled"}
	sum, err = Scan(ctx, st, Request{Scan: store.Scan{StartedAt: now}, Report: one, Snapshot: &inc, WholeOrganization: true, Now: now, Finish: true})
	if err != nil || len(sum.Transitions) != 0 {
		t.Fatalf("incomplete: %+v %v", sum, err)
	}
	if sc, _ := st.Scan(ctx, sum.Scan.ID); sc.Outcome != store.Incomplete || sc.Message != "cancelled" {
		t.Errorf("incomplete scan recorded as %s %q", sc.Outcome, sc.Message)
	}
	// Incomplete by the caller's word (accounts it could not scan): the
	// reasons are joined, and nothing is concluded either.
	sum, err = Scan(ctx, st, Request{Scan: store.Scan{StartedAt: now}, Report: one, Snapshot: &inc, WholeOrganization: true, Now: now, Finish: true,
		Incomplete: "1 of 2 accounts could not be scanned"})
	if err != nil || len(sum.Transitions) != 0 {
		t.Fatalf("incomplete by the caller: %+v %v", sum, err)
	}
	if sc, _ := st.Scan(ctx, sum.Scan.ID); sc.Outcome != store.Incomplete || sc.Message != "cancelled; 1 of 2 accounts could not be scanned" {
		t.Errorf("incomplete scan recorded as %s %q", sc.Outcome, sc.Message)
	}
	sum, err = Scan(ctx, st, Request{Scan: store.Scan{StartedAt: now}, Report: one, Snapshot: snapOne, WholeOrganization: true, Now: now, Finish: true,
		Incomplete: "1 of 2 accounts could not be scanned"})
	if err != nil || len(sum.Transitions) != 0 {
		t.Fatalf("incomplete by the caller closed findings: %+v %v", sum, err)
	}
	if sc, _ := st.Scan(ctx, sum.Scan.ID); sc.Outcome != store.Incomplete || sc.Message != "1 of 2 accounts could not be scanned" {
		t.Errorf("incomplete scan recorded as %s %q", sc.Outcome, sc.Message)
	}
	// Filtered: not the whole organisation.
	sum, _ = Scan(ctx, st, Request{Scan: store.Scan{StartedAt: now}, Report: one, Snapshot: snapOne, Now: now, Finish: true})
	if len(sum.Transitions) != 0 {
		t.Fatalf("filtered scan closed findings: %+v", sum.Transitions)
	}
	sum, _ = Scan(ctx, st, Request{Scan: store.Scan{StartedAt: now}, Report: one, Snapshot: snapOne, WholeOrganization: true, Now: now, Finish: true})
	if len(sum.Transitions) != 1 || sum.Transitions[0].Kind != lifecycle.GoneKind {
		t.Fatalf("the account that left: %+v", sum.Transitions)
	}
	scans, _ := st.Scans(ctx, 10)
	if first := scans[len(scans)-1]; first.Calls != 7 || first.Accounts != 2 || first.Outcome != store.Complete {
		t.Errorf("first scan %+v", first)
	}
}
