package fleet_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/fleet"
)

// TestRootSessionObserved: every AssumeRoot session is reported, with the
// key its calls are signed with, before it signs one.
func TestRootSessionObserved(t *testing.T) {
	srv := awsemutest.Start(t, world())
	var mu sync.Mutex
	var seen []fleet.OpenedRootSession
	ctx := fleet.WithRootSessionObserver(t.Context(), func(_ context.Context, s fleet.OpenedRootSession) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, s)
	})
	cfg, g := fleet.RootSession(ctx, awsemutest.ConfigFor(t, srv, mgmtAdmin), "aws", memberID, "IAMAuditRootUserCredentials", 0)
	if g != nil {
		t.Fatal(g)
	}
	mu.Lock()
	n := len(seen)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("observed %d sessions before the first call", n)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	s := seen[0]
	if s.AccountID != memberID || s.AccessKeyID != creds.AccessKeyID || s.TaskPolicy != "IAMAuditRootUserCredentials" || s.Expires.IsZero() {
		t.Errorf("observed %+v (session key %s)", s, creds.AccessKeyID)
	}
	// Without an observer nothing is told, and nothing breaks.
	if _, g := fleet.RootSession(t.Context(), awsemutest.ConfigFor(t, srv, mgmtAdmin), "aws", memberID, "IAMAuditRootUserCredentials", 0); g != nil {
		t.Fatal(g)
	}
}
