package snippets_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/kb/snippets"
)

func TestPasswordStandard(t *testing.T) {
	covers(t, "password_standard.go")
	ctx := context.Background()

	// No policy falls short of everything each standard asks.
	srv := start(t, kbtest.Options{})
	cfg := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	p, err := snippets.AccountPasswordPolicy(ctx, cfg)
	if err != nil || p != nil {
		t.Fatalf("no policy: %+v, %v", p, err)
	}
	if got := snippets.SecurityHubIAM7.Shortfalls(p); len(got) != 5 {
		t.Errorf("IAM.7 without a policy: %q, want 5 shortfalls", got)
	}
	if got := snippets.SecurityHubIAM10.Shortfalls(p); len(got) != 6 {
		t.Errorf("IAM.10 without a policy: %q, want 6 shortfalls", got)
	}
	if err := snippets.MeetPasswordStandard(ctx, cfg, snippets.SecurityHubIAM7); err != nil {
		t.Fatal(err)
	}
	if p, err = snippets.AccountPasswordPolicy(ctx, cfg); err != nil || p == nil {
		t.Fatalf("after IAM.7: %+v, %v", p, err)
	}
	if got := snippets.SecurityHubIAM7.Shortfalls(p); len(got) != 0 {
		t.Errorf("after IAM.7, still short: %q", got)
	}
	// IAM.7 leaves reuse and expiry alone, so PCI DSS 3.2.1 still wants them.
	if got := snippets.SecurityHubIAM10.Shortfalls(p); !slices.Equal(got, []string{"PasswordReusePrevention is 0, below 4", "MaxPasswordAge is 0, want 1 to 90"}) {
		t.Errorf("IAM.10 after IAM.7: %q", got)
	}
	if aws.ToInt32(p.MinimumPasswordLength) != 8 || !p.AllowUsersToChangePassword || p.PasswordReusePrevention != nil || p.MaxPasswordAge != nil {
		t.Errorf("IAM.7 policy: %+v", p)
	}

	// Stricter settings survive, weaker ones are raised, and settings the
	// standard does not judge are kept.
	world := kbtest.World(now, kbtest.Options{})
	for _, a := range world.Accounts {
		if a.ID == kbtest.MemberID {
			a.PasswordPolicy = &awsemu.PasswordPolicy{MinimumPasswordLength: 20, RequireSymbols: true, MaxPasswordAge: 365, PasswordReusePrevention: 24, HardExpiry: true}
		}
	}
	srv = awsemutest.Start(t, world, awsemu.WithClock(awsemu.NewManualClock(now).Now))
	cfg = awsemutest.ConfigFor(t, srv, kbtest.MemberAuditorKey)
	if err := snippets.MeetPasswordStandard(ctx, cfg, snippets.SecurityHubIAM10); err != nil {
		t.Fatal(err)
	}
	p, err = snippets.AccountPasswordPolicy(ctx, cfg)
	if err != nil || p == nil {
		t.Fatalf("after IAM.10: %+v, %v", p, err)
	}
	if got := snippets.SecurityHubIAM10.Shortfalls(p); len(got) != 0 {
		t.Errorf("after IAM.10, still short: %q", got)
	}
	if aws.ToInt32(p.MinimumPasswordLength) != 20 || aws.ToInt32(p.PasswordReusePrevention) != 24 || aws.ToInt32(p.MaxPasswordAge) != 90 ||
		!p.RequireSymbols || !aws.ToBool(p.HardExpiry) || p.AllowUsersToChangePassword {
		t.Errorf("IAM.10 policy: %+v", p)
	}
}
