package rules

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The tagging rules (Security Hub IAM.24 and IAM.25): an IAM user or
// role should carry at least one tag of its owner's, so that who it
// belongs to and what it is for can be found, and attribute-based access
// control has something to match. As Security Hub reads them without its
// optional requiredTagKeys, any key counts except the system ones that
// begin with "aws:". Tags come with every user and role in
// iam:GetAccountAuthorizationDetails, so no per-identity call is made.

// IAMUserTags fails an IAM user that carries no tag.
var IAMUserTags = rule.Rule{
	ID:       "iam-user-tags",
	Title:    "IAM user has no tags",
	Severity: rule.Low,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMUserTags,
}

// IAMRoleTags fails an IAM role that carries no tag.
var IAMRoleTags = rule.Rule{
	ID:       "iam-role-tags",
	Title:    "IAM role has no tags",
	Severity: rule.Low,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMRoleTags,
}

// ownTags counts the tags that are not AWS's system tags.
func ownTags(tags []snapshot.Tag) int {
	n := 0
	for _, t := range tags {
		if !systemTag(t.Key) {
			n++
		}
	}
	return n
}

// systemTag reports whether a tag key is one of AWS's own ("aws:" in any
// case), which no tag rule counts as the owner's.
func systemTag(key string) bool { return strings.HasPrefix(strings.ToLower(key), "aws:") }

// taggedDetails is iamDetails, and UNKNOWN account-wide when the
// snapshot predates tags.
func taggedDetails(in rule.Input) (*snapshot.IAMDetails, *rule.Outcome) {
	d, o := iamDetails(in)
	if o != nil {
		return nil, o
	}
	if !d.TagsRead {
		return nil, &rule.Outcome{Status: rule.Unknown, Evidence: []rule.Evidence{{Source: srcDetails, Key: "Tags", Value: "not recorded"}},
			Message: "This snapshot was written before Vigil kept the tags of users and roles, so whether they are tagged is unknown; scan again."}
	}
	return d, nil
}

func checkIAMUserTags(in rule.Input) rule.Outcome {
	d, o := taggedDetails(in)
	if o != nil {
		return *o
	}
	ids := make([]taggedIdentity, len(d.Users))
	for i, u := range d.Users {
		ids[i] = taggedIdentity{u.ARN, u.Tags}
	}
	return identityTags(ids, "user", "UserDetailList")
}

func checkIAMRoleTags(in rule.Input) rule.Outcome {
	d, o := taggedDetails(in)
	if o != nil {
		return *o
	}
	ids := make([]taggedIdentity, len(d.Roles))
	for i, r := range d.Roles {
		ids[i] = taggedIdentity{r.ARN, r.Tags}
	}
	return identityTags(ids, "role", "RoleDetailList")
}

// taggedIdentity is what the tag rules read of a user or a role.
type taggedIdentity struct {
	arn  string
	tags []snapshot.Tag
}

// identityTags judges each identity of one kind ("user", "role") by
// whether it carries a tag of its own; list names the details' list of
// that kind, the evidence for an account that has none.
func identityTags(ids []taggedIdentity, kind, list string) rule.Outcome {
	if len(ids) == 0 {
		return rule.Outcome{Status: rule.Pass, Evidence: []rule.Evidence{{Source: srcDetails, Key: list, Value: "0 " + kind + "s"}},
			Message: "The account has no IAM " + kind + "s."}
	}
	set := rule.NewResourceSet(len(ids))
	tagged := set.Share(rule.Pass, "Carries at least one tag of its own.", []rule.Evidence{{Source: srcDetails, Key: "Tags", Value: "present"}})
	bare := set.Share(rule.Fail, "Carries no tag (keys beginning with aws: do not count): nothing says who owns this "+kind+" or what it is for. Tag it with its owner and purpose, or remove it if nobody claims it.",
		[]rule.Evidence{{Source: srcDetails, Key: "Tags", Value: "none of the account's own"}})
	for _, id := range ids {
		if ownTags(id.tags) > 0 {
			set.AddShared(id.arn, tagged)
		} else {
			set.AddShared(id.arn, bare)
		}
	}
	return setOutcome(set, "IAM "+kind, "IAM "+kind+"s", srcDetails)
}
