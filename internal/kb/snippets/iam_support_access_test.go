package snippets_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/kb/snippets"
)

// This file sorts before snippets_test.go, so its test runs before
// TestEverySnippetRuns looks for it.

func TestSupportAccessHolders(t *testing.T) {
	covers(t, "iam_support_access.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{IAMEstate: true})
	cfg := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	client := iam.NewFromConfig(cfg)
	holders := func() []string {
		t.Helper()
		e, err := snippets.ReadIAMEntities(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return e.SupportAccessHolders()
	}
	const support = "arn:aws:iam::aws:policy/AWSSupportAccess"
	arn := "arn:aws:iam::" + kbtest.StandaloneID + ":"
	if got := holders(); len(got) != 0 {
		t.Errorf("before: %v, want none", got)
	}
	// On a group without members the policy reaches nobody.
	if _, err := client.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("ops"), PolicyArn: aws.String(support)}); err != nil {
		t.Fatal(err)
	}
	if got := holders(); len(got) != 0 {
		t.Errorf("empty group: %v, want none", got)
	}
	if _, err := client.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("intern")}); err != nil {
		t.Fatal(err)
	}
	if got := holders(); !slices.Equal(got, []string{arn + "group/ops"}) {
		t.Errorf("group with a member: %v", got)
	}
	if _, err := client.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ci-deploy"), PolicyArn: aws.String(support)}); err != nil {
		t.Fatal(err)
	}
	if got := holders(); !slices.Equal(got, []string{arn + "group/ops", arn + "role/ci-deploy"}) {
		t.Errorf("and a role: %v", got)
	}
}
