package rules

import (
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// OrgRootCredentialsManagement fails when the organisation does not manage
// member accounts' root credentials centrally. Without it, every member
// account keeps a root user with its own password recovery, and deleting
// root keys needs someone to sign in as each root; with it, new accounts
// get no root credentials and existing ones can be cleaned from one place
// with sts:AssumeRoot, no role in the member account needed.
var OrgRootCredentialsManagement = rule.Rule{
	ID:       "org-root-credentials-management",
	Title:    "Organisation does not manage root credentials centrally",
	Severity: rule.High,
	Category: "Security",
	Service:  "organizations",
	Scope:    rule.OrganizationScope,
	Check:    checkOrgRootCredentialsManagement,
}

func checkOrgRootCredentialsManagement(in rule.Input) rule.Outcome {
	org := in.Doc.Organization
	f := org.Features
	if f == nil {
		return rule.Outcome{Status: rule.Unknown, Evidence: orgGapEvidence(org, snapshot.SectionOrgFeatures, srcFeatures),
			Message: "Whether the organisation manages root credentials centrally is unknown: iam:ListOrganizationsFeatures could not be read. It answers only the management account or the IAM delegated administrator."}
	}
	ev := []rule.Evidence{
		{Source: srcFeatures, Key: "RootCredentialsManagement", Value: boolText(f.RootCredentialsManagement)},
		{Source: srcFeatures, Key: "RootSessions", Value: boolText(f.RootSessions)},
	}
	if f.TrustedAccessIAM != nil && !*f.TrustedAccessIAM {
		ev = append(ev, rule.Evidence{Source: srcFeatures, Error: "ServiceAccessNotEnabledException"})
		return rule.Outcome{Status: rule.Fail, Evidence: ev,
			Message: "Trusted access for IAM is not enabled in the organisation, so centralised root access (RootCredentialsManagement and RootSessions) cannot be on: every member account keeps a root user with its own credentials and recovery."}
	}
	if !f.RootCredentialsManagement {
		msg := "RootCredentialsManagement is off: member accounts' root credentials cannot be deleted centrally and new accounts are still created with root credentials."
		if f.RootSessions {
			msg += " RootSessions is on."
		}
		return rule.Outcome{Status: rule.Fail, Evidence: ev, Message: msg}
	}
	if !f.RootSessions {
		return rule.Outcome{Status: rule.Pass, Evidence: ev,
			Message: "RootCredentialsManagement is on. RootSessions is off, so privileged root tasks in member accounts (such as unlocking a bucket policy or allowing password recovery) need the member's own root user."}
	}
	return rule.Outcome{Status: rule.Pass, Evidence: ev, Message: "Centralised root access is on: RootCredentialsManagement and RootSessions are both enabled."}
}
