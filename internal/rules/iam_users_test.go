package rules

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// userRow is an IAM user row with nothing enabled, created a year before
// the reference time.
func userRow(name string) snapshot.CredentialRow {
	return snapshot.CredentialRow{
		User: name, ARN: "arn:aws:iam::111122223333:user/" + name, CreationTime: ago(365),
		PasswordEnabled: "false", PasswordLastUsed: na, PasswordLastChanged: na,
		AccessKeys:   [2]snapshot.KeySlot{{LastRotated: na, LastUsedDate: na}, {LastRotated: na, LastUsedDate: na}},
		Certificates: [2]snapshot.CertSlot{{LastRotated: na}, {LastRotated: na}},
	}
}

func ago(days int) snapshot.Stamp {
	return snapshot.StampOf(now.Add(-time.Duration(days) * 24 * time.Hour))
}

var noInfo = snapshot.SentinelStamp(snapshot.NoInformation)

func usersReport(age time.Duration, rows ...snapshot.CredentialRow) *snapshot.CredentialReport {
	r := withReport(rootRow(), age)
	r.UserRows, r.Users = rows, len(rows)
	return r
}

type resourceCase struct {
	name string
	acct *snapshot.Account
	opts *rule.Options
	// status is the account-wide status when want is empty.
	status rule.Status
	// want maps a user name to its status and a fragment of its message.
	want map[string]userWant
}

type userWant struct {
	status   rule.Status
	contains string
}

func runResourceCases(t *testing.T, r rule.Rule, cases []resourceCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := rule.DefaultOptions()
			if c.opts != nil {
				opts = *c.opts
			}
			doc := &snapshot.Document{Accounts: []snapshot.Account{*c.acct}}
			results := rule.Evaluate([]rule.Rule{r}, doc, now, opts)
			if len(c.want) == 0 {
				if len(results) != 1 || results[0].Status != c.status || results[0].Resource != doc.Accounts[0].RootARN() {
					t.Fatalf("results = %+v, want one account-wide %s", results, c.status)
				}
				if len(results[0].Evidence) == 0 || results[0].Message == "" {
					t.Error("no evidence or message")
				}
				return
			}
			if len(results) != len(c.want) {
				t.Fatalf("%d results, want one per user (%d): %+v", len(results), len(c.want), results)
			}
			for _, res := range results {
				name := res.Resource[strings.LastIndex(res.Resource, "/")+1:]
				w, ok := c.want[name]
				if !ok {
					t.Errorf("unexpected resource %s", res.Resource)
					continue
				}
				if res.Status != w.status {
					t.Errorf("%s: status = %s, want %s; message: %s", name, res.Status, w.status, res.Message)
				}
				if !strings.Contains(res.Message, w.contains) {
					t.Errorf("%s: message %q lacks %q", name, res.Message, w.contains)
				}
				if len(res.Evidence) == 0 {
					t.Errorf("%s: no evidence", name)
				}
			}
		})
	}
}

func TestIAMUnusedCredentials(t *testing.T) {
	neverUsedOldKey := userRow("ci-old")
	neverUsedOldKey.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(90), LastUsedDate: na}
	neverUsedNewKey := userRow("ci-new")
	neverUsedNewKey.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(10), LastUsedDate: na}
	usedKey := userRow("deployer")
	usedKey.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(300), LastUsedDate: ago(2), LastUsedRegion: "eu-west-1", LastUsedService: "s3"}
	staleKey2 := userRow("two-keys")
	staleKey2.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(300), LastUsedDate: ago(1)}
	staleKey2.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(200), LastUsedDate: ago(60)}
	inactiveOld := userRow("disabled")
	inactiveOld.AccessKeys[0] = snapshot.KeySlot{Active: false, LastRotated: ago(400), LastUsedDate: ago(399)}
	neverUsedPassword := userRow("new-hire")
	neverUsedPassword.PasswordEnabled, neverUsedPassword.PasswordLastChanged, neverUsedPassword.PasswordLastUsed = "true", ago(50), noInfo
	usedPassword := userRow("alice")
	usedPassword.PasswordEnabled, usedPassword.PasswordLastChanged, usedPassword.PasswordLastUsed = "true", ago(200), ago(3)
	oldPassword := userRow("bob")
	oldPassword.PasswordEnabled, oldPassword.PasswordLastChanged, oldPassword.PasswordLastUsed = "true", ago(200), ago(45)
	nothing := userRow("api-none")

	runResourceCases(t, IAMUnusedCredentials, []resourceCase{
		{name: "every kind of user", acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(time.Hour, neverUsedOldKey, neverUsedNewKey, usedKey, staleKey2, inactiveOld, neverUsedPassword, usedPassword, oldPassword, nothing)
		}), want: map[string]userWant{
			// Prowler passes a key that was never used, whatever its age.
			"ci-old":   {rule.Fail, "access key 1 never used, set"},
			"ci-new":   {rule.Pass, "set less than 45 days ago"},
			"deployer": {rule.Pass, "used less than 45 days ago"},
			"two-keys": {rule.Fail, "access key 2 last used"},
			"disabled": {rule.Pass, "No enabled password and no active access key"},
			// A password never used counts from when it was set.
			"new-hire": {rule.Fail, "password never used, set"},
			"alice":    {rule.Pass, "used less than 45 days ago"},
			// Exactly 45 days is "45 days or more".
			"bob":      {rule.Fail, "password last used"},
			"api-none": {rule.Pass, "No enabled password"},
		}},
		{name: "never used, no dates: unknown age fails", acct: account(func(a *snapshot.Account) {
			r := userRow("odd")
			r.CreationTime = snapshot.Stamp{}
			r.AccessKeys[0] = snapshot.KeySlot{Active: true, LastUsedDate: na}
			a.CredentialReport = usersReport(time.Hour, r)
		}), want: map[string]userWant{"odd": {rule.Fail, "unknown"}}},
		{name: "stale report turns a pass into unknown, keeps a failure", acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(72*time.Hour, usedPassword, neverUsedOldKey)
		}), want: map[string]userWant{"alice": {rule.Unknown, "older than --max-report-age"}, "ci-old": {rule.Fail, "never used"}}},
		{name: "old report format without last-used columns", acct: account(func(a *snapshot.Account) {
			r := usedKey
			r.Missing = []string{"access_key_1_last_used_date", "access_key_2_last_used_date", "password_last_used"}
			a.CredentialReport = usersReport(time.Hour, r)
		}), want: map[string]userWant{"deployer": {rule.Unknown, "has no"}}},
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

func TestIAMUserConsoleMFA(t *testing.T) {
	withMFA := userRow("alice")
	withMFA.PasswordEnabled, withMFA.MFAActive = "true", true
	noMFA := userRow("bob")
	noMFA.PasswordEnabled, noMFA.PasswordLastUsed = "true", ago(1)
	apiOnly := userRow("ci")
	apiOnly.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(5), LastUsedDate: ago(1)}
	// A user with MFA but no password is not a console user: MFA there
	// proves nothing about this item.
	mfaNoPassword := userRow("mfa-only")
	mfaNoPassword.MFAActive = true

	runResourceCases(t, IAMUserConsoleMFA, []resourceCase{
		{name: "console users with and without MFA", acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(time.Hour, withMFA, noMFA, apiOnly, mfaNoPassword)
		}), want: map[string]userWant{
			"alice":    {rule.Pass, "an MFA device"},
			"bob":      {rule.Fail, "password alone"},
			"ci":       {rule.NotApplicable, "No console password"},
			"mfa-only": {rule.NotApplicable, "No console password"},
		}},
		{name: "stale report", acct: account(func(a *snapshot.Account) {
			a.CredentialReport = usersReport(72*time.Hour, withMFA, noMFA)
		}), want: map[string]userWant{"alice": {rule.Unknown, "older than"}, "bob": {rule.Fail, "password alone"}}},
		{name: "report without mfa_active", acct: account(func(a *snapshot.Account) {
			r := noMFA
			r.Missing = []string{"mfa_active"}
			a.CredentialReport = usersReport(time.Hour, r)
		}), want: map[string]userWant{"bob": {rule.Unknown, "mfa_active"}}},
		{name: "no users", status: rule.Pass, acct: account(func(a *snapshot.Account) { a.CredentialReport = usersReport(time.Hour) })},
		{name: "report denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionCredentialReport, "iam:GenerateCredentialReport", "AccessDenied"))
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
			a.CredentialReport = usersReport(time.Hour, noMFA)
		})},
	})
}

// TestUserRulesStayCompact: judging thousands of users who pass (or
// whom a stale report leaves unknown) builds their shared outcomes once:
// the allocations do not grow with the users, apart from the set's own
// two slices. A rule that built a message or evidence per user would
// cost thousands here.
func TestUserRulesStayCompact(t *testing.T) {
	const n = 2000
	rows := make([]snapshot.CredentialRow, n)
	for i := range rows {
		rows[i] = userRow(fmt.Sprintf("user-%04d", i))
		rows[i].PasswordEnabled, rows[i].MFAActive, rows[i].PasswordLastUsed = "true", true, ago(3)
		if i%2 == 0 {
			rows[i].AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(300), LastUsedDate: ago(1)}
		}
	}
	for _, age := range []time.Duration{time.Hour, 72 * time.Hour} {
		a := account(func(a *snapshot.Account) { a.CredentialReport = usersReport(age, rows...) })
		doc := &snapshot.Document{Accounts: []snapshot.Account{*a}}
		for _, r := range []rule.Rule{IAMUnusedCredentials, IAMUnusedCredentials90d, IAMUserConsoleMFA, IAMUserOneActiveKey, IAMUserMFA} {
			in := rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: rule.DefaultOptions()}
			if o := r.Check(in); o.Set.Len() != n {
				t.Fatalf("%s: %d resources, want %d", r.ID, o.Set.Len(), n)
			}
			if allocs := testing.AllocsPerRun(5, func() { r.Check(in) }); allocs > 60*raceAllocFactor {
				t.Errorf("%s, report %s old: %.0f allocations for %d users; shared outcomes should make it a few dozen", r.ID, age, allocs, n)
			}
		}
	}
}

// TestUserRulesShareTheirARNs: the per-user rules of one account give
// their results over one list of the users' ARNs, built once, so that a
// per-user rule costs its results (96 bytes a user) and its outcome
// indexes (4), not another copy of every ARN (16 more).
func TestUserRulesShareTheirARNs(t *testing.T) {
	const n = 5000
	rows := make([]snapshot.CredentialRow, n)
	for i := range rows {
		rows[i] = userRow(fmt.Sprintf("user-%04d", i))
		rows[i].PasswordEnabled, rows[i].MFAActive, rows[i].PasswordLastUsed = "true", true, ago(3)
	}
	a := account(func(a *snapshot.Account) { a.CredentialReport = usersReport(time.Hour, rows...) })
	doc := &snapshot.Document{Accounts: []snapshot.Account{*a}}
	perUser := []rule.Rule{IAMUnusedCredentials, IAMUnusedCredentials90d, IAMUserConsoleMFA, IAMUserOneActiveKey, IAMUserMFA, IAMAccessKeyRotation}
	allocated := func(rs []rule.Rule) uint64 {
		least := uint64(math.MaxUint64)
		for range 3 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := rule.Evaluate(rs, doc, now, rule.DefaultOptions())
			runtime.ReadMemStats(&after)
			if len(res) != n*len(rs) {
				t.Fatalf("%d results, want %d", len(res), n*len(rs))
			}
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		return least
	}
	one, all := allocated(perUser[:1]), allocated(perUser)
	perRule := float64(all-one) / float64(len(perUser)-1) / n
	t.Logf("each per-user rule allocates %.1f bytes a user", perRule)
	if perRule > 106 {
		t.Errorf("each per-user rule allocates %.1f bytes a user; sharing the ARN list makes it about 100", perRule)
	}
}

// TestUserRulesJudgedTogether: within one Evaluate the per-user rules are
// judged in one pass over the rows; each must reach what it reaches
// alone, on a report with users of their own (failures), users lacking
// columns and a stale report's UNKNOWNs, and every per-user rule must be
// in the pass under its own ID (a wrong ID leaves it judged apart).
func TestUserRulesJudgedTogether(t *testing.T) {
	ids := map[string]bool{}
	for _, r := range All() {
		ids[r.ID] = true
	}
	seen := map[string]bool{}
	for _, ur := range userRules {
		if !ids[ur.id] || seen[ur.id] {
			t.Errorf("per-user rule %q: not a rule of All(), or twice", ur.id)
		}
		seen[ur.id] = true
	}
	if len(seen) != 6 {
		t.Errorf("%d per-user rules in the pass, want 6", len(seen))
	}
	var rows []snapshot.CredentialRow
	for i := range 60 {
		r := userRow(fmt.Sprintf("user-%02d", i))
		switch i % 5 {
		case 0:
			r.PasswordEnabled, r.PasswordLastUsed = "true", ago(100) // no MFA, unused
		case 1:
			r.PasswordEnabled, r.MFAActive, r.PasswordLastUsed = "true", true, ago(2)
		case 2:
			r.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: ago(200), LastUsedDate: ago(1)}
			r.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: ago(10), LastUsedDate: noInfo}
		case 3:
			r.Missing = []string{"mfa_active", "access_key_2_active"}
		}
		rows = append(rows, r)
	}
	perUser := []rule.Rule{IAMUnusedCredentials, IAMUnusedCredentials90d, IAMUserConsoleMFA, IAMUserOneActiveKey, IAMUserMFA, IAMAccessKeyRotation}
	for _, age := range []time.Duration{time.Hour, 30 * 24 * time.Hour} {
		a := account(func(a *snapshot.Account) { a.CredentialReport = usersReport(age, rows...) })
		doc := &snapshot.Document{Accounts: []snapshot.Account{*a}}
		together := rule.Evaluate(perUser, doc, now, rule.DefaultOptions())
		var alone []rule.Result
		for _, r := range perUser {
			alone = append(alone, rule.Evaluate([]rule.Rule{r}, doc, now, rule.DefaultOptions())...)
		}
		rule.SortResults(alone)
		if len(together) != len(alone) {
			t.Fatalf("report %v old: %d results together, %d alone", age, len(together), len(alone))
		}
		for i := range together {
			g, w := together[i], alone[i]
			if g.RuleID != w.RuleID || g.Resource != w.Resource || g.Status != w.Status || g.Message != w.Message || fmt.Sprint(g.Evidence) != fmt.Sprint(w.Evidence) {
				t.Errorf("report %v old, result %d:\n together %s %s %s %q %v\n alone    %s %s %s %q %v", age, i,
					g.RuleID, g.Resource, g.Status, g.Message, g.Evidence, w.RuleID, w.Resource, w.Status, w.Message, w.Evidence)
			}
		}
	}
}
