package snippets_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/kb/snippets"
)

func TestPasswordPolicy(t *testing.T) {
	covers(t, "password_policy.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	admin := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	if p, err := snippets.AccountPasswordPolicy(ctx, admin); err != nil || p != nil {
		t.Fatalf("no policy: %+v, %v", p, err)
	}
	if err := snippets.StrengthenPasswordPolicy(ctx, admin, 14, 24); err != nil {
		t.Fatal(err)
	}
	p, err := snippets.AccountPasswordPolicy(ctx, admin)
	if err != nil || p == nil || aws.ToInt32(p.MinimumPasswordLength) != 14 || aws.ToInt32(p.PasswordReusePrevention) != 24 {
		t.Fatalf("after: %+v, %v", p, err)
	}

	// Other settings survive, and a longer length is not shortened.
	world := kbtest.World(now, kbtest.Options{})
	for _, a := range world.Accounts {
		if a.ID == kbtest.MemberID {
			a.PasswordPolicy = &awsemu.PasswordPolicy{MinimumPasswordLength: 20, RequireSymbols: true, MaxPasswordAge: 90, PasswordReusePrevention: 3}
		}
	}
	srv = awsemutest.Start(t, world, awsemu.WithClock(awsemu.NewManualClock(now).Now))
	w := awsemutest.ConfigFor(t, srv, kbtest.MemberAuditorKey)
	if err := snippets.StrengthenPasswordPolicy(ctx, w, 14, 24); err != nil {
		t.Fatal(err)
	}
	p, err = snippets.AccountPasswordPolicy(ctx, w)
	if err != nil || aws.ToInt32(p.MinimumPasswordLength) != 20 || !p.RequireSymbols || aws.ToInt32(p.MaxPasswordAge) != 90 || aws.ToInt32(p.PasswordReusePrevention) != 24 {
		t.Fatalf("kept settings: %+v, %v", p, err)
	}
}
