package rules

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// TestUnreachableAccount: an account an organisation scan could not get
// into (here a denied role) has no data at all. Every account rule must
// still give a result for it, UNKNOWN, with the failure that kept the
// scan out as evidence, and never a PASS.
func TestUnreachableAccount(t *testing.T) {
	for _, role := range []snapshot.OrgRole{snapshot.RoleMember, snapshot.RoleManagement} {
		a := snapshot.Account{ID: "444455556666", Partition: "aws",
			Org:  &snapshot.Membership{Role: role, OrganizationID: "o-aa111bb222", ManagementAccountID: "111122223333", Features: &snapshot.OrgFeatures{RootCredentialsManagement: true}},
			Gaps: []snapshot.Gap{{Section: snapshot.SectionAccess, Call: "sts:AssumeRole", Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"}}}
		doc := &snapshot.Document{Accounts: []snapshot.Account{a}}
		for _, r := range All() {
			if r.Scope != rule.AccountScope {
				continue
			}
			o := r.Check(rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: rule.DefaultOptions()})
			if o.Status == rule.Pass {
				t.Errorf("%s %s: PASS on an account that could not be read: %s", role, r.ID, o.Message)
			}
			if role == snapshot.RoleManagement && o.Status == rule.NotApplicable {
				continue // root-member-password does not apply to the management account, data or not
			}
			if o.Status != rule.Unknown {
				t.Errorf("%s %s: %s, want UNKNOWN: %s", role, r.ID, o.Status, o.Message)
			}
			found := false
			for _, e := range o.Evidence {
				if e.Source == "sts:AssumeRole" && strings.Contains(e.Error, "AccessDenied") {
					found = true
				}
				if e.Error == "not collected" {
					t.Errorf("%s %s: evidence says %q when the account could not be reached", role, r.ID, e.Source+" not collected")
				}
			}
			if !found {
				t.Errorf("%s %s: evidence %+v lacks the access failure", role, r.ID, o.Evidence)
			}
		}
	}
}
