package fleet

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/collect"
)

func actions(p collect.Policy) []string {
	var out []string
	for _, s := range p.Statement {
		out = append(out, s.Action...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestPoliciesMatchInterfaces: the printed policies are exactly the calls
// the interfaces allow, every one read-only, and the member role's policy
// is a subset of the single-account one.
func TestPoliciesMatchInterfaces(t *testing.T) {
	want := []string{
		"access-analyzer:ListAnalyzers", "account:GetAlternateContact", "ec2:DescribeInstances", "ec2:DescribeRegions",
		"iam:GenerateCredentialReport", "iam:GetAccountAuthorizationDetails", "iam:GetAccountPasswordPolicy",
		"iam:GetAccountSummary", "iam:GetCredentialReport", "iam:ListOpenIDConnectProviders", "iam:ListSAMLProviders",
		"iam:ListServerCertificates", "iam:ListVirtualMFADevices", "sts:GetCallerIdentity",
	}
	if diff := cmp.Diff(want, actions(MemberRolePolicy())); diff != "" {
		t.Errorf("member role policy (-want +got):\n%s", diff)
	}
	for _, a := range actions(MemberRolePolicy()) {
		if !slices.Contains(collect.ScanActions, a) {
			t.Errorf("member role action %s is not in the single-account policy", a)
		}
	}
	role := actions(CallerPolicy(ModeRole, "", "", false))
	root := actions(CallerPolicy(ModeRoot, "", "", false))
	for _, a := range []string{"organizations:ListAccounts", "organizations:DescribeOrganization", "organizations:ListRoots",
		"organizations:ListOrganizationalUnitsForParent", "organizations:ListAccountsForParent", "iam:ListOrganizationsFeatures"} {
		if !slices.Contains(role, a) || !slices.Contains(root, a) {
			t.Errorf("%s missing from a caller policy", a)
		}
	}
	if !slices.Contains(role, "sts:AssumeRole") || slices.Contains(role, "sts:AssumeRoot") {
		t.Errorf("role-mode caller policy: %v", role)
	}
	if !slices.Contains(root, "sts:AssumeRoot") || slices.Contains(root, "sts:AssumeRole") {
		t.Errorf("root-mode caller policy: %v", root)
	}
	if both := actions(CallerPolicy(ModeRoot, "", "", true)); !slices.Contains(both, "sts:AssumeRole") {
		t.Errorf("root mode with a role for the management account lacks sts:AssumeRole")
	}
	for _, p := range [][]string{role, root} {
		for _, a := range p {
			_, action, _ := strings.Cut(a, ":")
			readOnly := slices.ContainsFunc([]string{"Get", "List", "Describe", "Generate", "AssumeRole", "AssumeRoot"},
				func(p string) bool { return strings.HasPrefix(action, p) })
			if !readOnly {
				t.Errorf("%s is not a read-only action", a)
			}
		}
	}
}

// TestAssumeRootScopedToAuditPolicy: the caller may only open AssumeRoot
// sessions with the read-only task policy, in the chosen partition.
func TestAssumeRootScopedToAuditPolicy(t *testing.T) {
	p := CallerPolicy(ModeRoot, "Audit", "aws-us-gov", true)
	var found bool
	for _, s := range p.Statement {
		switch {
		case slices.Contains(s.Action, "sts:AssumeRoot"):
			found = true
			got := s.Condition["StringEquals"]["sts:TaskPolicyArn"]
			if s.Resource != "arn:aws-us-gov:iam::*:root" || len(got) != 1 || got[0] != "arn:aws-us-gov:iam::aws:policy/root-task/IAMAuditRootUserCredentials" {
				t.Errorf("AssumeRoot statement %+v", s)
			}
		case slices.Contains(s.Action, "sts:AssumeRole"):
			if s.Resource != "arn:aws-us-gov:iam::*:role/Audit" {
				t.Errorf("AssumeRole statement %+v", s)
			}
		}
	}
	if !found {
		t.Error("no AssumeRoot statement")
	}
}
