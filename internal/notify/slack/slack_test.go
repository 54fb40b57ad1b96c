package slack_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/notify/slack"
	"github.com/vigil-sec/vigil/internal/rule"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// at is fixed (not the test clock): the golden bytes hold it.
var at = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func finding(i int, sev rule.Severity) notify.Finding {
	acct := fmt.Sprintf("%012d", 100000000000+i)
	return notify.Finding{
		ID: fmt.Sprintf("f-%03d", i), AccountID: acct, AccountName: fmt.Sprintf("member-%03d", i), RuleID: "root-access-key",
		Resource: "arn:aws:iam::" + acct + ":root", Severity: sev, Status: rule.Fail,
		Message:  "The root user has an active access key.",
		Evidence: []rule.Evidence{{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"}},
		Link:     fmt.Sprintf("https://vigil.example.com/findings/f-%03d", i),
	}
}

func small() notify.Delivery {
	hostile := finding(2, rule.High)
	hostile.AccountName = "<!channel> & friends"
	hostile.RuleID = "root-mfa"
	hostile.Message = "MFA is off\n*bold* <https://evil.example.com|click>"
	hostile.Link = "https://vigil.example.com/f?a=1&b=2"
	hostile.Title = "Root user has no MFA"
	suppressed := finding(4, rule.Critical)
	suppressed.Title = "Root user has access keys"
	return notify.Delivery{ID: "dlv-1", Channel: "slack", At: at, Events: []notify.Event{
		{Transition: notify.Resolved, At: at, Finding: finding(3, rule.Critical)},
		{Transition: notify.New, At: at, Finding: finding(1, rule.Critical)},
		{Transition: notify.Regressed, At: at, Finding: hostile},
		{Transition: notify.SuppressionExpired, At: at, Detail: "suppression by alice@example.com (accepted until the migration, ticket SEC-12) ended 2026-11-25", Finding: suppressed},
	}}
}

func many(n int) notify.Delivery {
	d := notify.Delivery{ID: "dlv-digest", Channel: "slack", At: at}
	for i := range n {
		d.Events = append(d.Events, notify.Event{Transition: notify.New, At: at, Finding: finding(i, rule.Critical)})
	}
	return d
}

func golden(t *testing.T, name string, m slack.Message) {
	t.Helper()
	got, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/notify/slack -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}

func TestGolden(t *testing.T) {
	golden(t, "small.json", slack.Build(small()))
	golden(t, "digest-50.json", slack.Build(many(50)))
}

func allText(m slack.Message) string {
	var b strings.Builder
	for _, bl := range m.Blocks {
		if bl.Text != nil {
			b.WriteString(bl.Text.Text + "\n")
		}
		for _, e := range bl.Elements {
			b.WriteString(e.Text + "\n")
		}
	}
	return b.String()
}

// TestNamesFindings: the message names each finding's account, rule,
// evidence and link, not only totals.
func TestNamesFindings(t *testing.T) {
	text := allText(slack.Build(small()))
	for _, want := range []string{"member-001 (100000000001)", "`root-access-key`", "`arn:aws:iam::100000000001:root`",
		"> iam:GetAccountSummary AccountAccessKeysPresent=1", "<https://vigil.example.com/findings/f-001|Open the finding>",
		"*REGRESSED*", "*RESOLVED*", "*SUPPRESSION EXPIRED*", "_Root user has no MFA_", "suppression by alice@example.com", "Delivery dlv-1"} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
	// Outside text stays literal: no mention, no link injected.
	for _, bad := range []string{"<!channel>", "<https://evil.example.com", "\n*bold*"} {
		if strings.Contains(text, bad) {
			t.Errorf("message carries unescaped %q:\n%s", bad, text)
		}
	}
	if !strings.Contains(text, "&lt;!channel&gt; &amp; friends") || !strings.Contains(text, "<https://vigil.example.com/f?a=1&amp;b=2|Open the finding>") {
		t.Errorf("escaping:\n%s", text)
	}
}

// TestDigest: many transitions are one message, within Slack's limits,
// that still lists every one of them.
func TestDigest(t *testing.T) {
	for _, n := range []int{50, 400, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m := slack.Build(many(n))
			if len(m.Blocks) > 50 {
				t.Errorf("%d blocks, Slack takes 50", len(m.Blocks))
			}
			for _, b := range m.Blocks {
				if b.Text != nil && len(b.Text.Text) > 3000 {
					t.Errorf("a %s block of %d characters, Slack takes 3000", b.Type, len(b.Text.Text))
				}
			}
			if !strings.Contains(m.Blocks[0].Text.Text, fmt.Sprintf("%d new", n)) {
				t.Errorf("header %q", m.Blocks[0].Text.Text)
			}
			text := allText(m)
			listed := 0
			for i := range n {
				if strings.Contains(text, fmt.Sprintf("(%012d)", 100000000000+i)) {
					listed++
				}
			}
			more := 0
			foot := m.Blocks[len(m.Blocks)-1].Elements[0].Text
			fmt.Sscanf(foot, "…and %d more", &more)
			if listed+more != n {
				t.Errorf("%d listed + %d counted as more != %d", listed, more, n)
			}
			if n == 50 && listed != 50 {
				t.Errorf("a digest of 50 lists %d of them", listed)
			}
		})
	}
}

func TestSend(t *testing.T) {
	var got slack.Message
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services/T0/B0/XYZ" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "no_service", http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &got); err != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s, err := slack.New(slack.Config{URL: srv.URL + "/services/T0/B0/XYZ"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), small()); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(slack.Build(small()), got); d != "" {
		t.Errorf("received (-want +got):\n%s", d)
	}
	wrong, _ := slack.New(slack.Config{URL: srv.URL + "/services/T0/B0/revoked"})
	err = wrong.Send(t.Context(), small())
	if err == nil || notify.Retryable(err) || strings.Contains(err.Error(), "revoked") || !strings.Contains(err.Error(), "no_service") {
		t.Errorf("revoked webhook: %v (a permanent error naming Slack's answer, not the URL)", err)
	}
}

// BenchmarkBuild5000: the Slack digest of a scan that found 5,000 new
// findings (a 5,000-account organisation's first scan).
func BenchmarkBuild5000(b *testing.B) {
	d := many(5000)
	for b.Loop() {
		if m := slack.Build(d); len(m.Blocks) > 50 {
			b.Fatal(len(m.Blocks))
		}
	}
}
