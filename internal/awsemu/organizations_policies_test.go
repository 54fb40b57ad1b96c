package awsemu_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

const denyRoot = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"Null":{"aws:AssumedRoot":"true"}}}]}`

func TestServiceControlPolicies(t *testing.T) {
	srv := startTest(t)
	orgs := clientsFor(t, srv, mgmtAdminKey).orgs
	ctx := t.Context()

	created, err := orgs.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("deny-root"), Description: aws.String("no root"), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyRoot),
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := created.Policy.PolicySummary
	id := aws.ToString(sum.Id)
	if aws.ToString(sum.Name) != "deny-root" || sum.Type != types.PolicyTypeServiceControlPolicy ||
		aws.ToString(sum.Arn) != "arn:aws:organizations::"+mgmtID+":policy/o-aa111bb222/service_control_policy/"+id ||
		aws.ToString(created.Policy.Content) != denyRoot {
		t.Fatalf("created %+v", created.Policy)
	}
	if _, err := orgs.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: sum.Id, TargetId: aws.String(ouProd)}); err != nil {
		t.Fatal(err)
	}
	_, err = orgs.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: sum.Id, TargetId: aws.String(ouProd)})
	wantType[*types.DuplicatePolicyAttachmentException](t, err)
	_, err = orgs.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: sum.Id, TargetId: aws.String(standaloneID)})
	wantType[*types.TargetNotFoundException](t, err)
	_, err = orgs.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String("p-doesnotexist"), TargetId: aws.String(ouProd)})
	wantType[*types.PolicyNotFoundException](t, err)

	list, err := orgs.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(ouProd), Filter: types.PolicyTypeServiceControlPolicy})
	if err != nil || len(list.Policies) != 1 || aws.ToString(list.Policies[0].Id) != id {
		t.Fatalf("ListPoliciesForTarget = %+v, %v", list, err)
	}
	if list, _ := orgs.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String("r-ab12"), Filter: types.PolicyTypeServiceControlPolicy}); len(list.Policies) != 0 {
		t.Errorf("root has %d policies", len(list.Policies))
	}
	desc, err := orgs.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: sum.Id})
	if err != nil || aws.ToString(desc.Policy.Content) != denyRoot {
		t.Fatalf("DescribePolicy = %+v, %v", desc, err)
	}

	_, err = orgs.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("deny-root"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyRoot)})
	wantType[*types.DuplicatePolicyException](t, err)
	_, err = orgs.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("bad"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String("{not json")})
	wantType[*types.MalformedPolicyDocumentException](t, err)
	_, err = clientsFor(t, srv, memberAliceKey).orgs.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("x"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyRoot)})
	wantType[*types.AccessDeniedException](t, err)

	// The state reads back, and a world with the policy loads again.
	w := srv.World()
	if len(w.Organization.Policies) != 1 || !slices.Equal(w.Organization.Policies[0].Targets, []string{ouProd}) {
		t.Fatalf("world policies %+v", w.Organization.Policies)
	}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	w.Organization.Policies[0].Targets = append(w.Organization.Policies[0].Targets, "ou-none-00000000")
	if err := w.Validate(); err == nil {
		t.Error("a policy attached to a missing OU validated")
	}
	if awsemu.Mutating("organizations", "AttachPolicy") == false || awsemu.Mutating("organizations", "ListPoliciesForTarget") {
		t.Error("Mutating misclassifies the policy operations")
	}
}

func TestRegisterDelegatedAdministrator(t *testing.T) {
	srv := startTest(t)
	orgs := clientsFor(t, srv, mgmtAdminKey).orgs
	ctx := t.Context()
	in := func(id string) *organizations.RegisterDelegatedAdministratorInput {
		return &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(id), ServicePrincipal: aws.String("iam.amazonaws.com")}
	}
	if _, err := orgs.RegisterDelegatedAdministrator(ctx, in(memberID)); err != nil {
		t.Fatal(err)
	}
	if got := srv.World().Organization.DelegatedAdmins; !slices.Contains(got, memberID) {
		t.Fatalf("delegated admins %v", got)
	}
	_, err := orgs.RegisterDelegatedAdministrator(ctx, in(memberID))
	wantType[*types.AccountAlreadyRegisteredException](t, err)
	_, err = orgs.RegisterDelegatedAdministrator(ctx, in(mgmtID))
	wantType[*types.ConstraintViolationException](t, err)
	_, err = orgs.RegisterDelegatedAdministrator(ctx, in(standaloneID))
	wantType[*types.AccountNotFoundException](t, err)
	_, err = clientsFor(t, srv, memberAliceKey).orgs.RegisterDelegatedAdministrator(ctx, in(memberID))
	wantType[*types.AccessDeniedException](t, err)
}
