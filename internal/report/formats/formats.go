// Package formats is the one switch over Vigil's report writers: the
// names --format accepts, and the writer for each. It sits above the
// model and the writer packages (report imports none of them, so there is
// no cycle), and only the command line imports it.
//
// Adding a format is one package under report (its Writer, whose tests
// run reporttest.Run), one name in the list below, one case in New, and
// its options, if any, in Options.
package formats

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/asff"
	"github.com/vigil-sec/vigil/internal/report/csv"
	"github.com/vigil-sec/vigil/internal/report/html"
	"github.com/vigil-sec/vigil/internal/report/junit"
	"github.com/vigil-sec/vigil/internal/report/markdown"
	"github.com/vigil-sec/vigil/internal/report/ocsf"
	"github.com/vigil-sec/vigil/internal/report/sarif"
	"github.com/vigil-sec/vigil/internal/report/text"
)

// Format names an output format, as --format spells it.
type Format string

// The formats, in the order help and errors list them: the default first.
const (
	Text Format = "text"
	JSON Format = "json"
	// ASFF is AWS Security Hub's finding format.
	ASFF Format = "asff"
	// HTML is the self-contained report for people and paper.
	HTML Format = "html"
	// SARIF is for code-scanning dashboards (GitHub code scanning).
	SARIF Format = "sarif"
	// OCSF is the Open Cybersecurity Schema Framework's Compliance
	// Finding, for SIEMs and security data lakes.
	OCSF Format = "ocsf"
	// CSV is one row per result, for spreadsheets.
	CSV Format = "csv"
	// JUnit is JUnit XML, for CI test reports.
	JUnit Format = "junit"
	// Markdown is a summary for pull requests and CI step summaries.
	Markdown Format = "markdown"
)

// all is every format New knows; a test holds the two in step.
var all = []Format{Text, JSON, SARIF, OCSF, ASFF, CSV, JUnit, HTML, Markdown}

// Names lists the formats' names, for --format's help and completion.
func Names() []string {
	out := make([]string, len(all))
	for i, f := range all {
		out[i] = string(f)
	}
	return out
}

// List is the names for a sentence: "text or json".
func List() string {
	n := Names()
	if len(n) == 1 {
		return n[0]
	}
	return strings.Join(n[:len(n)-1], ", ") + " or " + n[len(n)-1]
}

// Parse reads a --format value. The error says what is accepted; the
// caller names the flag.
func Parse(name string) (Format, error) {
	for _, f := range all {
		if string(f) == name {
			return f, nil
		}
	}
	return "", fmt.Errorf("%q: want %s", name, List())
}

// Options are every writer's options; each format reads its own, and
// ignores the others.
type Options struct {
	// Text is the text report's: colour, width, detail.
	Text text.Options
	// ASFF is the Security Hub findings': Region, importing account, guides.
	ASFF asff.Options
	// HTML is the HTML report's: guides.
	HTML html.Options
	// Knowledge is the rules' help and framework controls, for the
	// formats that carry them (SARIF, OCSF); nil writes none.
	Knowledge report.Knowledge
	// Stream asks the formats that have two shapes for the one a stream
	// reader wants (OCSF: JSON Lines rather than one array); the command
	// line sets it when it writes to stdout.
	Stream bool
}

// UsesKnowledge reports whether f's writer carries the rules' help or
// framework controls (Options.Knowledge), so the command line loads the
// knowledge base only for the formats that need it.
func (f Format) UsesKnowledge() bool { return f == SARIF || f == OCSF }

// FileName is the file --output-dir writes f to: "vigil." and the
// format's usual extension.
func (f Format) FileName() string {
	if ext, ok := extensions[f]; ok {
		return "vigil." + ext
	}
	return "vigil." + string(f)
}

var extensions = map[Format]string{Text: "txt", JSON: "json", SARIF: "sarif", OCSF: "ocsf.json", ASFF: "asff.json", CSV: "csv", JUnit: "junit.xml", HTML: "html", Markdown: "md"}

// ParseList reads a comma-separated --format value ("json,sarif,html"):
// at least one format, none twice.
func ParseList(value string) ([]Format, error) {
	var out []Format
	for _, name := range strings.Split(value, ",") {
		f, err := Parse(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, f) {
			return nil, fmt.Errorf("%q is given twice", name)
		}
		out = append(out, f)
	}
	return out, nil
}

// New returns the writer of format f.
func New(f Format, o Options) (report.Writer, error) {
	switch f {
	case Text:
		return text.New(o.Text), nil
	case JSON:
		return report.JSONWriter{}, nil
	case ASFF:
		return asff.New(o.ASFF), nil
	case HTML:
		return html.New(o.HTML), nil
	case SARIF:
		return sarif.New(o.Knowledge), nil
	case OCSF:
		return ocsf.New(ocsf.Options{Knowledge: o.Knowledge, Lines: o.Stream}), nil
	case CSV:
		return csv.New(), nil
	case JUnit:
		return junit.New(), nil
	case Markdown:
		return markdown.New(), nil
	}
	return nil, fmt.Errorf("report format %q: want %s", string(f), List())
}

// Write writes d to w in format f.
func Write(w io.Writer, f Format, d *report.Document, o Options) error {
	wr, err := New(f, o)
	if err != nil {
		return err
	}
	return wr.Write(w, d)
}
