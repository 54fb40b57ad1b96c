package server

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// TestUnreadable: an account with no way in is not scanned; one with
// gaps in what it read, or stopped by a cancelled run, is not.
func TestUnreadable(t *testing.T) {
	doc := &snapshot.Document{Accounts: []snapshot.Account{
		{ID: "111111111111"},
		{ID: "222222222222", Gaps: []snapshot.Gap{{Section: snapshot.SectionAccess, Call: "sts:AssumeRole", Code: "AccessDenied", Message: "not\nauthorized"}}},
		{ID: "333333333333", Gaps: []snapshot.Gap{{Section: snapshot.SectionCredentialReport, Call: "iam:GetCredentialReport", Code: "AccessDenied"}}},
		{ID: "444444444444", Gaps: []snapshot.Gap{{Section: snapshot.SectionAccess, Call: fleet.CallScan, Code: fleet.CodeCancelled, Message: "the run was cancelled"}}},
	}}
	got := unreadable(doc)
	if len(got) != 1 {
		t.Fatalf("unreadable accounts: %v, want 222222222222 alone", got)
	}
	if why := got["222222222222"]; !strings.Contains(why, "sts:AssumeRole: AccessDenied: not authorized") || strings.Contains(why, "\n") {
		t.Errorf("why: %q", why)
	}
	if len(unreadable(nil)) != 0 {
		t.Error("a scan without a snapshot has unreadable accounts")
	}
}
