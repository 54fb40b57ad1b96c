package awsemu_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

// TestPolicyAttachments drives the calls the IAM policy pages teach, through
// the SDK, and reads the result back the way Vigil does: with
// GetAccountAuthorizationDetails.
func TestPolicyAttachments(t *testing.T) {
	w := testWorld()
	member := w.Accounts[2]
	member.Groups = []awsemu.Group{{Name: "devs"}}
	member.Policies = []awsemu.IAMPolicy{{Name: "spare", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}}
	member.Users[1].AttachedPolicies = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}
	member.Users[1].InlinePolicies = []awsemu.InlinePolicy{{Name: "own", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}}
	srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return t0 }))
	c := clientsFor(t, srv, memberAliceKey).iam
	ctx := t.Context()
	const support = "arn:aws:iam::aws:policy/AWSSupportAccess"
	const readOnly = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	spare := "arn:aws:iam::" + memberID + ":policy/spare"

	attached, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("alice")})
	if err != nil || len(attached.AttachedPolicies) != 1 || aws.ToString(attached.AttachedPolicies[0].PolicyName) != "ReadOnlyAccess" {
		t.Fatalf("ListAttachedUserPolicies = %+v, %v", attached, err)
	}
	inline, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("alice")})
	if err != nil || !slices.Equal(inline.PolicyNames, []string{"own"}) {
		t.Fatalf("ListUserPolicies = %+v, %v", inline, err)
	}
	steps := []func() error{
		func() error {
			_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("alice"), GroupName: aws.String("devs")})
			return err
		},
		func() error {
			_, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(readOnly)})
			return err
		},
		func() error {
			_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(readOnly)})
			return err
		},
		func() error {
			// The inline policy moves to the group: read it, put it there.
			got, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("own")})
			if err != nil {
				return err
			}
			doc, err := url.PathUnescape(aws.ToString(got.PolicyDocument))
			if err != nil || !strings.Contains(doc, `"s3:*"`) {
				t.Errorf("GetUserPolicy document = %q, %v", doc, err)
			}
			_, err = c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("own"), PolicyDocument: aws.String(doc)})
			return err
		},
		func() error {
			_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("own")})
			return err
		},
		func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("incident-support"),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + memberID + `:root"},"Action":"sts:AssumeRole"}]}`)})
			return err
		},
		func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("incident-support"), PolicyArn: aws.String(support)})
			return err
		},
		func() error {
			_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(spare)})
			return err
		},
		func() error {
			out, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("narrow"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)})
			if err == nil && aws.ToString(out.Policy.Arn) != "arn:aws:iam::"+memberID+":policy/narrow" {
				t.Errorf("CreatePolicy ARN %s", aws.ToString(out.Policy.Arn))
			}
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
	}
	ents, err := c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(support)})
	if err != nil || len(ents.PolicyRoles) != 1 || aws.ToString(ents.PolicyRoles[0].RoleName) != "incident-support" || len(ents.PolicyUsers)+len(ents.PolicyGroups) != 0 {
		t.Fatalf("ListEntitiesForPolicy = %+v, %v", ents, err)
	}
	ents, err = c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(readOnly), EntityFilter: "Group"})
	if err != nil || len(ents.PolicyGroups) != 1 || len(ents.PolicyRoles) != 0 {
		t.Fatalf("ListEntitiesForPolicy(Group) = %+v, %v", ents, err)
	}
	acct, _ := srv.Account(memberID)
	alice := acct.Users[1]
	if len(alice.AttachedPolicies) != 0 || len(alice.InlinePolicies) != 0 || !slices.Equal(alice.Groups, []string{"devs"}) || len(acct.Policies) != 1 ||
		len(acct.Groups[0].InlinePolicies) != 1 || !slices.Equal(acct.Groups[0].AttachedPolicies, []string{readOnly}) {
		t.Errorf("after the steps: alice %+v, policies %+v", alice, acct.Policies)
	}

	// Refusals: a second role of the same name, detaching what is not
	// attached, a policy that does not exist.
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("incident-support"), AssumeRolePolicyDocument: aws.String(`{"Statement":[{}]}`)})
	wantAPIError(t, err, "EntityAlreadyExists", 409)
	_, err = c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(readOnly)})
	wantAPIError(t, err, "NoSuchEntity", 404)
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("incident-support"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	wantAPIError(t, err, "NoSuchEntity", 404)
}

func TestPolicyDeleteConflict(t *testing.T) {
	w := testWorld()
	member := w.Accounts[2]
	member.Policies = []awsemu.IAMPolicy{{Name: "used", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}}
	member.Users[1].AttachedPolicies = []string{"arn:aws:iam::" + memberID + ":policy/used"}
	srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return t0 }))
	_, err := clientsFor(t, srv, memberAliceKey).iam.DeletePolicy(t.Context(), &iam.DeletePolicyInput{PolicyArn: aws.String("arn:aws:iam::" + memberID + ":policy/used")})
	wantAPIError(t, err, "DeleteConflict", 409)
}

func TestUserVirtualMFA(t *testing.T) {
	srv := startTest(t)
	c := clientsFor(t, srv, memberAliceKey).iam
	ctx := t.Context()
	dev, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice-phone")})
	if err != nil {
		t.Fatal(err)
	}
	serial := aws.ToString(dev.VirtualMFADevice.SerialNumber)
	if serial != "arn:aws:iam::"+memberID+":mfa/alice-phone" || len(dev.VirtualMFADevice.Base32StringSeed) == 0 {
		t.Fatalf("device = %+v", dev.VirtualMFADevice)
	}
	_, err = c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String("12345"), AuthenticationCode2: aws.String("654321")})
	wantAPIError(t, err, "ValidationError", 400)
	if _, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}); err != nil {
		t.Fatal(err)
	}
	mfa, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("alice")})
	if err != nil || !slices.ContainsFunc(mfa.MFADevices, func(d types.MFADevice) bool { return aws.ToString(d.SerialNumber) == serial }) {
		t.Fatalf("ListMFADevices = %+v, %v", mfa, err)
	}
	// The device is assigned now: enabling it again finds no free device.
	_, err = c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")})
	wantAPIError(t, err, "NoSuchEntity", 404)
}
