package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/muesli/termenv"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// TextOptions control the terminal report.
type TextOptions struct {
	// Profile is the colour profile; termenv.Ascii means no colour. The CLI
	// sets it from the terminal and NO_COLOR.
	Profile termenv.Profile
	// Width wraps messages; 0 means 100 columns.
	Width int
	// Verbose adds the evidence of every result.
	Verbose bool
}

// WriteText writes the human report: per account, failures first and most
// severe first, then a summary line. Accounts with critical failures come
// first so the worst news is at the top of a long organisation report.
func WriteText(w io.Writer, d *Document, o TextOptions) error {
	if o.Width <= 0 {
		o.Width = 100
	}
	t := &textWriter{w: w, o: o}
	t.header(d)
	if d.Compliance != nil {
		t.compliance(d)
		t.line("")
		t.summary(d)
		return t.err
	}
	byAccount := map[string][]rule.Result{}
	var orgResults []rule.Result
	known := map[string]bool{}
	for _, a := range d.Accounts {
		known[a.AccountID] = true
	}
	for _, r := range d.Results {
		if known[r.AccountID] && !strings.Contains(r.Resource, ":organization/") {
			byAccount[r.AccountID] = append(byAccount[r.AccountID], r)
		} else {
			orgResults = append(orgResults, r)
		}
	}
	if len(orgResults) > 0 {
		t.line(t.style("Organisation "+d.Organization.ID, bold))
		t.results(orgResults)
		t.line("")
	}
	for _, a := range orderAccounts(d.Accounts, byAccount) {
		t.account(a, byAccount[a.AccountID], d.CollectedAt)
	}
	if d.Organization != nil && len(d.Organization.Skipped) > 0 {
		t.line(t.style("Not scanned", bold))
		for _, s := range d.Organization.Skipped {
			name := s.AccountID
			if s.Name != "" {
				name += " (" + s.Name + ")"
			}
			t.line("  " + name + ": " + s.Reason)
		}
		t.line("")
	}
	t.summary(d)
	return t.err
}

type textWriter struct {
	w   io.Writer
	o   TextOptions
	err error
}

type style int

const (
	plain style = iota
	bold
	red
	yellow
	green
	faint
)

func (t *textWriter) style(s string, st style) string {
	if t.o.Profile == termenv.Ascii || st == plain {
		return s
	}
	out := termenv.String(s)
	switch st {
	case bold:
		out = out.Bold()
	case red:
		out = out.Foreground(t.o.Profile.Color("1")).Bold()
	case yellow:
		out = out.Foreground(t.o.Profile.Color("3"))
	case green:
		out = out.Foreground(t.o.Profile.Color("2"))
	case faint:
		out = out.Faint()
	}
	return out.String()
}

func (t *textWriter) line(s string) {
	if t.err == nil {
		_, t.err = fmt.Fprintln(t.w, s)
	}
}

func (t *textWriter) header(d *Document) {
	t.line(t.style(fmt.Sprintf("Vigil %s — root credential posture", d.Tool.Version), bold))
	src := "source: " + describeSource(d.Source)
	t.line(src + " · collected " + d.CollectedAt.UTC().Format(time.RFC3339))
	if d.Source.Kind == snapshot.SourceDemo {
		t.line(t.style("DEMO: this is Vigil's built-in emulated organisation, not an AWS account of yours.", yellow))
		t.line(t.style("      With AWS credentials configured (a profile, environment variables or aws sso login), 'vigil scan' scans your account.", yellow))
	}
	if d.Incomplete != nil {
		t.line(t.style("INCOMPLETE: "+d.Incomplete.Reason, red))
	}
	t.line("")
}

func describeSource(s snapshot.Source) string {
	switch s.Kind {
	case snapshot.SourceAWS:
		if s.Detail != "" {
			return "AWS (" + s.Detail + ")"
		}
		return "AWS"
	case snapshot.SourceCredentialReport:
		return "credential report file " + s.Detail
	case snapshot.SourceDemo:
		return "built-in demo (" + s.Detail + ")"
	}
	if s.Detail != "" {
		return s.Kind + " " + s.Detail
	}
	return s.Kind
}

// orderAccounts puts accounts with critical failures first, then by number
// of failures, then by ID.
func orderAccounts(accts []Account, results map[string][]rule.Result) []Account {
	out := append([]Account(nil), accts...)
	worst := func(id string) (rule.Severity, int) {
		max, n := rule.Severity(-1), 0
		for _, r := range results[id] {
			if r.Status == rule.Fail {
				n++
				if r.Severity > max {
					max = r.Severity
				}
			}
		}
		return max, n
	}
	sort.SliceStable(out, func(i, j int) bool {
		si, ni := worst(out[i].AccountID)
		sj, nj := worst(out[j].AccountID)
		if si != sj {
			return si > sj
		}
		if ni != nj {
			return ni > nj
		}
		return out[i].AccountID < out[j].AccountID
	})
	return out
}

func (t *textWriter) account(a Account, results []rule.Result, collected time.Time) {
	head := "Account " + a.AccountID
	if a.Name != "" {
		head += " (" + a.Name + ")"
	}
	var facts []string
	if a.Partition != "" {
		facts = append(facts, a.Partition)
	}
	switch a.Role {
	case snapshot.RoleManagement:
		facts = append(facts, t.style("organisation management account", yellow))
	case snapshot.RoleUnknown:
		facts = append(facts, "organisation role unknown")
	default:
		facts = append(facts, string(a.Role))
	}
	if len(a.OUPath) > 0 {
		facts = append(facts, "OU "+strings.Join(a.OUPath, "/"))
	}
	t.line(t.style(head, bold) + " · " + strings.Join(facts, " · "))
	if a.Caller != "" {
		t.line(t.style("  scanned as "+a.Caller, faint))
	}
	if a.ReportTime != nil {
		t.line(t.style(fmt.Sprintf("  credential report of %s (%s old)", a.ReportTime.UTC().Format(time.RFC3339), rule.Age(collected.Sub(*a.ReportTime))), faint))
	}
	t.line("")
	t.results(results)
	if len(a.Gaps) > 0 {
		t.line("  " + t.style("Not collected:", yellow))
		for _, g := range a.Gaps {
			msg := g.Message
			if g.Code != "" {
				msg = g.Code + ": " + msg
			}
			t.wrap("    - "+g.Call+" — "+msg, "      ")
		}
	}
	t.line("")
}

var statusOrder = map[rule.Status]int{rule.Fail: 0, rule.Unknown: 1, rule.Pass: 2, rule.NotApplicable: 3}

func (t *textWriter) results(rs []rule.Result) {
	rs = append([]rule.Result(nil), rs...)
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if statusOrder[a.Status] != statusOrder[b.Status] {
			return statusOrder[a.Status] < statusOrder[b.Status]
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		return a.RuleID < b.RuleID
	})
	for _, r := range rs {
		status := fmt.Sprintf("%-7s", statusLabel(r.Status))
		sev := strings.Repeat(" ", 8)
		switch r.Status {
		case rule.Fail:
			status = t.style(status, red)
			sev = fmt.Sprintf("%-8s", strings.ToUpper(r.Severity.String()))
			if r.Severity >= rule.High {
				sev = t.style(sev, red)
			} else {
				sev = t.style(sev, yellow)
			}
		case rule.Unknown:
			status = t.style(status, yellow)
			sev = fmt.Sprintf("%-8s", r.Severity.String())
		case rule.Pass:
			status = t.style(status, green)
		case rule.NotApplicable:
			status = t.style(status, faint)
		}
		head := "  " + status + "  " + sev + "  " + r.RuleID
		if r.Status == rule.Fail || r.Status == rule.Unknown {
			head += "  " + t.style(r.Title, bold)
		}
		t.line(head)
		t.wrap("                     "+r.Message, "                     ")
		if t.o.Verbose {
			for _, e := range r.Evidence {
				t.wrap("                     · "+evidenceText(e), "                       ")
			}
		}
	}
}

func statusLabel(s rule.Status) string {
	if s == rule.NotApplicable {
		return "N/A"
	}
	return string(s)
}

func evidenceText(e rule.Evidence) string {
	s := e.Source
	if e.Key != "" {
		s += " " + e.Key
	}
	if e.Value != "" {
		s += " = " + e.Value
	}
	if e.Error != "" {
		s += " failed: " + e.Error
	}
	if e.AsOf != nil {
		s += " (as of " + e.AsOf.UTC().Format(time.RFC3339) + ")"
	}
	return s
}

// wrap writes s word-wrapped at the configured width; continuation lines
// start with indent.
func (t *textWriter) wrap(s, indent string) {
	words := strings.Fields(s)
	lead := s[:len(s)-len(strings.TrimLeft(s, " "))]
	cur := lead
	for _, w := range words {
		if len(cur) > len(lead) && len(cur)+1+len(w) > t.o.Width {
			t.line(cur)
			cur = indent
		}
		if cur != lead && cur != indent {
			cur += " "
		}
		cur += w
	}
	if strings.TrimSpace(cur) != "" {
		t.line(cur)
	}
}

func (t *textWriter) summary(d *Document) {
	c := d.Summary.Counts
	var bySev []string
	for _, s := range rule.Severities {
		if n := d.Summary.FailedBySeverity[s.String()]; n > 0 {
			bySev = append(bySev, fmt.Sprintf("%d %s", n, s))
		}
	}
	fail := fmt.Sprintf("%d FAIL", c.Fail)
	if len(bySev) > 0 {
		fail += " (" + strings.Join(bySev, ", ") + ")"
	}
	if c.Fail > 0 {
		fail = t.style(fail, red)
	}
	accounts := "1 account"
	if d.Summary.Accounts != 1 {
		accounts = fmt.Sprintf("%d accounts", d.Summary.Accounts)
	}
	t.line(t.style("Summary:", bold) + fmt.Sprintf(" %s · %d results · %s · %d UNKNOWN · %d PASS · %d NOT_APPLICABLE",
		accounts, d.Summary.Results, fail, c.Unknown, c.Pass, c.NotApplicable))
}
