// Package html writes the report an auditor opens: one self-contained
// HTML file (--format html) with its style sheet and charts inline (CSS
// and SVG), no script and nothing to fetch, so it opens the same from an
// e-mail, a file share or an air-gapped laptop, and prints on paper.
//
// It shows, in order: the run (source, times, organisation), the summary
// (counts of results and of accounts by status), the charts (failures by
// severity; for a run of several accounts, a heat map of accounts against
// rules, the accounts with the worst results first; the coverage of each
// compliance framework's controls), what could not be read, the
// compliance view when the scan asked for one, and every FAIL and UNKNOWN
// result grouped by rule, each with its evidence and how to fix it (from
// the knowledge base, through guide.Guides). Passing results are listed
// for a run of a few accounts, and counted for larger ones.
//
// Everything from the document is escaped as HTML text; nothing from it
// ever becomes markup, a URL or a style.
package html

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/guide"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Options are the writer's.
type Options struct {
	// Guides add how to fix each rule and the compliance coverage chart.
	Guides guide.Guides
}

// Limits that keep the report of a large organisation readable and small
// (5,000 accounts in a few MB).
const (
	// heatRows is how many accounts the heat map shows, worst first.
	heatRows = 250
	// passList is the most accounts whose passing results are listed one
	// by one; above it they are counted.
	passList = 25
	// heatTitles is the most heat map cells given a tooltip.
	heatTitles = 4000
)

// Writer writes a report.Document as HTML.
type Writer struct{ o Options }

// New returns the HTML writer.
func New(o Options) Writer { return Writer{o: o} }

// out is a buffered writer that keeps its first error; bufio writes
// nothing to the underlying writer after it.
type out struct {
	w *bufio.Writer
}

func (o out) s(ss ...string) {
	for _, s := range ss {
		o.w.WriteString(s)
	}
}

// t writes text escaped for HTML.
func (o out) t(s string) { o.w.WriteString(html.EscapeString(s)) }

func (o out) f(format string, args ...any) { fmt.Fprintf(o.w, format, args...) }

// Write writes d as one HTML document.
func (w Writer) Write(dst io.Writer, d *report.Document) error {
	o := out{bufio.NewWriterSize(dst, 64<<10)}
	v := newView(d, w.o.Guides)
	o.s("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
		// Nothing may be fetched or run, whatever a value in the report says.
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n",
		"<title>Vigil report")
	if d.Organization != nil {
		o.s(" – organisation ")
		o.t(d.Organization.ID)
	} else if len(d.Accounts) == 1 {
		o.s(" – account ")
		o.t(d.Accounts[0].AccountID)
	}
	o.s("</title>\n<style>", css, "</style>\n</head>\n<body>\n<main>\n")
	w.header(o, d)
	nav(o, d)
	w.summary(o, d, v)
	w.charts(o, d, v)
	w.gaps(o, d)
	w.compliance(o, d)
	w.accounts(o, d, v)
	w.findings(o, d, v)
	o.s("<footer>Written by ")
	o.t(d.Tool.Name + " " + d.Tool.Version)
	o.s(". Full steps for any rule: <code>vigil explain RULE</code>. The JSON result (<code>--format json</code>) holds the same results.</footer>\n")
	o.s("</main>\n</body>\n</html>\n")
	return o.w.Flush()
}

// nav links to the report's sections (not printed).
func nav(o out, d *report.Document) {
	o.s("<nav class=\"toc\"><a href=\"#summary\">Summary</a><a href=\"#charts\">Charts</a>")
	hasGaps := len(d.Unreached) > 0
	if org := d.Organization; org != nil {
		hasGaps = hasGaps || len(org.Gaps) > 0 || len(org.Skipped) > 0
	}
	for _, a := range d.Accounts {
		hasGaps = hasGaps || len(a.Gaps) > 0
	}
	if hasGaps {
		o.s("<a href=\"#gaps\">Not read</a>")
	}
	if d.Compliance != nil {
		o.s("<a href=\"#compliance\">Compliance</a>")
	}
	if len(d.Accounts) > 1 {
		o.s("<a href=\"#accounts\">Accounts</a>")
	}
	o.s("<a href=\"#findings\">Findings</a></nav>\n")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func (w Writer) header(o out, d *report.Document) {
	o.s("<header>\n<h1>Vigil report: root-credential posture</h1>\n<dl class=\"meta\">")
	item := func(k, v string) {
		o.s("<dt>", k, "</dt><dd>")
		o.t(v)
		o.s("</dd>")
	}
	src := d.Source.Kind
	if d.Source.Detail != "" {
		src += ": " + d.Source.Detail
	}
	if d.SnapshotFile != "" {
		src = d.SnapshotFile + " (collected from " + src + ")"
	}
	item("Source", src)
	item("Collected", stamp(d.CollectedAt))
	item("Evaluated", stamp(d.GeneratedAt))
	if org := d.Organization; org != nil {
		item("Organisation", org.ID+" (management account "+org.ManagementAccountID+")")
		if org.AccessMode != "" {
			item("Access", org.AccessMode)
		}
		if org.Scope != "" {
			item("Scope", org.Scope)
		}
	}
	o.s("</dl>\n</header>\n")
	if d.Incomplete != nil {
		o.s("<p class=\"banner\"><strong>Incomplete.</strong> ")
		o.t(d.Incomplete.Reason)
		o.s("</p>\n")
	}
}

// Status colours, shared by the charts and the badges.
var (
	statusClass = map[rule.Status]string{rule.Fail: "fail", rule.Unknown: "unk", rule.Pass: "pass", rule.NotApplicable: "na"}
	statusName  = map[rule.Status]string{rule.Fail: "FAIL", rule.Unknown: "UNKNOWN", rule.Pass: "PASS", rule.NotApplicable: "NOT APPLICABLE"}
)

func (w Writer) summary(o out, d *report.Document, v *view) {
	c := d.Summary.Counts
	o.s("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">")
	card := func(class, label string, n int) {
		o.f("<div class=\"card %s\"><b>%s</b><span>%s</span></div>", class, num(n), label)
	}
	card("", "accounts", d.Summary.Accounts)
	card("fail", "failed", c.Fail)
	card("unk", "unknown", c.Unknown)
	card("pass", "passed", c.Pass)
	card("na", "not applicable", c.NotApplicable)
	o.s("</div>\n")
	if st := d.Summary.AccountStatus; st != nil {
		o.f("<p>Accounts: <b>%s</b> failing (%s with a critical failure), <b>%s</b> unknown, <b>%s</b> clean",
			num(st.Failing), num(st.Critical), num(st.Unknown), num(st.Clean))
		if st.Skipped > 0 {
			o.f(", %s skipped", num(st.Skipped))
		}
		if st.Unreached > 0 {
			o.f(", %s targets unreached", num(st.Unreached))
		}
		o.s(".</p>\n")
	}
	switch {
	case c.Fail > 0:
		o.f("<p class=\"verdict fail\">%s results failed; the most severe is <b>%s</b>. Fix them in the order of <a href=\"#findings\">Findings</a>.</p>\n",
			num(c.Fail), v.worstSeverity)
	case c.Unknown > 0:
		o.f("<p class=\"verdict unk\">No result failed, but %s could not be decided: what could not be read is listed below. An undecided result is not a pass.</p>\n", num(c.Unknown))
	case len(d.Results) > 0:
		o.s("<p class=\"verdict pass\">Every result passed or did not apply.</p>\n")
	default:
		o.s("<p class=\"verdict\">No result: no account was evaluated.</p>\n")
	}
	o.s("</section>\n")
}

func (w Writer) charts(o out, d *report.Document, v *view) {
	o.s("<section id=\"charts\">\n<h2>Charts</h2>\n<div class=\"charts\">\n")
	severityChart(o, d)
	statusChart(o, d)
	o.s("</div>\n")
	if len(d.Accounts) > 1 {
		heatMap(o, d, v)
	}
	coverageChart(o, v)
	o.s("</section>\n")
}

var severityColour = map[string]string{"critical": "#b91c1c", "high": "#ea580c", "medium": "#ca8a04", "low": "#2563eb", "info": "#6b7280"}

// severityChart: failures by severity, one bar each.
func severityChart(o out, d *report.Document) {
	const rowH, labelW, barW = 26, 70, 330
	maxN := 1
	for _, s := range rule.Severities {
		maxN = max(maxN, d.Summary.FailedBySeverity[s.String()])
	}
	h := rowH*len(rule.Severities) + 8
	o.f("<figure><figcaption>Failed results by severity</figcaption><svg role=\"img\" aria-label=\"Failed results by severity\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">", labelW+barW+60, h, labelW+barW+60, h)
	for i, s := range rule.Severities {
		n := d.Summary.FailedBySeverity[s.String()]
		y := 4 + i*rowH
		wdt := n * barW / maxN
		if n > 0 {
			wdt = max(wdt, 2)
		}
		o.f("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>",
			labelW-8, y+17, s.String(), labelW, y+3, wdt, rowH-8, severityColour[s.String()], labelW+wdt+6, y+17, num(n))
	}
	o.s("</svg></figure>\n")
}

// statusChart: every result by status, one stacked bar with a legend.
func statusChart(o out, d *report.Document) {
	const barW = 440
	c := d.Summary.Counts
	total := c.Fail + c.Unknown + c.Pass + c.NotApplicable
	o.f("<figure><figcaption>All %s results by status</figcaption><svg role=\"img\" aria-label=\"Results by status\" viewBox=\"0 0 %d 90\" width=\"%d\" height=\"90\">", num(total), barW+20, barW+20)
	x := 10
	if total == 0 {
		o.f("<rect x=\"10\" y=\"8\" width=\"%d\" height=\"28\" rx=\"3\" class=\"na\"/>", barW)
	}
	for _, s := range rule.Statuses {
		n := map[rule.Status]int{rule.Fail: c.Fail, rule.Unknown: c.Unknown, rule.Pass: c.Pass, rule.NotApplicable: c.NotApplicable}[s]
		if n == 0 || total == 0 {
			continue
		}
		wdt := max(n*barW/total, 2)
		o.f("<rect x=\"%d\" y=\"8\" width=\"%d\" height=\"28\" class=\"%s\"/>", x, wdt, statusClass[s])
		x += wdt
	}
	lx := 10
	for _, s := range rule.Statuses {
		n := map[rule.Status]int{rule.Fail: c.Fail, rule.Unknown: c.Unknown, rule.Pass: c.Pass, rule.NotApplicable: c.NotApplicable}[s]
		o.f("<rect x=\"%d\" y=\"52\" width=\"12\" height=\"12\" class=\"%s\"/><text x=\"%d\" y=\"62\">%s %s</text>", lx, statusClass[s], lx+16, statusName[s], num(n))
		lx += map[rule.Status]int{rule.Fail: 90, rule.Unknown: 125, rule.Pass: 95}[s]
	}
	o.s("</svg></figure>\n")
}

// heatMap: accounts (rows, worst first) against rules (columns), each
// cell the account's result for the rule.
func heatMap(o out, d *report.Document, v *view) {
	rows := v.accountOrder
	more := 0
	if len(rows) > heatRows {
		more = len(rows) - heatRows
		rows = rows[:heatRows]
	}
	const cell, labelW = 22, 240
	longest := 0
	for _, r := range v.rules {
		longest = max(longest, len([]rune(r.id)))
	}
	// Column labels are rotated 60°: about 6.2 px a character, sin 60° up.
	headH := longest*54/10 + 16
	wdt := labelW + cell*len(v.rules) + 140 // room for the last rotated labels
	h := headH + cell*len(rows) + 6
	titles := len(rows)*len(v.rules) <= heatTitles
	o.f("<figure class=\"wide\"><figcaption>Accounts × rules: each account's result for each rule, the worst accounts first")
	if more > 0 {
		o.f(" (the %s worst of %s accounts; the table of accounts lists every one)", num(len(rows)), num(len(v.accountOrder)))
	}
	o.f("</figcaption><svg class=\"heat\" role=\"img\" aria-label=\"Accounts by rules\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">", wdt, h, wdt, h)
	for j, r := range v.rules {
		x := labelW + j*cell + cell/2
		o.f("<text transform=\"translate(%d %d) rotate(-60)\">", x+4, headH-6)
		o.t(r.id)
		o.s("</text>")
	}
	for i, a := range rows {
		y := headH + i*cell
		o.f("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", labelW-6, y+12)
		o.t(clip(accountLabel(a), 34))
		o.s("</text>")
		for j, r := range v.rules {
			st, ok := v.cell[a.AccountID][r.id]
			class := "none"
			if ok {
				class = statusClass[st.status]
				if st.status == rule.Fail {
					class = "sev-" + st.severity.String()
				}
			}
			o.f("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"%s\">", labelW+j*cell+1, y+1, cell-2, cell-2, class)
			if titles {
				o.s("<title>")
				o.t(a.AccountID + " · " + r.id + ": ")
				if ok {
					o.s(statusName[st.status])
				} else {
					o.s("no result")
				}
				o.s("</title>")
			}
			o.s("</rect>")
		}
	}
	o.s("</svg><p class=\"legend\"><i class=\"sev-critical\"></i>critical <i class=\"sev-high\"></i>high <i class=\"sev-medium\"></i>medium <i class=\"sev-low\"></i>low failure <i class=\"unk\"></i>unknown <i class=\"pass\"></i>pass <i class=\"na\"></i>not applicable <i class=\"none\"></i>no result</p></figure>\n")
}

// coverageChart: for each compliance framework version, its controls
// mapped to Vigil's rules by the worst result behind them.
func coverageChart(o out, v *view) {
	if len(v.frameworks) == 0 {
		return
	}
	const rowH, labelW, barW = 26, 380, 300
	h := rowH*len(v.frameworks) + 40
	o.f("<figure class=\"wide\"><figcaption>Compliance coverage: the controls of each framework (its latest version) that Vigil's rules decide, by the worst result behind each</figcaption><svg role=\"img\" aria-label=\"Compliance coverage per framework\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">", labelW+barW+150, h, labelW+barW+150, h)
	for i, f := range v.frameworks {
		y := 4 + i*rowH
		o.f("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", labelW-8, y+17)
		name, version := guide.SplitFramework(f.name)
		o.t(clip(name, 46) + " " + version)
		o.s("</text>")
		x := labelW
		total := f.total()
		for _, s := range rule.Statuses {
			n := f.counts[s]
			if n == 0 {
				continue
			}
			wdt := max(n*barW/total, 2)
			o.f("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"%s\"/>", x, y+3, wdt, rowH-8, statusClass[s])
			x += wdt
		}
		o.f("<text x=\"%d\" y=\"%d\">%d of %d controls failing</text>", labelW+barW+8, y+17, f.counts[rule.Fail], total)
	}
	ly := h - 14
	lx := labelW
	for _, s := range rule.Statuses {
		o.f("<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" class=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>", lx, ly-10, statusClass[s], lx+16, ly, statusName[s])
		lx += 110
	}
	o.s("</svg></figure>\n")
}

func (w Writer) gaps(o out, d *report.Document) {
	type row struct{ where, call, text string }
	var rows []row
	if org := d.Organization; org != nil {
		for _, g := range org.Gaps {
			rows = append(rows, row{"organisation " + org.ID, g.Call, g.Text()})
		}
	}
	for _, a := range d.Accounts {
		for _, g := range a.Gaps {
			rows = append(rows, row{accountLabel(a), g.Call, g.Text()})
		}
	}
	for _, u := range d.Unreached {
		rows = append(rows, row{u.Target + " (unreached)", u.Gap.Call, u.Gap.Text()})
	}
	var skipped []snapshot.SkippedAccount
	if d.Organization != nil {
		skipped = d.Organization.Skipped
	}
	if len(rows) == 0 && len(skipped) == 0 {
		return
	}
	o.s("<section id=\"gaps\">\n<h2>Not read</h2>\n")
	if len(rows) > 0 {
		o.s("<p>What could not be read; every rule that needed it is UNKNOWN, never PASS.</p>\n<table class=\"gaps\"><thead><tr><th>Where</th><th>Call</th><th>Error</th></tr></thead><tbody>\n")
		for _, r := range rows {
			o.s("<tr><td>")
			o.t(r.where)
			o.s("</td><td><code>")
			o.t(r.call)
			o.s("</code></td><td>")
			o.t(r.text)
			o.s("</td></tr>\n")
		}
		o.s("</tbody></table>\n")
	}
	if len(skipped) > 0 {
		o.s("<h3>Accounts not scanned</h3>\n<table><thead><tr><th>Account</th><th>Reason</th></tr></thead><tbody>\n")
		for _, s := range skipped {
			o.s("<tr><td>")
			o.t(s.AccountID)
			if s.Name != "" {
				o.s(" ")
				o.t(s.Name)
			}
			o.s("</td><td>")
			o.t(s.Reason)
			o.s("</td></tr>\n")
		}
		o.s("</tbody></table>\n")
	}
	o.s("</section>\n")
}

func (w Writer) compliance(o out, d *report.Document) {
	a := d.Compliance
	if a == nil {
		return
	}
	o.s("<section id=\"compliance\">\n<h2>")
	o.t(a.Name + " " + a.Version)
	o.s("</h2>\n<p>")
	o.t(a.Scope)
	cv := a.Coverage
	o.f("</p>\n<p>%d controls: %d pass, %d fail, %d unknown, %d not applicable; %d automated, %d partly, %d manual.</p>\n",
		cv.Controls, cv.Pass, cv.Fail, cv.Unknown, cv.NotApplicable, cv.Automated, cv.PartlyAutomated, cv.Manual)
	o.s("<table><thead><tr><th>Control</th><th>Status</th><th>Rules and findings</th></tr></thead><tbody>\n")
	for _, c := range a.Controls {
		o.s("<tr><td><b>")
		o.t(c.ID)
		o.s("</b> ")
		o.t(c.Title)
		o.s("</td><td>", controlBadge(c.Status), "</td><td>")
		for _, r := range c.Rules {
			o.s("<div><code>")
			o.t(r.RuleID)
			o.s("</code> ", badge(r.Status), " ")
			o.t(string(r.Coverage))
			o.f(" coverage, %d results</div>", len(r.Results))
		}
		if c.ManualCheck != "" {
			o.s("<div class=\"check\">Check by hand: ")
			o.t(c.ManualCheck)
			o.s("</div>")
		}
		o.s("</td></tr>\n")
	}
	o.s("</tbody></table>\n</section>\n")
}

func controlBadge(s compliance.ControlStatus) string {
	switch s {
	case compliance.ControlFail:
		return badge(rule.Fail)
	case compliance.ControlUnknown:
		return badge(rule.Unknown)
	case compliance.ControlPass:
		return badge(rule.Pass)
	case compliance.ControlManual:
		return "<span class=\"badge manual\">MANUAL</span>"
	}
	return badge(rule.NotApplicable)
}

func badge(s rule.Status) string {
	return "<span class=\"badge " + statusClass[s] + "\">" + statusName[s] + "</span>"
}

func (w Writer) accounts(o out, d *report.Document, v *view) {
	if len(d.Accounts) < 2 {
		return
	}
	o.s("<section id=\"accounts\">\n<h2>Accounts</h2>\n<table class=\"accounts\"><thead><tr><th>Account</th><th>OU</th><th>Status</th><th class=\"n\">Fail</th><th class=\"n\">Unknown</th><th class=\"n\">Pass</th></tr></thead><tbody>\n")
	for _, a := range v.accountOrder {
		o.s("<tr><td>")
		o.t(a.AccountID)
		if a.Name != "" {
			o.s(" ")
			o.t(a.Name)
		}
		if a.Role == "management" {
			o.s(" <em>(management account)</em>")
		}
		o.s("</td><td>")
		o.t(strings.Join(a.OUPath, " / "))
		o.f("</td><td class=\"st-%s\">%s</td><td>%d</td><td>%d</td><td>%d</td></tr>\n",
			a.Status, a.Status, a.Counts.Fail, a.Counts.Unknown, a.Counts.Pass)
	}
	o.s("</tbody></table>\n</section>\n")
}

func (w Writer) findings(o out, d *report.Document, v *view) {
	o.s("<section id=\"findings\">\n<h2>Findings</h2>\n")
	if len(v.rules) == 0 {
		o.s("<p>No result.</p>\n</section>\n")
		return
	}
	o.s("<table class=\"index\"><thead><tr><th>Rule</th><th>Fail</th><th>Unknown</th><th>Pass</th><th>Not applicable</th></tr></thead><tbody>\n")
	for _, r := range v.rules {
		o.s("<tr><td><a href=\"#rule-")
		o.t(r.id)
		o.s("\">")
		o.t(r.title)
		o.s("</a> <code>")
		o.t(r.id)
		o.f("</code></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			num(r.counts[rule.Fail]), num(r.counts[rule.Unknown]), num(r.counts[rule.Pass]), num(r.counts[rule.NotApplicable]))
	}
	o.s("</tbody></table>\n")
	names := v.names
	for _, r := range v.rules {
		gd := w.o.Guides.For(r.id)
		o.s("<article class=\"rule\" id=\"rule-")
		o.t(r.id)
		o.s("\">\n<h3>")
		if r.open > 0 {
			o.s("<span class=\"sev sev-", r.severity.String(), "\">", r.severity.String(), "</span> ")
		}
		o.t(r.title)
		o.s(" <code>")
		o.t(r.id)
		o.s("</code></h3>\n<p class=\"counts\">")
		first := true
		for _, s := range rule.Statuses {
			if n := r.counts[s]; n > 0 {
				if !first {
					o.s(" · ")
				}
				first = false
				o.f("%s %s", badge(s), num(n))
			}
		}
		o.s("</p>\n")
		if r.counts[rule.Fail] > 0 || r.counts[rule.Unknown] > 0 {
			o.s("<div class=\"fix\"><b>How to fix.</b> ")
			if gd.Fix != "" {
				o.t(gd.Fix)
				o.s(" ")
			}
			o.s("Full steps for the console, the AWS CLI and the Go SDK: <code>")
			o.t(guide.Explain(r.id))
			o.s("</code>.</div>\n")
		}
		if reqs := groupRequirements(gd.Latest()); len(reqs) > 0 {
			o.s("<p class=\"reqs\"><b>Compliance</b> (the latest version of each framework): ")
			o.t(strings.Join(reqs, "; "))
			o.s("</p>\n")
		}
		showPass := len(d.Accounts) <= passList
		var open, rest []rule.Result
		for _, i := range r.results {
			res := d.Results[i]
			switch {
			case res.Status == rule.Fail || res.Status == rule.Unknown:
				open = append(open, res)
			case showPass:
				rest = append(rest, res)
			}
		}
		slices.SortStableFunc(open, func(a, b rule.Result) int { return statusRank(a.Status) - statusRank(b.Status) })
		if len(open) > 0 || len(rest) > 0 {
			o.s("<table class=\"results\"><thead><tr><th>Status</th><th>Account</th><th>Result and evidence</th></tr></thead><tbody>\n")
			for _, res := range append(open, rest...) {
				result(o, res, names[res.AccountID], r.severity)
			}
			o.s("</tbody></table>\n")
		}
		o.s("</article>\n")
	}
	o.s("</section>\n")
}

func statusRank(s rule.Status) int { return slices.Index(rule.Statuses, s) }

// result is one row of a rule's results. The severity of a FAIL is shown
// when it differs from the rule's heading (a management account's is
// raised), so that 5,000 rows of one severity do not repeat it.
func result(o out, r rule.Result, name string, heading rule.Severity) {
	if name == "" {
		name = r.AccountName
	}
	o.s("<tr class=\"", statusClass[r.Status], "\"><td>", badge(r.Status))
	if r.Status == rule.Fail && r.Severity != heading {
		o.s("<br><span class=\"sev sev-", r.Severity.String(), "\">", r.Severity.String(), "</span>")
	}
	o.s("</td><td>")
	o.t(r.AccountID)
	if name != "" {
		o.s("<br>")
		o.t(name)
	}
	if r.ManagementAccount {
		o.s("<br><em>management account</em>")
	}
	o.s("</td><td>")
	o.t(r.Message)
	if !strings.HasSuffix(r.Resource, ":"+r.AccountID+":root") {
		o.s("<p class=\"res\">")
		o.t(r.Resource)
		o.s("</p>")
	}
	if len(r.Evidence) > 0 {
		o.s("<ul class=\"ev\">")
		for _, e := range r.Evidence {
			o.s("<li><code>")
			o.t(e.Source)
			o.s("</code> ")
			if e.Key != "" {
				o.t(e.Key)
				o.s(" = ")
			}
			o.t(e.Value)
			if e.Error != "" {
				o.s(" <span class=\"err\">")
				o.t(e.Error)
				o.s("</span>")
			}
			if e.AsOf != nil {
				o.s(" <small>as of ", e.AsOf.UTC().Format("2006-01-02 15:04"), "</small>")
			}
			o.s("</li>")
		}
		o.s("</ul>")
	}
	o.s("</td></tr>\n")
}

func accountLabel(a report.Account) string {
	if a.Name != "" {
		return a.Name + " (" + a.AccountID + ")"
	}
	return a.AccountID
}

// clip shortens a chart label to n characters, never inside one.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// num writes a count with thousands separators: 12,345.
func num(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// groupRequirements writes "Framework Version/Control" requirements as
// one "Framework Version: control, control" entry per framework version.
func groupRequirements(reqs []string) []string {
	var out []string
	index := map[string]int{}
	for _, r := range reqs {
		fw := guide.Framework(r)
		ctl := strings.TrimPrefix(r, fw+"/")
		if i, ok := index[fw]; ok {
			out[i] += ", " + ctl
			continue
		}
		index[fw] = len(out)
		out = append(out, fw+": "+ctl)
	}
	return out
}
