package scenario

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// A scan's requests must grow with pages, not with users: every user with
// a virtual MFA device is one entry of ListVirtualMFADevices, so the
// collector asks IAM for its largest page (1,000). With 5,000 devices that
// is 5 requests where the default page of 100 took 50. The world's root
// user has a virtual device too, so users+1 devices are listed.
func TestVirtualMFAPagesAreLargest(t *testing.T) {
	ref := testclock.Ref()
	for _, tc := range []struct{ users, wantCalls int }{{0, 1}, {999, 1}, {1000, 2}, {4999, 5}, {5000, 6}} {
		t.Run(fmt.Sprint(tc.users), func(t *testing.T) {
			w := benchWorld(ref, true)
			a := w.Accounts[0]
			for i := range tc.users {
				a.Users = append(a.Users, awsemu.User{
					Name:       fmt.Sprintf("user-%05d", i),
					CreateDate: ref.AddDate(-1, 0, 0),
					MFADevices: []awsemu.MFADevice{{Type: awsemu.MFAVirtual, EnableDate: ref.AddDate(-1, 0, 0)}},
				})
			}
			srv := awsemutest.Start(t, w)
			cfg := awsemutest.ConfigFor(t, srv, "AKIAAUDITOR000000001")
			acct, err := collect.Account(context.Background(), collect.NewClients(cfg), collect.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(acct.Gaps) != 0 {
				t.Fatalf("gaps: %+v", acct.Gaps)
			}
			if got := srv.CallCount("iam", "ListVirtualMFADevices"); got != tc.wantCalls {
				t.Errorf("ListVirtualMFADevices called %d times for %d users with virtual MFA and root's, want %d", got, tc.users, tc.wantCalls)
			}
			for _, c := range srv.Calls() {
				if c.Action == "ListVirtualMFADevices" && c.Params["MaxItems"] != "1000" {
					t.Errorf("ListVirtualMFADevices asked for MaxItems=%q, want IAM's largest page, 1000", c.Params["MaxItems"])
				}
			}
		})
	}
}

// The IAM section is read in bulk: with 100 or 10,000 users (some with a
// password, keys, inline and attached policies) the scan makes the same
// calls apart from the pages of GetAccountAuthorizationDetails, and none
// names a user.
func TestIAMCallsGrowWithPagesNotUsers(t *testing.T) {
	ref := testclock.Ref()
	calls := map[int]int{}
	// The details are listed in three chains side by side (users, roles,
	// the rest): one page each at 100 users, 11 pages of users at 10,000.
	for _, tc := range []struct{ users, gaadPages int }{{100, 3}, {10000, 13}} {
		w := benchWorld(ref, true)
		a := w.Accounts[0]
		a.Policies = []awsemu.IAMPolicy{{Name: "deploy", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}}
		a.PasswordPolicy = &awsemu.PasswordPolicy{MinimumPasswordLength: 14}
		for i := range tc.users {
			u := awsemu.User{Name: fmt.Sprintf("user-%05d", i), CreateDate: ref.AddDate(-1, 0, 0), Password: i%2 == 0}
			if i%3 == 0 {
				u.AccessKeys = []awsemu.AccessKey{{ID: fmt.Sprintf("AKIAUSERKEY%09d", i), CreateDate: ref.AddDate(0, -6, 0)}}
				u.AttachedPolicies = []string{"arn:aws:iam::" + a.ID + ":policy/deploy"}
				u.InlinePolicies = []awsemu.InlinePolicy{{Name: "own", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`}}
			}
			a.Users = append(a.Users, u)
		}
		srv := awsemutest.Start(t, w)
		cfg := awsemutest.ConfigFor(t, srv, "AKIAAUDITOR000000001")
		acct, err := collect.Account(context.Background(), collect.NewClients(cfg), collect.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(acct.Gaps) != 0 {
			t.Fatalf("%d users: gaps: %+v", tc.users, acct.Gaps)
		}
		if acct.IAM == nil || len(acct.IAM.Users) < tc.users || acct.CredentialReport == nil || len(acct.CredentialReport.UserRows) < tc.users {
			t.Fatalf("%d users: not every user was read", tc.users)
		}
		// Every request counts, retried attempts too: an answered request
		// sent again is a fault of its own (awsreq fixed one), not noise.
		if got := srv.CallCount("iam", "GetAccountAuthorizationDetails"); got != tc.gaadPages {
			t.Errorf("%d users: GetAccountAuthorizationDetails called %d times, want %d pages", tc.users, got, tc.gaadPages)
		}
		for _, c := range srv.Calls() {
			if c.Params["UserName"] != "" {
				t.Errorf("%d users: %s names user %s: per-user calls are not allowed", tc.users, c.Action, c.Params["UserName"])
			}
		}
		calls[tc.users] = len(srv.Calls())
	}
	if extra := calls[10000] - calls[100]; extra != 10 {
		t.Errorf("10,000 users took %d calls, 100 users %d: %d more, want 10 (the extra pages)", calls[10000], calls[100], extra)
	}
}
