package fix_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/fix"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/rules"
)

func actions(p collect.Policy) []string {
	var out []string
	for _, s := range p.Statement {
		out = append(out, s.Action...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestPoliciesMatchTheCalls: a whole run (plan and apply, every flag, the
// CloudTrail role) calls nothing outside the policy of whoever makes the
// call: the caller's (vigil policy --for fix), the member root sessions'
// (the delete task policy, which the member interface must stay within),
// the CloudTrail role's (vigil policy --for fix --member-role).
func TestPoliciesMatchTheCalls(t *testing.T) {
	for _, a := range fix.MemberSessionActions() {
		if !slices.Contains(fix.DeleteTaskPolicyActions, a) {
			t.Errorf("the member session calls %s, which IAMDeleteRootUserCredentials does not allow", a)
		}
	}
	for _, bad := range []string{"iam:UpdateAccessKey", "iam:GetAccountSummary", "cloudtrail:LookupEvents"} {
		if slices.Contains(fix.DeleteTaskPolicyActions, bad) {
			t.Errorf("the delete task policy does not allow %s", bad)
		}
	}
	if diff := cmp.Diff([]string{"cloudtrail:LookupEvents"}, actions(fix.TrailRolePolicy())); diff != "" {
		t.Errorf("trail role policy (-want +got):\n%s", diff)
	}
	caller := actions(fix.CallerPolicy("aws", trailRole))
	for _, a := range []string{"sts:AssumeRoot", "sts:AssumeRole", "organizations:ListAccounts", "iam:ListOrganizationsFeatures", "sts:GetCallerIdentity"} {
		if !slices.Contains(caller, a) {
			t.Errorf("caller policy lacks %s", a)
		}
	}
	for _, a := range caller {
		_, op, _ := strings.Cut(a, ":")
		if !slices.ContainsFunc([]string{"Get", "List", "Describe", "Generate", "AssumeRole", "AssumeRoot"}, func(p string) bool { return strings.HasPrefix(op, p) }) {
			t.Errorf("the caller's own policy holds %s, which changes something: changes are made only in root sessions", a)
		}
	}

	e := start(t)
	p := e.planOrg(func(o *fix.Options) {
		o.Certificates, o.Password, o.MFA, o.Force = true, true, true, true
		o.TrailRole = &fleet.Role{Name: trailRole}
	})
	e.apply(p)
	member := map[string]bool{}
	for _, c := range e.srv.Calls() {
		action := c.Service + ":" + c.Action
		switch {
		case c.Principal == "arn:aws:iam::"+mgmtID+":user/admin":
			if !slices.Contains(caller, action) {
				t.Errorf("the caller called %s, not in vigil policy --for fix", action)
			}
		case strings.Contains(c.Principal, ":assumed-role/"+trailRole+"/"):
			if action != "cloudtrail:LookupEvents" {
				t.Errorf("the trail role called %s", action)
			}
		case strings.HasSuffix(c.Principal, ":root") && strings.HasPrefix(c.AccessKeyID, "ASIA"):
			if action == "sts:GetCallerIdentity" {
				continue // no policy can deny it
			}
			member[action] = true
			if !slices.Contains(fix.MemberSessionActions(), action) {
				t.Errorf("a root session called %s", action)
			}
		default:
			t.Errorf("unexpected caller %s (%s) of %s", c.Principal, c.AccessKeyID, action)
		}
	}
	// Each method of the member interface is used: the policy is not
	// wider than the code.
	for _, a := range fix.MemberSessionActions() {
		if !member[a] {
			t.Errorf("%s is in the member interface but was never called", a)
		}
	}
}

// TestOwnAccountPolicy: an IAM principal running vigil fix on its own
// account only reads, within the last statement of the caller policy.
func TestOwnAccountPolicy(t *testing.T) {
	e := start(t)
	e.planAccount(saOps)
	own := fix.OwnAccountActions()
	for _, c := range e.srv.Calls() {
		if a := c.Service + ":" + c.Action; !slices.Contains(own, a) {
			t.Errorf("%s is not in the own-account reads %v", a, own)
		}
	}
}

// TestManualStepsExist: every case's steps are sections of the knowledge
// base, so the manual path always prints real, tested procedures.
func TestManualStepsExist(t *testing.T) {
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	cat, err := compliance.Default(ids)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := kb.Load(rules.All(), cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range fix.Cases() {
		if len(c.Steps()) == 0 || c.Title() == string(c) {
			t.Errorf("case %s has no steps or title", c)
		}
		for _, s := range c.Steps() {
			page, ok := kb.Find(pages, s.Page)
			if !ok {
				t.Errorf("%s: no page %s", c, s.Page)
				continue
			}
			md, err := page.Section(s.Heading...)
			if err != nil {
				t.Errorf("%s: %v", c, err)
			} else if !strings.Contains(md, "\n") || len(md) < 100 {
				t.Errorf("%s: section %v is empty", c, s.Heading)
			}
		}
	}
}
