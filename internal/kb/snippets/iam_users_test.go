package snippets_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/kb/snippets"
)

// This file sorts before snippets_test.go, so its test runs before
// TestEverySnippetRuns looks for it.

func TestIAMUsers(t *testing.T) {
	covers(t, "iam_users_find.go")
	covers(t, "iam_users_fix.go")
	if testing.Short() {
		t.Skip("waits for the emulated credential report")
	}
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	admin := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	users, err := snippets.IAMUserCredentials(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]snippets.UserCredentials{}
	for _, u := range users {
		got[u.User] = u
	}
	if len(users) != 3 {
		t.Fatalf("users = %+v, want auditor, intern, root", users)
	}
	// The auditor's key was made 400 days ago and never used: unused,
	// though it never had a last use to age.
	if u := got["auditor"].Unused(now, 45*24*time.Hour); !slices.Equal(u, []string{"access key 1"}) {
		t.Errorf("auditor unused = %v", u)
	}
	if u := got["intern"].Unused(now, 45*24*time.Hour); !slices.Equal(u, []string{"password", "access key 1"}) {
		t.Errorf("intern unused = %v", u)
	}
	if u := got["intern"].Unused(now, 120*24*time.Hour); len(u) != 0 {
		t.Errorf("intern unused after 120 days = %v, want none (set 100 days ago)", u)
	}
	if !got["intern"].ConsoleWithoutMFA() || got["root"].ConsoleWithoutMFA() || got["auditor"].ConsoleWithoutMFA() {
		t.Errorf("console without MFA: intern %v, root %v, auditor %v", got["intern"].ConsoleWithoutMFA(), got["root"].ConsoleWithoutMFA(), got["auditor"].ConsoleWithoutMFA())
	}

	ids, err := snippets.UserAccessKeyIDs(ctx, admin, "intern")
	if err != nil || !slices.Equal(ids, []string{kbtest.StandaloneInternKey}) {
		t.Fatalf("UserAccessKeyIDs = %v, %v", ids, err)
	}
	if err := snippets.DisableUserCredentials(ctx, admin, "intern", ids, true); err != nil {
		t.Fatal(err)
	}
	var intern *awsemu.User
	for i, u := range account(t, srv, kbtest.StandaloneID).Users {
		if u.Name == "intern" {
			intern = &account(t, srv, kbtest.StandaloneID).Users[i]
		}
	}
	if intern == nil || intern.Password || len(intern.AccessKeys) != 1 || intern.AccessKeys[0].Status != awsemu.StatusInactive {
		t.Errorf("intern after DisableUserCredentials: %+v", intern)
	}
	// Again: no password left is not an error.
	if err := snippets.DisableUserCredentials(ctx, admin, "intern", nil, true); err != nil {
		t.Errorf("second run: %v", err)
	}
}
