package awsemu_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

// Tags set with TagUser and TagRole come back from List*Tags and beside
// the identity in GetAccountAuthorizationDetails; UntagUser removes them;
// reserved aws: keys are refused.
func TestIdentityTags(t *testing.T) {
	ctx := context.Background()
	w := &awsemu.World{Accounts: []*awsemu.Account{{ID: "111122223333",
		Users: []awsemu.User{{Name: "alice", Tags: []awsemu.Tag{{Key: "team", Value: "data"}}}, {Name: "bob"}},
		Roles: []awsemu.Role{{Name: "deploy"}},
		Root:  awsemu.Root{AccessKeys: []awsemu.AccessKey{{ID: "AKIAROOTTAGS00000001", Secret: "s"}}}}}}
	srv := awsemutest.Start(t, w)
	c := iam.NewFromConfig(awsemutest.ConfigFor(t, srv, "AKIAROOTTAGS00000001"))
	if _, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("bob"), Tags: []iamtypes.Tag{{Key: aws.String("owner"), Value: aws.String("ops")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("deploy"), Tags: []iamtypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("alice"), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("bob"), Tags: []iamtypes.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidInput" {
		t.Errorf("aws: key: %v", err)
	}
	lt, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("deploy")})
	if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Key) != "env" {
		t.Fatalf("ListRoleTags = %+v, %v", lt, err)
	}
	d, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, u := range d.UserDetailList {
		got[aws.ToString(u.UserName)] = len(u.Tags)
	}
	for _, r := range d.RoleDetailList {
		got[aws.ToString(r.RoleName)] = len(r.Tags)
	}
	if got["alice"] != 0 || got["bob"] != 1 || got["deploy"] != 1 {
		t.Errorf("tags in the authorization details: %v", got)
	}
}
