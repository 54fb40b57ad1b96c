package rules

import (
	"fmt"
	"slices"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// IAMSupportAccess is Security Hub IAM.18 as its Config rule,
// iam-policy-in-use with policyUsageType ANY, reads it: the account passes
// when AWS's AWSSupportAccess is attached to a user, to a group with at
// least one member, or to a role. CIS words the same item as a role and
// audits the policy's roles (list-entities-for-policy, PolicyRoles), so
// the CIS items stay on iam-support-role, which a user or group alone
// does not satisfy. An account can pass this rule and fail that one; the
// two pages say why.
var IAMSupportAccess = rule.Rule{
	ID:       "iam-support-access",
	Title:    "No IAM user, group or role holds AWSSupportAccess",
	Severity: rule.Low,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMSupportAccess,
}

func checkIAMSupportAccess(in rule.Input) rule.Outcome {
	d, o := iamDetails(in)
	if o != nil {
		return *o
	}
	has := func(list []snapshot.AttachedPolicy) bool {
		return slices.ContainsFunc(list, func(p snapshot.AttachedPolicy) bool { return isSupportPolicy(p.ARN) })
	}
	// Group membership is read from the users' GroupList: the details
	// carry no member list per group.
	members := map[string]int{}
	for _, u := range d.Users {
		for _, g := range u.Groups {
			members[g]++
		}
	}
	var holders, users, groups, roles, empty []string
	for _, u := range d.Users {
		if has(u.Attached) {
			holders, users = append(holders, "user "+u.Name), append(users, u.ARN)
		}
	}
	for _, g := range d.Groups {
		if !has(g.Attached) {
			continue
		}
		// Config's iam-policy-in-use counts a group only when it has
		// members: a policy on an empty group reaches nobody.
		if members[g.Name] == 0 {
			empty = append(empty, g.ARN)
			continue
		}
		holders = append(holders, fmt.Sprintf("group %s (%s)", g.Name, rule.Plural(members[g.Name], "member", "members")))
		groups = append(groups, g.ARN)
	}
	for _, r := range d.Roles {
		if has(r.Attached) {
			holders, roles = append(holders, "role "+r.Name), append(roles, r.ARN)
		}
	}
	held := len(users) + len(groups) + len(roles)
	ev := []rule.Evidence{
		{Source: srcDetails, Key: "users with " + supportPolicy, Value: holderListOrNone(users)},
		{Source: srcDetails, Key: "groups with members and " + supportPolicy, Value: holderListOrNone(groups)},
		{Source: srcDetails, Key: "roles with " + supportPolicy, Value: holderListOrNone(roles)},
	}
	if len(empty) > 0 {
		ev = append(ev, rule.Evidence{Source: srcDetails, Key: "groups without members holding " + supportPolicy, Value: holderText(empty)})
	}
	switch {
	case held > 0:
		msg := fmt.Sprintf("The AWS-managed %s policy is attached to %s: %s.", supportPolicy, rule.Plural(held, "identity", "identities"), holderText(holders))
		if len(roles) == 0 {
			msg += " No role holds it, which CIS asks for (iam-support-role)."
		}
		return rule.Outcome{Status: rule.Pass, Evidence: ev, Message: msg}
	case len(empty) > 0:
		return rule.Outcome{Status: rule.Fail, Evidence: ev,
			Message: fmt.Sprintf("The AWS-managed %s policy is attached only to %s without members, so nobody holds it (Security Hub's iam-policy-in-use counts a group only with one or more users). Add the incident responders to the group, or attach the policy to a role they assume.", supportPolicy, plural(len(empty), "a group", "groups"))}
	}
	return rule.Outcome{Status: rule.Fail, Evidence: ev,
		Message: fmt.Sprintf("No user, group or role holds the AWS-managed %s policy, so nobody but the root user and administrators can open and manage AWS Support cases during an incident. Attach it to a role that incident responders assume.", supportPolicy)}
}

// holderListOrNone is holderText, or "none".
func holderListOrNone(arns []string) string {
	if len(arns) == 0 {
		return "none"
	}
	return holderText(arns)
}
