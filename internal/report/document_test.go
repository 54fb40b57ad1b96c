package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/redact"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

func sampleDoc() *Document {
	now := testclock.Ref()
	snap := snapshot.New(now, "test", snapshot.Source{Kind: snapshot.SourceAWS})
	snap.Accounts = []snapshot.Account{{ID: "111122223333", Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleStandalone}}}
	results := []rule.Result{
		{Meta: &rule.Meta{RuleID: "root-access-key", Title: "Root user has access keys", AccountID: "111122223333"},
			Status: rule.Fail, Severity: rule.Critical, Resource: "arn:aws:iam::111122223333:root", Message: "The root user has an access key.", Evidence: []rule.Evidence{{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"}}},
		{Meta: &rule.Meta{RuleID: "root-mfa", Title: "Root user has no MFA", AccountID: "111122223333"},
			Status: rule.Pass, Severity: rule.Critical, Resource: "arn:aws:iam::111122223333:root", Message: "The root user has MFA."},
	}
	return Build(snap, results, Tool{Name: "vigil", Version: "test"}, now)
}

func TestBuildCounts(t *testing.T) {
	d := sampleDoc()
	if d.Summary.Counts.Fail != 1 || d.Summary.Counts.Pass != 1 || d.Summary.FailedBySeverity["critical"] != 1 || d.Accounts[0].Counts.Fail != 1 {
		t.Errorf("counts wrong: %+v %+v", d.Summary, d.Accounts[0].Counts)
	}
	if d.Failures(rule.Critical) != 1 || d.Failures(rule.Info) != 1 {
		t.Error("Failures wrong")
	}
}

// TestBuildRedacts: a credential quoted in any free-text field of the
// snapshot or the results is gone from the document, and Build leaves its
// inputs as they were (the snapshot may still be saved, the results
// still judged).
func TestBuildRedacts(t *testing.T) {
	const secret = "vIgiLbUiLdTeSt7sEcReT/k7MDENG+bPxRfiCY42"
	const urlPassword = "vigil-url-password" // a URL password has no unescaped slash
	quote := func(where string) string { return where + ` {"SecretAccessKey": "` + secret + `"}` }
	now := testclock.Ref()
	snap := snapshot.New(now, "test", snapshot.Source{Kind: snapshot.SourceAWS, Detail: "endpoint https://u:" + urlPassword + "@proxy.example.com"})
	snap.Incomplete = &snapshot.Incomplete{Reason: quote("incomplete")}
	gap := func(where string) []snapshot.Gap {
		return []snapshot.Gap{{Section: snapshot.SectionAccess, Call: "sts:AssumeRole", Code: "X", Message: quote(where)}}
	}
	snap.Organization = &snapshot.Organization{ID: "o-x", ManagementAccountID: "111111111111", Gaps: gap("organisation gap"),
		Skipped: []snapshot.SkippedAccount{{AccountID: "222222222222", Reason: quote("skipped")}}}
	snap.Accounts = []snapshot.Account{{ID: "111111111111", Gaps: gap("account gap"),
		Access: &snapshot.Access{Method: snapshot.AccessDirect, Note: quote("note")}}}
	snap.Unreached = []snapshot.Unreached{{Target: "profile x", Gap: gap("unreached")[0]}}
	results := []rule.Result{{Meta: &rule.Meta{RuleID: "r", AccountID: "111111111111"},
		Status: rule.Unknown, Message: quote("message"),
		Evidence: []rule.Evidence{{Source: "s", Value: quote("value"), Error: quote("error")}}}}

	var before bytes.Buffer
	if err := snapshot.Encode(&before, snap); err != nil {
		t.Fatal(err)
	}
	resultsBefore, _ := json.Marshal(results)

	var out bytes.Buffer
	if err := WriteJSON(&out, Build(snap, results, Tool{Name: "vigil"}, now)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), secret) || strings.Contains(out.String(), urlPassword) {
		t.Errorf("the document holds the secret:\n%s", out.String())
	}
	// Every place above, and the endpoint's password.
	if got, want := strings.Count(out.String(), redact.Marker), 10; got != want {
		t.Errorf("%d redactions, want %d:\n%s", got, want, out.String())
	}
	var after bytes.Buffer
	if err := snapshot.Encode(&after, snap); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before.String(), after.String()); diff != "" {
		t.Errorf("Build changed the snapshot (-before +after):\n%s", diff)
	}
	if resultsAfter, _ := json.Marshal(results); !bytes.Equal(resultsBefore, resultsAfter) {
		t.Errorf("Build changed the results")
	}
}
