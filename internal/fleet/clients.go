package fleet

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/collect"
)

// Organizations is every Organizations call discovery makes. All are
// reads that answer only the management account or a delegated
// administrator.
type Organizations interface {
	DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
	ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
	ListRoots(context.Context, *organizations.ListRootsInput, ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	ListOrganizationalUnitsForParent(context.Context, *organizations.ListOrganizationalUnitsForParentInput, ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
	ListAccountsForParent(context.Context, *organizations.ListAccountsForParentInput, ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error)
	// A run that names its accounts describes them and their chain of
	// parents instead of listing the organisation (named.go).
	DescribeAccount(context.Context, *organizations.DescribeAccountInput, ...func(*organizations.Options)) (*organizations.DescribeAccountOutput, error)
	ListParents(context.Context, *organizations.ListParentsInput, ...func(*organizations.Options)) (*organizations.ListParentsOutput, error)
	DescribeOrganizationalUnit(context.Context, *organizations.DescribeOrganizationalUnitInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationalUnitOutput, error)
	// The service control policies, read beside discovery so the
	// organisation's SCP coverage can be judged from the same walk.
	collect.SCPReader
}

// RoleAssumer reaches a member account through a role in it.
type RoleAssumer interface {
	AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// RootAssumer reaches a member account's root user through centralised
// root access, with a task policy that bounds the session.
type RootAssumer interface {
	AssumeRoot(context.Context, *sts.AssumeRootInput, ...func(*sts.Options)) (*sts.AssumeRootOutput, error)
}
