package snapshot

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOrgControlsChain(t *testing.T) {
	c := &OrgControls{
		Root: &OrgRoot{ID: "r-ab12"},
		OUs: []OrgUnit{{ID: "ou-ab12-11111111", Name: "Workloads", ParentID: "r-ab12"}, {ID: "ou-ab12-22222222", Name: "Prod", ParentID: "ou-ab12-11111111"},
			// A cycle cannot come from AWS, but a hand-edited snapshot may hold one.
			{ID: "ou-ab12-33333333", Name: "A", ParentID: "ou-ab12-44444444"}, {ID: "ou-ab12-44444444", Name: "B", ParentID: "ou-ab12-33333333"}},
		Accounts: []OrgAccount{{ID: "444455556666", ParentID: "ou-ab12-22222222"}, {ID: "111122223333", ParentID: "r-ab12"}, {ID: "999988887777", ParentID: "ou-ab12-33333333"}},
	}
	if got := c.Chain("444455556666"); !slices.Equal(got, []string{"444455556666", "ou-ab12-22222222", "ou-ab12-11111111", "r-ab12"}) {
		t.Errorf("chain %v", got)
	}
	if got := c.Path("444455556666"); !slices.Equal(got, []string{"Workloads", "Prod"}) {
		t.Errorf("path %v", got)
	}
	if got := c.Path("111122223333"); len(got) != 0 {
		t.Errorf("an account under the root has path %v", got)
	}
	if got := c.Chain("999988887777"); len(got) != 3 {
		t.Errorf("cycle not stopped: %v", got)
	}
	if got := c.Chain("000000000000"); !slices.Equal(got, []string{"000000000000"}) {
		t.Errorf("unknown account chain %v", got)
	}
}

func TestOrgControlsValidate(t *testing.T) {
	doc := New(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), "test", Source{Kind: SourceAWS})
	doc.Organization = &Organization{ID: "o-aa111bb222", ManagementAccountID: "111122223333",
		Controls: &OrgControls{Accounts: []OrgAccount{{ID: "1234"}}}}
	if err := doc.Validate(); err == nil || !strings.Contains(err.Error(), `"1234"`) {
		t.Errorf("err = %v", err)
	}
}
