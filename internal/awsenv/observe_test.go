package awsenv_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/awsenv"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// Each call reports its service, operation and AWS error code once.
func TestObserveInto(t *testing.T) {
	srv := awsemutest.Start(t, awsemu.DemoWorld(testclock.Ref()))
	cfg := awsemutest.ConfigFor(t, srv, awsemu.DemoManagementAdminKey)
	var mu sync.Mutex
	var seen []string
	awsenv.ObserveInto(&cfg, func(service, op, code string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, service+" "+op+" "+code)
	})
	c := iam.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody-by-this-name")}); err == nil {
		t.Fatal("a user that does not exist was found")
	}
	want := []string{"IAM GetAccountSummary ", "IAM GetUser NoSuchEntity"}
	if len(seen) != 2 || seen[0] != want[0] || seen[1] != want[1] {
		t.Errorf("observed %q, want %q", seen, want)
	}
}
