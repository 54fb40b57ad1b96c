package rules

import "github.com/vigil-sec/vigil/internal/rule"

// All returns every rule, in a fixed order. The list is explicit rather than
// filled by init functions so that what runs is visible in one place.
func All() []rule.Rule {
	return []rule.Rule{
		RootAccessKey,
		RootMFA,
		RootHardwareMFA,
		RootRecentUse,
		RootSigningCertificate,
		RootMemberPassword,
		OrgRootCredentialsManagement,
		OrgRootSCPCoverage,
		IAMUnusedCredentials,
		IAMUnusedCredentials90d,
		IAMUserConsoleMFA,
		IAMPasswordLength,
		IAMPasswordReuse,
		IAMUserOneActiveKey,
		IAMAccessKeyRotation,
		IAMUserMFA,
		IAMUserDirectPolicies,
		IAMPolicyFullAdmin,
		IAMPolicyServiceWildcard,
		IAMSupportRole,
		IAMSupportAccess,
		IAMCloudShellFullAccess,
		IAMUserTags,
		IAMRoleTags,
		IAMPasswordUppercase,
		IAMPasswordLowercase,
		IAMPasswordSymbols,
		IAMPasswordNumbers,
		IAMPasswordExpiry,
		IAMPasswordStrong,
		IAMPasswordPCI,
		IAMExpiredServerCertificate,
		IAMAccessAnalyzer,
		IAMAnalyzerTags,
		EC2InstanceRole,
		AccountSecurityContact,
		IAMIdentityFederation,
	}
}

// ByID returns the rule with the given ID.
func ByID(id string) (rule.Rule, bool) {
	for _, r := range All() {
		if r.ID == id {
			return r, true
		}
	}
	return rule.Rule{}, false
}
