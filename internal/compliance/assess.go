package compliance

import (
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/rule"
)

// ControlStatus is the outcome of one control in an assessment.
type ControlStatus string

// Control outcomes. MANUAL means no Vigil rule decides the control: a
// person must assess it, and Vigil claims nothing about it (the results
// of its evidence rules, when it has any, show what Vigil read; a FAIL or
// UNKNOWN among them makes the control FAIL or UNKNOWN instead).
const (
	ControlPass          ControlStatus = "PASS"
	ControlFail          ControlStatus = "FAIL"
	ControlUnknown       ControlStatus = "UNKNOWN"
	ControlNotApplicable ControlStatus = "NOT_APPLICABLE"
	ControlManual        ControlStatus = "MANUAL"
)

// Automation says how far Vigil's rules decide a control.
type Automation string

// Automation levels.
const (
	// Automated: at least one rule decides the control on its own.
	Automated Automation = "automated"
	// PartlyAutomated: rules check part of the control; a person checks the rest.
	PartlyAutomated Automation = "partial"
	// NotAutomated: no rule maps to the control.
	NotAutomated Automation = "manual"
)

// Assessment is what a set of results means for one framework version.
type Assessment struct {
	Framework string `json:"framework"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	// Scope says which part of the framework Vigil's catalog covers; the
	// coverage figures are relative to it.
	Scope    string              `json:"scope"`
	Coverage AssessmentCoverage  `json:"coverage"`
	Controls []ControlAssessment `json:"controls"`
}

// AssessmentCoverage counts the controls by automation and by outcome.
type AssessmentCoverage struct {
	Controls        int `json:"controls"`
	Automated       int `json:"automated"`
	PartlyAutomated int `json:"partly_automated"`
	Manual          int `json:"manual"`
	Pass            int `json:"pass"`
	Fail            int `json:"fail"`
	Unknown         int `json:"unknown"`
	NotApplicable   int `json:"not_applicable"`
}

// ControlAssessment is one control's outcome and what it rests on.
type ControlAssessment struct {
	ID         string        `json:"id"`
	Title      string        `json:"title"`
	Section    string        `json:"section,omitempty"`
	Status     ControlStatus `json:"status"`
	Automation Automation    `json:"automation"`
	// ManualCheck says what a person must still check when rules decide
	// the control only in part, or all of it when no rule maps to it.
	ManualCheck string           `json:"manual_check,omitempty"`
	Rules       []RuleAssessment `json:"rules"`
}

// RuleAssessment is one mapped rule's contribution to a control.
type RuleAssessment struct {
	RuleID   string      `json:"rule_id"`
	Title    string      `json:"title"`
	Coverage Coverage    `json:"coverage"`
	Sources  []SourceRef `json:"sources"`
	// Status is the worst status among the rule's results, or UNKNOWN or
	// NOT_APPLICABLE with NoResult set when the rule produced none.
	Status   rule.Status `json:"status"`
	NoResult string      `json:"no_result,omitempty"`
	Results  []Finding   `json:"results"`
}

// Finding is one result behind a control: which account and what it found.
type Finding struct {
	AccountID string      `json:"account_id"`
	Resource  string      `json:"resource"`
	Status    rule.Status `json:"status"`
	Severity  string      `json:"severity"`
	Message   string      `json:"message"`
}

// Missing explains a mapped rule that produced no result: the status to
// assume (NOT_APPLICABLE when the rule cannot apply to what was scanned,
// UNKNOWN otherwise) and why.
type Missing func(ruleID string) (rule.Status, string)

// Assess judges every control of v from the results. A control fails when
// any mapped result fails; it is UNKNOWN when any is unknown or a mapped
// rule produced no result that can be explained away; it is never PASS
// unless every mapped result passed or did not apply, and at least one
// passed. Rule titles come from titles (rule ID → title).
func (c *Catalog) Assess(v *Version, results []rule.Result, titles map[string]string, missing Missing) Assessment {
	byRule := map[string][]rule.Result{}
	for _, r := range results {
		byRule[r.RuleID] = append(byRule[r.RuleID], r)
	}
	a := Assessment{Framework: v.Framework.ID, Name: v.Framework.Name, Version: v.Version, Scope: v.Framework.Scope, Controls: []ControlAssessment{}}
	for _, ctl := range v.Controls {
		ca := ControlAssessment{ID: ctl.ID, Title: ctl.Title, Section: ctl.Section, Rules: []RuleAssessment{}}
		var manual []string
		for _, m := range c.ControlMappings(v, ctl.ID) {
			ra := RuleAssessment{RuleID: m.Rule, Title: titles[m.Rule], Coverage: m.Coverage, Sources: m.Sources, Results: []Finding{}}
			rs := byRule[m.Rule]
			if len(rs) == 0 {
				ra.Status, ra.NoResult = rule.Unknown, "the rule produced no result for this scan"
				if missing != nil {
					ra.Status, ra.NoResult = missing(m.Rule)
				}
			} else {
				ra.Status = worst(rs)
				for _, r := range rs {
					ra.Results = append(ra.Results, Finding{AccountID: r.AccountID, Resource: r.Resource, Status: r.Status, Severity: r.Severity.String(), Message: r.Message})
				}
			}
			if m.Coverage == Partial && m.Manual != "" && !slices.Contains(manual, m.Manual) {
				manual = append(manual, m.Manual)
			}
			ca.Rules = append(ca.Rules, ra)
		}
		ca.Automation = automation(ca.Rules)
		switch ca.Automation {
		case PartlyAutomated:
			ca.ManualCheck = strings.Join(manual, " ")
		case NotAutomated:
			// No rule decides it: the catalog says what a person checks.
			ca.ManualCheck = ctl.Manual
		}
		ca.Status = controlStatus(ca.Rules, ca.Automation)
		a.Coverage.add(ca)
		a.Controls = append(a.Controls, ca)
	}
	return a
}

var statusRank = map[rule.Status]int{rule.Fail: 0, rule.Unknown: 1, rule.Pass: 2, rule.NotApplicable: 3}

func worst(rs []rule.Result) rule.Status {
	w := rule.NotApplicable
	for _, r := range rs {
		if statusRank[r.Status] < statusRank[w] {
			w = r.Status
		}
	}
	return w
}

func controlStatus(rules []RuleAssessment, auto Automation) ControlStatus {
	w := rule.NotApplicable
	for _, r := range rules {
		if r.Coverage == Evidence && (r.Status == rule.Pass || r.Status == rule.NotApplicable || r.NoResult != "") {
			// Evidence that was read (or not asked for) leaves the
			// judgement to a person.
			continue
		}
		if statusRank[r.Status] < statusRank[w] {
			w = r.Status
		}
	}
	if auto == NotAutomated && w != rule.Fail && w != rule.Unknown {
		return ControlManual
	}
	switch w {
	case rule.Fail:
		return ControlFail
	case rule.Unknown:
		return ControlUnknown
	case rule.Pass:
		return ControlPass
	}
	return ControlNotApplicable
}

func automation(rules []RuleAssessment) Automation {
	auto := NotAutomated
	for _, r := range rules {
		switch r.Coverage {
		case Full:
			return Automated
		case Partial:
			auto = PartlyAutomated
		}
	}
	return auto
}

func (c *AssessmentCoverage) add(ca ControlAssessment) {
	c.Controls++
	switch ca.Automation {
	case Automated:
		c.Automated++
	case PartlyAutomated:
		c.PartlyAutomated++
	default:
		c.Manual++
	}
	switch ca.Status {
	case ControlPass:
		c.Pass++
	case ControlFail:
		c.Fail++
	case ControlUnknown:
		c.Unknown++
	case ControlNotApplicable:
		c.NotApplicable++
	}
}
