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
