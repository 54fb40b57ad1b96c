package collect

import (
	"context"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// OrgPolicies is every Organizations operation the organisation-controls
// collection calls: the tree walk and the service control policies. All
// are read-only, and all answer only the management account or a
// delegated administrator.
type OrgPolicies interface {
	ListRoots(context.Context, *organizations.ListRootsInput, ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	ListOrganizationalUnitsForParent(context.Context, *organizations.ListOrganizationalUnitsForParentInput, ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
	ListAccountsForParent(context.Context, *organizations.ListAccountsForParentInput, ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error)
	SCPReader
}

// SCPReader is the part of OrgPolicies that reads the policies themselves.
// An organisation scan walks the tree on its own (it needs it for
// discovery) and only adds these.
type SCPReader interface {
	ListPolicies(context.Context, *organizations.ListPoliciesInput, ...func(*organizations.Options)) (*organizations.ListPoliciesOutput, error)
	DescribePolicy(context.Context, *organizations.DescribePolicyInput, ...func(*organizations.Options)) (*organizations.DescribePolicyOutput, error)
	ListTargetsForPolicy(context.Context, *organizations.ListTargetsForPolicyInput, ...func(*organizations.Options)) (*organizations.ListTargetsForPolicyOutput, error)
}

// OrgControls reads the organisation's OU tree and its service control
// policies with their text and attachments. Failures become gaps: the
// organisation-level ones (the tree, the policy list) are returned, and a
// failure on one policy is recorded on that policy.
//
// Calls are made one after another. Organizations throttles hard and
// per account; a tree of a few hundred OUs is a few hundred small calls,
// and running them in parallel would buy retries rather than time.
func OrgControls(ctx context.Context, c OrgPolicies) (*snapshot.OrgControls, []snapshot.Gap) {
	var gaps []snapshot.Gap
	out := &snapshot.OrgControls{}
	root, err := firstRoot(ctx, c)
	if err != nil {
		gaps = append(gaps, gap(snapshot.SectionOrgTree, "organizations:ListRoots", err))
	} else {
		out.Root = root
		out.OUs, out.Accounts = []snapshot.OrgUnit{}, []snapshot.OrgAccount{}
		if g := walk(ctx, c, root.ID, out); g != nil {
			gaps = append(gaps, *g)
		}
	}
	scps, g := OrgSCPs(ctx, c)
	out.SCPs = scps
	if g != nil {
		gaps = append(gaps, *g)
	}
	return out, gaps
}

// OrgSCPs reads every service control policy with its text and targets,
// sorted by ID. A failure to list them is the returned gap (and nil
// policies: unknown); a failure on one policy is recorded on it.
func OrgSCPs(ctx context.Context, c SCPReader) ([]snapshot.OrgPolicy, *snapshot.Gap) {
	policies, err := listSCPs(ctx, c)
	if err != nil {
		g := gap(snapshot.SectionOrgSCPs, "organizations:ListPolicies", err)
		return nil, &g
	}
	out := []snapshot.OrgPolicy{}
	for _, p := range policies {
		out = append(out, describeSCP(ctx, c, p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// AddOrgControls collects the controls into an organisation read from its
// management account; single-account scans of a management account and
// organisation scans both call it.
func AddOrgControls(ctx context.Context, c OrgPolicies, org *snapshot.Organization) {
	controls, gaps := OrgControls(ctx, c)
	org.Controls = controls
	org.Gaps = append(org.Gaps, gaps...)
}

func firstRoot(ctx context.Context, c OrgPolicies) (*snapshot.OrgRoot, error) {
	p := organizations.NewListRootsPaginator(c, &organizations.ListRootsInput{MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		// An organisation has exactly one root.
		for _, r := range page.Roots {
			root := &snapshot.OrgRoot{ID: aws.ToString(r.Id), Name: aws.ToString(r.Name), PolicyTypes: []string{}}
			for _, pt := range r.PolicyTypes {
				if pt.Status == orgtypes.PolicyTypeStatusEnabled {
					root.PolicyTypes = append(root.PolicyTypes, string(pt.Type))
				}
			}
			sort.Strings(root.PolicyTypes)
			return root, nil
		}
	}
	return nil, errNoRoot
}

type collectError string

func (e collectError) Error() string { return string(e) }

const errNoRoot = collectError("ListRoots returned no root")

// walk lists the OUs and accounts under the root, breadth first. It stops
// at the first failure: the rest of the tree is then unknown, and the gap
// says where.
func walk(ctx context.Context, c OrgPolicies, rootID string, out *snapshot.OrgControls) *snapshot.Gap {
	// Sorted however the walk ends, so the same tree gives the same bytes.
	defer func() {
		sort.Slice(out.OUs, func(i, j int) bool { return out.OUs[i].ID < out.OUs[j].ID })
		sort.Slice(out.Accounts, func(i, j int) bool { return out.Accounts[i].ID < out.Accounts[j].ID })
	}()
	queue := []string{rootID}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		ous := organizations.NewListOrganizationalUnitsForParentPaginator(c, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent), MaxResults: aws.Int32(20)})
		for ous.HasMorePages() {
			page, err := ous.NextPage(ctx)
			if err != nil {
				g := gap(snapshot.SectionOrgTree, "organizations:ListOrganizationalUnitsForParent", err)
				g.Message = parent + ": " + g.Message
				return &g
			}
			for _, ou := range page.OrganizationalUnits {
				out.OUs = append(out.OUs, snapshot.OrgUnit{ID: aws.ToString(ou.Id), Name: aws.ToString(ou.Name), ParentID: parent})
				queue = append(queue, aws.ToString(ou.Id))
			}
		}
		accts := organizations.NewListAccountsForParentPaginator(c, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent), MaxResults: aws.Int32(20)})
		for accts.HasMorePages() {
			page, err := accts.NextPage(ctx)
			if err != nil {
				g := gap(snapshot.SectionOrgTree, "organizations:ListAccountsForParent", err)
				g.Message = parent + ": " + g.Message
				return &g
			}
			for _, a := range page.Accounts {
				acct := snapshot.OrgAccount{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), ParentID: parent,
					State: string(a.State), JoinedMethod: string(a.JoinedMethod), JoinedTimestamp: utc(a.JoinedTimestamp)}
				if acct.State == "" {
					// Status is being retired in favour of State; older responses
					// carry only Status.
					acct.State = string(a.Status)
				}
				out.Accounts = append(out.Accounts, acct)
			}
		}
	}
	return nil
}

func listSCPs(ctx context.Context, c SCPReader) ([]orgtypes.PolicySummary, error) {
	var all []orgtypes.PolicySummary
	p := organizations.NewListPoliciesPaginator(c, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy, MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Policies...)
	}
	return all, nil
}

// describeSCP reads one policy's text and targets. FullAWSAccess is read
// like any other: its text is what says it allows and denies nothing.
func describeSCP(ctx context.Context, c SCPReader, s orgtypes.PolicySummary) snapshot.OrgPolicy {
	p := snapshot.OrgPolicy{ID: aws.ToString(s.Id), Name: aws.ToString(s.Name), Description: aws.ToString(s.Description), AWSManaged: s.AwsManaged}
	d, err := c.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: s.Id})
	if err != nil {
		p.Gaps = append(p.Gaps, gap(snapshot.SectionOrgSCPs, "organizations:DescribePolicy", err))
	} else if d.Policy != nil {
		p.Content = aws.ToString(d.Policy.Content)
	}
	targets := []string{}
	pager := organizations.NewListTargetsForPolicyPaginator(c, &organizations.ListTargetsForPolicyInput{PolicyId: s.Id, MaxResults: aws.Int32(20)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			p.Gaps = append(p.Gaps, gap(snapshot.SectionOrgSCPs, "organizations:ListTargetsForPolicy", err))
			targets = nil
			break
		}
		for _, t := range page.Targets {
			targets = append(targets, aws.ToString(t.TargetId))
		}
	}
	if targets != nil {
		slices.Sort(targets)
	}
	p.Targets = targets
	return p
}
