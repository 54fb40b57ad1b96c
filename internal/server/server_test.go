package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/sqlite"
	"github.com/vigil-sec/vigil/internal/testclock"
)

func TestAutoFixCovers(t *testing.T) {
	cases := []struct {
		p       AutoFix
		account string
		ou      string
		want    bool
	}{
		{AutoFix{}, "111111111111", "", true},
		{AutoFix{Accounts: []string{"111111111111"}}, "111111111111", "", true},
		{AutoFix{Accounts: []string{"111111111111"}}, "222222222222", "Root/Workloads", false},
		{AutoFix{OUs: []string{"Workloads"}}, "222222222222", "Root/Workloads/Prod", true},
		{AutoFix{OUs: []string{"Root/Workloads/"}}, "222222222222", "Root/Workloads", true},
		{AutoFix{OUs: []string{"Work"}}, "222222222222", "Root/Workloads", false},
		{AutoFix{OUs: []string{"Workloads"}}, "222222222222", "", false},
	}
	for _, c := range cases {
		if got := c.p.covers(c.account, c.ou); got != c.want {
			t.Errorf("%+v covers(%s, %q) = %v", c.p, c.account, c.ou, got)
		}
	}
}

func TestToNotify(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f := &store.Finding{Finding: lifecycle.Finding{ID: "f-1", AccountID: "111111111111", AccountName: "prod", RuleID: "root-access-key", Title: "Root user has access keys",
		Resource: "arn:aws:iam::111111111111:root", State: lifecycle.Open, FirstSeen: at, LastSeen: at, Regressions: 2,
		Evidence: []byte(`[{"source":"iam:GetAccountSummary","key":"AccountAccessKeysPresent","value":"1"}]`)},
		Suppression: &store.Suppression{Owner: "a"}}
	d := store.Delivery{ID: "dlv_1", Channel: "c", CreatedAt: at, Transitions: []store.Transition{
		{FindingID: "f-1", Kind: lifecycle.Regressed, At: at, Status: "FAIL", Severity: int(rule.Critical), Message: "m", Detail: "d", Finding: f},
	}}
	n := NotifyDelivery(d, "")
	if n.ID != "dlv_1" || n.Channel != "c" || len(n.Events) != 1 {
		t.Fatalf("%+v", n)
	}
	e := n.Events[0]
	if e.Transition != notify.Regressed || e.Finding.AccountID != "111111111111" || e.Finding.Severity != rule.Critical || e.Finding.Status != rule.Fail ||
		e.Finding.State != "suppressed" || len(e.Finding.Evidence) != 1 || e.Finding.Evidence[0].Value != "1" || e.Finding.Regressions != 2 || e.Detail != "d" {
		t.Errorf("%+v", e)
	}
	if e.Finding.Link != "" {
		t.Errorf("a link without a public URL: %q", e.Finding.Link)
	}
	if l := NotifyDelivery(d, "https://vigil.example.com/sec").Events[0].Finding.Link; l != "https://vigil.example.com/sec/findings/f-1" {
		t.Errorf("the finding's link: %q", l)
	}
}

// TestPreviousRunningSeesPastSkippedTicks: a tick skipped while an
// earlier one ran is recorded as failed; the tick after it must still
// see the earlier one running (it once judged by the skipped one alone
// and started a second scan of every account beside the first).
func TestPreviousRunningSeesPastSkippedTicks(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "v.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &Server{st: st, cfg: Config{Clock: clock.Pinned{T: testclock.Ref()}}}
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	running, err := st.StartScan(ctx, store.Scan{Schedule: "org", Tick: t0, StartedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.skipStarted(ctx, tickArgs{Schedule: "org", Tick: ptr(t0.Add(time.Minute))}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if busy, err := s.previousRunning(ctx, "org", t0.Add(2*time.Minute)); err != nil || !busy {
		t.Fatalf("after a skipped tick: previous running %v, %v; want true", busy, err)
	}
	if err := st.FinishScan(ctx, running.ID, store.End{Outcome: store.Complete, At: t0.Add(3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if busy, err := s.previousRunning(ctx, "org", t0.Add(2*time.Minute)); err != nil || busy {
		t.Fatalf("once the earlier tick completed: previous running %v, %v; want false", busy, err)
	}
	// A failed tick that was not skipped ends the look back, as before:
	// a scan left running under it does not hold the schedule for good.
	if _, err := st.StartScan(ctx, store.Scan{Schedule: "other", Tick: t0, StartedAt: t0}); err != nil {
		t.Fatal(err)
	}
	failed, err := st.StartScan(ctx, store.Scan{Schedule: "other", Tick: t0.Add(time.Minute), StartedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishScan(ctx, failed.ID, store.End{Outcome: store.Failed, Message: "organizations:ListAccounts: denied", At: t0}); err != nil {
		t.Fatal(err)
	}
	if busy, err := s.previousRunning(ctx, "other", t0.Add(2*time.Minute)); err != nil || busy {
		t.Fatalf("after a failed tick: previous running %v, %v; want false", busy, err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestRootDeliveryLinks: a root event's alert links to the account's
// root-activity timeline when the dashboard has a public URL, and to
// nothing without one.
func TestRootDeliveryLinks(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	es := []store.RootEvent{{ID: 1, EventID: "e-1", Account: "111111111111", Name: "CreateAccessKey", Kind: "CreateAccessKey", Time: at}}
	if l := rootDelivery(es, "c", 1, at, "").Events[0].Finding.Link; l != "" {
		t.Errorf("a link without a public URL: %q", l)
	}
	if l := rootDelivery(es, "c", 1, at, "https://vigil.example.com/sec").Events[0].Finding.Link; l != "https://vigil.example.com/sec/accounts/111111111111#root-activity" {
		t.Errorf("the event's link: %q", l)
	}
}
