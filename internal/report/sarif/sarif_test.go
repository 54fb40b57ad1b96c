package sarif

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
)

// knowledge is a small knowledge base: help for one rule, none for the
// others, which must still be written.
var knowledge = report.Knowledge{"root-access-key": {Help: "## Risk\n\nA root key is the account.\n", Summary: "A root key is the account.",
	Remediation: "Delete the key.", Controls: []report.Control{{Framework: "cis-aws", FrameworkName: "CIS AWS Foundations Benchmark", Version: "5.0.0", ID: "2.3", Title: "No root access key", Coverage: "full"}}}}

// TestConformance: the SARIF writer keeps the writer contract.
func TestConformance(t *testing.T) {
	reporttest.Run(t, New(knowledge), reporttest.JSONText)
}

// schema compiles the official SARIF 2.1.0 JSON Schema, with formats
// (uri) asserted.
func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join(reporttest.SchemaDir(t), "sarif-2.1.0", "sarif-schema-2.1.0.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func write(t *testing.T, d *report.Document) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := New(knowledge).Write(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestValidAgainstSchema: every document of the suite, and an
// organisation of 2,000 results, is valid SARIF 2.1.0 by the official
// schema; and the validator is a real one (a log without its version
// fails).
func TestValidAgainstSchema(t *testing.T) {
	s := schema(t)
	docs := append(reporttest.Documents(), reporttest.Document{Name: "organisation of 2,000 results", Doc: reporttest.Large(2000)})
	real := realKnowledge(t)
	for _, d := range docs {
		for _, k := range []report.Knowledge{knowledge, real, nil} {
			var b bytes.Buffer
			if err := New(k).Write(&b, d.Doc); err != nil {
				t.Fatal(err)
			}
			v, err := jsonschema.UnmarshalJSON(&b)
			if err != nil {
				t.Fatalf("%s: %v", d.Name, err)
			}
			if err := s.Validate(v); err != nil {
				t.Errorf("%s (knowledge of %d rules): not valid SARIF 2.1.0: %v", d.Name, len(k), err)
			}
		}
	}
	var broken map[string]any
	if err := json.Unmarshal(write(t, reporttest.Documents()[0].Doc), &broken); err != nil {
		t.Fatal(err)
	}
	delete(broken, "version")
	broken["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)["level"] = "fatal"
	if err := s.Validate(broken); err == nil {
		t.Errorf("a log without its version and with a level SARIF does not have passed the schema")
	}
}

type log struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID                   string `json:"id"`
					Help                 struct{ Text, Markdown string }
					DefaultConfiguration struct{ Level string }
					Properties           map[string]any
				}
			}
		}
		Results []struct {
			RuleID              string `json:"ruleId"`
			RuleIndex           int    `json:"ruleIndex"`
			Level               string
			Message             struct{ Text string }
			PartialFingerprints map[string]string
			Locations           []struct {
				PhysicalLocation struct {
					ArtifactLocation struct{ URI string }
				}
				LogicalLocations []struct{ FullyQualifiedName, Kind string }
			}
		}
	}
}

func parse(t *testing.T, b []byte) log {
	t.Helper()
	var l log
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Runs) != 1 {
		t.Fatalf("%d runs, want one", len(l.Runs))
	}
	return l
}

// TestMapping: a result per FAIL (level from its severity) and per
// UNKNOWN (a note), none for PASS or NOT_APPLICABLE; each at its ARN and
// its synthetic URI, pointing at its rule, whose help is the page.
func TestMapping(t *testing.T) {
	var org *report.Document
	for _, d := range reporttest.Documents() {
		if d.Name == "organisation" {
			org = d.Doc
		}
	}
	l := parse(t, write(t, org))
	run := l.Runs[0]
	want := 0
	for _, r := range org.Results {
		if r.Status == rule.Fail || r.Status == rule.Unknown {
			want++
		}
	}
	if len(run.Results) != want || want == 0 {
		t.Fatalf("%d results, want %d (FAIL and UNKNOWN)", len(run.Results), want)
	}
	k := 0
	for _, r := range org.Results {
		if r.Status != rule.Fail && r.Status != rule.Unknown {
			continue
		}
		got := run.Results[k]
		k++
		wantLevel := level(r.Severity)
		if r.Status == rule.Unknown {
			wantLevel = "note"
		}
		if got.RuleID != r.RuleID || run.Tool.Driver.Rules[got.RuleIndex].ID != r.RuleID {
			t.Errorf("result %d: rule %q (index %d), want %q", k, got.RuleID, got.RuleIndex, r.RuleID)
		}
		if got.Level != wantLevel {
			t.Errorf("%s %s %s: level %q, want %q", r.AccountID, r.RuleID, r.Status, got.Level, wantLevel)
		}
		loc := got.Locations[0]
		if loc.LogicalLocations[0].FullyQualifiedName != r.Resource || loc.LogicalLocations[0].Kind != "resource" {
			t.Errorf("logical location %+v, want the ARN %s", loc.LogicalLocations, r.Resource)
		}
		if !strings.HasPrefix(loc.PhysicalLocation.ArtifactLocation.URI, "aws/aws/") || !strings.Contains(loc.PhysicalLocation.ArtifactLocation.URI, r.AccountID) {
			t.Errorf("artifact URI %q", loc.PhysicalLocation.ArtifactLocation.URI)
		}
		if got.PartialFingerprints[FingerprintKey] != Fingerprint(&r) {
			t.Errorf("fingerprint %v", got.PartialFingerprints)
		}
	}
	for _, rd := range run.Tool.Driver.Rules {
		if rd.ID == "root-access-key" && rd.Help.Markdown != knowledge["root-access-key"].Help {
			t.Errorf("the help of root-access-key is not its page: %+v", rd.Help)
		}
		if rd.ID == "root-access-key" && (rd.Properties["security-severity"] != "9.5" || rd.DefaultConfiguration.Level != "error") {
			t.Errorf("root-access-key: %+v %+v", rd.Properties, rd.DefaultConfiguration)
		}
		if rd.ID != "root-access-key" && !strings.Contains(rd.Help.Text, "vigil explain "+rd.ID) {
			t.Errorf("%s without a page: help %q", rd.ID, rd.Help.Text)
		}
	}
}

// TestFingerprintsStable: the fingerprint of a finding depends on where
// it is and which rule found it, not on its message, severity or status,
// nor on when it was found; different findings differ.
func TestFingerprintsStable(t *testing.T) {
	a := rule.Result{Meta: &rule.Meta{RuleID: "root-access-key", AccountID: "111122223333", Partition: "aws"}, Resource: "arn:aws:iam::111122223333:root", Message: "one", Severity: rule.High, Status: rule.Fail}
	b := a
	b.Message, b.Severity, b.Status = "another wording", rule.Critical, rule.Unknown
	if Fingerprint(&a) != Fingerprint(&b) {
		t.Errorf("the fingerprint changed with the message, severity or status")
	}
	for _, change := range []func(*rule.Result){
		func(r *rule.Result) { r.RuleID = "root-mfa" },
		func(r *rule.Result) { r.AccountID = "111122223334" },
		func(r *rule.Result) { r.Partition = "aws-us-gov" },
		func(r *rule.Result) { r.Resource = "arn:aws:iam::111122223333:rootx" },
		// The separator: "ab"+"c" and "a"+"bc" are different findings.
		func(r *rule.Result) { r.RuleID, r.Resource = "root-access-keyarn", ":aws:iam::111122223333:root" },
	} {
		c := a
		c.OwnMeta() // the changes are c's alone
		change(&c)
		if Fingerprint(&c) == Fingerprint(&a) {
			t.Errorf("%+v and %+v share a fingerprint", a, c)
		}
	}
	const golden = "root-access-key in 111122223333"
	if got := Fingerprint(&a); len(got) != 64 {
		t.Errorf("%s: fingerprint %q", golden, got)
	}
}

// TestArtifactURI: the synthetic URI follows the ARN, relative, with
// every segment escaped.
func TestArtifactURI(t *testing.T) {
	for _, c := range []struct {
		r    rule.Result
		want string
	}{
		{rule.Result{Meta: &rule.Meta{AccountID: "111122223333"}, Resource: "arn:aws:iam::111122223333:root"}, "aws/aws/iam/111122223333/root"},
		{rule.Result{Resource: "arn:aws-us-gov:organizations::100000000001:organization/o-abc"}, "aws/aws-us-gov/organizations/100000000001/organization/o-abc"},
		{rule.Result{Resource: "arn:aws:s3:eu-west-1:111122223333:thing/a b?"}, "aws/aws/s3/eu-west-1/111122223333/thing/a%20b%3F"},
		{rule.Result{Meta: &rule.Meta{AccountID: "111122223333", Partition: "aws-cn"}, Resource: ""}, "aws/aws-cn/account/111122223333"},
		{rule.Result{Meta: &rule.Meta{AccountID: "111122223333"}, Resource: "root"}, "aws/aws/account/111122223333/root"},
	} {
		if got := ArtifactURI(&c.r); got != c.want {
			t.Errorf("ArtifactURI(%q) = %q, want %q", c.r.Resource, got, c.want)
		}
	}
}

// realKnowledge is Vigil's own knowledge base and catalog, as the
// command line hands them to the writer.
func realKnowledge(t *testing.T) report.Knowledge {
	t.Helper()
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	cat, err := compliance.Default(ids)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := kb.Load(rules.All(), cat)
	if err != nil {
		t.Fatal(err)
	}
	return kb.ReportKnowledge(pages, cat)
}
