package fleet_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// An organisation scan knows who it signs as in every account it reaches
// (its own identity, and each role session's from the AssumeRole answer),
// so it asks sts:GetCallerIdentity once for the whole run, not once more
// per account; and the identity each account records is the one STS
// itself gives for that session.
func TestOrgScanKnowsItsIdentities(t *testing.T) {
	w := awsemu.OrgWorld(5, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 3})
	srv := awsemutest.Start(t, w)
	cfg := awsemutest.ConfigFor(t, srv, awsemu.OrgWorldAdminKey)
	doc, err := fleet.Scan(context.Background(), cfg, fleet.Options{Mode: fleet.ModeRole, Collect: collect.DefaultOptions(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.CallCount("sts", "GetCallerIdentity"); n != 1 {
		t.Errorf("sts:GetCallerIdentity called %d times, want once for the run", n)
	}
	if len(doc.Accounts) != 6 {
		t.Fatalf("%d accounts scanned, want 6", len(doc.Accounts))
	}
	self, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range doc.Accounts {
		if len(a.Gaps) != 0 {
			t.Errorf("%s: gaps %+v", a.ID, a.Gaps)
		}
		if a.Caller == nil {
			t.Errorf("%s: no caller recorded", a.ID)
			continue
		}
		if a.ID == awsemu.OrgWorldManagementID {
			if a.Caller.ARN != *self.Arn || a.Caller.UserID != *self.UserId {
				t.Errorf("management account caller %+v, want the run's own %s %s", a.Caller, *self.Arn, *self.UserId)
			}
			continue
		}
		// What STS says of a session of that role in that account.
		if want := "arn:aws:sts::" + a.ID + ":assumed-role/VigilAudit/"; !strings.HasPrefix(a.Caller.ARN, want) {
			t.Errorf("%s: caller %q, want an assumed-role ARN in that account (%s…)", a.ID, a.Caller.ARN, want)
		}
		if !strings.HasPrefix(a.Caller.UserID, "AROA") || !strings.HasSuffix(a.Caller.UserID, ":"+a.Caller.ARN[strings.LastIndex(a.Caller.ARN, "/")+1:]) {
			t.Errorf("%s: caller user ID %q is not the role ID and session name STS gives", a.ID, a.Caller.UserID)
		}
	}
}
