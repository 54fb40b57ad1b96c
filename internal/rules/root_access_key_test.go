package rules

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func activeKey1() *snapshot.CredentialRow {
	r := rootRow()
	r.AccessKeys[0] = snapshot.KeySlot{Active: true, LastRotated: at("2019-03-14T09:45:51Z"), LastUsedDate: at("2026-10-30T08:12:00Z"), LastUsedRegion: "us-east-1", LastUsedService: "ec2"}
	return r
}

func inactiveKey2() *snapshot.CredentialRow {
	r := rootRow()
	r.AccessKeys[1] = snapshot.KeySlot{Active: false, LastRotated: at("2020-01-01T00:00:00Z"), LastUsedDate: na}
	return r
}

func TestRootAccessKey(t *testing.T) {
	zeroAge := rule.Options{RootUseWindow: 30 * 24 * time.Hour}
	runCases(t, RootAccessKey, []ruleCase{
		{name: "clean account", status: rule.Pass, contains: []string{"no access keys", "AccountAccessKeysPresent=0"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(false, true, true, false)
				a.CredentialReport = withReport(rootRow(), time.Hour)
			})},
		{name: "one active key", status: rule.Fail, contains: []string{"key 1 active", "last rotated 2019-03-14T09:45:51Z", "last used 2026-10-30T08:12:00Z in us-east-1 for ec2"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(true, true, true, false)
				a.CredentialReport = withReport(activeKey1(), time.Hour)
			})},
		{name: "inactive key only fails", status: rule.Fail, contains: []string{"key 2 inactive", "never used"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(true, true, true, false)
				a.CredentialReport = withReport(inactiveKey2(), time.Hour)
			})},
		{name: "inactive key in report only fails", status: rule.Fail, contains: []string{"key 2 inactive"},
			acct: account(func(a *snapshot.Account) {
				a.CredentialReport = withReport(inactiveKey2(), time.Hour)
				a.AddGap(gap(snapshot.SectionSummary, "iam:GetAccountSummary", "AccessDenied"))
			})},
		{name: "two keys", status: rule.Fail, contains: []string{"key 1 active", "key 2 active"},
			acct: account(func(a *snapshot.Account) {
				r := activeKey1()
				r.AccessKeys[1] = snapshot.KeySlot{Active: true, LastRotated: at("2021-01-01T00:00:00Z"), LastUsedDate: snapshot.SentinelStamp(snapshot.NoInformation)}
				a.Summary = summary(true, true, true, false)
				a.CredentialReport = withReport(r, time.Hour)
			})},
		{name: "summary has key, stale report has none", status: rule.Fail, contains: []string{"sources disagree", "created after the report", "trusting the real-time summary"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(true, true, true, false)
				a.CredentialReport = withReport(rootRow(), 3*time.Hour)
			})},
		{name: "summary has none, stale report has key", status: rule.Pass, contains: []string{"sources disagree", "removed since", "key 1 active"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(false, true, true, false)
				a.CredentialReport = withReport(activeKey1(), 3*time.Hour)
			})},
		{name: "summary key without report", status: rule.Fail, contains: []string{"unknown", "iam:GetCredentialReport: ReportNotPresent"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(true, true, true, false)
				a.AddGap(gap(snapshot.SectionCredentialReport, "iam:GetCredentialReport", "ReportNotPresent"))
			})},
		{name: "report only, fresh, no key", status: rule.Pass, contains: []string{"one created since the report would not show"},
			acct: account(func(a *snapshot.Account) {
				a.CredentialReport = withReport(rootRow(), time.Hour)
				a.AddGap(gap(snapshot.SectionSummary, "iam:GetAccountSummary", "AccessDenied"))
			})},
		{name: "report only, stale, no key", status: rule.Unknown, contains: []string{"older than --max-report-age"},
			acct: account(func(a *snapshot.Account) {
				a.CredentialReport = withReport(rootRow(), 72*time.Hour)
				a.AddGap(gap(snapshot.SectionSummary, "iam:GetAccountSummary", "AccessDenied"))
			})},
		{name: "report only, stale, accepted with max age 0", status: rule.Pass, opts: &zeroAge,
			acct: account(func(a *snapshot.Account) { a.CredentialReport = withReport(rootRow(), 72*time.Hour) })},
		{name: "report of unknown age", status: rule.Unknown, contains: []string{"age is unknown"},
			acct: account(func(a *snapshot.Account) { a.CredentialReport = &snapshot.CredentialReport{Root: rootRow()} })},
		{name: "everything denied", status: rule.Unknown, contains: []string{"iam:GetAccountSummary: AccessDenied", "iam:GenerateCredentialReport: AccessDenied"},
			acct: account(func(a *snapshot.Account) {
				a.AddGap(gap(snapshot.SectionSummary, "iam:GetAccountSummary", "AccessDenied"))
				a.AddGap(gap(snapshot.SectionCredentialReport, "iam:GenerateCredentialReport", "AccessDenied"))
			})},
		{name: "no root credentials at all", status: rule.NotApplicable, contains: []string{"no credentials at all"},
			acct: account(func(a *snapshot.Account) { a.Summary = summary(false, false, false, false) })},
		{name: "summary without AccountPasswordPresent is not proof of no credentials", status: rule.Pass,
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(false, false, false, false)
				a.Summary.PasswordPresent = nil
			})},
		{name: "exact inventory with a key", status: rule.Fail, contains: []string{"AKIAEXAMPLE1 (inactive", "never used"},
			acct: account(func(a *snapshot.Account) {
				a.RootCredentials = &snapshot.RootCredentials{AccessKeys: []snapshot.AccessKey{{ID: "AKIAEXAMPLE1", Status: "Inactive", LastUsed: &snapshot.KeyUse{}}}}
			})},
		{name: "exact inventory empty beats stale report", status: rule.Pass, contains: []string{"exact inventory", "removed since"},
			acct: account(func(a *snapshot.Account) {
				a.RootCredentials = &snapshot.RootCredentials{AccessKeys: []snapshot.AccessKey{}}
				a.CredentialReport = withReport(activeKey1(), 2*time.Hour)
			})},
		{name: "GovCloud root key still fails", status: rule.Fail,
			acct: account(func(a *snapshot.Account) { a.Partition = "aws-us-gov"; a.Summary = summary(true, false, false, false) })},
	})
}

func TestRootSigningCertificate(t *testing.T) {
	cert := rootRow()
	cert.Certificates[0] = snapshot.CertSlot{Active: false, LastRotated: at("2018-05-05T00:00:00Z")}
	runCases(t, RootSigningCertificate, []ruleCase{
		{name: "none", status: rule.Pass, acct: account(func(a *snapshot.Account) { a.Summary = summary(false, true, true, false) })},
		{name: "inactive certificate fails", status: rule.Fail, contains: []string{"certificate 1 inactive"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(false, true, true, true)
				a.CredentialReport = withReport(cert, time.Hour)
			})},
		{name: "inventory", status: rule.Fail, contains: []string{"CERTID (active"},
			acct: account(func(a *snapshot.Account) {
				a.RootCredentials = &snapshot.RootCredentials{SigningCertificates: []snapshot.SigningCert{{ID: "CERTID", Status: "Active"}}}
			})},
		{name: "unknown", status: rule.Unknown, acct: account(nil)},
	})
}
