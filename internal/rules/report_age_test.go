package rules

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// reportDated is a credential report with no key, the only source, dated
// as given.
func reportDated(mod func(*snapshot.CredentialReport)) *snapshot.Account {
	return account(func(a *snapshot.Account) {
		a.CredentialReport = &snapshot.CredentialReport{Columns: 22, Root: rootRow()}
		mod(a.CredentialReport)
		a.AddGap(gap(snapshot.SectionSummary, "iam:GetAccountSummary", "AccessDenied"))
	})
}

// TestReportAge: a report-only PASS needs a report known to be recent. A
// file's modification time does not count (copying an old CSV made it
// "0s old"), a report dated after the evaluation is of unknown age (it
// counted as 0s old), and the newest time recorded in a report is a
// lower bound of its generation time: its age is at most the age of that
// time.
func TestReportAge(t *testing.T) {
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	runCases(t, RootAccessKey, []ruleCase{
		{name: "generated an hour ago", status: rule.Pass, contains: []string{"credential report of 2026-11-26T11:00:00Z (1h old)"},
			acct: reportDated(func(r *snapshot.CredentialReport) {
				r.GeneratedTime, r.TimeSource = ago(time.Hour), snapshot.TimeFromFlag
			})},
		{name: "copied file, modification time a second ago", status: rule.Unknown, contains: []string{"age unknown", "--report-time"},
			acct: reportDated(func(r *snapshot.CredentialReport) {
				r.FileTime, r.TimeSource = ago(time.Second), "file modification time"
			})},
		{name: "generated a day in the future", status: rule.Unknown, contains: []string{"dated 2026-11-27T12:00:00Z", "after the time it is judged at"},
			acct: reportDated(func(r *snapshot.CredentialReport) {
				r.GeneratedTime, r.TimeSource = ago(-24*time.Hour), snapshot.TimeFromFile
			})},
		{name: "a minute ahead is a clock difference", status: rule.Pass, contains: []string{"(0s old)"},
			acct: reportDated(func(r *snapshot.CredentialReport) {
				r.GeneratedTime, r.TimeSource = ago(-time.Minute), snapshot.TimeFromAPI
			})},
		{name: "newest entry an hour old: at most an hour old", status: rule.Pass, contains: []string{"generated at or after 2026-11-26T11:00:00Z (at most 1h old)"},
			acct: reportDated(func(r *snapshot.CredentialReport) {
				r.NewestTime, r.TimeSource = ago(time.Hour), snapshot.TimeFromNewest
			})},
		{name: "newest entry 640 days old: may be that old", status: rule.Unknown, contains: []string{"carries no generation time", "640d old", "--report-time"},
			acct: reportDated(func(r *snapshot.CredentialReport) {
				r.NewestTime, r.TimeSource = ago(640*24*time.Hour), snapshot.TimeFromNewest
			})},
		{name: "no limit accepts a report of unknown age", status: rule.Pass, opts: &rule.Options{RootUseWindow: 30 * 24 * time.Hour},
			acct: reportDated(func(r *snapshot.CredentialReport) {})},
	})
	// The evidence says where the report's time came from.
	a := reportDated(func(r *snapshot.CredentialReport) {
		r.NewestTime, r.TimeSource = ago(time.Hour), snapshot.TimeFromNewest
	})
	out := RootAccessKey.Check(rule.Input{Account: a, Doc: &snapshot.Document{Accounts: []snapshot.Account{*a}}, Now: now, Options: rule.DefaultOptions()})
	found := false
	for _, e := range out.Evidence {
		if e.Source == srcReport && e.AsOf != nil {
			found = true
			if e.AsOfSource != snapshot.TimeFromNewest {
				t.Errorf("evidence %+v does not say its time is the report's newest entry", e)
			}
		}
	}
	if !found {
		t.Errorf("no dated report evidence: %+v", out.Evidence)
	}
}
