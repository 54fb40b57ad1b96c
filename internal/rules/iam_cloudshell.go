package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// IAMCloudShellFullAccess fails every user, group and role holding the
// AWS-managed AWSCloudShellFullAccess policy (Security Hub IAM.27; the CIS
// item "access to AWSCloudShellFullAccess is restricted"). The policy lets
// its holder move files in and out of a shell with its holder's
// credentials, a path around data-egress controls. CIS leaves room for the
// few identities meant to hold it, which is why its mapping is partial;
// Security Hub fails them all, as this rule does.
var IAMCloudShellFullAccess = rule.Rule{
	ID:       "iam-cloudshell-full-access",
	Title:    "IAM identity holds the AWSCloudShellFullAccess policy",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMCloudShellFullAccess,
}

const cloudShellPolicy = "AWSCloudShellFullAccess"

// isAWSPolicy matches AWS's own managed policy name in any partition
// (arn:<partition>:iam::aws:policy/<name>), never a customer policy of
// the same name.
func isAWSPolicy(arn, name string) bool {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return false
	}
	_, rest, ok = strings.Cut(rest, ":")
	return ok && rest == "iam::aws:policy/"+name
}

func checkIAMCloudShellFullAccess(in rule.Input) rule.Outcome {
	d, o := iamDetails(in)
	if o != nil {
		return *o
	}
	n := len(d.Users) + len(d.Groups) + len(d.Roles)
	if n == 0 {
		return rule.Outcome{Status: rule.Pass, Evidence: []rule.Evidence{{Source: srcDetails, Key: "identities", Value: "0 users, groups or roles"}},
			Message: "The account has no IAM users, groups or roles."}
	}
	set := rule.NewResourceSet(n)
	// Identities without the policy are nearly all of them: one shared
	// answer, nothing built per identity.
	clean := set.Share(rule.Pass, "Does not hold "+cloudShellPolicy+".",
		[]rule.Evidence{{Source: srcDetails, Key: "AttachedManagedPolicies", Value: "no " + cloudShellPolicy}})
	holds := func(list []snapshot.AttachedPolicy) bool {
		return slices.ContainsFunc(list, func(p snapshot.AttachedPolicy) bool { return isAWSPolicy(p.ARN, cloudShellPolicy) })
	}
	judge := func(kind, name, arn string, attached []snapshot.AttachedPolicy, extra string) {
		if !holds(attached) {
			set.AddShared(arn, clean)
			return
		}
		policy := ""
		for _, p := range attached {
			if isAWSPolicy(p.ARN, cloudShellPolicy) {
				policy = p.ARN
				break
			}
		}
		set.Add(rule.ResourceOutcome{Resource: arn, Status: rule.Fail,
			Evidence: []rule.Evidence{{Source: srcDetails, Key: "AttachedManagedPolicies", Value: policy}},
			Message: fmt.Sprintf("%s %s holds %s: it can upload and download files through CloudShell with its own credentials%s. Detach it, or grant a narrower CloudShell policy to the few who need a shell.",
				capitalize(kind), name, cloudShellPolicy, extra)})
	}
	for _, u := range d.Users {
		judge("user", u.Name, u.ARN, u.Attached, "")
	}
	for _, g := range d.Groups {
		judge("group", g.Name, g.ARN, g.Attached, ", and so can every member of the group")
	}
	for _, r := range d.Roles {
		judge("role", r.Name, r.ARN, r.Attached, ", and so can whoever assumes the role")
	}
	return setOutcome(set, "IAM identity", "IAM identities", srcDetails)
}
