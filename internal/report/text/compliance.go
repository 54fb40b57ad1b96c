package text

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
)

// compliance writes the results as a framework sees them: each control of
// the version in catalog order, its outcome, how far Vigil's rules decide
// it, and the findings behind it, then the framework's coverage.
func (t *textWriter) compliance(d *report.Document) {
	a := d.Compliance
	t.line(t.style(fmt.Sprintf("Compliance: %s %s", a.Name, a.Version), bold))
	t.wrap("Scope: "+a.Scope+" Controls outside it are not assessed.", "  ")
	t.line("")
	mapped := map[string]bool{}
	for _, c := range a.Controls {
		status := fmt.Sprintf("%-7s", controlLabel(c.Status))
		switch c.Status {
		case compliance.ControlFail:
			status = t.style(status, red)
		case compliance.ControlUnknown:
			status = t.style(status, yellow)
		case compliance.ControlPass:
			status = t.style(status, green)
		default:
			status = t.style(status, faint)
		}
		auto := map[compliance.Automation]string{
			compliance.Automated:       "decided by Vigil",
			compliance.PartlyAutomated: "checked in part by Vigil",
			compliance.NotAutomated:    "not covered by a Vigil rule: assess by hand",
		}[c.Automation]
		if c.Automation == compliance.NotAutomated && len(c.Rules) > 0 {
			auto = "for a person to assess, with what Vigil read"
		}
		t.line("  " + status + "  " + t.style(c.ID, bold) + "  " + c.Title)
		t.line(t.style("                     "+auto, faint))
		if c.ManualCheck != "" {
			label := "Also check by hand: "
			if c.Automation == compliance.NotAutomated {
				label = "Check by hand: "
			}
			t.wrap("                     "+label+c.ManualCheck, "                     ")
		}
		for _, r := range c.Rules {
			mapped[r.RuleID] = true
			t.ruleEvidence(r)
		}
	}
	var outside []string
	for _, r := range d.Results {
		if !mapped[r.RuleID] && r.Status == rule.Fail && !slices.Contains(outside, r.RuleID) {
			outside = append(outside, r.RuleID)
		}
	}
	if len(outside) > 0 {
		t.line("")
		t.wrap(fmt.Sprintf("Failing rules that map to no control of %s %s (see 'vigil scan' without --compliance): %s.", a.Framework, a.Version, strings.Join(outside, ", ")), "  ")
	}
	t.line("")
	c := a.Coverage
	t.wrap(fmt.Sprintf("Coverage: %d controls in scope · %d decided by Vigil, %d in part, %d by hand · %d FAIL · %d UNKNOWN · %d PASS · %d NOT_APPLICABLE · %d MANUAL",
		c.Controls, c.Automated, c.PartlyAutomated, c.Manual, c.Fail, c.Unknown, c.Pass, c.NotApplicable,
		// A manual control whose evidence failed or could not be read is
		// FAIL or UNKNOWN, not MANUAL: what is left is MANUAL.
		c.Controls-c.Fail-c.Unknown-c.Pass-c.NotApplicable), "  ")
}

// ruleEvidence lists what one mapped rule found: every failing or unknown
// result in full, passes and not-applicables as a count (or in full with -v).
func (t *textWriter) ruleEvidence(r compliance.RuleAssessment) {
	const indent = "                     "
	head := indent + r.RuleID
	switch r.Coverage {
	case compliance.Partial:
		head += " (partial)"
	case compliance.Evidence:
		head += " (evidence)"
	}
	if r.NoResult != "" {
		t.wrap(head+": "+string(r.Status)+", "+r.NoResult, indent+"  ")
		return
	}
	quiet := map[rule.Status]int{}
	for _, f := range r.Results {
		// Evidence is what the person assessing the control reads: shown
		// in full, whatever its status.
		if (f.Status == rule.Pass || f.Status == rule.NotApplicable) && !t.o.Verbose && r.Coverage != compliance.Evidence {
			quiet[f.Status]++
			continue
		}
		t.wrap(fmt.Sprintf("%s: %s in %s: %s", head, statusLabel(f.Status), f.AccountID, f.Message), indent+"  ")
	}
	var counts []string
	for _, s := range []rule.Status{rule.Pass, rule.NotApplicable} {
		if n := quiet[s]; n > 0 {
			counts = append(counts, fmt.Sprintf("%s in %s", statusLabel(s), rule.Plural(n, "account", "accounts")))
		}
	}
	if len(counts) > 0 {
		t.line(head + ": " + strings.Join(counts, ", "))
	}
}

func controlLabel(s compliance.ControlStatus) string {
	if s == compliance.ControlNotApplicable {
		return "N/A"
	}
	return string(s)
}
