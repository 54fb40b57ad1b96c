package collect

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
)

// ScanActions are the IAM actions a single-account scan can call, one per
// method of the IAM, STS and Organizations interfaces in clients.go, of
// OrgPolicies in scp.go, of EC2 and AccessAnalyzer in regional.go and of
// AccountContacts in contacts.go (a
// test holds the lists together). All are
// read-only. The organisation reads (tree and SCPs) are only made when the
// scanned account is the organisation's management account.
var ScanActions = []string{
	"access-analyzer:ListAnalyzers",
	"account:GetAlternateContact",
	"ec2:DescribeInstances",
	"ec2:DescribeRegions",
	"iam:GenerateCredentialReport",
	"iam:GetAccessKeyLastUsed",
	"iam:GetAccountAuthorizationDetails",
	"iam:GetAccountPasswordPolicy",
	"iam:GetAccountSummary",
	"iam:GetCredentialReport",
	"iam:GetLoginProfile",
	"iam:ListAccessKeys",
	"iam:ListMFADevices",
	"iam:ListOpenIDConnectProviders",
	"iam:ListOrganizationsFeatures",
	"iam:ListSAMLProviders",
	"iam:ListServerCertificates",
	"iam:ListSigningCertificates",
	"iam:ListVirtualMFADevices",
	"organizations:DescribeOrganization",
	"organizations:DescribePolicy",
	"organizations:ListAccountsForParent",
	"organizations:ListOrganizationalUnitsForParent",
	"organizations:ListPolicies",
	"organizations:ListRoots",
	"organizations:ListTargetsForPolicy",
	"sts:GetCallerIdentity",
}

// Policy is an IAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy.
type Statement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource string   `json:"Resource"`
	// Condition maps an operator to condition keys and their values, e.g.
	// {"StringEquals": {"sts:TaskPolicyArn": [...]}}.
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// ScanPolicy returns the least-privilege identity policy for a scan.
// Resource is "*" because none of these actions supports resource-level
// permissions except the root-only ones, which the scan only calls when it
// is signed as root (where policies do not apply).
func ScanPolicy() Policy {
	actions := append([]string(nil), ScanActions...)
	sort.Strings(actions)
	return Policy{Version: "2012-10-17", Statement: []Statement{{Sid: "VigilScanReadOnly", Effect: "Allow", Action: actions, Resource: "*"}}}
}

// ActionsOf lists the actions of the given interfaces, one per method,
// prefixed with the service ("iam:ListAccessKeys"), sorted and each once.
// Policies built from the interfaces code calls AWS through grant exactly
// what that code can call.
func ActionsOf(prefix string, ifaces ...reflect.Type) []string {
	var out []string
	for _, t := range ifaces {
		for i := range t.NumMethod() {
			out = append(out, prefix+":"+t.Method(i).Name)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// MarshalPolicy renders a policy as indented JSON.
func MarshalPolicy(p Policy) ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
