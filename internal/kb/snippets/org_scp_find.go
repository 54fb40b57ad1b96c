package snippets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// ReachingSCP is a service control policy that applies to an account, with
// the level it is attached to.
type ReachingSCP struct {
	AttachedTo string // the account itself, an OU above it, or the root
	PolicyID   string
	Name       string
	Content    string // the policy text
}

// SCPsReachingAccount lists the service control policies that apply to a
// member account, level by level: those attached to the account, then to
// each OU above it, then to the organisation root. A Deny in any of them
// applies to the account; an Allow must be granted at every level. Read the
// texts for a Deny of iam:CreateAccessKey (or of every action) whose
// condition matches aws:PrincipalArn arn:…:iam::*:root. cfg signs as the
// management account. No SCP applies to the management account itself,
// whatever this lists for it.
func SCPsReachingAccount(ctx context.Context, cfg aws.Config, accountID string) ([]ReachingSCP, error) {
	client := organizations.NewFromConfig(cfg)
	texts := map[string]string{} // a policy attached at several levels is read once
	var out []ReachingSCP
	target, atRoot := accountID, false
	for {
		pages := organizations.NewListPoliciesForTargetPaginator(client, &organizations.ListPoliciesForTargetInput{
			TargetId: aws.String(target),
			Filter:   types.PolicyTypeServiceControlPolicy,
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("organizations:ListPoliciesForTarget %s: %w", target, err)
			}
			for _, p := range page.Policies {
				id := aws.ToString(p.Id)
				text, ok := texts[id]
				if !ok {
					d, err := client.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: p.Id})
					if err != nil {
						return nil, fmt.Errorf("organizations:DescribePolicy %s: %w", id, err)
					}
					text = aws.ToString(d.Policy.Content)
					texts[id] = text
				}
				out = append(out, ReachingSCP{AttachedTo: target, PolicyID: id, Name: aws.ToString(p.Name), Content: text})
			}
		}
		if atRoot {
			return out, nil
		}
		// An account or OU has exactly one parent: an OU or the root.
		parents, err := client.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(target)})
		if err != nil {
			return nil, fmt.Errorf("organizations:ListParents %s: %w", target, err)
		}
		if len(parents.Parents) != 1 {
			return nil, fmt.Errorf("organizations:ListParents %s: %d parents", target, len(parents.Parents))
		}
		target, atRoot = aws.ToString(parents.Parents[0].Id), parents.Parents[0].Type == types.ParentTypeRoot
	}
}
