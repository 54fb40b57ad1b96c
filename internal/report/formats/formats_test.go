package formats

import (
	"bytes"
	"strings"
	"testing"

	"github.com/muesli/termenv"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
	"github.com/vigil-sec/vigil/internal/report/text"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestNamesHaveWriters: every name --format offers has a writer, and
// parses back to itself; a name not offered has none. The list and the
// switch cannot drift apart.
func TestNamesHaveWriters(t *testing.T) {
	for _, name := range Names() {
		f, err := Parse(name)
		if err != nil || string(f) != name {
			t.Errorf("Parse(%q) = %q, %v", name, f, err)
		}
		if w, err := New(f, Options{}); err != nil || w == nil {
			t.Errorf("New(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "TEXT", "xml", "sarif ", "SARIF"} {
		if _, err := Parse(name); err == nil {
			t.Errorf("Parse(%q) accepted", name)
		}
		if _, err := New(Format(name), Options{}); err == nil {
			t.Errorf("New(%q) accepted", name)
		}
	}
	if got, want := List(), "text, json, sarif, ocsf, asff, csv, junit, html or markdown"; got != want {
		t.Errorf("List() = %q, want %q", got, want)
	}
	if _, err := Parse("xml"); err == nil || err.Error() != `"xml": want `+List() {
		t.Errorf("Parse(xml): %v", err)
	}
}

// TestWriteDispatches: Write renders with the writer of the format asked
// for, with that format's options.
func TestWriteDispatches(t *testing.T) {
	d := report.Build(snapshot.New(testclock.Ref(), "test", snapshot.Source{Kind: snapshot.SourceAWS}), nil, report.Tool{Name: "vigil", Version: "test"}, testclock.Ref())
	for _, c := range []struct {
		f    Format
		o    Options
		want report.Writer
	}{
		{JSON, Options{}, report.JSONWriter{}},
		{Text, Options{}, text.New(text.Options{})},
		{Text, Options{Text: text.Options{Profile: termenv.ANSI256}}, text.New(text.Options{Profile: termenv.ANSI256})},
	} {
		var got, want bytes.Buffer
		if err := Write(&got, c.f, d, c.o); err != nil {
			t.Fatal(err)
		}
		if err := c.want.Write(&want, d); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: Write wrote\n%s\nnot\n%s", c.f, got.String(), want.String())
		}
	}
	var colour bytes.Buffer
	if err := Write(&colour, Text, d, Options{Text: text.Options{Profile: termenv.ANSI256}}); err != nil || !strings.Contains(colour.String(), "\x1b[") {
		t.Errorf("the text options did not reach the text writer: %v", err)
	}
}

// TestConvertEqualsDirect: every format written from a document read back
// from its canonical JSON (vigil report convert) is byte for byte what it
// is written from the document itself (vigil scan --format).
func TestConvertEqualsDirect(t *testing.T) {
	k := report.Knowledge{"root-access-key": {Help: "## Risk\n", Summary: "s", Remediation: "r", RemediationMember: "m",
		Controls: []report.Control{{Framework: "cis-aws", FrameworkName: "CIS", Version: "5.0.0", ID: "2.3", Title: "t", Coverage: "full"}}}}
	for _, d := range reporttest.Documents() {
		var saved bytes.Buffer
		if err := report.WriteJSON(&saved, d.Doc); err != nil {
			t.Fatal(err)
		}
		back, err := report.ReadJSON(bytes.NewReader(saved.Bytes()), "results.json", 0)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		for _, name := range Names() {
			for _, stream := range []bool{false, true} {
				f, _ := Parse(name)
				o := Options{Knowledge: k, Stream: stream}
				var direct, converted bytes.Buffer
				if err := Write(&direct, f, d.Doc, o); err != nil {
					t.Fatal(err)
				}
				if err := Write(&converted, f, back, o); err != nil {
					t.Fatal(err)
				}
				if direct.String() != converted.String() {
					t.Errorf("%s, %s (stream %v): converted from JSON differs from direct", d.Name, name, stream)
				}
			}
		}
	}
}
