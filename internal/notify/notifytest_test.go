package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/testclock"
)

func event(tr notify.Transition, sev rule.Severity, account, ruleID string) notify.Event {
	return notify.Event{Transition: tr, At: testclock.Ref(), Finding: notify.Finding{
		ID: account + "/" + ruleID, AccountID: account, RuleID: ruleID, Resource: "arn:aws:iam::" + account + ":root", Severity: sev, Status: rule.Fail,
	}}
}

func TestFilter(t *testing.T) {
	newHigh := event(notify.New, rule.High, "111122223333", "root-access-key")
	newLow := event(notify.New, rule.Low, "111122223333", "root-mfa")
	resolvedCrit := event(notify.Resolved, rule.Critical, "444455556666", "root-access-key")
	all := []notify.Event{newHigh, newLow, resolvedCrit}
	for _, tc := range []struct {
		name   string
		filter notify.Filter
		want   []notify.Event
	}{
		{"zero filter takes all", notify.Filter{}, all},
		{"min severity", notify.Filter{MinSeverity: rule.High}, []notify.Event{newHigh, resolvedCrit}},
		{"transitions", notify.Filter{On: []notify.Transition{notify.New}}, []notify.Event{newHigh, newLow}},
		{"both", notify.Filter{On: []notify.Transition{notify.Resolved, notify.Fixed}, MinSeverity: rule.Critical}, []notify.Event{resolvedCrit}},
		{"nothing matches", notify.Filter{On: []notify.Transition{notify.Fixed}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, tc.filter.Apply(all)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParseTransition(t *testing.T) {
	for _, tr := range notify.Transitions {
		if got, err := notify.ParseTransition(string(tr)); err != nil || got != tr {
			t.Errorf("ParseTransition(%q) = %q, %v", tr, got, err)
		}
	}
	if _, err := notify.ParseTransition("New"); err == nil {
		t.Error("transitions are lower case")
	}
}

func TestOrdered(t *testing.T) {
	in := []notify.Event{
		event(notify.Resolved, rule.Critical, "1", "a"),
		event(notify.New, rule.Low, "1", "a"),
		event(notify.New, rule.Critical, "2", "a"),
		event(notify.New, rule.Critical, "1", "b"),
		event(notify.Regressed, rule.Info, "1", "a"),
	}
	var got []string
	for _, e := range notify.Ordered(in) {
		got = append(got, fmt.Sprintf("%s/%s/%s/%s", e.Transition, e.Finding.Severity, e.Finding.AccountID, e.Finding.RuleID))
	}
	want := []string{"new/critical/1/b", "new/critical/2/a", "new/low/1/a", "regressed/info/1/a", "resolved/critical/1/a"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if in[0].Transition != notify.Resolved {
		t.Error("Ordered modified its input")
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"temporary", notify.Temporary("x", errors.New("boom")), true},
		{"permanent", notify.Permanent("x", errors.New("boom")), false},
		{"wrapped temporary", fmt.Errorf("job: %w", notify.Temporary("x", errors.New("boom"))), true},
		{"deadline", fmt.Errorf("send: %w", context.DeadlineExceeded), true},
		{"cancelled (service stopping)", context.Canceled, true},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"net.Error", timeoutErr{}, true},
		{"unclassified", errors.New("something"), false},
		{"HTTP 500", notify.HTTPStatus("x", 500, "", ""), true},
		{"HTTP 503", notify.HTTPStatus("x", 503, "", ""), true},
		{"HTTP 429", notify.HTTPStatus("x", 429, "7", ""), true},
		{"HTTP 408", notify.HTTPStatus("x", 408, "", ""), true},
		{"HTTP 400", notify.HTTPStatus("x", 400, "", ""), false},
		{"HTTP 401", notify.HTTPStatus("x", 401, "", ""), false},
		{"HTTP 404", notify.HTTPStatus("x", 404, "", ""), false},
		{"HTTP 410", notify.HTTPStatus("x", 410, "", ""), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := notify.Retryable(tc.err); got != tc.want {
				t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
	if err := notify.HTTPStatus("x", 204, "", ""); err != nil {
		t.Errorf("2xx is success: %v", err)
	}
	if d := notify.RetryAfter(notify.HTTPStatus("x", 429, "7", "")); d != 7*time.Second {
		t.Errorf("RetryAfter = %v", d)
	}
	if msg := notify.HTTPStatus("slack", 404, "", "no_service").Error(); msg != "slack: receiver answered HTTP 404: no_service (permanent)" {
		t.Errorf("message %q", msg)
	}
}

func TestText(t *testing.T) {
	asOf := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	d := notify.Delivery{ID: "dlv-1", Channel: "secops", Events: []notify.Event{
		{Transition: notify.Resolved, At: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Detail: "resolved after 3d 4h", Finding: notify.Finding{AccountID: "444455556666", RuleID: "root-mfa", Title: "Root user has no MFA", Severity: rule.High, Message: "MFA on", Regressions: 2}},
		{Transition: notify.New, At: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Finding: notify.Finding{
			AccountID: "111122223333", AccountName: "prod\x1b[31m\nX-Injected: 1", RuleID: "root-access-key", Resource: "arn:aws:iam::111122223333:root",
			Severity: rule.Critical, Message: "The root user has an access key.", Link: "https://vigil.example.com/findings/f1",
			Evidence: []rule.Evidence{{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"}, {Source: "credential report", Key: "access_key_1_active", Value: "true", AsOf: &asOf}, {Source: "iam:ListAccessKeys", Error: "AccessDenied"}},
		}},
	}}
	want := `Vigil alert for secops: 1 new, 1 resolved

NEW  critical  root-access-key  prod [31m X-Injected: 1 (111122223333)
  resource: arn:aws:iam::111122223333:root
  The root user has an access key.
  evidence: iam:GetAccountSummary AccountAccessKeysPresent=1
  evidence: credential report access_key_1_active=true (as of 2026-11-25 00:00 UTC)
  evidence: iam:ListAccessKeys: AccessDenied
  at: 2026-11-26 12:00:00 UTC
  link: https://vigil.example.com/findings/f1

RESOLVED  high  root-mfa  444455556666
  Root user has no MFA
  MFA on
  resolved after 3d 4h
  regressions: 2
  at: 2026-11-26 12:00:00 UTC

Delivery dlv-1
`
	if d := cmp.Diff(want, notify.Text(d)); d != "" {
		t.Errorf("Text (-want +got):\n%s", d)
	}
	if s := notify.Subject(d); s != "Vigil: 2 changes (1 new, 1 resolved)" {
		t.Errorf("Subject = %q", s)
	}
	d.Events = d.Events[1:]
	if s := notify.Subject(d); s != "Vigil: new critical: root-access-key in prod [31m X-Injected: 1 (111122223333)" || strings.ContainsAny(s, "\r\n\x1b") {
		t.Errorf("Subject = %q", s)
	}
}

// TestBurstSubject: a burst of root events says how many, where and
// which.
func TestBurstSubject(t *testing.T) {
	root := func(account, name string) notify.Event {
		return notify.Event{Transition: notify.RootActivity, Finding: notify.Finding{AccountID: account, Severity: rule.Critical},
			Activity: &notify.Activity{EventName: name}}
	}
	for _, tc := range []struct {
		events []notify.Event
		want   string
	}{
		{[]notify.Event{root("111122223333", "ConsoleLogin"), root("111122223333", "CreateAccessKey"), root("111122223333", "ConsoleLogin")},
			"Vigil: 3 root events in 111122223333: ConsoleLogin, CreateAccessKey"},
		{[]notify.Event{root("1", "A"), root("1", "B"), root("2", "C"), root("2", "D\nX-Injected: 1")},
			"Vigil: 4 root events in 2 accounts: A, B, C, …"},
		{[]notify.Event{root("1", "A"), {Transition: notify.New, Finding: notify.Finding{AccountID: "1", RuleID: "root-access-key"}}},
			"Vigil: 2 changes (1 new, 1 root activity)"},
	} {
		if got := notify.Subject(notify.Delivery{Events: tc.events}); got != tc.want {
			t.Errorf("Subject = %q, want %q", got, tc.want)
		}
	}
}

func TestDeliveryID(t *testing.T) {
	a := notify.DeliveryID("secops", "scan-42")
	if a != notify.DeliveryID("secops", "scan-42") {
		t.Error("not deterministic")
	}
	if len(a) != len("dlv_")+24 || !strings.HasPrefix(a, "dlv_") || strings.ToLower(a) != a {
		t.Errorf("shape %q", a)
	}
	seen := map[string]bool{}
	for _, parts := range [][]string{{"secops", "scan-42"}, {"secops", "scan-43"}, {"slack", "scan-42"}, {"a", "bc"}, {"ab", "c"}, {"abc"}, {}} {
		id := notify.DeliveryID(parts...)
		if seen[id] {
			t.Errorf("%v collides", parts)
		}
		seen[id] = true
	}
}

func TestDeliveries(t *testing.T) {
	at := testclock.Ref()
	events := []notify.Event{
		event(notify.Resolved, rule.High, "1", "a"),
		event(notify.New, rule.Critical, "2", "a"),
		event(notify.New, rule.Low, "3", "a"),
	}
	filters := map[string]notify.Filter{
		"slack":  {},
		"pager":  {On: []notify.Transition{notify.New}, MinSeverity: rule.Critical},
		"silent": {On: []notify.Transition{notify.Fixed}},
	}
	got := notify.Deliveries("scan-7", at, events, filters)
	if len(got) != 2 || got[0].Channel != "pager" || got[1].Channel != "slack" {
		t.Fatalf("deliveries %+v", got)
	}
	if len(got[0].Events) != 1 || got[0].Events[0].Finding.AccountID != "2" || len(got[1].Events) != 3 || got[1].Events[0].Transition != notify.New {
		t.Errorf("events %+v", got)
	}
	if got[0].ID != notify.DeliveryID("pager", "scan-7") || !got[0].At.Equal(at) {
		t.Errorf("ID %q at %v", got[0].ID, got[0].At)
	}
	again := notify.Deliveries("scan-7", at, events, filters)
	if again[1].ID != got[1].ID {
		t.Error("the same source gives other IDs")
	}
	if other := notify.Deliveries("scan-8", at, events, filters); other[1].ID == got[1].ID {
		t.Error("another source gives the same ID")
	}
}

// TestTextDigest: past TextDetailed events, each still has its line.
func TestTextDigest(t *testing.T) {
	d := notify.Delivery{ID: "d", Channel: "mail"}
	n := notify.TextDetailed + 50
	for i := range n {
		d.Events = append(d.Events, event(notify.New, rule.Critical, fmt.Sprintf("%012d", i), "root-access-key"))
	}
	text := notify.Text(d)
	for i := range n {
		if !strings.Contains(text, fmt.Sprintf("%012d", i)) {
			t.Fatalf("account %d is not listed", i)
		}
	}
	if !strings.Contains(text, "\nAnd 50 more:\n  NEW  critical  root-access-key  000000000200  arn:aws:iam::000000000200:root\n") {
		t.Errorf("the compact list:\n%s", text[strings.Index(text, "And "):][:300])
	}
	if got := strings.Count(text, "resource: "); got != notify.TextDetailed {
		t.Errorf("%d detailed events, want %d", got, notify.TextDetailed)
	}
}
