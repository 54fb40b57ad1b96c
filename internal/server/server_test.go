package server

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/store"
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
