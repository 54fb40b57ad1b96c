package html

import (
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/guide"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
)

// view is what the sections need of a document, computed once.
type view struct {
	names map[string]string
	// rules in the order the findings show them: those with failures
	// first (most severe first), then those with unknowns, then the rest,
	// by ID.
	rules []*ruleView
	// cell is each account's result per rule (the worst, if several).
	cell map[string]map[string]cellView
	// accountOrder is the accounts, worst first: failing (critical,
	// then most failures), unknown, clean; then by ID.
	accountOrder  []report.Account
	frameworks    []*frameworkView
	worstSeverity string
}

type ruleView struct {
	id, title string
	// severity is the highest of the rule's FAIL results, or the rule's
	// own when none failed.
	severity rule.Severity
	open     int
	counts   map[rule.Status]int
	results  []int // indexes into the document's results
}

type cellView struct {
	status   rule.Status
	severity rule.Severity
}

type frameworkView struct {
	name   string
	counts map[rule.Status]int // controls by worst result
}

func (f *frameworkView) total() int {
	n := 0
	for _, c := range f.counts {
		n += c
	}
	return max(n, 1)
}

// worse orders statuses from the worst: FAIL, UNKNOWN, PASS, NOT_APPLICABLE.
func worse(a, b rule.Status) bool { return statusRank(a) < statusRank(b) }

func newView(d *report.Document, guides guide.Guides) *view {
	v := &view{names: map[string]string{}, cell: map[string]map[string]cellView{}}
	for _, a := range d.Accounts {
		v.names[a.AccountID] = a.Name
	}
	byID := map[string]*ruleView{}
	worst := rule.Severity(-1)
	for i, r := range d.Results {
		rv := byID[r.RuleID]
		if rv == nil {
			rv = &ruleView{id: r.RuleID, title: r.Title, severity: r.RuleSeverity, counts: map[rule.Status]int{}}
			byID[r.RuleID] = rv
			v.rules = append(v.rules, rv)
		}
		rv.counts[r.Status]++
		rv.results = append(rv.results, i)
		if r.Status == rule.Fail || r.Status == rule.Unknown {
			if rv.open == 0 || r.Status == rule.Fail && r.Severity > rv.severity {
				rv.severity = r.Severity
			}
			rv.open++
		}
		if r.Status == rule.Fail && r.Severity > worst {
			worst = r.Severity
		}
		row := v.cell[r.AccountID]
		if row == nil {
			row = map[string]cellView{}
			v.cell[r.AccountID] = row
		}
		if c, ok := row[r.RuleID]; !ok || worse(r.Status, c.status) || r.Status == c.status && r.Severity > c.severity {
			row[r.RuleID] = cellView{r.Status, r.Severity}
		}
	}
	if worst >= 0 {
		v.worstSeverity = worst.String()
	}
	rank := func(r *ruleView) int {
		switch {
		case r.counts[rule.Fail] > 0:
			return 0
		case r.counts[rule.Unknown] > 0:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(v.rules, func(a, b *ruleView) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if a.severity != b.severity {
			return int(b.severity) - int(a.severity)
		}
		return strings.Compare(a.id, b.id)
	})

	v.accountOrder = slices.Clone(d.Accounts)
	critical := func(a report.Account) bool {
		for _, c := range v.cell[a.AccountID] {
			if c.status == rule.Fail && c.severity == rule.Critical {
				return true
			}
		}
		return false
	}
	arank := func(a report.Account) int {
		switch {
		case a.Counts.Fail > 0 && critical(a):
			return 0
		case a.Counts.Fail > 0:
			return 1
		case a.Counts.Unknown > 0:
			return 2
		}
		return 3
	}
	slices.SortStableFunc(v.accountOrder, func(a, b report.Account) int {
		if ra, rb := arank(a), arank(b); ra != rb {
			return ra - rb
		}
		if a.Counts.Fail != b.Counts.Fail {
			return b.Counts.Fail - a.Counts.Fail
		}
		return strings.Compare(a.AccountID, b.AccountID)
	})

	v.frameworks = frameworks(d, guides, byID)
	return v
}

// frameworks is each framework's controls (of its latest version among
// the guides: the catalog lists versions oldest first) by the worst
// result of the rules mapped to them, by framework name.
func frameworks(d *report.Document, guides guide.Guides, byID map[string]*ruleView) []*frameworkView {
	if len(guides) == 0 || len(d.Results) == 0 {
		return nil
	}
	ids := make([]string, 0, len(guides))
	for id := range guides {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	latest := map[string]string{} // framework name → latest version
	for _, id := range ids {
		for _, req := range guides[id].Requirements {
			name, version := guide.SplitFramework(guide.Framework(req))
			latest[name] = version
		}
	}
	controls := map[string]map[string]rule.Status{} // framework → control → worst
	for _, id := range ids {
		rv := byID[id]
		if rv == nil {
			continue
		}
		st := rule.NotApplicable
		for _, s := range rule.Statuses {
			if rv.counts[s] > 0 {
				st = s
				break
			}
		}
		for _, req := range guides[id].Requirements {
			fw := guide.Framework(req)
			if name, version := guide.SplitFramework(fw); latest[name] != version {
				continue
			}
			ctl := strings.TrimPrefix(req, fw+"/")
			m := controls[fw]
			if m == nil {
				m = map[string]rule.Status{}
				controls[fw] = m
			}
			if old, ok := m[ctl]; !ok || worse(st, old) {
				m[ctl] = st
			}
		}
	}
	order := make([]string, 0, len(controls))
	for fw := range controls {
		order = append(order, fw)
	}
	slices.Sort(order)
	out := make([]*frameworkView, 0, len(order))
	for _, fw := range order {
		f := &frameworkView{name: fw, counts: map[rule.Status]int{}}
		for _, st := range controls[fw] {
			f.counts[st]++
		}
		out = append(out, f)
	}
	return out
}
