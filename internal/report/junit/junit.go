// Package junit writes a report as JUnit XML, the test report every CI
// system shows (Jenkins, GitLab, GitHub Actions test reporters): a
// failing root-credential check then reads as a failing test.
//
// The mapping: a <testsuite> per account (named "ID (name)", with the
// account's ID, name, partition and organisation as properties), and a
// <testcase> per result, named by the rule and the resource (classname
// "vigil.<rule>"). A FAIL is a <failure> (type: the severity), an UNKNOWN
// an <error> (the check could not run to a verdict: neither a pass nor a
// failure), a NOT_APPLICABLE is <skipped>, a PASS has no child. The
// message is the result's; the element's text is its evidence. A target
// that could not be reached at all is a suite of its own with one error,
// so that a run which covered less than asked never reads as green.
// Times are not measured per check: every time is 0.
//
// The schema followed is the de-facto one of the Ant JUnit task and
// Jenkins (testsuites, testsuite, properties, testcase, failure, error,
// skipped, system-out).
package junit

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Writer writes JUnit XML.
type Writer struct{}

// New returns a JUnit writer.
func New() Writer { return Writer{} }

type counts struct{ tests, failures, errors, skipped int }

func (c *counts) add(s rule.Status) {
	c.tests++
	switch s {
	case rule.Fail:
		c.failures++
	case rule.Unknown:
		c.errors++
	case rule.NotApplicable:
		c.skipped++
	}
}

func (c counts) attrs() string {
	return ` tests="` + strconv.Itoa(c.tests) + `" failures="` + strconv.Itoa(c.failures) + `" errors="` + strconv.Itoa(c.errors) +
		`" skipped="` + strconv.Itoa(c.skipped) + `" time="0"`
}

// Write writes d as one <testsuites> document.
func (Writer) Write(w io.Writer, d *report.Document) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	x := &xw{w: bw}
	var total counts
	for _, r := range d.Results {
		total.add(r.Status)
	}
	for range d.Unreached {
		total.tests++
		total.errors++
	}
	accounts := make(map[string]*report.Account, len(d.Accounts))
	for i := range d.Accounts {
		accounts[d.Accounts[i].AccountID] = &d.Accounts[i]
	}
	stamp := d.GeneratedAt.UTC().Format(time.RFC3339)
	x.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.raw(`<testsuites name="Vigil"` + total.attrs() + ">\n")
	// Build sorts results by account: each account's results are one run.
	for start := 0; start < len(d.Results); {
		id := d.Results[start].AccountID
		end := start
		var c counts
		for end < len(d.Results) && d.Results[end].AccountID == id {
			c.add(d.Results[end].Status)
			end++
		}
		a := accounts[id]
		name := d.Results[start].AccountName
		if a != nil {
			name = a.Name
		}
		suite := id
		if name != "" {
			suite += " (" + name + ")"
		}
		x.raw(`  <testsuite name="` + attr(suite) + `"` + c.attrs() + ` timestamp="` + stamp + `">` + "\n")
		x.raw("    <properties>\n")
		x.property("account_id", id)
		x.property("account_name", name)
		if a != nil {
			x.property("partition", a.Partition)
			x.property("organization_role", string(a.Role))
			x.property("account_status", a.Status)
		}
		if d.Organization != nil && (a == nil || a.Role != snapshot.RoleStandalone) {
			x.property("organization_id", d.Organization.ID)
		}
		x.raw("    </properties>\n")
		for i := start; i < end; i++ {
			x.testcase(&d.Results[i])
		}
		x.raw("  </testsuite>\n")
		start = end
	}
	for _, u := range d.Unreached {
		x.raw(`  <testsuite name="` + attr("unreached: "+u.Target) + `" tests="1" failures="0" errors="1" skipped="0" time="0" timestamp="` + stamp + `">` + "\n")
		x.raw(`    <testcase classname="vigil.reach" name="` + attr("reach "+u.Target) + `" time="0">` + "\n")
		x.raw(`      <error message="` + attr(u.Gap.Message) + `" type="` + attr(cmp.Or(u.Gap.Code, "unreached")) + `">` + text(u.Gap.Call+": "+u.Gap.Message) + "</error>\n")
		x.raw("    </testcase>\n  </testsuite>\n")
	}
	x.raw("</testsuites>\n")
	if x.err != nil {
		return x.err
	}
	return bw.Flush()
}

// xw writes, remembering the first error (bufio keeps it too, and writes
// nothing after it).
type xw struct {
	w   *bufio.Writer
	err error
}

func (x *xw) raw(s string) {
	if x.err == nil {
		_, x.err = x.w.WriteString(s)
	}
}

func (x *xw) property(name, value string) {
	if value != "" {
		x.raw(`      <property name="` + name + `" value="` + attr(value) + `"/>` + "\n")
	}
}

func (x *xw) testcase(r *rule.Result) {
	x.raw(`    <testcase classname="vigil.` + attr(r.RuleID) + `" name="` + attr(r.RuleID+" "+cmp.Or(r.Resource, r.AccountID)) + `" time="0"`)
	var tag string
	switch r.Status {
	case rule.Fail:
		tag = "failure"
	case rule.Unknown:
		tag = "error"
	case rule.NotApplicable:
		x.raw(">\n      <skipped message=\"" + attr(r.Message) + "\"/>\n    </testcase>\n")
		return
	default:
		x.raw("/>\n")
		return
	}
	x.raw(">\n      <" + tag + ` message="` + attr(r.Message) + `" type="` + r.Severity.String() + `">`)
	x.raw(text(r.Title + "\n" + r.Message + evidence(r.Evidence)))
	x.raw("</" + tag + ">\n    </testcase>\n")
}

func evidence(ev []rule.Evidence) string {
	var b strings.Builder
	for _, e := range ev {
		b.WriteString("\nevidence: " + e.Source)
		if e.Key != "" {
			b.WriteString(" " + e.Key + " =")
		}
		if e.Value != "" {
			b.WriteString(" " + e.Value)
		}
		if e.AsOf != nil {
			b.WriteString(" (as of " + e.AsOf.UTC().Format(time.RFC3339) + ")")
		}
		if e.Error != "" {
			b.WriteString(" error: " + e.Error)
		}
	}
	return b.String()
}

// text escapes character data.
func text(s string) string {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 0x20 && c < 0x7f && c != '<' && c != '>' && c != '&' && c != '\'' && c != '"'
	}
	if plain {
		return s // printable ASCII with nothing to escape: most IDs and ARNs
	}
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// attr escapes an attribute value: as text, with quotes, and line breaks
// and tabs as character references so they survive attribute
// normalisation (xml.EscapeText does all of it).
func attr(s string) string { return text(s) }
