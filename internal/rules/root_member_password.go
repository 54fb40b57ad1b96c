package rules

import (
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// RootMemberPassword fails when a member account of an organisation that
// manages root credentials centrally still has a root console password.
// Centralised management exists so member roots need no credentials at
// all; a password left behind is an unmonitored way in that the
// organisation believes it closed.
var RootMemberPassword = rule.Rule{
	ID:       "root-member-password",
	Title:    "Root console password present in a member account under centralised root access",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	RootUser: true,
	Check:    checkRootMemberPassword,
}

func checkRootMemberPassword(in rule.Input) rule.Outcome {
	a := in.Account
	if isGovCloud(a) {
		return rule.Outcome{Status: rule.NotApplicable, Evidence: []rule.Evidence{{Source: "snapshot", Key: "partition", Value: a.Partition}},
			Message: "In AWS GovCloud (US) the root user has no console password."}
	}
	switch a.Role() {
	case snapshot.RoleUnknown:
		return rule.Outcome{Status: rule.Unknown, Evidence: gapEvidence(a, snapshot.SectionOrganization),
			Message: "Cannot tell whether the account is an organisation member (" + gapText(a, snapshot.SectionOrganization) + ")."}
	case snapshot.RoleStandalone:
		return rule.Outcome{Status: rule.NotApplicable, Evidence: []rule.Evidence{{Source: srcOrg, Value: "AWSOrganizationsNotInUseException"}},
			Message: "The account is not in an organisation, so its root password is its only way to recover the root user."}
	case snapshot.RoleManagement:
		return rule.Outcome{Status: rule.NotApplicable, Evidence: []rule.Evidence{{Source: srcOrg, Key: "MasterAccountId", Value: a.ID}},
			Message: "This is the management account: centralised root access does not cover it, so its root user keeps a password (protect it with hardware MFA)."}
	}
	features := a.Org.Features
	if features == nil && in.Doc != nil && in.Doc.Organization != nil {
		features = in.Doc.Organization.Features
	}
	var fev []rule.Evidence
	if features != nil {
		fev = []rule.Evidence{{Source: srcFeatures, Key: "RootCredentialsManagement", Value: boolText(features.RootCredentialsManagement)}}
	}

	// Whether the password exists is decided first: with none, the rule
	// passes whatever the organisation's setting, so a member account that
	// cannot read the setting still gets an answer.
	if none, ev := noRootCredentials(a); none {
		return rule.Outcome{Status: rule.Pass, Evidence: append(fev, ev...),
			Message: "This member account's root user has no credentials at all, so it has no console password."}
	}
	var present *bool
	var ev []rule.Evidence
	var source string
	switch {
	case a.RootCredentials != nil && a.RootCredentials.LoginProfile != nil:
		p := a.RootCredentials.LoginProfile.Present
		present, source = &p, "iam:GetLoginProfile in an AssumeRoot session"
		ev = []rule.Evidence{{Source: "iam:GetLoginProfile", Value: boolText(p)}}
	case a.Summary != nil && a.Summary.PasswordPresent != nil:
		present, source = a.Summary.PasswordPresent, "account summary, real time"
		ev = []rule.Evidence{summaryEvidence("AccountPasswordPresent", present)}
	default:
		ev = gapEvidence(a, snapshot.SectionSummary, snapshot.SectionRootCredentials)
		if a.Summary != nil {
			ev = append(ev, summaryEvidence("AccountPasswordPresent", nil))
		}
		return rule.Outcome{Status: rule.Unknown, Evidence: append(fev, ev...),
			Message: "Cannot tell whether the root user has a password: AccountPasswordPresent could not be read, and the credential report's password_enabled column is not reliable for root."}
	}
	ev = append(fev, ev...)
	if !*present {
		return rule.Outcome{Status: rule.Pass, Evidence: ev, Message: "This member account's root user has no console password (" + source + ")."}
	}
	switch {
	case features == nil:
		ev = append(ev, gapEvidence(a, snapshot.SectionOrgFeatures)...)
		return rule.Outcome{Status: rule.Unknown, Evidence: ev,
			Message: "This member account's root user has a console password (" + source + "), but whether the organisation manages root credentials centrally is unknown: iam:ListOrganizationsFeatures answers only the management account or the IAM delegated administrator (" + gapText(a, snapshot.SectionOrgFeatures) + "). Scan with --org from the management account to decide."}
	case !features.RootCredentialsManagement:
		return rule.Outcome{Status: rule.NotApplicable, Evidence: ev,
			Message: "The organisation does not manage root credentials centrally, so member accounts still rely on their root passwords (see org-root-credentials-management)."}
	}
	return rule.Outcome{Status: rule.Fail, Evidence: ev,
		Message: "The organisation manages root credentials centrally, yet this member account's root user still has a console password (" + source + "). Delete it centrally with an AssumeRoot session (IAMDeleteRootUserCredentials)."}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
