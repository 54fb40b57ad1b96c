package junit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
	"github.com/vigil-sec/vigil/internal/rule"
)

// TestConformance: the JUnit writer keeps the writer contract.
func TestConformance(t *testing.T) {
	reporttest.Run(t, New(), read)
}

// read parses the output as XML (strictly: one root, <testsuites>); its
// text is every attribute value and every piece of character data.
func read(out []byte) (string, error) {
	dec := xml.NewDecoder(bytes.NewReader(out))
	var b strings.Builder
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if tok.Name.Local != "testsuites" || roots > 1 {
					return "", errors.New("the root is not one <testsuites>")
				}
			}
			depth++
			for _, a := range tok.Attr {
				b.WriteString(a.Value + "\n")
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			b.Write(tok)
			b.WriteString("\n")
		}
	}
	if roots != 1 {
		return "", errors.New("no <testsuites>")
	}
	return b.String(), nil
}

type suites struct {
	Tests    int     `xml:"tests,attr"`
	Failures int     `xml:"failures,attr"`
	Errors   int     `xml:"errors,attr"`
	Skipped  int     `xml:"skipped,attr"`
	Suites   []suite `xml:"testsuite"`
}

type suite struct {
	Name     string `xml:"name,attr"`
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Props    []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Cases []struct {
		Classname string `xml:"classname,attr"`
		Name      string `xml:"name,attr"`
		Failure   *struct {
			Message string `xml:"message,attr"`
			Type    string `xml:"type,attr"`
			Text    string `xml:",chardata"`
		} `xml:"failure"`
		Error *struct {
			Message string `xml:"message,attr"`
		} `xml:"error"`
		Skipped *struct{} `xml:"skipped"`
	} `xml:"testcase"`
}

// TestMapping: a suite per account, a case per result; FAIL a failure,
// UNKNOWN an error, NOT_APPLICABLE skipped; unreached targets are errors;
// the counts add up.
func TestMapping(t *testing.T) {
	var org *report.Document
	for _, d := range reporttest.Documents() {
		if d.Name == "organisation" {
			org = d.Doc
		}
	}
	var b bytes.Buffer
	if err := New().Write(&b, org); err != nil {
		t.Fatal(err)
	}
	var got suites
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Suites) != len(org.Accounts)+len(org.Unreached) {
		t.Fatalf("%d suites, want %d accounts and %d unreached", len(got.Suites), len(org.Accounts), len(org.Unreached))
	}
	c := org.Summary.Counts
	if got.Tests != org.Summary.Results+len(org.Unreached) || got.Failures != c.Fail || got.Errors != c.Unknown+len(org.Unreached) || got.Skipped != c.NotApplicable {
		t.Errorf("totals %+v, want from %+v", got, c)
	}
	k := 0
	for _, s := range got.Suites[:len(org.Accounts)] {
		var sum suite
		for _, tc := range s.Cases {
			r := org.Results[k]
			k++
			if !strings.Contains(s.Name, r.AccountID) || tc.Classname != "vigil."+r.RuleID || tc.Name != r.RuleID+" "+r.Resource {
				t.Errorf("case %s / %s %s for %s %s", s.Name, tc.Classname, tc.Name, r.AccountID, r.RuleID)
			}
			sum.Tests++
			switch r.Status {
			case rule.Fail:
				sum.Failures++
				if tc.Failure == nil || tc.Failure.Message != r.Message || tc.Failure.Type != r.Severity.String() {
					t.Errorf("%s %s: FAIL without its failure: %+v", r.AccountID, r.RuleID, tc)
				}
			case rule.Unknown:
				sum.Errors++
				if tc.Error == nil || tc.Failure != nil {
					t.Errorf("%s %s: UNKNOWN is not an error", r.AccountID, r.RuleID)
				}
			case rule.NotApplicable:
				sum.Skipped++
				if tc.Skipped == nil {
					t.Errorf("%s %s: NOT_APPLICABLE not skipped", r.AccountID, r.RuleID)
				}
			default:
				if tc.Failure != nil || tc.Error != nil || tc.Skipped != nil {
					t.Errorf("%s %s: PASS with a child", r.AccountID, r.RuleID)
				}
			}
		}
		if s.Tests != sum.Tests || s.Failures != sum.Failures || s.Errors != sum.Errors || s.Skipped != sum.Skipped {
			t.Errorf("suite %s counts %d/%d/%d/%d, its cases %+v", s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, sum)
		}
	}
	if k != len(org.Results) {
		t.Errorf("%d cases, %d results", k, len(org.Results))
	}
	for _, s := range got.Suites[len(org.Accounts):] {
		if !strings.HasPrefix(s.Name, "unreached: ") || s.Errors != 1 || len(s.Cases) != 1 || s.Cases[0].Error == nil {
			t.Errorf("unreached suite %+v", s)
		}
	}
}
