package awsemu_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

func enableIAMAccess() *organizations.EnableAWSServiceAccessInput {
	return &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("iam.amazonaws.com")}
}

func TestDescribeOrganization(t *testing.T) {
	srv := startTest(t)
	out, err := clientsFor(t, srv, memberAliceKey).orgs.DescribeOrganization(t.Context(), &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	o := out.Organization
	got := []string{aws.ToString(o.Id), aws.ToString(o.Arn), aws.ToString(o.MasterAccountId), aws.ToString(o.MasterAccountArn),
		aws.ToString(o.MasterAccountEmail), string(o.FeatureSet)}
	want := []string{"o-aa111bb222", "arn:aws:organizations::111122223333:organization/o-aa111bb222", mgmtID,
		"arn:aws:organizations::111122223333:account/o-aa111bb222/111122223333", "mgmt@example.com", "ALL"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("organization (-want +got):\n%s", diff)
	}

	_, err = clientsFor(t, srv, standaloneRoot).orgs.DescribeOrganization(t.Context(), nil)
	wantType[*types.AWSOrganizationsNotInUseException](t, err)
	wantAPIError(t, err, "AWSOrganizationsNotInUseException", 400)
}

func bigOrg(n int) *awsemu.World {
	w := &awsemu.World{Organization: &awsemu.Organization{ID: "o-bigorg00001", ManagementAccountID: "100000000000", RootID: "r-big0"}}
	for i := range n {
		w.Accounts = append(w.Accounts, &awsemu.Account{
			ID: fmt.Sprintf("1%011d", i), Name: fmt.Sprintf("acct-%02d", i),
			JoinedTimestamp: time.Date(2024, 1, 1, 0, 0, i, 500_000_000, time.UTC),
		})
	}
	w.Accounts[7].State = awsemu.StateClosed
	w.Credentials = []awsemu.Credential{
		{AccessKeyID: "AKIABIGMGMTUSER00001", AccountID: "100000000000", Principal: "role/Scanner"},
		{AccessKeyID: "AKIABIGMEMBER0000001", AccountID: "100000000003", Principal: "role/Scanner"},
	}
	return w
}

func TestListAccountsPaginator(t *testing.T) {
	srv := awsemutest.Start(t, bigOrg(45))
	c := clientsFor(t, srv, "AKIABIGMGMTUSER00001").orgs
	var ids []string
	var pageSizes []int
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pageSizes = append(pageSizes, len(out.Accounts))
		for _, a := range out.Accounts {
			ids = append(ids, aws.ToString(a.Id))
		}
	}
	if !slices.Equal(pageSizes, []int{20, 20, 5}) || len(ids) != 45 || ids[44] != "100000000044" {
		t.Errorf("pages %v, %d ids", pageSizes, len(ids))
	}

	out, err := c.ListAccounts(t.Context(), &organizations.ListAccountsInput{MaxResults: aws.Int32(8)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Accounts) != 8 || out.NextToken == nil {
		t.Fatalf("MaxResults 8: %d accounts, next %v", len(out.Accounts), out.NextToken)
	}
	a := out.Accounts[7]
	if a.State != types.AccountStateClosed || a.Status != types.AccountStatusSuspended || a.JoinedMethod != types.AccountJoinedMethodCreated ||
		!a.JoinedTimestamp.Equal(time.Date(2024, 1, 1, 0, 0, 7, 500_000_000, time.UTC)) ||
		aws.ToString(a.Arn) != "arn:aws:organizations::100000000000:account/o-bigorg00001/100000000007" ||
		aws.ToString(a.Email) != "aws+100000000007@example.com" || aws.ToString(a.Name) != "acct-07" {
		t.Errorf("closed account = %+v", a)
	}
	if out.Accounts[0].JoinedMethod != types.AccountJoinedMethodInvited {
		t.Errorf("management JoinedMethod = %s", out.Accounts[0].JoinedMethod)
	}

	for _, bad := range []int32{0, 21} {
		_, err = c.ListAccounts(t.Context(), &organizations.ListAccountsInput{MaxResults: aws.Int32(bad)})
		e := wantType[*types.InvalidInputException](t, err)
		if e.Reason == "" {
			t.Errorf("MaxResults %d: no Reason", bad)
		}
	}
	_, err = c.ListAccounts(t.Context(), &organizations.ListAccountsInput{NextToken: aws.String("garbage")})
	if e := wantType[*types.InvalidInputException](t, err); e.Reason != types.InvalidInputExceptionReasonInvalidPaginationToken {
		t.Errorf("reason = %s", e.Reason)
	}

	_, err = clientsFor(t, srv, "AKIABIGMEMBER0000001").orgs.ListAccounts(t.Context(), nil)
	wantType[*types.AccessDeniedException](t, err)
}

func TestOrganizationStructure(t *testing.T) {
	srv := startTest(t)
	ctx := t.Context()
	c := clientsFor(t, srv, delegatedKey).orgs

	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roots.Roots) != 1 || aws.ToString(roots.Roots[0].Id) != "r-ab12" ||
		aws.ToString(roots.Roots[0].Arn) != "arn:aws:organizations::111122223333:root/o-aa111bb222/r-ab12" {
		t.Errorf("roots = %+v", roots.Roots)
	}

	ous, err := c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("r-ab12")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ous.OrganizationalUnits) != 1 || aws.ToString(ous.OrganizationalUnits[0].Name) != "Prod" ||
		aws.ToString(ous.OrganizationalUnits[0].Arn) != "arn:aws:organizations::111122223333:ou/o-aa111bb222/"+ouProd {
		t.Errorf("OUs = %+v", ous.OrganizationalUnits)
	}

	inOU, err := c.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(ouProd)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range inOU.Accounts {
		ids = append(ids, aws.ToString(a.Id))
	}
	if !slices.Equal(ids, []string{adminID, memberID}) {
		t.Errorf("accounts in OU = %v", ids)
	}

	children, err := c.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String("r-ab12"), ChildType: types.ChildTypeAccount})
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, ch := range children.Children {
		ids = append(ids, aws.ToString(ch.Id)+":"+string(ch.Type))
	}
	if !slices.Equal(ids, []string{mgmtID + ":ACCOUNT", suspendedID + ":ACCOUNT"}) {
		t.Errorf("children = %v", ids)
	}
	ouChildren, err := c.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String("r-ab12"), ChildType: types.ChildTypeOrganizationalUnit})
	if err != nil {
		t.Fatal(err)
	}
	if len(ouChildren.Children) != 1 || ouChildren.Children[0].Type != types.ChildTypeOrganizationalUnit {
		t.Errorf("OU children = %+v", ouChildren.Children)
	}

	parents, err := c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(memberID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(parents.Parents) != 1 || aws.ToString(parents.Parents[0].Id) != ouProd || parents.Parents[0].Type != types.ParentTypeOrganizationalUnit {
		t.Errorf("parents = %+v", parents.Parents)
	}
	parents, err = c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(ouProd)})
	if err != nil {
		t.Fatal(err)
	}
	if parents.Parents[0].Type != types.ParentTypeRoot {
		t.Errorf("OU parent = %+v", parents.Parents)
	}

	ou, err := c.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(ouProd)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ou.OrganizationalUnit.Id) != ouProd || aws.ToString(ou.OrganizationalUnit.Name) == "" {
		t.Errorf("DescribeOrganizationalUnit = %+v", ou.OrganizationalUnit)
	}
	_, err = c.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String("ou-abcd-99999999")})
	wantType[*types.OrganizationalUnitNotFoundException](t, err)

	_, err = c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(standaloneID)})
	wantType[*types.ChildNotFoundException](t, err)
	_, err = c.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-abcd-99999999")})
	wantType[*types.ParentNotFoundException](t, err)

	acct, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(suspendedID)})
	if err != nil {
		t.Fatal(err)
	}
	if acct.Account.State != types.AccountStateSuspended || aws.ToString(acct.Account.Name) != "old" {
		t.Errorf("account = %+v", acct.Account)
	}
	_, err = c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(standaloneID)})
	wantType[*types.AccountNotFoundException](t, err)

	_, err = clientsFor(t, srv, memberAliceKey).orgs.ListRoots(ctx, nil)
	wantType[*types.AccessDeniedException](t, err)
}

func TestServiceAccessAndDelegatedAdmins(t *testing.T) {
	srv := startTest(t)
	ctx := t.Context()
	mgmt := clientsFor(t, srv, mgmtAdminKey).orgs

	_, err := clientsFor(t, srv, delegatedKey).orgs.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("sso.amazonaws.com")})
	wantType[*types.AccessDeniedException](t, err)
	if _, err := mgmt.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("sso.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = mgmt.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("nonsense")})
	wantType[*types.InvalidInputException](t, err)

	out, err := mgmt.ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sp := range out.EnabledServicePrincipals {
		got = append(got, aws.ToString(sp.ServicePrincipal)+"@"+sp.DateEnabled.UTC().Format(time.RFC3339))
	}
	want := []string{"iam.amazonaws.com@2019-03-14T09:00:00Z", "sso.amazonaws.com@" + t0.Format(time.RFC3339)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("service access (-want +got):\n%s", diff)
	}

	admins, err := mgmt.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String("iam.amazonaws.com")})
	if err != nil {
		t.Fatal(err)
	}
	if len(admins.DelegatedAdministrators) != 1 || aws.ToString(admins.DelegatedAdministrators[0].Id) != adminID ||
		admins.DelegatedAdministrators[0].DelegationEnabledDate == nil {
		t.Errorf("delegated admins = %+v", admins.DelegatedAdministrators)
	}
	none, err := mgmt.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String("sso.amazonaws.com")})
	if err != nil {
		t.Fatal(err)
	}
	if len(none.DelegatedAdministrators) != 0 {
		t.Errorf("sso delegated admins = %+v", none.DelegatedAdministrators)
	}
}
