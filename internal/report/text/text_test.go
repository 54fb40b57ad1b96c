package text

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/muesli/termenv"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

func sampleDoc() *report.Document {
	now := testclock.Ref()
	snap := snapshot.New(now, "test", snapshot.Source{Kind: snapshot.SourceAWS})
	snap.Accounts = []snapshot.Account{{ID: "111122223333", Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleStandalone}}}
	results := []rule.Result{
		{Meta: &rule.Meta{RuleID: "root-access-key", Title: "Root user has access keys", AccountID: "111122223333"},
			Status: rule.Fail, Severity: rule.Critical, Resource: "arn:aws:iam::111122223333:root", Message: "The root user has an access key.", Evidence: []rule.Evidence{{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"}}},
		{Meta: &rule.Meta{RuleID: "root-mfa", Title: "Root user has no MFA", AccountID: "111122223333"},
			Status: rule.Pass, Severity: rule.Critical, Resource: "arn:aws:iam::111122223333:root", Message: "The root user has MFA."},
	}
	return report.Build(snap, results, report.Tool{Name: "vigil", Version: "test"}, now)
}

func TestTextColour(t *testing.T) {
	var plain, colour bytes.Buffer
	if err := New(Options{Profile: termenv.Ascii}).Write(&plain, sampleDoc()); err != nil {
		t.Fatal(err)
	}
	if err := New(Options{Profile: termenv.ANSI256}).Write(&colour, sampleDoc()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("escape codes with the Ascii profile")
	}
	if !strings.Contains(colour.String(), "\x1b[") {
		t.Error("no escape codes with a colour profile")
	}
	for _, want := range []string{"FAIL", "CRITICAL", "root-access-key", "Summary: 1 account · 2 results · 1 FAIL (1 critical) · 0 UNKNOWN · 1 PASS · 0 NOT_APPLICABLE"} {
		if !strings.Contains(plain.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, plain.String())
		}
	}
}

// orgDoc is an organisation scan through roles: one account failing and
// UNKNOWN at once, one UNKNOWN because its role was refused, one clean,
// one suspended (not scanned) and a target that named no account.
func orgDoc() *report.Document {
	now := testclock.Ref()
	snap := snapshot.New(now, "test", snapshot.Source{Kind: snapshot.SourceAWS})
	member := &snapshot.Membership{Role: snapshot.RoleMember, OrganizationID: "o-abc", ManagementAccountID: "111111111111"}
	role := func(id string) *snapshot.Access {
		return &snapshot.Access{Method: snapshot.AccessAssumeRole, RoleARN: "arn:aws:iam::" + id + ":role/VigilAudit"}
	}
	snap.Organization = &snapshot.Organization{ID: "o-abc", ManagementAccountID: "111111111111", AccessMode: snapshot.AccessAssumeRole,
		Skipped: []snapshot.SkippedAccount{{AccountID: "555555555555", State: "SUSPENDED", Reason: "the account is SUSPENDED"}}}
	snap.Accounts = []snapshot.Account{
		{ID: "222222222222", Partition: "aws", Org: member, Access: role("222222222222")},
		{ID: "333333333333", Partition: "aws", Org: member, Access: role("333333333333"),
			Gaps: []snapshot.Gap{{Section: snapshot.SectionAccess, Call: "sts:AssumeRole", Code: "AccessDenied", Message: "not authorized"}}},
		{ID: "444444444444", Partition: "aws", Org: member, Access: role("444444444444")},
	}
	snap.Unreached = []snapshot.Unreached{{Target: "profile gone", Gap: snapshot.Gap{Section: snapshot.SectionAccess, Call: "AWS configuration", Code: "ConfigError", Message: "no such profile"}}}
	res := func(acct, id string, st rule.Status) rule.Result {
		return rule.Result{Meta: &rule.Meta{RuleID: id, Title: id, AccountID: acct}, Status: st, Severity: rule.High, Resource: "arn:aws:iam::" + acct + ":root", Message: id + " " + string(st)}
	}
	results := []rule.Result{
		res("222222222222", "root-access-key", rule.Fail), res("222222222222", "root-recent-use", rule.Unknown),
		res("333333333333", "root-access-key", rule.Unknown), res("333333333333", "root-recent-use", rule.Unknown),
		res("444444444444", "root-access-key", rule.Pass), res("444444444444", "root-recent-use", rule.Pass),
	}
	return report.Build(snap, results, report.Tool{Name: "vigil", Version: "test"}, now)
}

// accountTally reads "N accounts: F failing (…), U unknown, C clean, S not
// scanned" from the text report.
var accountTally = regexp.MustCompile(`(\d+) accounts?: (\d+) failing(?: \(\d+ with critical failures\))?, (\d+) unknown, (\d+) clean(?:, (\d+) not scanned)?`)

// TestAccountCountsAddUp: the organisation header and the summary count
// every account once: an account that fails and is UNKNOWN is failing
// only, the categories add up to the total, and the total is every
// account of the run, scanned or not. A target that named no account is
// not an account.
func TestAccountCountsAddUp(t *testing.T) {
	var buf bytes.Buffer
	if err := New(Options{Profile: termenv.Ascii}).Write(&buf, orgDoc()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	tallies := accountTally.FindAllStringSubmatch(out, -1)
	if len(tallies) != 2 {
		t.Fatalf("want the header's and the summary's counts, got %q in:\n%s", tallies, out)
	}
	for _, m := range tallies {
		n := make([]int, len(m))
		for i := 1; i < len(m); i++ {
			n[i], _ = strconv.Atoi(m[i])
		}
		total, failing, unknown, clean, notScanned := n[1], n[2], n[3], n[4], n[5]
		if failing+unknown+clean+notScanned != total {
			t.Errorf("%q: the parts add up to %d, not %d", m[0], failing+unknown+clean+notScanned, total)
		}
		if total != 4 || failing != 1 || unknown != 1 || clean != 1 || notScanned != 1 {
			t.Errorf("%q: want 4 accounts: 1 failing, 1 unknown, 1 clean, 1 not scanned", m[0])
		}
	}
	if !strings.Contains(out, "4 accounts: 1 failing, 1 unknown, 1 clean, 1 not scanned; 1 target reached no account") {
		t.Errorf("the unreached target is not counted apart:\n%s", out)
	}
}

// TestUnreachedAccountNotReached: an account whose role could not be
// assumed is not "reached through sts:AssumeRole"; one whose role worked
// is, and the organisation header says how many were not.
func TestUnreachedAccountNotReached(t *testing.T) {
	var buf bytes.Buffer
	if err := New(Options{Profile: termenv.Ascii, Show: ShowAll}).Write(&buf, orgDoc()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"reached through sts:AssumeRole arn:aws:iam::333333333333", "member accounts reached through"} {
		if strings.Contains(strings.ReplaceAll(out, "not reached through", ""), bad) {
			t.Errorf("the report says %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{
		"not reached through sts:AssumeRole arn:aws:iam::333333333333:role/VigilAudit (sts:AssumeRole: AccessDenied)",
		"  reached through sts:AssumeRole arn:aws:iam::222222222222:role/VigilAudit",
		"1 of 3 accounts could not be reached",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}

// TestDefaultShow: one account is shown in full, more (or a target that
// named no account) as the issues only.
func TestDefaultShow(t *testing.T) {
	if got := DefaultShow(sampleDoc()); got != ShowAll {
		t.Errorf("one account: %v, want ShowAll", got)
	}
	if got := DefaultShow(orgDoc()); got != ShowIssues {
		t.Errorf("an organisation: %v, want ShowIssues", got)
	}
	one := sampleDoc()
	one.Unreached = []snapshot.Unreached{{Target: "profile gone"}}
	if got := DefaultShow(one); got != ShowIssues {
		t.Errorf("one account and an unreached target: %v, want ShowIssues", got)
	}
}
