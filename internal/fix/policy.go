package fix

import (
	"reflect"
	"sort"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
)

// The policies below are built from the interfaces vigil fix calls AWS
// through, so they list exactly what it can call; policy_test.go holds
// them together. Signed with root's own access key, no IAM policy
// applies: the root-key path needs none.

// OwnAccountActions are the reads a run makes in an account it reaches
// with an IAM principal of that account, to show what the root user holds
// when Vigil cannot remove it: the single-account scan's reads of the
// account summary, the credential report and the organisation.
func OwnAccountActions() []string {
	out := append(collect.ActionsOf("iam", reflect.TypeFor[collect.AccountIAM](), reflect.TypeFor[collect.OrgFeaturesIAM]()),
		collect.ActionsOf("sts", reflect.TypeFor[collect.STS]())...)
	out = append(out, collect.ActionsOf("organizations", reflect.TypeFor[collect.Organizations]())...)
	sort.Strings(out)
	return out
}

// MemberSessionActions are the calls made in a member account's
// sts:AssumeRoot session: every one is allowed by the delete task policy,
// which is all the session can do.
func MemberSessionActions() []string {
	return collect.ActionsOf("iam", reflect.TypeFor[MemberIAM]())
}

// TrailActions are what reading CloudTrail takes.
func TrailActions() []string { return collect.ActionsOf("cloudtrail", reflect.TypeFor[Trail]()) }

// CallerPolicy is the identity policy of whoever runs vigil fix --org, in
// the management account or the IAM delegated administrator: discovery,
// sts:AssumeRoot limited by the sts:TaskPolicyArn condition to the delete
// task policy, sts:AssumeRole into the CloudTrail read role when one is
// named, and the reads of its own account. A single-account run by an IAM
// principal needs only the last statement.
func CallerPolicy(partition, trailRole string) collect.Policy {
	if partition == "" {
		partition = "aws"
	}
	st := []collect.Statement{
		{Sid: "VigilFixDiscoverOrganization", Effect: "Allow", Action: fleet.DiscoveryActions(), Resource: "*"},
		{Sid: "VigilFixAssumeRootToDelete", Effect: "Allow",
			Action:   collect.ActionsOf("sts", reflect.TypeFor[fleet.RootAssumer]()),
			Resource: "arn:" + partition + ":iam::*:root",
			Condition: map[string]map[string][]string{
				"StringEquals": {"sts:TaskPolicyArn": {collect.TaskPolicyARN(partition, DeleteTaskPolicy)}},
			}},
	}
	if trailRole != "" {
		st = append(st, collect.Statement{Sid: "VigilFixAssumeTrailRole", Effect: "Allow",
			Action:   collect.ActionsOf("sts", reflect.TypeFor[fleet.RoleAssumer]()),
			Resource: "arn:" + partition + ":iam::*:role/" + trailRole})
	}
	st = append(st, collect.Statement{Sid: "VigilFixReadOwnAccount", Effect: "Allow", Action: OwnAccountActions(), Resource: "*"})
	return collect.Policy{Version: "2012-10-17", Statement: st}
}

// TrailRolePolicy is the identity policy of the optional role (--role) in
// each member account: reading the CloudTrail event history, nothing
// else.
func TrailRolePolicy() collect.Policy {
	return collect.Policy{Version: "2012-10-17", Statement: []collect.Statement{
		{Sid: "VigilFixReadCloudTrail", Effect: "Allow", Action: TrailActions(), Resource: "*"},
	}}
}
