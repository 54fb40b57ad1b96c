package rules

import (
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func TestIAMIdentityTags(t *testing.T) {
	owner := []snapshot.Tag{{Key: "owner", Value: "data-team"}}
	// Only system tags: Security Hub ignores keys beginning with aws:.
	system := []snapshot.Tag{{Key: "aws:cloudformation:stack-name", Value: "base"}}
	// An empty value still is a tag.
	empty := []snapshot.Tag{{Key: "temporary", Value: ""}}
	d := &snapshot.IAMDetails{TagsRead: true,
		Users: []snapshot.IAMUser{
			{Name: "tagged", ARN: acctARN + "user/tagged", Tags: owner},
			{Name: "bare", ARN: acctARN + "user/bare"},
			{Name: "system-only", ARN: acctARN + "user/system-only", Tags: system},
			{Name: "empty-value", ARN: acctARN + "user/empty-value", Tags: empty},
		},
		Roles: []snapshot.IAMRole{
			{Name: "tagged", ARN: acctARN + "role/tagged", Tags: append(system, owner...)},
			{Name: "bare", ARN: acctARN + "role/bare"},
			{Name: "system-only", ARN: acctARN + "role/system-only", Tags: system},
		},
	}
	before := *d
	before.TagsRead = false
	common := func(empty *snapshot.IAMDetails) []resourceCase {
		return []resourceCase{
			{name: "nothing to judge", status: rule.Pass, acct: withDetails(empty)},
			{name: "snapshot written before tags were kept", status: rule.Unknown, acct: withDetails(&before)},
			{name: "details denied", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
				a.AddGap(gap(snapshot.SectionIAM, srcDetails, "AccessDenied"))
			})},
			{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
				a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
				a.IAM = d
			})},
		}
	}
	t.Run("users", func(t *testing.T) {
		runResourceCases(t, IAMUserTags, append([]resourceCase{{name: "users", acct: withDetails(d), want: map[string]userWant{
			"tagged":      {rule.Pass, "at least one tag"},
			"bare":        {rule.Fail, "owns this user"},
			"system-only": {rule.Fail, "aws: do not count"},
			"empty-value": {rule.Pass, "at least one tag"},
		}}}, common(&snapshot.IAMDetails{TagsRead: true, Roles: d.Roles})...))
	})
	t.Run("roles", func(t *testing.T) {
		runResourceCases(t, IAMRoleTags, append([]resourceCase{{name: "roles", acct: withDetails(d), want: map[string]userWant{
			"tagged":      {rule.Pass, "at least one tag"},
			"bare":        {rule.Fail, "owns this role"},
			"system-only": {rule.Fail, "aws: do not count"},
		}}}, common(&snapshot.IAMDetails{TagsRead: true, Users: d.Users})...))
	})
}

// TestIdentityRulesStayCompact: the rules that answer once per user, group
// or role from the authorization details share their answers, so judging
// thousands of identities allocates a few dozen times, not once each.
func TestIdentityRulesStayCompact(t *testing.T) {
	const n = 2000
	d := &snapshot.IAMDetails{TagsRead: true}
	for i := range n {
		u := snapshot.IAMUser{Name: fmt.Sprintf("user-%04d", i), ARN: fmt.Sprintf("%suser/user-%04d", acctARN, i), Groups: []string{"devs"}}
		r := snapshot.IAMRole{Name: fmt.Sprintf("role-%04d", i), ARN: fmt.Sprintf("%srole/role-%04d", acctARN, i)}
		if i%2 == 0 {
			u.Tags = []snapshot.Tag{{Key: "owner", Value: "x"}}
			r.Tags = u.Tags
		}
		d.Users, d.Roles = append(d.Users, u), append(d.Roles, r)
	}
	doc := &snapshot.Document{Accounts: []snapshot.Account{*withDetails(d)}}
	in := rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: rule.DefaultOptions()}
	for _, r := range []rule.Rule{IAMUserTags, IAMRoleTags, IAMCloudShellFullAccess, IAMUserDirectPolicies} {
		if o := r.Check(in); o.Set.Len() < n {
			t.Fatalf("%s: %d resources, want at least %d", r.ID, o.Set.Len(), n)
		}
		if allocs := testing.AllocsPerRun(5, func() { r.Check(in) }); allocs > 60*raceAllocFactor {
			t.Errorf("%s: %.0f allocations for %d identities; shared outcomes should make it a few dozen", r.ID, allocs, n)
		}
	}
}
