package rules

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func TestRootRecentUse(t *testing.T) {
	usedPassword := rootRow()
	usedPassword.PasswordLastUsed = at("2026-11-20T08:00:00Z")
	oldUse := rootRow()
	oldUse.PasswordLastUsed = at("2025-01-01T00:00:00Z")
	recentKey := activeKey1()
	recentKey.AccessKeys[0].LastUsedDate = at("2026-11-25T12:00:00Z")
	runCases(t, RootRecentUse, []ruleCase{
		{name: "password used 6 days ago", status: rule.Fail, contains: []string{"password (console sign-in) used 2026-11-20T08:00:00Z (6d ago)"},
			acct: account(func(a *snapshot.Account) { a.CredentialReport = withReport(usedPassword, time.Hour) })},
		{name: "key used yesterday", status: rule.Fail, contains: []string{"access key 1 used 2026-11-25T12:00:00Z", "in us-east-1 for ec2"},
			acct: account(func(a *snapshot.Account) { a.CredentialReport = withReport(recentKey, time.Hour) })},
		{name: "old use passes", status: rule.Pass, contains: []string{"last use: password (console sign-in) on 2025-01-01"},
			acct: account(func(a *snapshot.Account) { a.CredentialReport = withReport(oldUse, time.Hour) })},
		{name: "never used passes", status: rule.Pass, contains: []string{"no recorded use"},
			acct: account(func(a *snapshot.Account) { a.CredentialReport = withReport(rootRow(), time.Hour) })},
		{name: "window is configurable", status: rule.Pass, opts: &rule.Options{RootUseWindow: 24 * time.Hour, MaxReportAge: 24 * time.Hour},
			acct: account(func(a *snapshot.Account) { a.CredentialReport = withReport(usedPassword, time.Hour) })},
		{name: "no report", status: rule.Unknown,
			contains: []string{"Whether the root user was used in the last 30d is unknown", "console sign-ins and access key use could be read only from the credential report", "iam:GetCredentialReport: ReportExpired"},
			excludes: []string{"no recorded use"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(true, true, true, false)
				a.AddGap(gap(snapshot.SectionCredentialReport, "iam:GetCredentialReport", "ReportExpired"))
			})},
		{name: "stale report", status: rule.Unknown, acct: account(func(a *snapshot.Account) { a.CredentialReport = withReport(oldUse, 50*time.Hour) })},
		{name: "inventory key use counts without a report", status: rule.Fail, contains: []string{"access key AKIAEXAMPLE1 used"},
			acct: account(func(a *snapshot.Account) {
				d := now.Add(-2 * time.Hour)
				a.RootCredentials = &snapshot.RootCredentials{AccessKeys: []snapshot.AccessKey{{ID: "AKIAEXAMPLE1", Status: "Active", LastUsed: &snapshot.KeyUse{Date: &d, Region: "eu-west-1", Service: "s3"}}}}
			})},
		{name: "no credentials, no report", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) { a.Summary = summary(false, false, false, false) })},
		{name: "AssumeRoot session: recent sign-in from GetUser", status: rule.Fail, contains: []string{"password (console sign-in) used 2026-11-25T12:00:00Z"},
			acct: account(func(a *snapshot.Account) {
				a.RootCredentials = auditInventory(ptr(now.Add(-24*time.Hour)), nil)
			})},
		{name: "AssumeRoot session: no recent use, real time", status: rule.Pass, contains: []string{"real time", "last use: access key AKIAEXAMPLE1"},
			acct: account(func(a *snapshot.Account) {
				a.RootCredentials = auditInventory(ptr(now.Add(-300*24*time.Hour)), &snapshot.KeyUse{Date: ptr(now.Add(-100 * 24 * time.Hour))})
			})},
		{name: "AssumeRoot session: a key's last use unread", status: rule.Unknown,
			contains: []string{"unknown: when access key AKIAEXAMPLE1 was last used could not be read (iam:GetAccessKeyLastUsed: Throttling)"},
			excludes: []string{"no recorded use", "sign-ins are only recorded", "sign-ins could be read only"},
			acct: account(func(a *snapshot.Account) {
				a.RootCredentials = auditInventory(nil, nil)
				a.RootCredentials.AccessKeys[0].LastUsed = nil
				a.AddGap(gap(snapshot.SectionRootCredentials, "iam:GetAccessKeyLastUsed", "Throttling"))
			})},
		{name: "report without last-use columns", status: rule.Unknown,
			contains: []string{"unknown: the credential report of", "has no password_last_used column", "The latest use that could be read: access key 1 on 2025-01-01T00:00:00Z"},
			excludes: []string{"no recorded use"},
			acct: account(func(a *snapshot.Account) {
				row := activeKey1()
				row.PasswordLastUsed = snapshot.Stamp{}
				row.AccessKeys[0].LastUsedDate = at("2025-01-01T00:00:00Z")
				row.Missing = []string{"password_last_used"}
				a.CredentialReport = withReport(row, time.Hour)
			})},
		{name: "unreachable account", status: rule.Unknown, contains: []string{"unknown: the account could not be reached: sts:AssumeRole: AccessDenied"},
			excludes: []string{"no recorded use"},
			acct:     &snapshot.Account{ID: "111122223333", Gaps: []snapshot.Gap{gap(snapshot.SectionAccess, "sts:AssumeRole", "AccessDenied")}}},
	})
}

// auditInventory is what an AssumeRoot audit session reads: one root key
// with the given last use, and GetUser's last sign-in.
func auditInventory(signIn *time.Time, keyUse *snapshot.KeyUse) *snapshot.RootCredentials {
	if keyUse == nil {
		keyUse = &snapshot.KeyUse{}
	}
	return &snapshot.RootCredentials{
		AccessKeys:          []snapshot.AccessKey{{ID: "AKIAEXAMPLE1", Status: "Active", LastUsed: keyUse}},
		SigningCertificates: []snapshot.SigningCert{}, MFADevices: []snapshot.MFADevice{},
		LoginProfile: &snapshot.LoginProfile{Present: true},
		User:         &snapshot.RootUser{PasswordLastUsed: signIn},
	}
}

func TestRootMemberPassword(t *testing.T) {
	member := func(features *snapshot.OrgFeatures, s *snapshot.Summary) *snapshot.Account {
		return account(func(a *snapshot.Account) {
			a.Org = &snapshot.Membership{Role: snapshot.RoleMember, OrganizationID: "o-aa111bb222", ManagementAccountID: "999988887777", Features: features}
			a.Summary = s
		})
	}
	central := &snapshot.OrgFeatures{RootCredentialsManagement: true, RootSessions: true}
	unknownFeatures := member(nil, summary(false, true, true, false))
	unknownFeatures.AddGap(gap(snapshot.SectionOrgFeatures, "iam:ListOrganizationsFeatures", "AccountNotManagementOrDelegatedAdministratorException"))
	runCases(t, RootMemberPassword, []ruleCase{
		{name: "member with password under central management", status: rule.Fail, contains: []string{"still has a console password"}, acct: member(central, summary(false, false, true, false))},
		{name: "member without password", status: rule.Pass, acct: member(central, summary(true, false, false, false))},
		{name: "member without any credentials", status: rule.Pass, contains: []string{"no credentials at all"}, acct: member(central, summary(false, false, false, false))},
		{name: "member without password, features unknown", status: rule.Pass, acct: member(nil, summary(true, true, false, false))},
		{name: "not centrally managed", status: rule.NotApplicable, acct: member(&snapshot.OrgFeatures{}, summary(false, false, true, false))},
		{name: "not centrally managed, no password", status: rule.Pass, acct: member(&snapshot.OrgFeatures{}, summary(true, false, false, false))},
		{name: "features unknown", status: rule.Unknown, contains: []string{"--org"}, acct: unknownFeatures},
		{name: "password presence unknown", status: rule.Unknown, acct: member(central, &snapshot.Summary{AccessKeysPresent: ptr(false)})},
		{name: "standalone", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) { a.Summary = summary(false, false, true, false) })},
		{name: "management", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) { a.Org = &snapshot.Membership{Role: snapshot.RoleManagement} })},
		{name: "role unknown", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.Org = nil
			a.AddGap(gap(snapshot.SectionOrganization, "organizations:DescribeOrganization", "AccessDeniedException"))
		})},
	})
}
