package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
)

// TestReadJSONRoundTrip: every document of the suite, written and read
// back, writes the same bytes again.
func TestReadJSONRoundTrip(t *testing.T) {
	for _, d := range append(reporttest.Documents(), reporttest.Document{Name: "large", Doc: reporttest.Large(800)}) {
		var first, second bytes.Buffer
		if err := report.WriteJSON(&first, d.Doc); err != nil {
			t.Fatal(err)
		}
		back, err := report.ReadJSON(bytes.NewReader(first.Bytes()), "results.json", 0)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		if err := report.WriteJSON(&second, back); err != nil {
			t.Fatal(err)
		}
		if first.String() != second.String() {
			t.Errorf("%s: read back, the document writes different JSON", d.Name)
		}
	}
}

func valid(t *testing.T) string {
	var b bytes.Buffer
	if err := report.WriteJSON(&b, reporttest.Documents()[0].Doc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestReadJSONErrors: a file that is not a report Vigil wrote is refused
// with an error that names the file and says what is wrong, where.
func TestReadJSONErrors(t *testing.T) {
	good := valid(t)
	for _, c := range []struct {
		name, in, want string
	}{
		{"empty", "", "results.json: line 1, column 1: unexpected end of JSON input"},
		{"not JSON", "hello", "results.json: line 1, column 1: invalid character 'h'"},
		{"a snapshot", `{"schema": "vigil.snapshot", "version": 1}`, "this is a snapshot"},
		{"another schema", `{"schema": "sarif", "version": 1}`, `not a Vigil JSON report (schema "sarif"`},
		{"a newer version", `{"schema": "vigil.report", "version": 2}`, "version 2 is not supported"},
		{"an unknown field", strings.Replace(good, `"tool": {`, `"colour": "red", "tool": {`, 1), `unknown field "colour"`},
		{"a wrong type", strings.Replace(good, `"version": 1,`, `"version": "1",`, 1), "must be a whole number"},
		{"an unknown status", strings.Replace(good, `"status": "FAIL"`, `"status": "BROKEN"`, 1), `status "BROKEN" is not one of`},
		{"an unknown severity", strings.Replace(good, `"severity": "critical"`, `"severity": "dire"`, 1), `unknown severity "dire"`},
		{"a bad rule ID", strings.Replace(good, `"rule_id": "root-access-key"`, `"rule_id": "../../etc"`, 1), `rule_id "../../etc" is not a rule ID`},
		{"edited counts", strings.Replace(good, `"status": "FAIL"`, `"status": "PASS"`, 1), "does not match the results"},
		{"trailing data", good + "{}", "line 138, column 1: invalid character '{' after top-level value"},
		{"no results", strings.Replace(good, `"results"`, `"results_"`, 1), `unknown field "results_"`},
	} {
		_, err := report.ReadJSON(strings.NewReader(c.in), "results.json", 0)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "results.json") {
			t.Errorf("%s: error %v, want one naming results.json with %q", c.name, err, c.want)
		}
	}
	if _, err := report.ReadJSON(strings.NewReader(good), "results.json", 100); err == nil || !strings.Contains(err.Error(), "results.json") {
		t.Errorf("a report over the size limit: %v", err)
	}
}

// TestReadJSONCleans: a hand-made file's control characters and
// credentials are cleaned as Build cleans them, and its results sorted.
func TestReadJSONCleans(t *testing.T) {
	in := strings.Replace(valid(t), `"account_name": "payments"`, `"account_name": "pay\u001b[2Jments aws_secret_access_key = vigil-canary-plain-words-secret"`, 1)
	d, err := report.ReadJSON(strings.NewReader(in), "results.json", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Results {
		if strings.Contains(r.AccountName, "\x1b") {
			t.Errorf("an escape sequence survived: %q", r.AccountName)
		}
	}
	var b bytes.Buffer
	if err := report.WriteJSON(&b, d); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\\u001b") {
		t.Errorf("an escape sequence survived")
	}
}

// FuzzReadJSON: no input makes the reader panic, and whatever it accepts
// writes back to JSON it accepts again, unchanged. (Its inputs are
// kilobytes: .ci/run limits the minimisation of new inputs, which would
// otherwise take the whole smoke run.)
func FuzzReadJSON(f *testing.F) {
	for _, d := range reporttest.Documents() {
		if d.Name != "one account" && d.Name != "empty" && d.Name != "control characters" {
			continue // a few small documents: mutations of the rest add little
		}
		var b bytes.Buffer
		if err := report.WriteJSON(&b, d.Doc); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte(`{"schema": "vigil.report", "version": 1, "accounts": [], "results": [], "summary": {}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := report.ReadJSON(bytes.NewReader(data), "fuzz.json", 1<<20)
		if err != nil {
			return
		}
		var first bytes.Buffer
		if err := report.WriteJSON(&first, d); err != nil {
			t.Fatal(err)
		}
		again, err := report.ReadJSON(bytes.NewReader(first.Bytes()), "fuzz.json", 0)
		if err != nil {
			t.Fatalf("what ReadJSON accepted, written, is refused: %v", err)
		}
		var second bytes.Buffer
		if err := report.WriteJSON(&second, again); err != nil {
			t.Fatal(err)
		}
		if first.String() != second.String() {
			t.Fatalf("written and read again, the document changed")
		}

	})
}
