package guardrail

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/collect"
)

// Discovery is what the artefacts need to know about the organisation,
// read with three read-only calls.
type Discovery struct {
	Account             string
	Partition           string
	OrganizationID      string
	ManagementAccountID string
	// RootID is empty when ListRoots was refused (a member account).
	RootID string
	// RootError says why RootID is empty; RootDenied, whether it was
	// for lack of permission (rather than, say, the network).
	RootError  string
	RootDenied bool
	// Standalone: the account is in no organisation. The other
	// organisation fields are empty.
	Standalone bool
}

// Discover identifies the caller's organisation for `vigil prevent`. Only
// the management account (or a delegated administrator) can read the
// root; from elsewhere RootID stays empty and RootError says why. An
// account in no organisation is Standalone.
func Discover(ctx context.Context, c Clients) (*Discovery, error) {
	id, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, readError("sts:GetCallerIdentity", err)
	}
	d := &Discovery{Account: aws.ToString(id.Account)}
	d.Partition = collect.PartitionOf(aws.ToString(id.Arn))
	org, err := c.Orgs.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		var notInUse *orgtypes.AWSOrganizationsNotInUseException
		if errors.As(err, &notInUse) {
			d.Standalone = true
			return d, nil
		}
		return nil, readError("organizations:DescribeOrganization", err)
	}
	d.OrganizationID = aws.ToString(org.Organization.Id)
	d.ManagementAccountID = aws.ToString(org.Organization.MasterAccountId)
	roots, err := c.Orgs.ListRoots(ctx, &organizations.ListRootsInput{})
	switch {
	case err != nil:
		kind, _ := collect.Classify(err)
		if kind == collect.KindCredentials {
			return nil, readError("organizations:ListRoots", err)
		}
		d.RootError, d.RootDenied = "organizations:ListRoots: "+collect.Describe(err), kind == collect.KindDenied
	case len(roots.Roots) > 0:
		d.RootID = aws.ToString(roots.Roots[0].Id)
	}
	return d, nil
}
