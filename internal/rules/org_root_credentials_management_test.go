package rules

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func TestOrgRootCredentialsManagement(t *testing.T) {
	on, off := true, false
	cases := []struct {
		name   string
		org    snapshot.Organization
		status rule.Status
	}{
		{"both on", snapshot.Organization{Features: &snapshot.OrgFeatures{TrustedAccessIAM: &on, RootCredentialsManagement: true, RootSessions: true}}, rule.Pass},
		{"sessions off", snapshot.Organization{Features: &snapshot.OrgFeatures{RootCredentialsManagement: true}}, rule.Pass},
		{"management off", snapshot.Organization{Features: &snapshot.OrgFeatures{RootSessions: true}}, rule.Fail},
		{"no trusted access", snapshot.Organization{Features: &snapshot.OrgFeatures{TrustedAccessIAM: &off}}, rule.Fail},
		{"unknown", snapshot.Organization{Gaps: []snapshot.Gap{{Section: snapshot.SectionOrgFeatures, Call: "iam:ListOrganizationsFeatures", Code: "AccessDenied", Message: "no"}}}, rule.Unknown},
		{"not collected", snapshot.Organization{}, rule.Unknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.org.ID, c.org.ManagementAccountID = "o-aa111bb222", "111122223333"
			doc := &snapshot.Document{Organization: &c.org, Accounts: []snapshot.Account{}}
			res := rule.Evaluate([]rule.Rule{OrgRootCredentialsManagement}, doc, now, rule.DefaultOptions())
			if len(res) != 1 {
				t.Fatalf("%d results", len(res))
			}
			r := res[0]
			if r.Status != c.status || r.Message == "" || len(r.Evidence) == 0 {
				t.Errorf("got %s %q %v, want %s", r.Status, r.Message, r.Evidence, c.status)
			}
			if r.Resource != "arn:aws:organizations::111122223333:organization/o-aa111bb222" {
				t.Errorf("resource %q", r.Resource)
			}
		})
	}
}

// TestOrgRootCredentialsManagementGapEvidence: the evidence of an unknown
// answer is the recorded failure, code and message, as every rule shows
// gaps; a failure with no AWS error code (a network error) is its message
// alone.
func TestOrgRootCredentialsManagementGapEvidence(t *testing.T) {
	for _, g := range []struct {
		gap  snapshot.Gap
		want string
	}{
		{snapshot.Gap{Section: snapshot.SectionOrgFeatures, Call: "iam:ListOrganizationsFeatures", Code: "AccessDenied", Message: "no"}, "AccessDenied: no"},
		{snapshot.Gap{Section: snapshot.SectionOrgFeatures, Call: "iam:ListOrganizationsFeatures", Message: "dial tcp: connection refused"}, "dial tcp: connection refused"},
	} {
		org := snapshot.Organization{ID: "o-aa111bb222", ManagementAccountID: "111122223333", Gaps: []snapshot.Gap{g.gap}}
		doc := &snapshot.Document{Organization: &org, Accounts: []snapshot.Account{}}
		r := rule.Evaluate([]rule.Rule{OrgRootCredentialsManagement}, doc, now, rule.DefaultOptions())[0]
		if r.Status != rule.Unknown || len(r.Evidence) != 1 || r.Evidence[0].Source != g.gap.Call || r.Evidence[0].Error != g.want {
			t.Errorf("gap %+v: %s %+v, want UNKNOWN with evidence %q", g.gap, r.Status, r.Evidence, g.want)
		}
	}
}
