package ocsf

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
)

var knowledge = report.Knowledge{"root-access-key": {Help: "## Risk\n", Summary: "A root key is the account.",
	Remediation: "Delete the key, signed in as root.", RemediationMember: "Delete the key centrally with sts:AssumeRoot.",
	Controls: []report.Control{
		{Framework: "cis-aws", FrameworkName: "CIS AWS Foundations Benchmark", Version: "5.0.0", ID: "2.3", Title: "No root access key", Coverage: "full"},
		{Framework: "cis-aws", FrameworkName: "CIS AWS Foundations Benchmark", Version: "4.0.1", ID: "1.4", Title: "No root access key", Coverage: "full"},
		{Framework: "nist", FrameworkName: "NIST SP 800-53", Version: "5", ID: "AC-6(2)", Title: "Non-privileged access", Coverage: "partial"},
	}}}

// TestConformance: both shapes keep the writer contract.
func TestConformance(t *testing.T) {
	t.Run("array", func(t *testing.T) { reporttest.Run(t, New(Options{Knowledge: knowledge}), reporttest.JSONText) })
	t.Run("lines", func(t *testing.T) {
		reporttest.RunStream(t, New(Options{Knowledge: knowledge, Lines: true}), linesText)
	})
}

// linesText reads JSON Lines: every line one JSON value, its text as
// reporttest.JSONText reads it.
func linesText(out []byte) (string, error) {
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		s, err := reporttest.JSONText(sc.Bytes())
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), sc.Err()
}

func events(t *testing.T, d *report.Document, o Options) []map[string]any {
	t.Helper()
	var b bytes.Buffer
	if err := New(o).Write(&b, d); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if o.Lines {
		dec := json.NewDecoder(&b)
		dec.UseNumber()
		for dec.More() {
			var e map[string]any
			if err := dec.Decode(&e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out
	}
	dec := json.NewDecoder(&b)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestValidAgainstSchema: every event of every document of the suite
// (and of a 2,000-result organisation) is a valid Compliance Finding of
// OCSF 1.6.0: each attribute exists in the class or its object with the
// right type, required ones are present, enum values are the schema's,
// captions match their IDs. The validator is shown to catch each kind of
// mistake.
func TestValidAgainstSchema(t *testing.T) {
	root := filepath.Join(reporttest.SchemaDir(t), "ocsf-1.6.0")
	s := loadSchema(t, root)
	class := s.class(t, "compliance_finding")
	if got := class.uid + 1000*2; got != ClassUID || class.category != "findings" {
		t.Fatalf("compliance_finding is %d in %q, not %d in findings", got, class.category, ClassUID)
	}
	var version struct{ Version string }
	readJSON(t, filepath.Join(root, "version.json"), &version)
	if version.Version != SchemaVersion {
		t.Fatalf("the schema is %s, the events say %s", version.Version, SchemaVersion)
	}
	docs := append(reporttest.Documents(), reporttest.Document{Name: "organisation of 2,000 results", Doc: reporttest.Large(2000)})
	n := 0
	real := realKnowledge(t)
	for _, d := range docs {
		for _, o := range []Options{{Knowledge: knowledge}, {Knowledge: knowledge, Lines: true}, {Knowledge: real}, {}} {
			for i, e := range events(t, d.Doc, o) {
				n++
				for _, err := range s.validateEvent(t, class, ClassUID, e) {
					t.Errorf("%s, event %d: %s", d.Name, i, err)
				}
				if e["type_uid"].(json.Number).String() != "200301" {
					t.Errorf("%s, event %d: type_uid %v", d.Name, i, e["type_uid"])
				}
			}
		}
	}
	if n < 2000 {
		t.Fatalf("only %d events validated", n)
	}

	// The validator catches what it claims to.
	good := events(t, docs[0].Doc, Options{Knowledge: knowledge})[0]
	for name, breakIt := range map[string]func(e map[string]any){
		"an unknown attribute": func(e map[string]any) { e["vigil_status"] = "FAIL" },
		"a wrong type":         func(e map[string]any) { e["time"] = "2026-11-26" },
		"an enum value":        func(e map[string]any) { e["severity_id"] = json.Number("7") },
		"a nested enum value":  func(e map[string]any) { e["compliance"].(map[string]any)["status_id"] = json.Number("4") },
		"a required attribute": func(e map[string]any) { delete(e["finding_info"].(map[string]any), "uid") },
		"a wrong caption":      func(e map[string]any) { e["severity"] = "Severe" },
		"a constraint": func(e map[string]any) {
			e["cloud"].(map[string]any)["account"] = map[string]any{"type_id": json.Number("10")}
		},
		"a deprecated attribute": func(e map[string]any) { e["resource"] = map[string]any{"uid": "x"} },
		"an array as a scalar":   func(e map[string]any) { e["compliance"].(map[string]any)["standards"] = "CIS" },
		"a wrong class":          func(e map[string]any) { e["class_uid"] = json.Number("2004") },
		"a wrong class name":     func(e map[string]any) { e["class_name"] = "Detection Finding" },
		"a profile not applied":  func(e map[string]any) { e["metadata"].(map[string]any)["profiles"] = []any{} },
		"a nested unknown":       func(e map[string]any) { e["metadata"].(map[string]any)["product"].(map[string]any)["colour"] = "blue" },
	} {
		var e map[string]any
		b, _ := json.Marshal(good)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		breakIt(e)
		if errs := s.validateEvent(t, class, ClassUID, e); len(errs) == 0 {
			t.Errorf("the validator let %s through", name)
		}
	}
}

// TestMapping: statuses, severities, the stable uid, compliance from the
// knowledge, the remediation for the account's role, the cloud context.
func TestMapping(t *testing.T) {
	var one, org *report.Document
	for _, d := range reporttest.Documents() {
		switch d.Name {
		case "one account":
			one = d.Doc
		case "organisation":
			org = d.Doc
		}
	}
	evs := events(t, one, Options{Knowledge: knowledge})
	if len(evs) != len(one.Results) {
		t.Fatalf("%d events for %d results", len(evs), len(one.Results))
	}
	want := map[rule.Status][3]string{
		rule.Fail:          {"1", "3", ""},
		rule.Unknown:       {"1", "2", ""},
		rule.Pass:          {"4", "1", "1"},
		rule.NotApplicable: {"99", "99", "1"},
	}
	for i, r := range one.Results {
		e := evs[i]
		w := want[r.Status]
		comp := e["compliance"].(map[string]any)
		if e["status_id"].(json.Number).String() != w[0] || comp["status_id"].(json.Number).String() != w[1] {
			t.Errorf("%s %s: status_id %v, compliance.status_id %v, want %v", r.RuleID, r.Status, e["status_id"], comp["status_id"], w)
		}
		sev := e["severity_id"].(json.Number).String()
		if w[2] != "" && sev != w[2] || w[2] == "" && sev != map[rule.Severity]string{rule.Critical: "5", rule.High: "4"}[r.Severity] {
			t.Errorf("%s %s %s: severity_id %s", r.RuleID, r.Status, r.Severity, sev)
		}
		fi := e["finding_info"].(map[string]any)
		if fi["uid"] != "vigil:"+r.RuleID+":"+r.Resource {
			t.Errorf("uid %v", fi["uid"])
		}
		if comp["control"] != r.RuleID {
			t.Errorf("control %v", comp["control"])
		}
		if r.RuleID == "root-access-key" {
			if got := comp["standards"].([]any); len(got) != 3 || got[0] != "CIS AWS Foundations Benchmark 5.0.0" {
				t.Errorf("standards %v", got)
			}
			if got := comp["requirements"].([]any); len(got) != 3 || got[2] != "NIST SP 800-53 5 AC-6(2): Non-privileged access" {
				t.Errorf("requirements %v", got)
			}
			rem := e["remediation"].(map[string]any)["desc"].(string)
			if !strings.HasPrefix(rem, "Delete the key, signed in as root.") {
				t.Errorf("a standalone account's remediation: %q", rem)
			}
		}
		if (r.Status == rule.Pass || r.Status == rule.NotApplicable) && e["remediation"] != nil {
			t.Errorf("%s %s has a remediation", r.RuleID, r.Status)
		}
	}
	for i, e := range events(t, org, Options{Knowledge: knowledge}) {
		r := org.Results[i]
		cloud := e["cloud"].(map[string]any)
		if cloud["org"].(map[string]any)["uid"] != "o-vigil" || cloud["account"].(map[string]any)["uid"] != r.AccountID || cloud["provider"] != "AWS" {
			t.Errorf("cloud %v", cloud)
		}
		if r.AccountID == "100000000002" && r.RuleID == "root-access-key" {
			if ou := cloud["org"].(map[string]any)["ou_name"]; ou != "Prod" {
				t.Errorf("ou_name %v", ou)
			}
			if rem := e["remediation"].(map[string]any)["desc"].(string); !strings.HasPrefix(rem, "Delete the key centrally") {
				t.Errorf("a member account's remediation: %q", rem)
			}
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
