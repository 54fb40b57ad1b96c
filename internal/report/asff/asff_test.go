package asff

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/guide"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestConformance: the writer keeps the report.Writer contract, with and
// without an importing account and guides.
func TestConformance(t *testing.T) {
	for name, o := range map[string]Options{
		"plain":    {},
		"imported": {Importer: "999988887777", Region: "eu-west-1"},
		"guides":   {Guides: guide.Guides{"root-access-key": {Fix: "Delete the key.", Requirements: []string{"CIS 5.0.0/1.4"}}}},
	} {
		t.Run(name, func(t *testing.T) { reporttest.Run(t, New(o), reporttest.JSONText) })
	}
}

func doc(results ...rule.Result) *report.Document {
	snap := snapshot.New(testclock.Ref(), "test", snapshot.Source{Kind: snapshot.SourceAWS})
	for _, r := range results {
		snap.Accounts = append(snap.Accounts, snapshot.Account{ID: r.AccountID, Name: r.AccountName, Partition: r.Partition})
	}
	return report.Build(snap, results, report.Tool{Name: "vigil", Version: "t"}, testclock.Ref().Add(time.Minute))
}

func res(acct, partition, id string, st rule.Status, sev rule.Severity) rule.Result {
	return rule.Result{Meta: &rule.Meta{RuleID: id, Title: "Title " + id, RuleSeverity: sev, AccountID: acct, AccountName: "name-" + acct, Partition: partition},
		Status: st, Severity: sev, Resource: "arn:" + partition + ":iam::" + acct + ":root", Message: "message of " + id,
		Evidence: []rule.Evidence{{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"}}}
}

func decode(t *testing.T, d *report.Document, o Options) []Finding {
	t.Helper()
	var buf bytes.Buffer
	if err := New(o).Write(&buf, d); err != nil {
		t.Fatal(err)
	}
	var fs []Finding
	if err := json.Unmarshal(buf.Bytes(), &fs); err != nil {
		t.Fatalf("not a JSON array of findings: %v\n%s", err, buf.String())
	}
	return fs
}

// TestStatusMapping: each status maps to the documented compliance
// status, severity label and record state.
func TestStatusMapping(t *testing.T) {
	cases := []struct {
		st         rule.Status
		compliance string
		label      string
		record     string
	}{
		{rule.Fail, Failed, "HIGH", "ACTIVE"},
		{rule.Pass, Passed, "INFORMATIONAL", "ACTIVE"},
		{rule.Unknown, Warning, "HIGH", "ACTIVE"},
		{rule.NotApplicable, NotAvailable, "INFORMATIONAL", "ARCHIVED"},
	}
	for _, c := range cases {
		fs := decode(t, doc(res("111122223333", "aws", "root-mfa", c.st, rule.High)), Options{})
		if len(fs) != 1 {
			t.Fatalf("%s: %d findings", c.st, len(fs))
		}
		f := fs[0]
		if f.Compliance.Status != c.compliance || f.Severity.Label != c.label || f.RecordState != c.record || f.FindingProviderFields.Severity != f.Severity {
			t.Errorf("%s: compliance %s severity %+v record %s, want %s %s %s", c.st, f.Compliance.Status, f.Severity, f.RecordState, c.compliance, c.label, c.record)
		}
	}
}

// TestStableIDs: the ID depends on the rule and the resource only, not on
// the status, the time, the importer or the Region, so a re-scan updates.
func TestStableIDs(t *testing.T) {
	a := decode(t, doc(res("111122223333", "aws", "root-mfa", rule.Fail, rule.High)), Options{})[0]
	d := doc(res("111122223333", "aws", "root-mfa", rule.Pass, rule.High))
	d.GeneratedAt = d.GeneratedAt.Add(48 * time.Hour)
	b := decode(t, d, Options{Importer: "999988887777", Region: "eu-west-1"})[0]
	if a.ID != b.ID {
		t.Errorf("IDs differ between runs: %s and %s", a.ID, b.ID)
	}
	if a.ID != "vigil/root-mfa/arn:aws:iam::111122223333:root" {
		t.Errorf("ID %s", a.ID)
	}
	c := decode(t, doc(res("111122223334", "aws", "root-mfa", rule.Pass, rule.High)), Options{})[0]
	if c.ID == a.ID {
		t.Errorf("two accounts share an ID")
	}
	long := ID("r", "arn:aws:x:::"+strings.Repeat("a", 600))
	if len(long) > maxID || long != ID("r", "arn:aws:x:::"+strings.Repeat("a", 600)) {
		t.Errorf("a long ID is %d bytes or unstable", len(long))
	}
}

// TestPartitions: the product ARN, the Region and the resource follow the
// partition.
func TestPartitions(t *testing.T) {
	for _, c := range []struct{ partition, region, arn string }{
		{"aws", "us-east-1", "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"},
		{"aws-cn", "cn-north-1", "arn:aws-cn:securityhub:cn-north-1:111122223333:product/111122223333/default"},
		{"aws-us-gov", "us-gov-west-1", "arn:aws-us-gov:securityhub:us-gov-west-1:111122223333:product/111122223333/default"},
	} {
		f := decode(t, doc(res("111122223333", c.partition, "root-mfa", rule.Fail, rule.High)), Options{})[0]
		if f.ProductArn != c.arn || f.Region != c.region || f.Resources[0].Partition != c.partition || f.Resources[0].Region != c.region ||
			f.Resources[0].ID != "arn:"+c.partition+":iam::111122223333:root" || f.Resources[0].Type != "AwsAccount" {
			t.Errorf("%s: %+v %+v", c.partition, f.ProductArn, f.Resources)
		}
	}
	if _, err := writeErr(doc(res("111122223333", "aws-mars", "root-mfa", rule.Fail, rule.High)), Options{}); err == nil {
		t.Errorf("an unknown partition without a Region was written")
	}
	f := decode(t, doc(res("111122223333", "aws-cn", "root-mfa", rule.Fail, rule.High)), Options{Region: "cn-northwest-1", Importer: "444455556666"})[0]
	if f.ProductArn != "arn:aws-cn:securityhub:cn-northwest-1:444455556666:product/444455556666/default" || f.AwsAccountID != "444455556666" ||
		f.ProductFields["vigil/AccountId"] != "111122223333" || f.Resources[0].Details.Other["AccountId"] != "111122223333" || f.AwsAccountName != "" {
		t.Errorf("imported: %+v", f)
	}
}

func writeErr(d *report.Document, o Options) ([]byte, error) {
	var buf bytes.Buffer
	err := New(o).Write(&buf, d)
	return buf.Bytes(), err
}

// TestLimits: long text is cut at a character boundary within ASFF's
// limits, and a finding never exceeds 240 KB however much evidence.
func TestLimits(t *testing.T) {
	r := res("111122223333", "aws", "root-mfa", rule.Fail, rule.High)
	r.Title = strings.Repeat("é", 300)
	r.Message = strings.Repeat("🔑", 2000)
	for i := range 200 {
		r.Evidence = append(r.Evidence, rule.Evidence{Source: "s", Key: "k", Value: strings.Repeat("x", 5000) + string(rune('a'+i%26))})
	}
	f := decode(t, doc(r), Options{Guides: guide.Guides{"root-mfa": {Fix: strings.Repeat("fix ", 400)}}})[0]
	for name, c := range map[string]struct {
		s   string
		max int
	}{"Title": {f.Title, maxTitle}, "Description": {f.Description, maxDescription}, "Recommendation": {f.Remediation.Recommendation.Text, maxRecommendation}} {
		if n := utf8.RuneCountInString(c.s); n > c.max || !utf8.ValidString(c.s) || !strings.HasSuffix(c.s, "…") && name != "Recommendation" {
			t.Errorf("%s: %d characters (max %d)", name, n, c.max)
		}
	}
	if !strings.HasSuffix(f.Remediation.Recommendation.Text, "Full steps: vigil explain root-mfa.") {
		t.Errorf("recommendation %q", f.Remediation.Recommendation.Text)
	}
	if len(f.ProductFields) > maxProductFields {
		t.Errorf("%d product fields", len(f.ProductFields))
	}
	for k, v := range f.ProductFields {
		if len(k) > maxProductFieldKey || utf8.RuneCountInString(v) > maxProductFieldVal {
			t.Errorf("product field %s: %d characters", k, len(v))
		}
	}
	b, err := Marshal(f)
	if err != nil || len(b) > MaxFindingBytes {
		t.Errorf("finding of %d bytes (%v)", len(b), err)
	}
}

// TestEmpty: no result, an empty array.
func TestEmpty(t *testing.T) {
	out, err := writeErr(doc(), Options{})
	if err != nil || string(out) != "[]\n" {
		t.Errorf("%q %v", out, err)
	}
}

// TestTimes: CreatedAt is when the state was collected, UpdatedAt when it
// was judged, never before it.
func TestTimes(t *testing.T) {
	d := doc(res("111122223333", "aws", "root-mfa", rule.Fail, rule.High))
	f := decode(t, d, Options{})[0]
	if f.CreatedAt != stamp(d.CollectedAt) || f.UpdatedAt != stamp(d.GeneratedAt) || f.LastObservedAt != f.CreatedAt {
		t.Errorf("times %s %s %s", f.CreatedAt, f.UpdatedAt, f.LastObservedAt)
	}
	d.GeneratedAt = d.CollectedAt.Add(-time.Hour)
	f = decode(t, d, Options{})[0]
	if f.UpdatedAt != f.CreatedAt {
		t.Errorf("UpdatedAt %s before CreatedAt %s", f.UpdatedAt, f.CreatedAt)
	}
}

// TestEncodingMatchesJSON: the hand encoder writes what encoding/json
// writes for every finding of odd text (quotes, control characters,
// U+2028, invalid UTF-8, HTML characters, emoji).
func TestEncodingMatchesJSON(t *testing.T) {
	r := res("111122223333", "aws", "root-mfa", rule.Fail, rule.High)
	r.Message = "quote \" backslash \\ nl \n cr \r tab \t bell \a nul \x00 ls \u2028 ps \u2029 bad \xff html <b>&amp;</b> 🔑 é"
	r.Title = "<script>\u007f"
	d := doc(r)
	d.Results[0].Message = r.Message // as Build would not leave it: the encoder must cope anyway
	for f, err := range Findings(d, Options{Guides: guide.Guides{"root-mfa": {Fix: "x\"y", Requirements: []string{"A 1/2"}}}}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []Finding{f, {}} {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(g); err != nil {
				t.Fatal(err)
			}
			got := g.appendJSON(nil)
			if string(got)+"\n" != want.String() {
				t.Errorf("hand encoding differs:\n got %s\nwant %s", got, want.String())
			}
		}
	}
}

// TestWriterMatchesFindings: what the writer writes (its findings carry
// sorted lists, not maps) is what encoding/json writes of Findings.
func TestWriterMatchesFindings(t *testing.T) {
	r1 := res("111122223333", "aws", "root-mfa", rule.Fail, rule.High)
	r1.ManagementAccount = true
	for i := range 12 {
		r1.Evidence = append(r1.Evidence, rule.Evidence{Source: "s", Key: "k", Value: strings.Repeat("v", i)})
	}
	d := doc(r1, res("111122223334", "aws-cn", "root-access-key", rule.Pass, rule.Critical))
	o := Options{Guides: guide.Guides{"root-mfa": {Fix: "fix", Requirements: []string{"A 1/2"}}}}
	var want []string
	for f, err := range Findings(d, o) {
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
		want = append(want, strings.TrimSuffix(b.String(), "\n"))
	}
	got, err := writeErr(d, o)
	if err != nil {
		t.Fatal(err)
	}
	if w := "[\n" + strings.Join(want, ",\n") + "\n]\n"; string(got) != w {
		t.Errorf("the writer and Findings differ:\n%s\n---\n%s", got, w)
	}
}
