package text

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/muesli/termenv"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Options control the text report.
type Options struct {
	// Profile is the colour profile; termenv.Ascii means no colour. Set
	// it: the zero value is termenv's TrueColor. The CLI sets it from the
	// terminal, NO_COLOR and --no-color; a file always gets Ascii.
	Profile termenv.Profile
	// Width wraps messages; 0 means 100 columns.
	Width int
	// Verbose adds the evidence of every result, and shows every result.
	Verbose bool
	// Show picks how much of each account to print (see DefaultShow). The
	// JSON report always has everything.
	Show Show
}

// Show is how much of each account the text report prints.
type Show int

const (
	// ShowAll prints every result of every account in full.
	ShowAll Show = iota
	// ShowIssues prints FAIL and UNKNOWN results in full, names the
	// PASS and NOT_APPLICABLE rules on one line, and lists accounts with
	// nothing to report one line each: what an organisation of a
	// thousand accounts needs to stay readable.
	ShowIssues
	// ShowFailures prints only accounts with a FAIL, and only their FAIL
	// results; every other account is counted in the summary.
	ShowFailures
)

// DefaultShow is how much the report shows when --show is not given:
// everything for one account, the issues for more (or when a target named
// no account), so an organisation of a thousand accounts stays readable.
func DefaultShow(d *report.Document) Show {
	if len(d.Accounts) > 1 || len(d.Unreached) > 0 {
		return ShowIssues
	}
	return ShowAll
}

// ParseShow reads a --show value.
func ParseShow(s string) (Show, error) {
	switch s {
	case "all":
		return ShowAll, nil
	case "issues":
		return ShowIssues, nil
	case "failures":
		return ShowFailures, nil
	}
	return 0, fmt.Errorf("%q: want all, issues or failures", s)
}

// groupSkipped is how many skipped accounts with the same reason are
// listed one by one before they are summarised in a single line.
const groupSkipped = 10

// Writer writes the text report, the one for people: per account,
// failures first and most severe first, then a summary line. Accounts
// with critical failures come first so the worst news is at the top of a
// long organisation report. It keeps the report.Writer contract; colour,
// when Options.Profile asks for it, is ANSI SGR sequences and nothing
// else.
type Writer struct {
	Options Options
}

// New returns the text writer with these options.
func New(o Options) Writer { return Writer{Options: o} }

// Write writes the text report of d to w.
func (x Writer) Write(w io.Writer, d *report.Document) error {
	o := x.Options
	if o.Width <= 0 {
		o.Width = 100
	}
	if o.Verbose {
		o.Show = ShowAll
	}
	// Buffered, as the other writers are: a line a call to w was a
	// system call per line for a file or a terminal.
	t := &textWriter{w: bufio.NewWriterSize(w, 64<<10), o: o}
	t.header(d)
	if d.Compliance != nil {
		t.compliance(d)
		t.line("")
		t.summary(d)
		return t.flush()
	}
	byAccount := map[string][]rule.Result{}
	var orgResults []rule.Result
	known := map[string]bool{}
	for _, a := range d.Accounts {
		known[a.AccountID] = true
	}
	// An account's results are the runs of them in the document (Build
	// sorts by account, so one run each), shared rather than copied: the
	// runs are clipped, so that joining two runs of one account copies
	// them, and nothing below writes to them.
	keep := func(r *rule.Result) bool { return known[r.AccountID] && !report.IsOrganizationResult(*r) }
	for i := 0; i < len(d.Results); {
		r := &d.Results[i]
		if !keep(r) {
			orgResults = append(orgResults, *r)
			i++
			continue
		}
		j := i + 1
		for j < len(d.Results) && d.Results[j].AccountID == r.AccountID && keep(&d.Results[j]) {
			j++
		}
		byAccount[r.AccountID] = append(byAccount[r.AccountID], d.Results[i:j:j]...)
		i = j
	}
	if d.Organization != nil && (len(orgResults) > 0 || d.Organization.AccessMode != "") {
		t.organization(d, orgResults)
	}
	var clean []report.Account
	for _, a := range orderAccounts(d.Accounts, byAccount) {
		switch {
		case o.Show == ShowFailures && a.Status != report.StatusFailing:
			continue
		case o.Show == ShowIssues && a.Status == report.StatusClean && len(realGaps(a.Gaps)) == 0:
			clean = append(clean, a)
			continue
		}
		t.account(a, byAccount[a.AccountID], d.CollectedAt)
	}
	if len(clean) > 0 {
		t.line(t.style(fmt.Sprintf("Clean: every result PASS or NOT_APPLICABLE (%s)", rule.Plural(len(clean), "account", "accounts")), bold))
		for _, a := range clean {
			t.line("  " + a.AccountID + accountFacts(a, true))
		}
		t.line("")
	}
	t.skipped(d)
	t.summary(d)
	return t.flush()
}

// realGaps leaves out the sections an access method cannot read by
// design (code NotCollected): said once for the whole run, not per account.
func realGaps(gaps []snapshot.Gap) []snapshot.Gap {
	var out []snapshot.Gap
	for _, g := range gaps {
		if g.Code != "NotCollected" {
			out = append(out, g)
		}
	}
	return out
}

// accountFacts is the one-line description of an account after its ID.
func accountFacts(a report.Account, short bool) string {
	s := ""
	if a.Name != "" {
		s += " (" + a.Name + ")"
	}
	if short {
		if a.Role == snapshot.RoleManagement {
			s += " · management account"
		}
		if len(a.OUPath) > 0 {
			s += " · OU " + strings.Join(a.OUPath, "/")
		}
		if a.Access != nil {
			s += " · " + accessText(a.Access, a.Gaps)
		}
	}
	return s
}

// accessText says how an account was reached or, when an access gap says
// it was not, how it was tried and what stopped it: a role that could not
// be assumed was never "reached".
func accessText(ac *snapshot.Access, gaps []snapshot.Gap) string {
	var s string
	switch ac.Method {
	case snapshot.AccessAssumeRole:
		s = "reached through sts:AssumeRole " + ac.RoleARN
		if ac.Profile != "" {
			s += " from profile " + ac.Profile
		}
	case snapshot.AccessAssumeRoot:
		s = "reached through sts:AssumeRoot (" + path.Base(ac.RoleARN) + ")"
	case snapshot.AccessDirect:
		s = "read directly"
		if ac.Profile != "" {
			s += " with profile " + ac.Profile
		}
	default:
		s = ac.Method
	}
	if g := accessGap(gaps); g != nil {
		code := g.Code
		if code == "" {
			code = "failed"
		}
		s = "not " + s + " (" + g.Call + ": " + code + ")"
	}
	return s
}

// accessGap is the gap that kept the run out of an account (section
// access: the role or session refused, no answer in time, the run
// cancelled first), or nil when it got in.
func accessGap(gaps []snapshot.Gap) *snapshot.Gap {
	for i := range gaps {
		if gaps[i].Section == snapshot.SectionAccess && gaps[i].Code != "NotCollected" {
			return &gaps[i]
		}
	}
	return nil
}

// organization writes what the run learned about the organisation as a
// whole: how it was scanned, its centralised root access, the accounts at
// a glance, and its own results.
func (t *textWriter) organization(d *report.Document, results []rule.Result) {
	o := d.Organization
	head := "Organisation " + o.ID
	if o.ManagementAccountID != "" {
		head += " · management account " + o.ManagementAccountID
	}
	t.line(t.style(head, bold))
	if o.AccessMode != "" {
		how := map[string]string{
			snapshot.AccessAssumeRoot: "sts:AssumeRoot with the IAMAuditRootUserCredentials task policy (no role in member accounts)",
			snapshot.AccessAssumeRole: "sts:AssumeRole into a role in each account",
		}[o.AccessMode]
		if how == "" {
			how = o.AccessMode
		}
		t.wrap("  access to member accounts: "+how, "    ")
		if n := unreached(d.Accounts); n > 0 {
			t.wrap(fmt.Sprintf("  %d of %s could not be reached", n, rule.Plural(len(d.Accounts), "account", "accounts")), "    ")
		}
		if o.Caller != "" {
			t.wrap("  scanned from "+o.Caller, "    ")
		}
		if o.Scope != "" {
			t.wrap("  scope: "+o.Scope, "    ")
		}
		if o.AccessMode == snapshot.AccessAssumeRoot {
			t.wrap("  An AssumeRoot audit session cannot read the credential report or the virtual MFA device list; it reads root's exact credentials instead.", "    ")
		}
	}
	if f := o.Features; f != nil {
		onOff := func(b bool) string {
			if b {
				return "on"
			}
			return "off"
		}
		line := "  centralised root access: RootCredentialsManagement " + onOff(f.RootCredentialsManagement) + " · RootSessions " + onOff(f.RootSessions)
		if f.TrustedAccessIAM != nil && !*f.TrustedAccessIAM {
			line = "  centralised root access: off (trusted access for IAM is not enabled)"
		}
		t.line(line)
	}
	if st := d.Summary.AccountStatus; st != nil && o.AccessMode != "" {
		t.line("  " + accountCounts(st))
		t.findings(d)
	}
	for _, g := range o.Gaps {
		t.wrap("  Not collected: "+g.Call+" — "+g.Text(), "    ")
	}
	t.line("")
	if len(results) > 0 {
		t.results(results, results)
		t.line("")
	}
}

// findings rolls the account results up by rule: how many accounts
// fail each rule, and how many could not be judged. It answers the first
// question about an organisation ("how many accounts have root keys?")
// before the account-by-account detail.
func (t *textWriter) findings(d *report.Document) {
	type row struct {
		id, title     string
		sev           rule.Severity
		fail, unknown int
	}
	rows := map[string]*row{}
	// A rule about many resources fails an account once, however many of
	// its resources fail: count accounts, FAIL before UNKNOWN.
	worst := map[[2]string]rule.Status{}
	for _, r := range d.Results {
		if report.IsOrganizationResult(r) || r.Status != rule.Fail && r.Status != rule.Unknown {
			continue
		}
		k := [2]string{r.RuleID, r.AccountID}
		if prev, seen := worst[k]; !seen || prev == rule.Unknown && r.Status == rule.Fail {
			worst[k] = r.Status
		}
	}
	for _, r := range d.Results {
		k := [2]string{r.RuleID, r.AccountID}
		st, ok := worst[k]
		if !ok || report.IsOrganizationResult(r) {
			continue
		}
		delete(worst, k)
		r.Status = st
		w := rows[r.RuleID]
		if w == nil {
			w = &row{id: r.RuleID, title: r.Title, sev: r.RuleSeverity}
			rows[r.RuleID] = w
		}
		if r.Status == rule.Fail {
			w.fail++
		} else {
			w.unknown++
		}
	}
	if len(rows) == 0 {
		return
	}
	list := make([]*row, 0, len(rows))
	for _, w := range rows {
		list = append(list, w)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.sev != b.sev {
			return a.sev > b.sev
		}
		if a.fail != b.fail {
			return a.fail > b.fail
		}
		return a.id < b.id
	})
	t.line("  accounts per rule:")
	width := 26
	for _, w := range list {
		width = max(width, len(w.id))
	}
	for _, w := range list {
		counts := fmt.Sprintf("%5d FAIL", w.fail)
		if w.unknown > 0 {
			counts += fmt.Sprintf(" %5d UNKNOWN", w.unknown)
		} else {
			counts += strings.Repeat(" ", 14)
		}
		t.line(fmt.Sprintf("    %-8s  %-*s %s  %s", strings.ToUpper(w.sev.String()), width, w.id, counts, w.title))
	}
}

// unreached counts the accounts the run could not get into.
func unreached(accts []report.Account) int {
	n := 0
	for _, a := range accts {
		if accessGap(a.Gaps) != nil {
			n++
		}
	}
	return n
}

// accountCounts is every account of the run once: each scanned account in
// one status (failing before unknown before clean), plus those not
// scanned, so the parts add up to the total. Targets that named no
// account are not accounts, and are counted apart.
func accountCounts(st *report.AccountStatus) string {
	failing := fmt.Sprintf("%d failing", st.Failing)
	if st.Critical > 0 {
		failing += fmt.Sprintf(" (%d with critical failures)", st.Critical)
	}
	parts := []string{failing, fmt.Sprintf("%d unknown", st.Unknown), fmt.Sprintf("%d clean", st.Clean)}
	if st.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d not scanned", st.Skipped))
	}
	total := st.Failing + st.Unknown + st.Clean + st.Skipped
	s := rule.Plural(total, "account", "accounts") + ": " + strings.Join(parts, ", ")
	if st.Unreached > 0 {
		s += "; " + rule.Plural(st.Unreached, "target", "targets") + " reached no account"
	}
	return s
}

// skipped lists what was not scanned: skipped accounts (grouped by reason
// when many share one) and targets that yielded no account.
func (t *textWriter) skipped(d *report.Document) {
	var skipped []snapshot.SkippedAccount
	if d.Organization != nil {
		skipped = d.Organization.Skipped
	}
	if len(skipped) == 0 && len(d.Unreached) == 0 {
		return
	}
	t.line(t.style("Not scanned", bold))
	byReason := map[string]int{}
	var many []string // reasons shared by too many accounts to list, in order of appearance
	for _, s := range skipped {
		byReason[s.Reason]++
		if byReason[s.Reason] == groupSkipped+1 {
			many = append(many, s.Reason)
		}
	}
	for _, s := range skipped {
		if byReason[s.Reason] > groupSkipped {
			continue
		}
		name := s.AccountID
		if s.Name != "" {
			name += " (" + s.Name + ")"
		}
		t.wrap("  "+name+": "+s.Reason, "    ")
	}
	for _, r := range many {
		t.wrap(fmt.Sprintf("  %d accounts: %s (each is listed in the JSON report)", byReason[r], r), "    ")
	}
	for _, u := range d.Unreached {
		t.wrap("  "+u.Target+": "+u.Gap.Call+" — "+u.Gap.Text(), "    ")
	}
	t.line("")
}

// textWriter writes one report. The rows of a large organisation's
// report (100,000 results) are built in buf and written to w without a
// string of their own, and what every row repeats (a status cell, a
// style's escape sequences) is made once.
type textWriter struct {
	// w keeps the first error of the destination and writes nothing
	// after it (bufio's contract); flush returns it.
	w *bufio.Writer
	o Options
	// buf is the row being built, words the words being wrapped.
	buf   []byte
	words []string
	// cells are statusCell's answers, made once per status, severity
	// and muting.
	cells map[cellKey][2]string
	// styles are each style's escape sequences before and after the
	// text, made once.
	styles [faint + 1]*[2]string
}

func (t *textWriter) flush() error { return t.w.Flush() }

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
	e := t.escapes(st)
	return e[0] + s + e[1]
}

// appendStyle appends s in style st to b.
func (t *textWriter) appendStyle(b []byte, s string, st style) []byte {
	if t.o.Profile == termenv.Ascii || st == plain {
		return append(b, s...)
	}
	e := t.escapes(st)
	b = append(b, e[0]...)
	b = append(b, s...)
	return append(b, e[1]...)
}

// escapes are what termenv writes before and after a text in style st:
// it writes the text itself unchanged between them, so styling a marker
// once gives both, and every styled text costs a concatenation rather
// than termenv's formatting (a fifth of the text report's time).
func (t *textWriter) escapes(st style) *[2]string {
	if e := t.styles[st]; e != nil {
		return e
	}
	out := termenv.String("\x00")
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
	styled := out.String()
	i := strings.IndexByte(styled, 0)
	e := &[2]string{styled[:i], styled[i+1:]}
	t.styles[st] = e
	return e
}

func (t *textWriter) line(s string) {
	t.w.WriteString(s)
	t.w.WriteByte('\n')
}

func (t *textWriter) lineBytes(b []byte) {
	t.w.Write(b)
	t.w.WriteByte('\n')
}

func (t *textWriter) header(d *report.Document) {
	t.line(t.style(fmt.Sprintf("Vigil %s — root credential posture", d.Tool.Version), bold))
	src := "source: " + describeSource(d.Source)
	if d.SnapshotFile != "" {
		src = "source: snapshot " + d.SnapshotFile + ", saved from " + describeSource(d.Source)
	}
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
// of failures; then accounts with UNKNOWN results; then the rest; by ID
// within each.
func orderAccounts(accts []report.Account, results map[string][]rule.Result) []report.Account {
	out := append([]report.Account(nil), accts...)
	// Each account's worst failure once, not at each comparison of the
	// sort (an organisation's accounts are compared thousands of times).
	type worst struct {
		sev rule.Severity
		n   int
	}
	w := make(map[string]worst, len(out))
	for _, a := range out {
		max, n := rule.Severity(-1), 0
		for _, r := range results[a.AccountID] {
			if r.Status == rule.Fail {
				n++
				if r.Severity > max {
					max = r.Severity
				}
			}
		}
		w[a.AccountID] = worst{max, n}
	}
	sort.SliceStable(out, func(i, j int) bool {
		wi, wj := w[out[i].AccountID], w[out[j].AccountID]
		si, ni := wi.sev, wi.n
		sj, nj := wj.sev, wj.n
		if si != sj {
			return si > sj
		}
		if ni != nj {
			return ni > nj
		}
		if ui, uj := out[i].Counts.Unknown > 0, out[j].Counts.Unknown > 0; ui != uj {
			return ui
		}
		return out[i].AccountID < out[j].AccountID
	})
	return out
}

func (t *textWriter) account(a report.Account, results []rule.Result, collected time.Time) {
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
	if ac := a.Access; ac != nil {
		how := "  " + accessText(ac, a.Gaps)
		if ac.Note != "" {
			t.wrap(how+": "+ac.Note, "    ")
		} else {
			t.line(t.style(how, faint))
		}
	}
	if a.Caller != "" {
		t.line(t.style("  scanned as "+a.Caller, faint))
	}
	if a.ReportTime != nil {
		t.line(t.style("  "+reportTimeText(a, collected), faint))
	}
	t.line("")
	gaps := a.Gaps
	switch t.o.Show {
	case ShowAll:
		t.results(results, results)
	case ShowIssues:
		issues := only(results, rule.Fail, rule.Unknown)
		t.results(issues, results)
		// A rule already shown for its issues is not listed again.
		shown := map[string]bool{}
		for _, r := range issues {
			shown[r.RuleID] = true
		}
		passed := without(only(results, rule.Pass), shown)
		for _, r := range passed {
			shown[r.RuleID] = true
		}
		t.ruleList(passed, "PASS")
		t.ruleList(without(only(results, rule.NotApplicable), shown), "N/A")
		gaps = realGaps(gaps)
	case ShowFailures:
		t.results(only(results, rule.Fail), results)
		gaps = nil
	}
	if len(gaps) > 0 {
		t.line("  " + t.style("Not collected:", yellow))
		for _, g := range gaps {
			t.wrap("    - "+g.Call+" — "+g.Text(), "      ")
		}
	}
	t.line("")
}

func only(rs []rule.Result, statuses ...rule.Status) []rule.Result {
	var out []rule.Result
	for _, r := range rs {
		for _, s := range statuses {
			if r.Status == s {
				out = append(out, r)
			}
		}
	}
	return out
}

// without drops the results of the rules in skip.
func without(rs []rule.Result, skip map[string]bool) []rule.Result {
	var out []rule.Result
	for _, r := range rs {
		if !skip[r.RuleID] {
			out = append(out, r)
		}
	}
	return out
}

// ruleList names the rules of one status on one line, each once.
func (t *textWriter) ruleList(rs []rule.Result, label string) {
	if len(rs) == 0 {
		return
	}
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.RuleID)
	}
	sort.Strings(ids)
	ids = slices.Compact(ids)
	st := green
	if label != "PASS" {
		st = faint
	}
	// The list sits in the message column, continuation lines too.
	indent := strings.Repeat(" ", 21)
	prefix, width := "  "+t.style(fmt.Sprintf("%-7s", label), st)+strings.Repeat(" ", 12), 21
	cur, n := prefix, width
	for i, id := range ids {
		word := id
		if i < len(ids)-1 {
			word += ","
		}
		if n > width && n+1+len(word) > t.o.Width {
			t.line(cur)
			cur, n = indent, width
		}
		if n > width {
			cur, n = cur+" ", n+1
		}
		cur, n = cur+word, n+len(word)
	}
	t.line(cur)
}

// statusOrder ranks a status in report order (FAIL first), ok false for
// a status that is none of the four (ranked with FAIL). A switch, not a
// map: the sorts of a large report look it up millions of times.
func statusOrder(st rule.Status) (rank int, ok bool) {
	switch st {
	case rule.Fail:
		return 0, true
	case rule.Unknown:
		return 1, true
	case rule.Pass:
		return 2, true
	case rule.NotApplicable:
		return 3, true
	}
	return 0, false
}

// rank is statusOrder's rank alone.
func rank(st rule.Status) int { r, _ := statusOrder(st); return r }

// maxResources is how many results of one rule about many resources the
// text report shows before it counts the rest (-v shows all): an account
// with ten thousand users must stay readable.
const maxResources = 10

// ruleGroup is one rule's results in one account, worst first.
type ruleGroup struct {
	results []rule.Result
	// all counts every result of the rule in the account, and byStatus
	// them by status in statusOrder (results may be only the ones --show
	// keeps).
	all      int
	byStatus [4]int
	worst    rule.Status
	sev      rule.Severity
}

// groupByRule groups results by rule: the rules with a failure first
// (the most severe first), then those with an unknown, then the rest.
// Within a rule, failures come first, then unknowns, passes and not
// applicables, each by resource.
func groupByRule(rs, all []rule.Result) []ruleGroup {
	// Groups in a slice, found by index: a report of thousands of
	// accounts groups each account's results.
	byID := map[string]int{}
	var out []ruleGroup
	for i := range rs {
		r := &rs[i]
		k, ok := byID[r.RuleID]
		if !ok {
			k = len(out)
			byID[r.RuleID] = k
			out = append(out, ruleGroup{worst: rule.NotApplicable})
		}
		out[k].results = append(out[k].results, *r)
	}
	for i := range all {
		r := &all[i]
		if k, ok := byID[r.RuleID]; ok {
			g := &out[k]
			g.all++
			if o, ok := statusOrder(r.Status); ok {
				g.byStatus[o]++
			}
		}
	}
	for k := range out {
		g := &out[k]
		// Suppressed results do not make the rule look worse, unless
		// every result of it is suppressed.
		judged := func(r *rule.Result) bool { return true }
		if anyOpen(g.results) {
			judged = func(r *rule.Result) bool { return r.Suppression == nil }
		}
		first := true
		for i := range g.results {
			r := &g.results[i]
			if !judged(r) {
				continue
			}
			if first {
				g.sev, first = r.RuleSeverity, false
			}
			if rank(r.Status) < rank(g.worst) {
				g.worst = r.Status
			}
		}
		for i := range g.results {
			r := &g.results[i]
			if judged(r) && r.Status == g.worst && r.Severity > g.sev {
				g.sev = r.Severity
			}
		}
		if len(g.results) > 1 {
			sort.SliceStable(g.results, func(i, j int) bool {
				a, b := &g.results[i], &g.results[j]
				if rank(a.Status) != rank(b.Status) {
					return rank(a.Status) < rank(b.Status)
				}
				if a.Severity != b.Severity {
					return a.Severity > b.Severity
				}
				return a.Resource < b.Resource
			})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if rank(a.worst) != rank(b.worst) {
			return rank(a.worst) < rank(b.worst)
		}
		if a.sev != b.sev {
			return a.sev > b.sev
		}
		return a.results[0].RuleID < b.results[0].RuleID
	})
	return out
}

// anyOpen says whether a result of rs is not suppressed.
func anyOpen(rs []rule.Result) bool {
	for i := range rs {
		if rs[i].Suppression == nil {
			return true
		}
	}
	return false
}

// results writes rs grouped by rule. A rule with one result about the
// account is one row; a rule about many resources (users, keys, regions,
// instances, certificates) is a row for the rule, its counts by status,
// then its resources worst first, at most maxResources of them unless
// -v. all are every result of the account, for the counts.
func (t *textWriter) results(rs, all []rule.Result) {
	for _, g := range groupByRule(rs, all) {
		if g.all == 1 && len(g.results) == 1 {
			t.resultRow(g.results[0])
			continue
		}
		t.ruleHead(g)
		var counts []string
		for o, st := range []rule.Status{rule.Fail, rule.Unknown, rule.Pass, rule.NotApplicable} {
			if n := g.byStatus[o]; n > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", n, statusLabel(st)))
			}
		}
		t.line(t.style(fmt.Sprintf("                     %s: %s", rule.Plural(g.all, "resource", "resources"), strings.Join(counts, ", ")), faint))
		shown := g.results
		if !t.o.Verbose && len(shown) > maxResources {
			shown = shown[:maxResources]
		}
		for _, r := range shown {
			t.resourceRow(r)
		}
		if rest := g.results[len(shown):]; len(rest) > 0 {
			left := map[rule.Status]int{}
			for _, r := range rest {
				left[r.Status]++
			}
			var parts []string
			for _, st := range []rule.Status{rule.Fail, rule.Unknown, rule.Pass, rule.NotApplicable} {
				if left[st] > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", left[st], statusLabel(st)))
				}
			}
			t.line(t.style("                     … and "+strings.Join(parts, ", ")+" more (-v shows them all; --format json has every one)", faint))
		}
	}
}

// cellKey names a status cell: every result row starts with one, and a
// report has a few dozen different ones.
type cellKey struct {
	st         rule.Status
	sev        rule.Severity
	suppressed bool
}

// statusCell renders a status and severity the way a result row starts.
func (t *textWriter) statusCell(st rule.Status, sev rule.Severity, suppressed bool) (string, string) {
	k := cellKey{st, sev, suppressed}
	if c, ok := t.cells[k]; ok {
		return c[0], c[1]
	}
	status, sevText := t.makeStatusCell(st, sev, suppressed)
	if t.cells == nil {
		t.cells = map[cellKey][2]string{}
	}
	t.cells[k] = [2]string{status, sevText}
	return status, sevText
}

func (t *textWriter) makeStatusCell(st rule.Status, sev rule.Severity, suppressed bool) (string, string) {
	status := fmt.Sprintf("%-7s", statusLabel(st))
	sevText := strings.Repeat(" ", 8)
	switch st {
	case rule.Fail:
		status = t.style(status, red)
		sevText = fmt.Sprintf("%-8s", strings.ToUpper(sev.String()))
		if sev >= rule.High {
			sevText = t.style(sevText, red)
		} else {
			sevText = t.style(sevText, yellow)
		}
	case rule.Unknown:
		status = t.style(status, yellow)
		sevText = fmt.Sprintf("%-8s", sev.String())
	case rule.Pass:
		status = t.style(status, green)
	case rule.NotApplicable:
		status = t.style(status, faint)
	}
	if suppressed {
		// Muted: an accepted risk is shown, never coloured as a failure.
		status = t.style(fmt.Sprintf("%-7s", statusLabel(st)), faint)
		sevText = t.style(fmt.Sprintf("%-8s", strings.ToLower(sev.String())), faint)
	}
	return status, sevText
}

// ruleHead is the row of a rule about many resources.
func (t *textWriter) ruleHead(g ruleGroup) {
	r := g.results[0]
	allMuted := !anyOpen(g.results)
	status, sev := t.statusCell(g.worst, g.sev, allMuted)
	head := "  " + status + "  " + sev + "  " + r.RuleID
	if (g.worst == rule.Fail || g.worst == rule.Unknown) && !allMuted {
		head += "  " + t.style(r.Title, bold)
	}
	t.line(head)
}

func suppressionText(s *rule.Suppression) string {
	until := "no expiry"
	if s.Expires != nil {
		until = "until " + s.Expires.Format("2006-01-02")
	}
	return fmt.Sprintf("(suppressed by %s, %s: %s)", s.Owner, until, s.Reason)
}

// resourceRow is one resource of a rule about many.
func (t *textWriter) resourceRow(r rule.Result) {
	const indent = "                     "
	status, _ := t.statusCell(r.Status, r.Severity, r.Suppression != nil)
	b := append(t.buf[:0], indent...)
	b = append(b, status...)
	b = append(b, "  "...)
	b = append(b, r.Resource...)
	if r.Suppression != nil {
		b = append(b, "  "...)
		b = t.appendStyle(b, suppressionText(r.Suppression), faint)
	}
	t.lineBytes(b)
	t.buf = b
	t.wrapAfter(indent+"         ", r.Message, indent+"         ")
	if t.o.Verbose {
		for _, e := range r.Evidence {
			t.wrapAfter(indent+"         ", "· "+evidenceText(e), indent+"           ")
		}
	}
}

// resultRow is a rule's one result about the account.
func (t *textWriter) resultRow(r rule.Result) {
	const indent = "                     "
	status, sev := t.statusCell(r.Status, r.Severity, r.Suppression != nil)
	b := append(t.buf[:0], "  "...)
	b = append(b, status...)
	b = append(b, "  "...)
	b = append(b, sev...)
	b = append(b, "  "...)
	b = append(b, r.RuleID...)
	if (r.Status == rule.Fail || r.Status == rule.Unknown) && r.Suppression == nil {
		b = append(b, "  "...)
		b = t.appendStyle(b, r.Title, bold)
	}
	if s := r.Suppression; s != nil {
		b = append(b, "  "...)
		b = t.appendStyle(b, suppressionText(s), faint)
	}
	t.lineBytes(b)
	t.buf = b
	t.wrapAfter(indent, r.Message, indent)
	if t.o.Verbose {
		for _, e := range r.Evidence {
			t.wrapAfter(indent, "· "+evidenceText(e), indent+"  ")
		}
	}
}

func statusLabel(s rule.Status) string {
	if s == rule.NotApplicable {
		return "N/A"
	}
	return string(s)
}

// reportTimeText says how old an account's credential report is and where
// that comes from; a report from the API needs no more said.
func reportTimeText(a report.Account, collected time.Time) string {
	at := a.ReportTime.UTC().Format(time.RFC3339)
	age := collected.Sub(*a.ReportTime)
	switch {
	case age < -snapshot.ClockSkew:
		return fmt.Sprintf("credential report of %s, after the time of the scan: its age is unknown", at)
	case a.ReportTimeLowerBound:
		return fmt.Sprintf("credential report generated at or after %s, the newest time it records (so at most %s old)", at, rule.Age(age))
	case a.ReportTimeSource == "" || a.ReportTimeSource == snapshot.TimeFromAPI:
		return fmt.Sprintf("credential report of %s (%s old)", at, rule.Age(age))
	}
	return fmt.Sprintf("credential report of %s (%s old; time from %s)", at, rule.Age(age), a.ReportTimeSource)
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
		switch e.AsOfSource {
		case "", snapshot.TimeFromAPI:
			s += " (as of " + e.AsOf.UTC().Format(time.RFC3339) + ")"
		case snapshot.TimeFromNewest:
			s += " (as of " + e.AsOf.UTC().Format(time.RFC3339) + " or later)"
		default:
			s += " (as of " + e.AsOf.UTC().Format(time.RFC3339) + ", from " + e.AsOfSource + ")"
		}
	}
	return s
}

// wrap writes s word-wrapped at the configured width; continuation lines
// start with indent.
func (t *textWriter) wrap(s, indent string) { t.wrapAfter("", s, indent) }

// spaces holds the leads of wrapped lines.
const spaces = "                                                                "

// wrapAfter is wrap(lead+s, indent) for a lead of spaces, without making
// that string: the lines are built in t.buf, as a report of 100,000
// results wraps 100,000 messages.
func (t *textWriter) wrapAfter(lead, s, indent string) {
	if strings.TrimLeft(lead, " ") != "" {
		lead, s = "", lead+s
	}
	// The lead is every space the line starts with, the message's too.
	if n := len(lead) + len(s) - len(strings.TrimLeft(s, " ")); n > len(lead) {
		if n <= len(spaces) {
			lead = spaces[:n]
		} else {
			lead = strings.Repeat(" ", n)
		}
	}
	t.words = appendFields(t.words[:0], s)
	b := append(t.buf[:0], lead...)
	for _, w := range t.words {
		if len(b) > len(lead) && len(b)+1+len(w) > t.o.Width {
			t.lineBytes(b)
			b = append(b[:0], indent...)
		}
		if string(b) != lead && string(b) != indent {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	if len(bytes.TrimSpace(b)) > 0 {
		t.lineBytes(b)
	}
	t.buf = b
}

// appendFields appends strings.Fields(s) to dst, without a slice of its
// own when s is ASCII (as nearly every message is).
func appendFields(dst []string, s string) []string {
	n0, start := len(dst), -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return append(dst[:n0], strings.Fields(s)...)
		}
		if c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' {
			if start >= 0 {
				dst = append(dst, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, s[start:])
	}
	return dst
}

func (t *textWriter) summary(d *report.Document) {
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
	accounts := rule.Plural(d.Summary.Accounts, "account", "accounts")
	if st := d.Summary.AccountStatus; st != nil {
		accounts = accountCounts(st)
	}
	t.line(t.style("Summary:", bold) + fmt.Sprintf(" %s · %d results · %s · %d UNKNOWN · %d PASS · %d NOT_APPLICABLE",
		accounts, d.Summary.Results, fail, c.Unknown, c.Pass, c.NotApplicable))
}
