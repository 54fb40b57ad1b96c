package rules

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func TestIAMUserOneActiveKey(t *testing.T) {
	both := userRow("two")
	both.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(300), LastUsedDate: ago(1)}
	both.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(3), LastUsedDate: na}
	// Mid-rotation is over: the old key is inactive.
	rotated := userRow("rotated")
	rotated.AccessKeys[0] = snapshot.KeySlot{Active: false, LastRotated: ago(300), LastUsedDate: ago(20)}
	rotated.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(3), LastUsedDate: ago(1)}
	// The second slot alone: the first key was deleted.
	second := userRow("second")
	second.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(30), LastUsedDate: na}
	none := userRow("console")
	none.PasswordEnabled = "true"

	runResourceCases(t, IAMUserOneActiveKey, []resourceCase{
		{name: "users with zero, one and two active keys", acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(time.Hour, both, rotated, second, none)
		}), want: map[string]userWant{
			"two":     {rule.Fail, "Two active access keys (created 2026-01-30 and 2026-11-23)"},
			"rotated": {rule.Pass, "At most one active access key"},
			"second":  {rule.Pass, "At most one active access key"},
			"console": {rule.Pass, "At most one active access key"},
		}},
		{name: "stale report: a pass is unknown, a failure stays", acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(72*time.Hour, both, rotated)
		}), want: map[string]userWant{"two": {rule.Fail, "Two active"}, "rotated": {rule.Unknown, "older than --max-report-age"}}},
		// Users share a failure when their keys were made on the same
		// days; a cell AWS wrote a sentinel in is not a day, and two
		// sentinels are not the same day either (nor is the last day of
		// 1969 the first of 1970).
		{name: "keys without dates are not shared across sentinels", acct: account(func(a *snapshot.Account) {
			// Two active keys, the second made three days ago.
			twoKeys := func(name string, first snapshot.Stamp) snapshot.CredentialRow {
				r := userRow(name)
				r.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: first, LastUsedDate: na}
				r.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(3), LastUsedDate: na}
				return r
			}
			noon := func(y int, m time.Month, d int) snapshot.Stamp {
				return snapshot.StampOf(time.Date(y, m, d, 12, 0, 0, 0, time.UTC))
			}
			a.CredentialReport = usersReport(time.Hour, twoKeys("na", na), twoKeys("no-info", snapshot.SentinelStamp(snapshot.NoInformation)),
				twoKeys("1969", noon(1969, time.December, 31)), twoKeys("1970", noon(1970, time.January, 1)))
		}), want: map[string]userWant{
			"na":      {rule.Fail, "(created N/A and 2026-11-23)"},
			"no-info": {rule.Fail, "(created no_information and 2026-11-23)"},
			"1969":    {rule.Fail, "(created 1969-12-31 and 2026-11-23)"},
			"1970":    {rule.Fail, "(created 1970-01-01 and 2026-11-23)"},
		}},
		{name: "report without key columns", acct: account(func(a *snapshot.Account) {
			r := both
			r.Missing = []string{"access_key_2_active"}
			a.CredentialReport = usersReport(time.Hour, r)
		}), want: map[string]userWant{"two": {rule.Unknown, "access_key_2_active"}}},
		{name: "no users", status: rule.Pass, acct: account(func(a *snapshot.Account) { a.CredentialReport = usersReport(time.Hour) })},
		{name: "report denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionCredentialReport, "iam:GenerateCredentialReport", "AccessDenied"))
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
			a.CredentialReport = usersReport(time.Hour, both)
		})},
	})
}

func TestIAMAccessKeyRotation(t *testing.T) {
	old := userRow("old")
	old.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(91), LastUsedDate: ago(1)}
	// Exactly 90 days is "90 days or less".
	edge := userRow("edge")
	edge.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(90), LastUsedDate: ago(1)}
	// A key never used ages all the same: its age is its creation.
	neverUsedOld := userRow("never-used")
	neverUsedOld.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(200), LastUsedDate: na}
	// Rotated: the new key is young, the old one inactive.
	rotated := userRow("rotated")
	rotated.AccessKeys[0] = snapshot.KeySlot{Active: false, LastRotated: ago(400), LastUsedDate: ago(10)}
	rotated.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(10), LastUsedDate: ago(1)}
	// Both active, the second old: the user fails on key 2.
	bothSecondOld := userRow("both")
	bothSecondOld.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(5), LastUsedDate: ago(1)}
	bothSecondOld.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(120), LastUsedDate: ago(2)}
	inactiveOld := userRow("inactive")
	inactiveOld.AccessKeys[0] = snapshot.KeySlot{Active: false, LastRotated: ago(900), LastUsedDate: na}
	console := userRow("console")
	console.PasswordEnabled = "true"
	noDate := userRow("no-date")
	noDate.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: na, LastUsedDate: na}

	runResourceCases(t, IAMAccessKeyRotation, []resourceCase{
		{name: "key ages", acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(time.Hour, old, edge, neverUsedOld, rotated, bothSecondOld, inactiveOld, console, noDate)
		}), want: map[string]userWant{
			"old":        {rule.Fail, "Access key 1 created 2026-08-27 (91 days ago)"},
			"edge":       {rule.Pass, "90 days ago or less"},
			"never-used": {rule.Fail, "(200 days ago)"},
			"rotated":    {rule.Pass, "90 days ago or less"},
			"both":       {rule.Fail, "Access key 2 created"},
			"inactive":   {rule.NotApplicable, "No active access key"},
			"console":    {rule.NotApplicable, "No active access key"},
			"no-date":    {rule.Unknown, "no creation date"},
		}},
		{name: "stale report", acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(72*time.Hour, old, edge)
		}), want: map[string]userWant{"old": {rule.Fail, "created"}, "edge": {rule.Unknown, "older than"}}},
		{name: "no users", status: rule.Pass, acct: account(func(a *snapshot.Account) { a.CredentialReport = usersReport(time.Hour) })},
		{name: "report denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionCredentialReport, "iam:GenerateCredentialReport", "AccessDenied"))
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})
}

// The rotation is judged on the evaluation clock, not on the report's
// date: a key 80 days old in a report made 20 days ago is 100 days old now.
func TestIAMAccessKeyRotationUsesTheClock(t *testing.T) {
	k := userRow("ci")
	k.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(100), LastUsedDate: ago(20)}
	opts := rule.Options{MaxReportAge: 0}
	runResourceCases(t, IAMAccessKeyRotation, []resourceCase{
		{name: "aged on the clock", opts: &opts, acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(20*24*time.Hour, k)
		}), want: map[string]userWant{"ci": {rule.Fail, "(100 days ago)"}}},
	})
}

func TestIAMUserMFA(t *testing.T) {
	withMFA := userRow("alice")
	withMFA.PasswordEnabled, withMFA.MFAActive = "true", true
	apiOnly := userRow("ci")
	apiOnly.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(5), LastUsedDate: ago(1)}
	apiWithMFA := userRow("ops")
	apiWithMFA.MFAActive = true
	apiWithMFA.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(5), LastUsedDate: ago(1)}
	console := userRow("bob")
	console.PasswordEnabled = "true"

	runResourceCases(t, IAMUserMFA, []resourceCase{
		// Unlike iam-user-console-mfa, a user without a password is judged.
		{name: "every user needs MFA", acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(time.Hour, withMFA, apiOnly, apiWithMFA, console)
		}), want: map[string]userWant{
			"alice": {rule.Pass, "Has an MFA device"},
			"ci":    {rule.Fail, "no console password and active access key 1"},
			"ops":   {rule.Pass, "Has an MFA device"},
			"bob":   {rule.Fail, "a console password"},
		}},
		{name: "report without mfa_active", acct: account(func(a *snapshot.Account) {
			r := console
			r.Missing = []string{"mfa_active"}
			a.CredentialReport = usersReport(time.Hour, r)
		}), want: map[string]userWant{"bob": {rule.Unknown, "mfa_active"}}},
		{name: "report denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionCredentialReport, "iam:GenerateCredentialReport", "AccessDenied"))
		})},
	})
}

// TestKeyRotationStaysCompact: users whose keys are young, or who have
// none, share two outcomes, and users whose old keys were made on the same
// day share a failure: nothing is built per user.
func TestKeyRotationStaysCompact(t *testing.T) {
	const n = 2000
	rows := make([]snapshot.CredentialRow, n)
	for i := range rows {
		rows[i] = userRow(fmt.Sprintf("user-%04d", i))
		switch i % 3 {
		case 0:
			rows[i].AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(10), LastUsedDate: ago(1)}
		case 1:
			// Old keys made on 20 different days.
			rows[i].AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(100 + i%20), LastUsedDate: ago(1)}
		}
	}
	for _, age := range []time.Duration{time.Hour, 72 * time.Hour} {
		doc := &snapshot.Document{Accounts: []snapshot.Account{*account(func(a *snapshot.Account) { a.CredentialReport = usersReport(age, rows...) })}}
		in := rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: rule.DefaultOptions()}
		if o := IAMAccessKeyRotation.Check(in); o.Set.Len() != n {
			t.Fatalf("%d resources, want %d", o.Set.Len(), n)
		}
		if allocs := testing.AllocsPerRun(5, func() { IAMAccessKeyRotation.Check(in) }); allocs > (60+20*15)*raceAllocFactor {
			t.Errorf("report %s old: %.0f allocations for %d users", age, allocs, n)
		}
	}
}

// TestDayKeyPack: distinct keys pack to distinct numbers, the extremes of
// each field included, and days too far from 1970 to pack are refused
// (dayShares keeps them in a map of their own).
func TestDayKeyPack(t *testing.T) {
	const r = 1 << 27
	days := []int64{-r, -r + 1, -719_163, -2, -1, 0, 1, 20_000, 2_932_896, r - 2, r - 1}
	seen := map[uint64]dayKey{}
	for _, slots := range []uint8{0, 1, 2, 3, 255} {
		for _, d1 := range days {
			for _, d2 := range days {
				k := dayKey{slots: slots, d1: d1, d2: d2}
				p, ok := k.pack()
				if !ok {
					t.Fatalf("%+v not packed", k)
				}
				if o, dup := seen[p]; dup {
					t.Fatalf("%+v and %+v both pack to %#x", k, o, p)
				}
				seen[p] = k
			}
		}
	}
	for _, k := range []dayKey{{d1: r}, {d2: r}, {d1: -r - 1}, {d2: -r - 1}, {d1: math.MaxInt64}, {d2: math.MinInt64}} {
		if _, ok := k.pack(); ok {
			t.Errorf("%+v packed", k)
		}
	}
}

// TestDayShares: a key gets the same shared failure each time it is
// asked for, packed or not, and distinct keys get distinct ones.
func TestDayShares(t *testing.T) {
	sh := &sharedUsers{set: rule.NewResourceSet(0), byKey: map[shareKey]rule.Shared{}}
	m := newDayShares()
	built := 0
	build := func() (string, []rule.Evidence) { built++; return fmt.Sprint("failure ", built), nil }
	keys := []dayKey{{slots: 1, d1: 20_000, d2: -1}, {slots: 1, d1: math.MaxInt64, d2: -1}, {slots: 3, d1: 20_000, d2: 20_001}, {slots: 2, d1: -1, d2: math.MinInt64}}
	var first []rule.Shared
	for _, k := range keys {
		first = append(first, m.get(sh, k, build).shared)
	}
	for i, k := range keys {
		if got := m.get(sh, k, build).shared; got != first[i] {
			t.Errorf("%+v: shared %d, then %d", k, first[i], got)
		}
	}
	if built != len(keys) {
		t.Errorf("%d failures built for %d keys", built, len(keys))
	}
}
