package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/credreport"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// lacking is a fresh credential report whose root row is empty and whose
// file lacked the given columns: an old format, or a hand-made CSV, both
// of which vigil scan --credential-report accepts (only user and arn are
// required).
func lacking(cols ...string) *snapshot.CredentialReport {
	row := rootRow()
	row.Missing = cols
	return withReport(row, time.Hour)
}

// TestReportColumnsMissingNeverPass: a column the report does not have is
// unknown, not "none": no rule may PASS on it, nor FAIL for want of it.
func TestReportColumnsMissingNeverPass(t *testing.T) {
	keyCols := []string{"access_key_1_active", "access_key_1_last_rotated", "access_key_2_active", "access_key_2_last_rotated"}
	certCols := []string{"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"}
	useCols := []string{"access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
		"access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service"}
	cases := []struct {
		rule    rule.Rule
		missing []string
		// mod adds what else the snapshot knows.
		mod    func(*snapshot.Account)
		status rule.Status
		// contains are fragments the message must hold.
		contains []string
	}{
		{RootAccessKey, keyCols, nil, rule.Unknown, []string{"has no access_key_1_active"}},
		{RootSigningCertificate, certCols, nil, rule.Unknown, []string{"has no cert_1_active"}},
		{RootMFA, []string{"mfa_active"}, nil, rule.Unknown, []string{"has no mfa_active column"}},
		{RootHardwareMFA, []string{"mfa_active"}, nil, rule.Unknown, []string{"has no mfa_active column"}},
		// The 2013 format: no last-used columns.
		{RootRecentUse, useCols, nil, rule.Unknown, []string{"has no access_key_1_last_used_date"}},
		{RootRecentUse, []string{"password_last_used"}, nil, rule.Unknown, []string{"has no password_last_used column"}},

		// What the report has still counts, and other sources decide.
		{RootAccessKey, keyCols, func(a *snapshot.Account) { a.Summary = summary(true, true, true, false) }, rule.Fail,
			[]string{"AccountAccessKeysPresent=1", "has no access_key_1_active"}},
		{RootAccessKey, keyCols, func(a *snapshot.Account) { a.Summary = summary(false, true, true, false) }, rule.Pass, nil},
		{RootMFA, []string{"mfa_active"}, func(a *snapshot.Account) { a.Summary = summary(false, true, true, false) }, rule.Pass, nil},
		{RootRecentUse, useCols, func(a *snapshot.Account) {
			a.CredentialReport.Root.PasswordLastUsed = at("2026-11-20T08:00:00Z")
		}, rule.Fail, []string{"password (console sign-in) used"}},
		{RootAccessKey, []string{"access_key_2_active", "access_key_2_last_rotated"}, func(a *snapshot.Account) {
			a.CredentialReport.Root.AccessKeys[0] = activeKey1().AccessKeys[0]
		}, rule.Fail, []string{"key 1 active"}},
	}
	for _, c := range cases {
		t.Run(c.rule.ID+" without "+strings.Join(c.missing, ","), func(t *testing.T) {
			a := account(func(a *snapshot.Account) {
				a.CredentialReport = lacking(c.missing...)
				a.AddGap(gap(snapshot.SectionSummary, "iam:GetAccountSummary", "NotCollected"))
				if c.mod != nil {
					c.mod(a)
				}
			})
			doc := &snapshot.Document{Accounts: []snapshot.Account{*a}}
			opts := rule.DefaultOptions()
			out := c.rule.Check(rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: opts})
			if out.Status != c.status {
				t.Errorf("status = %s, want %s; message: %s", out.Status, c.status, out.Message)
			}
			for _, frag := range c.contains {
				if !strings.Contains(out.Message, frag) {
					t.Errorf("message %q does not contain %q", out.Message, frag)
				}
			}
			if out.Status == rule.Unknown && !slices.ContainsFunc(out.Evidence, func(e rule.Evidence) bool {
				return e.Source == srcReport && strings.Contains(e.Error, "not in the report")
			}) {
				t.Errorf("no evidence names the missing columns: %+v", out.Evidence)
			}
		})
	}
}

// TestReportColumnNames: the columns the rules read are named as the
// credential report parser records the missing ones, so a report with
// only the required columns lacks every one of them.
func TestReportColumnNames(t *testing.T) {
	rep, err := credreport.Decode([]byte("user,arn\n<root_account>,arn:aws:iam::111122223333:root\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cols := range [][]string{keyColumns, certColumns, mfaColumns, useColumns} {
		for _, c := range cols {
			if !slices.Contains(rep.Root.Missing, c) {
				t.Errorf("the rules read %s, which the parser does not record as missing (%v)", c, rep.Root.Missing)
			}
		}
	}
}
