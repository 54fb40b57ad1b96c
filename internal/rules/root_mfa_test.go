package rules

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

func mfaRow(active bool) *snapshot.CredentialRow {
	r := rootRow()
	r.MFAActive = active
	return r
}

var rootVirtual = snapshot.MFADevice{Serial: "arn:aws:iam::111122223333:mfa/root-account-mfa-device", Type: snapshot.MFAVirtual}

func TestRootMFA(t *testing.T) {
	runCases(t, RootMFA, []ruleCase{
		{name: "enabled", status: rule.Pass, acct: account(func(a *snapshot.Account) { a.Summary = summary(false, true, true, false) })},
		{name: "missing", status: rule.Fail, contains: []string{"no MFA device"}, acct: account(func(a *snapshot.Account) { a.Summary = summary(false, false, true, false) })},
		{name: "disagreement noted", status: rule.Pass, contains: []string{"sources disagree", "mfa_active=false"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(false, true, true, false)
				a.CredentialReport = withReport(mfaRow(false), time.Hour)
			})},
		{name: "report only, no MFA", status: rule.Fail, acct: account(func(a *snapshot.Account) { a.CredentialReport = withReport(mfaRow(false), 100*time.Hour) })},
		{name: "report only, stale MFA", status: rule.Unknown, contains: []string{"older than --max-report-age"},
			acct: account(func(a *snapshot.Account) { a.CredentialReport = withReport(mfaRow(true), 100*time.Hour) })},
		{name: "nothing known", status: rule.Unknown, acct: account(nil)},
		{name: "no root credentials", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) { a.Summary = summary(false, false, false, false) })},
		{name: "GovCloud", status: rule.NotApplicable, contains: []string{"GovCloud"},
			acct: account(func(a *snapshot.Account) { a.Partition = "aws-us-gov"; a.Summary = summary(true, false, false, false) })},
		{name: "China partition is checked", status: rule.Fail,
			acct: account(func(a *snapshot.Account) { a.Partition = "aws-cn"; a.Summary = summary(false, false, true, false) })},
		{name: "inventory", status: rule.Pass, acct: account(func(a *snapshot.Account) {
			a.RootCredentials = &snapshot.RootCredentials{MFADevices: []snapshot.MFADevice{{Serial: "GAHT12345678", Type: snapshot.MFAHardware}}}
		})},
	})
}

func TestRootHardwareMFA(t *testing.T) {
	runCases(t, RootHardwareMFA, []ruleCase{
		{name: "virtual assigned to root", status: rule.Fail, contains: []string{"root-account-mfa-device", "is assigned to arn:aws:iam::111122223333:root"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(false, true, true, false)
				a.RootVirtualMFA = &snapshot.RootVirtualMFA{Devices: []snapshot.MFADevice{rootVirtual}}
			})},
		{name: "hardware: MFA on, no virtual device for root", status: rule.Pass, contains: []string{"hardware token or FIDO"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(false, true, true, false)
				a.RootVirtualMFA = &snapshot.RootVirtualMFA{Devices: []snapshot.MFADevice{}}
			})},
		{name: "virtual list denied", status: rule.Unknown, contains: []string{"iam:ListVirtualMFADevices: AccessDenied"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(false, true, true, false)
				a.AddGap(gap(snapshot.SectionRootVirtualMFA, "iam:ListVirtualMFADevices", "AccessDenied"))
			})},
		{name: "no MFA at all", status: rule.Fail, contains: []string{"no MFA device at all"},
			acct: account(func(a *snapshot.Account) {
				a.Summary = summary(false, false, true, false)
				a.RootVirtualMFA = &snapshot.RootVirtualMFA{Devices: []snapshot.MFADevice{}}
			})},
		{name: "inventory mixed hardware and virtual fails", status: rule.Fail, contains: []string{"1 virtual MFA device"},
			acct: account(func(a *snapshot.Account) {
				a.RootCredentials = &snapshot.RootCredentials{MFADevices: []snapshot.MFADevice{{Serial: "GAHT1", Type: snapshot.MFAHardware}, rootVirtual}}
			})},
		{name: "inventory FIDO", status: rule.Pass,
			acct: account(func(a *snapshot.Account) {
				a.RootCredentials = &snapshot.RootCredentials{MFADevices: []snapshot.MFADevice{{Serial: "arn:aws:iam::111122223333:u2f/root/key-ABC", Type: snapshot.MFAFIDO}}}
			})},
		{name: "GovCloud", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) { a.Partition = "aws-us-gov" })},
		{name: "nothing known", status: rule.Unknown, acct: account(nil)},
	})
}
