package snippets

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// HoldersOfAWSPolicy names every user, group and role holding the
// AWS-managed policy name (say AWSCloudShellFullAccess) in any partition,
// as "user NAME", "group NAME" or "role NAME"; a customer policy of the
// same name does not count. The entities come from ReadIAMEntities, one
// GetAccountAuthorizationDetails page per 1,000 of them.
func (e *IAMEntities) HoldersOfAWSPolicy(name string) []string {
	holds := func(list []types.AttachedPolicy) bool {
		for _, p := range list {
			if strings.HasSuffix(aws.ToString(p.PolicyArn), ":iam::aws:policy/"+name) {
				return true
			}
		}
		return false
	}
	var out []string
	for _, u := range e.Users {
		if holds(u.AttachedManagedPolicies) {
			out = append(out, "user "+aws.ToString(u.UserName))
		}
	}
	for _, g := range e.Groups {
		if holds(g.AttachedManagedPolicies) {
			out = append(out, "group "+aws.ToString(g.GroupName))
		}
	}
	for _, r := range e.Roles {
		if holds(r.AttachedManagedPolicies) {
			out = append(out, "role "+aws.ToString(r.RoleName))
		}
	}
	return out
}

// UntaggedUsers names the users carrying no tag of their own (keys that
// begin with "aws:" are AWS's and do not count, as Security Hub IAM.25
// reads them). The authorization details carry each user's tags, so no
// call per user is needed.
func (e *IAMEntities) UntaggedUsers() []string {
	var out []string
	for _, u := range e.Users {
		if !ownTag(u.Tags) {
			out = append(out, aws.ToString(u.UserName))
		}
	}
	return out
}

// UntaggedRoles names the roles carrying no tag of their own (Security
// Hub IAM.24).
func (e *IAMEntities) UntaggedRoles() []string {
	var out []string
	for _, r := range e.Roles {
		if !ownTag(r.Tags) {
			out = append(out, aws.ToString(r.RoleName))
		}
	}
	return out
}

func ownTag(tags []types.Tag) bool {
	for _, t := range tags {
		if !strings.HasPrefix(strings.ToLower(aws.ToString(t.Key)), "aws:") {
			return true
		}
	}
	return false
}
