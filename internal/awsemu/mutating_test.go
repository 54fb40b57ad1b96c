package awsemu_test

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

func TestMutating(t *testing.T) {
	tests := []struct {
		service, action string
		want            bool
	}{
		{"iam", "GetAccountSummary", false},
		{"iam", "ListAccessKeys", false},
		{"iam", "GenerateCredentialReport", false},
		{"iam", "GetCredentialReport", false},
		{"iam", "ListOrganizationsFeatures", false},
		{"organizations", "DescribeOrganization", false},
		{"sts", "AssumeRole", false},
		{"sts", "AssumeRoot", false},
		{"sts", "GetCallerIdentity", false},
		{"cloudtrail", "LookupEvents", false},
		{"iam", "CreateAccessKey", true},
		{"iam", "DeleteAccessKey", true},
		{"iam", "UpdateAccessKey", true},
		{"iam", "DeactivateMFADevice", true},
		{"iam", "EnableOrganizationsRootSessions", true},
		{"iam", "DisableOrganizationsRootCredentialsManagement", true},
		{"iam", "AttachUserPolicy", true},
		{"iam", "PutUserPolicy", true},
		{"organizations", "EnableAWSServiceAccess", true},
		{"organizations", "RegisterDelegatedAdministrator", true},
		{"iam", "SomethingNew", true}, // unknown counts as mutating
	}
	for _, tt := range tests {
		if got := awsemu.Mutating(tt.service, tt.action); got != tt.want {
			t.Errorf("Mutating(%s, %s) = %v, want %v", tt.service, tt.action, got, tt.want)
		}
	}
}

// TestOperationsAreClassified guards the operation list: every
// implemented operation is classified, and the list names the ones the
// rest of Vigil relies on.
func TestOperationsAreClassified(t *testing.T) {
	ops := awsemu.Operations()
	seen := map[string]bool{}
	for _, op := range ops {
		seen[op] = true
		service, action, _ := strings.Cut(op, ":")
		m := awsemu.Mutating(service, action)
		readPrefix := strings.HasPrefix(action, "Get") || strings.HasPrefix(action, "List") || strings.HasPrefix(action, "Describe") ||
			strings.HasPrefix(action, "Generate") || strings.HasPrefix(action, "Lookup") || service == "sts"
		if m == readPrefix {
			t.Errorf("%s: Mutating = %v", op, m)
		}
	}
	for _, want := range []string{"iam:GetAccountSummary", "iam:GenerateCredentialReport", "iam:ListVirtualMFADevices",
		"sts:AssumeRoot", "organizations:ListAccounts", "iam:ListOrganizationsFeatures", "cloudtrail:LookupEvents"} {
		if !seen[want] {
			t.Errorf("Operations() lacks %s", want)
		}
	}
}
