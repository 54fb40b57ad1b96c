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
