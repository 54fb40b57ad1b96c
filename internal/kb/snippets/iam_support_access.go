package snippets

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// SupportAccessHolders returns the ARNs of the identities that give
// someone AWS's AWSSupportAccess (any partition), counted as Security Hub
// IAM.18's Config rule counts them: users, groups with at least one
// member, and roles. An empty list is the finding. The entities come from
// ReadIAMEntities; a group's members are the users whose GroupList names
// it, so no call per group is needed.
func (e *IAMEntities) SupportAccessHolders() []string {
	holds := func(list []types.AttachedPolicy) bool {
		for _, p := range list {
			if strings.HasSuffix(aws.ToString(p.PolicyArn), ":iam::aws:policy/AWSSupportAccess") {
				return true
			}
		}
		return false
	}
	members := map[string]int{}
	for _, u := range e.Users {
		for _, g := range u.GroupList {
			members[g]++
		}
	}
	var out []string
	for _, u := range e.Users {
		if holds(u.AttachedManagedPolicies) {
			out = append(out, aws.ToString(u.Arn))
		}
	}
	for _, g := range e.Groups {
		// A policy on a group nobody is in reaches nobody.
		if holds(g.AttachedManagedPolicies) && members[aws.ToString(g.GroupName)] > 0 {
			out = append(out, aws.ToString(g.Arn))
		}
	}
	for _, r := range e.Roles {
		if holds(r.AttachedManagedPolicies) {
			out = append(out, aws.ToString(r.Arn))
		}
	}
	return out
}
