package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func TestIAMUnusedCredentials90d(t *testing.T) {
	keyUsed := func(name string, days int) snapshot.CredentialRow {
		r := userRow(name)
		r.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(400), LastUsedDate: ago(days)}
		return r
	}
	passwordUsed := func(name string, days int) snapshot.CredentialRow {
		r := userRow(name)
		r.PasswordEnabled, r.PasswordLastChanged, r.PasswordLastUsed = "true", ago(300), ago(days)
		return r
	}
	// Never used: a key made long ago (Prowler passes it), a new one, and
	// a password never used, counted from its setting or, without that
	// date, from the user's creation.
	oldNeverUsedKey := userRow("ci-old")
	oldNeverUsedKey.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(120), LastUsedDate: na}
	newNeverUsedKey := userRow("ci-new")
	newNeverUsedKey.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(89), LastUsedDate: na}
	neverSignedIn := userRow("new-hire")
	neverSignedIn.PasswordEnabled, neverSignedIn.PasswordLastChanged, neverSignedIn.PasswordLastUsed = "true", ago(95), noInfo
	noSetDate := userRow("no-set-date")
	noSetDate.CreationTime = ago(100)
	noSetDate.PasswordEnabled, noSetDate.PasswordLastChanged, noSetDate.PasswordLastUsed = "true", snapshot.Stamp{}, noInfo
	// Both keys active: the stale second key fails the user though the
	// first is in daily use.
	bothKeys := userRow("two-keys")
	bothKeys.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(300), LastUsedDate: ago(1)}
	bothKeys.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(200), LastUsedDate: ago(91)}
	bothFresh := userRow("two-fresh")
	bothFresh.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(300), LastUsedDate: ago(1)}
	bothFresh.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(30), LastUsedDate: ago(2)}
	// Rotated: the old key is deactivated (a year idle), the new one made
	// ten days ago and not used yet. Only what is active is judged.
	rotated := userRow("rotated")
	rotated.AccessKeys[0] = snapshot.KeySlot{Active: false, LastRotated: ago(500), LastUsedDate: ago(365)}
	rotated.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(10), LastUsedDate: na}
	// A password disabled with an old last use is not judged either.
	disabled := userRow("left")
	disabled.PasswordEnabled, disabled.PasswordLastUsed, disabled.PasswordLastChanged = "false", ago(400), na

	all := []snapshot.CredentialRow{keyUsed("key-89", 89), keyUsed("key-90", 90), keyUsed("key-91", 91),
		passwordUsed("pw-89", 89), passwordUsed("pw-90", 90), passwordUsed("pw-91", 91),
		oldNeverUsedKey, newNeverUsedKey, neverSignedIn, noSetDate, bothKeys, bothFresh, rotated, disabled, userRow("nothing")}
	runResourceCases(t, IAMUnusedCredentials90d, []resourceCase{
		{name: "every kind of user", acct: account(func(a *snapshot.Account) { a.CredentialReport = usersReport(time.Hour, all...) }),
			want: map[string]userWant{
				"key-89": {rule.Pass, "used less than 90 days ago"},
				// Exactly 90 days is "90 days or more".
				"key-90":      {rule.Fail, "access key 1 last used"},
				"key-91":      {rule.Fail, "(91 days ago)"},
				"pw-89":       {rule.Pass, "used less than 90 days ago"},
				"pw-90":       {rule.Fail, "password last used"},
				"pw-91":       {rule.Fail, "password last used"},
				"ci-old":      {rule.Fail, "access key 1 never used, set"},
				"ci-new":      {rule.Pass, "set less than 90 days ago"},
				"new-hire":    {rule.Fail, "password never used, set"},
				"no-set-date": {rule.Fail, "password never used, user created"},
				"two-keys":    {rule.Fail, "access key 2 last used"},
				"two-fresh":   {rule.Pass, "used less than 90 days ago"},
				"rotated":     {rule.Pass, "set less than 90 days ago"},
				"left":        {rule.Pass, "No enabled password and no active access key"},
				"nothing":     {rule.Pass, "No enabled password and no active access key"},
			}},
		{name: "stale report: a pass is unknown, a failure stays", acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(72*time.Hour, keyUsed("key-89", 89), keyUsed("key-91", 91))
		}), want: map[string]userWant{"key-89": {rule.Unknown, "older than --max-report-age"}, "key-91": {rule.Fail, "last used"}}},
		{name: "report without last-used columns", acct: account(func(a *snapshot.Account) {
			r := keyUsed("key-89", 89)
			r.Missing = []string{"access_key_1_last_used_date", "access_key_2_last_used_date", "password_last_used"}
			a.CredentialReport = usersReport(time.Hour, r)
		}), want: map[string]userWant{"key-89": {rule.Unknown, "has no"}}},
		{name: "no users", status: rule.Pass, acct: account(func(a *snapshot.Account) { a.CredentialReport = usersReport(time.Hour) })},
		{name: "no users, stale report", status: rule.Unknown, acct: account(func(a *snapshot.Account) { a.CredentialReport = usersReport(72 * time.Hour) })},
		{name: "report denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionCredentialReport, "iam:GenerateCredentialReport", "AccessDenied"))
		})},
		{name: "snapshot without user rows", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.CredentialReport = withReport(rootRow(), time.Hour)
			a.CredentialReport.Users = 3
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})
}

// TestUnusedCredentialsThresholds: the two rules share one judgement and
// differ only in the limit, so a credential idle for 60 days fails the
// 45-day rule and passes the 90-day one.
func TestUnusedCredentialsThresholds(t *testing.T) {
	r := userRow("sixty")
	r.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(400), LastUsedDate: ago(60)}
	a := account(func(a *snapshot.Account) { a.CredentialReport = usersReport(time.Hour, r) })
	for rl, want := range map[*rule.Rule]rule.Status{&IAMUnusedCredentials: rule.Fail, &IAMUnusedCredentials90d: rule.Pass} {
		doc := &snapshot.Document{Accounts: []snapshot.Account{*a}}
		res := rule.Evaluate([]rule.Rule{*rl}, doc, now, rule.DefaultOptions())
		if len(res) != 1 || res[0].Status != want {
			t.Errorf("%s: %+v, want one %s", rl.ID, res, want)
		}
	}
}

// TestUnusedCredentials90dEvidence: a failure quotes the report's own
// columns: the last use, and for a credential never used the date its
// idleness counts from.
func TestUnusedCredentials90dEvidence(t *testing.T) {
	r := userRow("mixed")
	r.PasswordEnabled, r.PasswordLastChanged, r.PasswordLastUsed = "true", ago(120), noInfo
	r.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(300), LastUsedDate: ago(100)}
	r.AccessKeys[1] = snapshot.KeySlot{Active: false, LastRotated: ago(300), LastUsedDate: ago(299)}
	a := account(func(a *snapshot.Account) { a.CredentialReport = usersReport(time.Hour, r) })
	doc := &snapshot.Document{Accounts: []snapshot.Account{*a}}
	res := rule.Evaluate([]rule.Rule{IAMUnusedCredentials90d}, doc, now, rule.DefaultOptions())
	if len(res) != 1 || res[0].Status != rule.Fail || res[0].Resource != r.ARN {
		t.Fatalf("results = %+v, want one failure for %s", res, r.ARN)
	}
	var keys []string
	for _, e := range res[0].Evidence {
		if e.Source == srcReport {
			keys = append(keys, e.Key+"="+e.Value)
		}
	}
	for _, want := range []string{"user=mixed", "password_last_used=no_information", "password_last_changed=" + stamp(ago(120)),
		"access_key_1_last_used_date=" + stamp(ago(100))} {
		if !slices.Contains(keys, want) {
			t.Errorf("evidence %v lacks %s", keys, want)
		}
	}
	// The inactive key is not judged, so not quoted.
	for _, k := range keys {
		if strings.HasPrefix(k, "access_key_2") {
			t.Errorf("evidence quotes the inactive key: %s", k)
		}
	}
}
