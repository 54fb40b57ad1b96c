// Package markdown writes a report as GitHub-flavoured Markdown: the
// summary a pull-request comment or a CI step summary
// ($GITHUB_STEP_SUMMARY) shows. It leads with the verdict and the
// counts, then every failing finding (most severe first), then the
// undecided ones and the targets that could not be reached; the evidence
// and the full list of results are folded in <details> blocks, so the
// comment stays short until someone opens them.
//
// Everything from outside (account names, messages, evidence) is escaped
// for Markdown and HTML: it shows as the text it is, never as a link, an
// image, a tag, a table cell break or a mention (an "@" is written as a
// character reference, so a crafted account name cannot notify anyone).
//
// GitHub caps a comment at 65,536 characters and a step summary at
// 1 MiB; a report of a large organisation goes over them, and is then
// better uploaded as an artefact (the README says so).
package markdown

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
)

// Writer writes Markdown.
type Writer struct{}

// New returns a Markdown writer.
func New() Writer { return Writer{} }

type mw struct {
	w   *bufio.Writer
	err error
}

func (m *mw) p(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

// Write writes d as one Markdown document.
func (Writer) Write(w io.Writer, d *report.Document) error {
	m := &mw{w: bufio.NewWriterSize(w, 64<<10)}
	names := d.AccountNames()
	c := d.Summary.Counts
	verdict := "no failing finding"
	switch {
	case c.Fail > 0:
		verdict = plural(c.Fail, "failing finding", "failing findings")
	case c.Unknown > 0:
		verdict = "nothing failing, but " + plural(c.Unknown, "result", "results") + " undecided"
	}
	if c.Fail > 0 && c.Unknown > 0 {
		verdict += ", " + plural(c.Unknown, "undecided", "undecided")
	}
	m.p("## Vigil: %s\n\n", verdict)
	scope := plural(d.Summary.Accounts, "account", "accounts")
	if d.Organization != nil {
		scope += " of organisation " + esc(d.Organization.ID)
	}
	m.p("%s · evaluated %s · collected %s · Vigil %s\n\n", scope, d.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"),
		d.CollectedAt.UTC().Format("2006-01-02 15:04 UTC"), esc(cmp.Or(d.Tool.Version, "(unknown version)")))
	if d.Incomplete != nil {
		m.p("> [!WARNING]\n> **Incomplete:** %s\n\n", esc(d.Incomplete.Reason))
	}
	m.p("| Status | Results |\n|---|---:|\n| ❌ FAIL | %d |\n| ❔ UNKNOWN | %d |\n| ✅ PASS | %d |\n| ➖ NOT_APPLICABLE | %d |\n\n",
		c.Fail, c.Unknown, c.Pass, c.NotApplicable)
	if c.Fail > 0 {
		var parts []string
		for _, s := range rule.Severities {
			if n := d.Summary.FailedBySeverity[s.String()]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", s, n))
			}
		}
		m.p("Failing by severity: %s\n\n", strings.Join(parts, " · "))
	}
	if st := d.Summary.AccountStatus; st != nil {
		m.p("Accounts: %d failing (%d with a critical failure), %d undecided, %d clean, %d skipped, %d unreached\n\n",
			st.Failing, st.Critical, st.Unknown, st.Clean, st.Skipped, st.Unreached)
	}

	failing := indexes(d, rule.Fail)
	// Most severe first; Build's order (account, rule, resource) within.
	slices.SortStableFunc(failing, func(a, b int) int { return int(d.Results[b].Severity) - int(d.Results[a].Severity) })
	unknown := indexes(d, rule.Unknown)
	table := func(title string, idx []int) {
		if len(idx) == 0 {
			return
		}
		m.p("### %s (%d)\n\n| Severity | Account | Rule | Resource | Finding |\n|---|---|---|---|---|\n", title, len(idx))
		for _, i := range idx {
			r := &d.Results[i]
			m.p("| %s | %s | %s | %s | %s |\n", r.Severity, account(r, names), esc(r.RuleID), esc(r.Resource), esc(r.Message))
		}
		m.p("\n")
	}
	table("Failing", failing)
	table("Undecided (UNKNOWN)", unknown)
	if len(d.Unreached) > 0 {
		m.p("### Unreached (%d)\n\n", len(d.Unreached))
		for _, u := range d.Unreached {
			m.p("- %s: %s %s: %s\n", esc(u.Target), esc(u.Gap.Call), esc(u.Gap.Code), esc(u.Gap.Message))
		}
		m.p("\n")
	}
	if n := len(failing) + len(unknown); n > 0 {
		m.p("<details>\n<summary>Evidence of the %s</summary>\n\n", plural(n, "failing or undecided finding", "failing and undecided findings"))
		for _, i := range slices.Concat(failing, unknown) {
			r := &d.Results[i]
			m.p("#### %s %s · %s\n\n%s\n\n", r.Status, esc(r.RuleID), account(r, names), esc(r.Message))
			for _, e := range r.Evidence {
				m.p("- %s\n", evidence(e))
			}
			if len(r.Evidence) > 0 {
				m.p("\n")
			}
			m.p("How to fix it: `vigil explain %s`\n\n", r.RuleID)
		}
		m.p("</details>\n\n")
	}
	if len(d.Results) > 0 {
		m.p("<details>\n<summary>Every result (%d)</summary>\n\n| Status | Severity | Account | Rule | Resource | Message |\n|---|---|---|---|---|---|\n", len(d.Results))
		for i := range d.Results {
			r := &d.Results[i]
			m.p("| %s | %s | %s | %s | %s | %s |\n", r.Status, r.Severity, account(r, names), esc(r.RuleID), esc(r.Resource), esc(r.Message))
		}
		m.p("\n</details>\n")
	} else {
		m.p("No result: no account was evaluated.\n")
	}
	if m.err != nil {
		return m.err
	}
	return m.w.Flush()
}

func indexes(d *report.Document, s rule.Status) []int {
	var out []int
	for i := range d.Results {
		if d.Results[i].Status == s {
			out = append(out, i)
		}
	}
	return out
}

func account(r *rule.Result, names map[string]string) string {
	s := esc(r.AccountID)
	if n := cmp.Or(names[r.AccountID], r.AccountName); n != "" {
		s += " " + esc(n)
	}
	return s
}

func evidence(e rule.Evidence) string {
	s := esc(e.Source) + ":"
	if e.Key != "" {
		s += " " + esc(e.Key) + " ="
	}
	if e.Value != "" {
		s += " " + esc(e.Value)
	}
	if e.AsOf != nil {
		s += " (as of " + e.AsOf.UTC().Format(time.RFC3339) + ")"
	}
	if e.Error != "" {
		s += " error: " + esc(e.Error)
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// escaper turns outside text into inline Markdown that shows it as it
// is: HTML's special characters as references, Markdown's punctuation
// backslash-escaped, "|" escaped for tables, "@" as a reference (no
// mention), line breaks as <br> (a table cell is one line).
var escaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "@", "&#64;",
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "~", `\~`, "#", `\#`, "!", `\!`, "|", `\|`,
	"\r\n", "<br>", "\n", "<br>", "\r", "<br>",
)

func esc(s string) string {
	if strings.IndexAny(s, "&<>\"@\\`*_[]~#!|\r\n") < 0 {
		return s // most IDs and ARNs: nothing to escape
	}
	return escaper.Replace(s)
}
