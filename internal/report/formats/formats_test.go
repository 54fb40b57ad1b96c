package formats

import (
	"bytes"
	"strings"
	"testing"

	"github.com/muesli/termenv"

	"github.com/vigil-sec/vigil/internal/report"
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
	if got, want := List(), "text, json, sarif, ocsf, csv, junit or markdown"; got != want {
		t.Errorf("List() = %q, want %q", got, want)
	}
	if _, err := Parse("xml"); err == nil || err.Error() != `"xml": want text, json, sarif, ocsf, csv, junit or markdown` {
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
