package fleet

import (
	"reflect"
	"sort"

	"github.com/vigil-sec/vigil/internal/collect"
)

// Each policy below is built from the interfaces the scan calls AWS
// through, so it lists exactly what the code can call; policy_test.go
// holds them together.

// DiscoveryActions are what the caller reads about the organisation.
func DiscoveryActions() []string {
	out := append(collect.ActionsOf("organizations", reflect.TypeFor[Organizations]()),
		collect.ActionsOf("iam", reflect.TypeFor[collect.OrgFeaturesIAM]())...)
	sort.Strings(out)
	return out
}

// AccountActions are what a scan reads inside one account when the
// organisation already told it the account's membership: the member
// role's whole policy, and the caller's for its own account.
func AccountActions() []string {
	out := append(collect.ActionsOf("iam", reflect.TypeFor[collect.AccountIAM]()), collect.ActionsOf("sts", reflect.TypeFor[collect.STS]())...)
	out = append(out, collect.ActionsOf("ec2", reflect.TypeFor[collect.EC2]())...)
	out = append(out, collect.ActionsOf("access-analyzer", reflect.TypeFor[collect.AccessAnalyzer]())...)
	out = append(out, collect.ActionsOf("account", reflect.TypeFor[collect.AccountContacts]())...)
	sort.Strings(out)
	return out
}

// MemberRolePolicy is the identity policy of the role a --role scan
// assumes in every member account. It reads; it cannot change anything.
func MemberRolePolicy() collect.Policy {
	return collect.Policy{Version: "2012-10-17", Statement: []collect.Statement{
		{Sid: "VigilMemberReadOnly", Effect: "Allow", Action: AccountActions(), Resource: "*"},
	}}
}

// CallerPolicy is the identity policy of whoever runs an organisation
// scan, in the management account or the IAM delegated administrator:
// discovery, the way into member accounts, and the scan of its own
// account. roleName scopes sts:AssumeRole to the audit role; withRole
// adds it in ModeRoot (to reach the management account from a delegated
// administrator). sts:AssumeRoot is limited to the audit task policy by
// the sts:TaskPolicyArn condition key.
func CallerPolicy(mode Mode, roleName, partition string, withRole bool) collect.Policy {
	if partition == "" {
		partition = "aws"
	}
	if roleName == "" {
		roleName = DefaultRoleName
	}
	st := []collect.Statement{
		{Sid: "VigilDiscoverOrganization", Effect: "Allow", Action: DiscoveryActions(), Resource: "*"},
	}
	if mode == ModeRole || withRole {
		st = append(st, collect.Statement{Sid: "VigilAssumeAuditRole", Effect: "Allow",
			Action:   collect.ActionsOf("sts", reflect.TypeFor[RoleAssumer]()),
			Resource: "arn:" + partition + ":iam::*:role/" + roleName})
	}
	if mode == ModeRoot {
		st = append(st, collect.Statement{Sid: "VigilAssumeRootForAudit", Effect: "Allow",
			Action:   collect.ActionsOf("sts", reflect.TypeFor[RootAssumer]()),
			Resource: "arn:" + partition + ":iam::*:root",
			Condition: map[string]map[string][]string{
				"StringEquals": {"sts:TaskPolicyArn": {collect.TaskPolicyARN(partition, collect.AuditTaskPolicy)}},
			}})
	}
	st = append(st, collect.Statement{Sid: "VigilScanOwnAccount", Effect: "Allow", Action: AccountActions(), Resource: "*"})
	return collect.Policy{Version: "2012-10-17", Statement: st}
}
