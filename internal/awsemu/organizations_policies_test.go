package awsemu_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

const denyRootSCP = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"Null":{"aws:AssumedRoot":"true"}}}]}`

func targetsOf(t *testing.T, c *organizations.Client, policyID string) []string {
	t.Helper()
	var out []string
	p := organizations.NewListTargetsForPolicyPaginator(c, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(policyID)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range page.Targets {
			out = append(out, aws.ToString(tg.TargetId)+":"+string(tg.Type)+":"+aws.ToString(tg.Name))
		}
	}
	return out
}

func scps(t *testing.T, c *organizations.Client) []types.PolicySummary {
	t.Helper()
	var out []types.PolicySummary
	p := organizations.NewListPoliciesPaginator(c, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Policies...)
	}
	return out
}

func TestFullAWSAccessByDefault(t *testing.T) {
	srv := startTest(t)
	c := clientsFor(t, srv, mgmtAdminKey).orgs
	list := scps(t, c)
	if len(list) != 1 {
		t.Fatalf("%d SCPs, want FullAWSAccess only", len(list))
	}
	p := list[0]
	if aws.ToString(p.Id) != awsemu.FullAWSAccessID || !p.AwsManaged || aws.ToString(p.Name) != "FullAWSAccess" ||
		aws.ToString(p.Arn) != "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess" {
		t.Errorf("unexpected summary %+v", p)
	}
	want := []string{"r-ab12:ROOT:Root", ouProd + ":ORGANIZATIONAL_UNIT:Prod", mgmtID + ":ACCOUNT:management",
		adminID + ":ACCOUNT:security", memberID + ":ACCOUNT:prod", suspendedID + ":ACCOUNT:old"}
	if diff := cmp.Diff(want, targetsOf(t, c, awsemu.FullAWSAccessID)); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	d, err := c.DescribePolicy(t.Context(), &organizations.DescribePolicyInput{PolicyId: aws.String(awsemu.FullAWSAccessID)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(d.Policy.Content), `"Effect":"Allow","Action":"*"`) {
		t.Errorf("content %s", aws.ToString(d.Policy.Content))
	}
	roots, err := c.ListRoots(t.Context(), &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if pt := roots.Roots[0].PolicyTypes; len(pt) != 1 || pt[0].Type != types.PolicyTypeServiceControlPolicy || pt[0].Status != types.PolicyTypeStatusEnabled {
		t.Errorf("root policy types %+v", pt)
	}
}

func TestCreateAttachDetachPolicy(t *testing.T) {
	srv := startTest(t)
	c := clientsFor(t, srv, mgmtAdminKey).orgs
	ctx := t.Context()
	created, err := c.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("DenyRoot"), Description: aws.String("deny root"), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyRootSCP),
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := created.Policy.PolicySummary
	id := aws.ToString(sum.Id)
	if !strings.HasPrefix(id, "p-") || len(id) != 10 || sum.AwsManaged || sum.Type != types.PolicyTypeServiceControlPolicy ||
		aws.ToString(sum.Arn) != "arn:aws:organizations::111122223333:policy/o-aa111bb222/service_control_policy/"+id {
		t.Errorf("unexpected summary %+v (%s)", sum, aws.ToString(sum.Arn))
	}
	if aws.ToString(created.Policy.Content) != denyRootSCP {
		t.Error("content not returned byte for byte")
	}

	_, err = c.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("DenyRoot"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyRootSCP)})
	wantType[*types.DuplicatePolicyException](t, err)

	attach := func(target string) error {
		_, err := c.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(target)})
		return err
	}
	if err := attach(ouProd); err != nil {
		t.Fatal(err)
	}
	wantType[*types.DuplicatePolicyAttachmentException](t, attach(ouProd))
	wantType[*types.TargetNotFoundException](t, attach("ou-abcd-99999999"))
	wantType[*types.TargetNotFoundException](t, attach(standaloneID))
	// AWS accepts an SCP on the management account (where it has no effect).
	if err := attach(mgmtID); err != nil {
		t.Fatalf("attach to the management account: %v", err)
	}
	if diff := cmp.Diff([]string{ouProd + ":ORGANIZATIONAL_UNIT:Prod", mgmtID + ":ACCOUNT:management"}, targetsOf(t, c, id)); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	forOU, err := c.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(ouProd), Filter: types.PolicyTypeServiceControlPolicy})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range forOU.Policies {
		names = append(names, aws.ToString(p.Name))
	}
	if diff := cmp.Diff([]string{"FullAWSAccess", "DenyRoot"}, names); diff != "" {
		t.Errorf("policies for the OU (-want +got):\n%s", diff)
	}

	_, err = c.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(memberID)})
	wantType[*types.PolicyNotAttachedException](t, err)
	if _, err := c.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(mgmtID)}); err != nil {
		t.Fatal(err)
	}
	// The root keeps at least one SCP.
	_, err = c.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(awsemu.FullAWSAccessID), TargetId: aws.String("r-ab12")})
	cv := wantType[*types.ConstraintViolationException](t, err)
	if cv.Reason != types.ConstraintViolationExceptionReasonMinPolicyTypeAttachmentLimitExceeded {
		t.Errorf("reason %q", cv.Reason)
	}

	_, err = c.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-doesnotexist")})
	wantType[*types.PolicyNotFoundException](t, err)
	_, err = c.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("bad")})
	wantType[*types.InvalidInputException](t, err)

	// The world read back shows the attachment.
	var got *awsemu.Policy
	for _, p := range srv.World().Organization.Policies {
		if p.ID == id {
			got = &p
		}
	}
	if got == nil || !slices.Equal(got.Targets, []string{ouProd}) {
		t.Errorf("world policy %+v", got)
	}
}

func TestPolicyLimits(t *testing.T) {
	srv := startTest(t)
	c := clientsFor(t, srv, mgmtAdminKey).orgs
	ctx := t.Context()
	create := func(name, content string) (string, error) {
		out, err := c.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(name), Description: aws.String("d"), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(content)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Policy.PolicySummary.Id), nil
	}
	// Whitespace counts through the API.
	padded := denyRootSCP[:len(denyRootSCP)-1] + strings.Repeat(" ", 5120-len(denyRootSCP)+1) + "}"
	_, err := create("TooBig", padded)
	cv := wantType[*types.ConstraintViolationException](t, err)
	if cv.Reason != types.ConstraintViolationExceptionReasonPolicyContentLimitExceeded {
		t.Errorf("reason %q", cv.Reason)
	}
	_, err = create("Broken", `{"Version":`)
	wantType[*types.MalformedPolicyDocumentException](t, err)

	// Five SCPs per target, FullAWSAccess included.
	for i := range 4 {
		id, err := create(fmt.Sprintf("P%d", i), denyRootSCP)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(memberID)}); err != nil {
			t.Fatalf("attach %d: %v", i, err)
		}
	}
	id, err := create("Sixth", denyRootSCP)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(memberID)})
	cv = wantType[*types.ConstraintViolationException](t, err)
	if cv.Reason != types.ConstraintViolationExceptionReasonMaxPolicyTypeAttachmentLimitExceeded {
		t.Errorf("reason %q", cv.Reason)
	}

	// Updating content is checked the same way; AWS managed policies are read-only.
	if _, err := c.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(id), Content: aws.String(padded)}); err == nil {
		t.Error("update accepted an oversized policy")
	}
	up, err := c.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(id), Description: aws.String("new")})
	if err != nil || aws.ToString(up.Policy.PolicySummary.Description) != "new" || aws.ToString(up.Policy.Content) != denyRootSCP {
		t.Errorf("update: %v %+v", err, up)
	}
	_, err = c.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(awsemu.FullAWSAccessID), Description: aws.String("x")})
	wantType[*types.AccessDeniedException](t, err)
}

func TestPolicyCallers(t *testing.T) {
	srv := startTest(t)
	ctx := t.Context()
	in := &organizations.CreatePolicyInput{Name: aws.String("X"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyRootSCP)}
	// A delegated administrator may read policies but, here, not write them.
	del := clientsFor(t, srv, delegatedKey).orgs
	if got := scps(t, del); len(got) != 1 {
		t.Errorf("delegated admin sees %d policies", len(got))
	}
	_, err := del.CreatePolicy(ctx, in)
	wantType[*types.AccessDeniedException](t, err)
	member := clientsFor(t, srv, memberAliceKey).orgs
	_, err = member.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy})
	wantType[*types.AccessDeniedException](t, err)
	_, err = clientsFor(t, srv, standaloneAdmin).orgs.CreatePolicy(ctx, in)
	wantType[*types.AWSOrganizationsNotInUseException](t, err)
	mgmt := clientsFor(t, srv, mgmtAdminKey).orgs
	_, err = mgmt.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: "NOT_A_TYPE"})
	wantType[*types.InvalidInputException](t, err)
	// Faults fire before the operation, so a faulted write changes nothing.
	srv.AddFault(awsemu.Fault{Service: "organizations", Action: "CreatePolicy", Code: "AccessDeniedException"})
	_, err = mgmt.CreatePolicy(ctx, in)
	wantType[*types.AccessDeniedException](t, err)
	if len(scps(t, mgmt)) != 1 {
		t.Error("a faulted CreatePolicy created a policy")
	}
}

func TestEnablePolicyType(t *testing.T) {
	w := testWorld()
	none := []string{}
	w.Organization.PolicyTypes = &none
	srv := awsemutest.Start(t, w)
	c := clientsFor(t, srv, mgmtAdminKey).orgs
	ctx := t.Context()

	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roots.Roots[0].PolicyTypes) != 0 {
		t.Errorf("policy types %+v, want none", roots.Roots[0].PolicyTypes)
	}
	if len(scps(t, c)) != 0 {
		t.Error("FullAWSAccess exists while SCPs are disabled")
	}
	created, err := c.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("DenyRoot"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyRootSCP)})
	if err != nil {
		t.Fatalf("CreatePolicy needs no enabled type: %v", err)
	}
	id := created.Policy.PolicySummary.Id
	_, err = c.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: id, TargetId: aws.String("r-ab12")})
	wantType[*types.PolicyTypeNotEnabledException](t, err)

	_, err = c.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String("r-zzzz"), PolicyType: types.PolicyTypeServiceControlPolicy})
	wantType[*types.RootNotFoundException](t, err)
	out, err := c.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String("r-ab12"), PolicyType: types.PolicyTypeServiceControlPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if pt := out.Root.PolicyTypes; len(pt) != 1 || pt[0].Status != types.PolicyTypeStatusEnabled {
		t.Errorf("root after enabling: %+v", pt)
	}
	if got := targetsOf(t, c, awsemu.FullAWSAccessID); len(got) != 6 {
		t.Errorf("FullAWSAccess attached to %v, want the root, the OU and four accounts", got)
	}
	if _, err := c.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: id, TargetId: aws.String("r-ab12")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String("r-ab12"), PolicyType: types.PolicyTypeServiceControlPolicy})
	wantType[*types.PolicyTypeAlreadyEnabledException](t, err)

	// Disabling detaches every SCP.
	if _, err := c.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String("r-ab12"), PolicyType: types.PolicyTypeServiceControlPolicy}); err != nil {
		t.Fatal(err)
	}
	if got := targetsOf(t, c, aws.ToString(id)); len(got) != 0 {
		t.Errorf("still attached to %v", got)
	}
	if !awsemu.Mutating("organizations", "EnablePolicyType") || !awsemu.Mutating("organizations", "AttachPolicy") || awsemu.Mutating("organizations", "ListTargetsForPolicy") {
		t.Error("policy operations misclassified")
	}
}

func TestPoliciesFromWorldFile(t *testing.T) {
	doc := `{"organization":{"id":"o-aa111bb222","managementAccountId":"111122223333","rootId":"r-ab12",
	  "ous":[{"id":"ou-ab12-11111111","name":"Prod","parentId":"r-ab12"}],
	  "policies":[{"id":"p-denyroot1","name":"DenyRoot","content":` + fmt.Sprintf("%q", denyRootSCP) + `,"targets":["ou-ab12-11111111","444455556666"]}]},
	 "accounts":[{"id":"111122223333"},{"id":"444455556666","parentId":"ou-ab12-11111111"}]}`
	w, err := awsemu.LoadWorld(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	srv := awsemutest.Start(t, w, awsemu.WithSeed(1))
	back := srv.World()
	if len(back.Organization.Policies) != 2 || back.Organization.Policies[0].ID != awsemu.FullAWSAccessID || back.Organization.Policies[1].Type != awsemu.PolicyTypeSCP {
		t.Errorf("policies read back: %+v", back.Organization.Policies)
	}

	for _, c := range []struct{ name, policies, want string }{
		{"bad id", `[{"id":"policy1","name":"a","content":"{}"}]`, `id "policy1"`},
		{"unknown target", `[{"id":"p-aaaaaaaa","name":"a","content":"{}","targets":["ou-ab12-99999999"]}]`, "neither the root"},
		{"duplicate name", `[{"id":"p-aaaaaaaa","name":"a","content":"{}"},{"id":"p-bbbbbbbb","name":"a","content":"{}"}]`, "already exists"},
		{"bad content", `[{"id":"p-aaaaaaaa","name":"a","content":"{"}]`, "not valid JSON"},
		{"too many on one target", `[{"id":"p-aaaaaaa1","name":"a1","content":"{}","targets":["r-ab12"]},{"id":"p-aaaaaaa2","name":"a2","content":"{}","targets":["r-ab12"]},
			{"id":"p-aaaaaaa3","name":"a3","content":"{}","targets":["r-ab12"]},{"id":"p-aaaaaaa4","name":"a4","content":"{}","targets":["r-ab12"]},
			{"id":"p-aaaaaaa5","name":"a5","content":"{}","targets":["r-ab12"]},{"id":"p-aaaaaaa6","name":"a6","content":"{}","targets":["r-ab12"]}]`, "AWS allows 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := `{"organization":{"id":"o-aa111bb222","managementAccountId":"111122223333","rootId":"r-ab12","ous":[{"id":"ou-ab12-11111111","name":"Prod","parentId":"r-ab12"}],"policies":` +
				c.policies + `},"accounts":[{"id":"111122223333"}]}`
			_, err := awsemu.LoadWorld(bytes.NewReader([]byte(bad)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
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
