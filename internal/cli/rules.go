package cli

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
)

type rulesOptions struct {
	framework string
	severity  []string
	service   []string
	format    formatFlag
}

func newRulesCommand(app *App) *cobra.Command {
	o := rulesOptions{}
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List Vigil's rules, with their severity and compliance mappings",
		Long: `List the rules Vigil evaluates. Filters combine: --framework keeps the rules
that map to a control of that framework version (and shows the controls),
--severity and --service keep the rules with one of the values given.`,
		Example: `  vigil rules
  vigil rules --framework cis-aws:5.0.0
  vigil rules --severity critical,high --format json
  vigil rules --framework pci-dss --format markdown`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRules(app, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.framework, "framework", "", "only rules mapped to this framework, as FRAMEWORK or FRAMEWORK:VERSION (default version: the latest)")
	f.StringSliceVar(&o.severity, "severity", nil, "only these severities (comma-separated): critical, high, medium, low, info")
	f.StringSliceVar(&o.service, "service", nil, "only rules about these AWS services (comma-separated), e.g. iam, organizations")
	addFormatFlag(f, &o.format, "text", "json", "markdown")
	return cmd
}

// ruleEntry is a rule as 'vigil rules --format json' prints it.
type ruleEntry struct {
	ID         string        `json:"id"`
	Title      string        `json:"title"`
	Severity   rule.Severity `json:"severity"`
	Category   string        `json:"category"`
	Service    string        `json:"service"`
	Scope      string        `json:"scope"`
	Compliance []controlRef  `json:"compliance"`
}

type controlRef struct {
	Framework   string                 `json:"framework"`
	Version     string                 `json:"version"`
	Control     string                 `json:"control"`
	Title       string                 `json:"title"`
	Coverage    compliance.Coverage    `json:"coverage"`
	ManualCheck string                 `json:"manual_check,omitempty"`
	Sources     []compliance.SourceRef `json:"sources"`
	Rationale   string                 `json:"rationale,omitempty"`
}

func runRules(app *App, o rulesOptions) error {
	if err := o.format.validate(); err != nil {
		return err
	}
	cat, err := loadCatalog()
	if err != nil {
		return err
	}
	var version *compliance.Version
	if o.framework != "" {
		if version, err = cat.Resolve(o.framework); err != nil {
			return usagef("--framework: %v", err)
		}
	}
	severities := map[rule.Severity]bool{}
	for _, s := range o.severity {
		sev, err := rule.ParseSeverity(strings.TrimSpace(s))
		if err != nil {
			return usagef("--severity: %v", err)
		}
		severities[sev] = true
	}
	services := map[string]bool{}
	var known []string
	for _, r := range rules.All() {
		if !slices.Contains(known, r.Service) {
			known = append(known, r.Service)
		}
	}
	sort.Strings(known)
	for _, s := range o.service {
		s = strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(known, s) {
			return usagef("--service %q: want one of %s", s, strings.Join(known, ", "))
		}
		services[s] = true
	}

	entries := []ruleEntry{}
	for _, r := range rules.All() {
		if len(severities) > 0 && !severities[r.Severity] || len(services) > 0 && !services[r.Service] {
			continue
		}
		e := ruleEntry{ID: r.ID, Title: r.Title, Severity: r.Severity, Category: r.Category, Service: r.Service, Scope: "account", Compliance: []controlRef{}}
		if r.Scope == rule.OrganizationScope {
			e.Scope = "organization"
		}
		for _, m := range cat.RuleMappings(r.ID) {
			if version != nil && (m.Framework != version.Framework.ID || m.Version != version.Version) {
				continue
			}
			v, _ := cat.Resolve(m.Framework + ":" + m.Version)
			ctl, _ := v.Control(m.Control)
			e.Compliance = append(e.Compliance, controlRef{Framework: m.Framework, Version: m.Version, Control: m.Control, Title: ctl.Title,
				Coverage: m.Coverage, ManualCheck: m.Manual, Sources: m.Sources, Rationale: m.Rationale})
		}
		if version != nil && len(e.Compliance) == 0 {
			continue
		}
		entries = append(entries, e)
	}

	var controls []controlEntry
	if version != nil {
		controls = controlEntries(cat, version)
	}
	var buf bytes.Buffer
	switch o.format.value {
	case "json":
		out := struct {
			Framework string      `json:"framework,omitempty"`
			Rules     []ruleEntry `json:"rules"`
			// Controls are every control of the framework version in
			// Vigil's scope, automated or not (with --framework only).
			Controls []controlEntry `json:"controls,omitempty"`
		}{Rules: entries, Controls: controls}
		if version != nil {
			out.Framework = version.Spec()
		}
		if err := encodeJSON(&buf, out); err != nil {
			return err
		}
	case "markdown":
		writeRulesMarkdown(&buf, entries, version)
		writeControlsMarkdown(&buf, controls)
	default:
		writeRulesText(&buf, entries, version)
		writeControlsText(&buf, controls, version)
	}
	_, err = app.Stdout.Write(buf.Bytes())
	return err
}

// controlList names the controls of one rule: "1.5 (partial)".
func controlList(e ruleEntry) string {
	var parts []string
	for _, c := range e.Compliance {
		s := c.Control
		switch c.Coverage {
		case compliance.Partial:
			s += " (partial)"
		case compliance.Evidence:
			s += " (evidence)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func writeRulesText(buf *bytes.Buffer, entries []ruleEntry, version *compliance.Version) {
	if version != nil {
		fmt.Fprintf(buf, "%s %s\n\n", version.Framework.Name, version.Version)
	}
	w := tabwriter.NewWriter(buf, 0, 0, 2, ' ', 0)
	head := "ID\tSEVERITY\tSERVICE\tSCOPE\tTITLE"
	if version != nil {
		head += "\tCONTROLS"
	}
	fmt.Fprintln(w, head)
	for _, e := range entries {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", e.ID, e.Severity, e.Service, e.Scope, e.Title)
		if version != nil {
			line += "\t" + controlList(e)
		}
		fmt.Fprintln(w, line)
	}
	w.Flush()
	n := "rules"
	if len(entries) == 1 {
		n = "rule"
	}
	fmt.Fprintf(buf, "\n%d %s. 'vigil explain RULE' shows a rule's page.\n", len(entries), n)
}

func writeRulesMarkdown(buf *bytes.Buffer, entries []ruleEntry, version *compliance.Version) {
	if version != nil {
		fmt.Fprintf(buf, "## %s %s\n\n", version.Framework.Name, version.Version)
		buf.WriteString("| Rule | Severity | Service | Title | Controls |\n|---|---|---|---|---|\n")
	} else {
		buf.WriteString("| Rule | Severity | Service | Scope | Title |\n|---|---|---|---|---|\n")
	}
	for _, e := range entries {
		if version != nil {
			fmt.Fprintf(buf, "| `%s` | %s | %s | %s | %s |\n", e.ID, e.Severity, e.Service, e.Title, controlList(e))
		} else {
			fmt.Fprintf(buf, "| `%s` | %s | %s | %s | %s |\n", e.ID, e.Severity, e.Service, e.Scope, e.Title)
		}
	}
}

// controlEntry is one control of a framework version as 'vigil rules
// --framework' lists it: whether Vigil's rules decide it, and when none
// does, what an auditor checks by hand.
type controlEntry struct {
	ID         string                `json:"id"`
	Title      string                `json:"title"`
	Section    string                `json:"section,omitempty"`
	Assessment string                `json:"assessment,omitempty"`
	Automation compliance.Automation `json:"automation"`
	Rules      []string              `json:"rules"`
	// ManualCheck is what a person checks: all of the control when no
	// rule maps to it, the rest when rules decide it in part.
	ManualCheck string `json:"manual_check,omitempty"`
}

func controlEntries(cat *compliance.Catalog, v *compliance.Version) []controlEntry {
	out := []controlEntry{}
	for _, ctl := range v.Controls {
		e := controlEntry{ID: ctl.ID, Title: ctl.Title, Section: ctl.Section, Assessment: ctl.Assessment, Automation: compliance.NotAutomated, Rules: []string{}}
		var manual []string
		for _, m := range cat.ControlMappings(v, ctl.ID) {
			e.Rules = append(e.Rules, m.Rule)
			switch {
			case m.Coverage == compliance.Evidence:
				// What Vigil reads for a person's judgement automates nothing.
			case m.Coverage == compliance.Full:
				e.Automation = compliance.Automated
			case e.Automation != compliance.Automated:
				e.Automation = compliance.PartlyAutomated
			}
			if m.Manual != "" && !slices.Contains(manual, m.Manual) {
				manual = append(manual, m.Manual)
			}
		}
		switch e.Automation {
		case compliance.NotAutomated:
			e.ManualCheck = ctl.Manual
		case compliance.PartlyAutomated:
			e.ManualCheck = strings.Join(manual, " ")
		}
		out = append(out, e)
	}
	return out
}

// automationLabel says in a word how a control is assessed.
func automationLabel(a compliance.Automation) string {
	switch a {
	case compliance.Automated:
		return "automated"
	case compliance.PartlyAutomated:
		return "partly automated"
	}
	return "MANUAL"
}

func writeControlsText(buf *bytes.Buffer, controls []controlEntry, v *compliance.Version) {
	if v == nil {
		return
	}
	counts := map[compliance.Automation]int{}
	fmt.Fprintf(buf, "\nControls of %s %s in Vigil's scope:\n\n", v.Framework.Name, v.Version)
	w := tabwriter.NewWriter(buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "CONTROL\tASSESSED\tRULES\tTITLE")
	for _, c := range controls {
		counts[c.Automation]++
		rules := strings.Join(c.Rules, ", ")
		if rules == "" {
			rules = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", c.ID, automationLabel(c.Automation), rules, c.Title)
	}
	w.Flush()
	for _, c := range controls {
		if c.ManualCheck != "" {
			fmt.Fprintf(buf, "\n%s %s: %s\n", c.ID, automationLabel(c.Automation), c.ManualCheck)
		}
	}
	fmt.Fprintf(buf, "\n%d controls: %d automated, %d partly automated, %d manual (MANUAL: no rule decides it; an auditor checks it as said above).\n",
		len(controls), counts[compliance.Automated], counts[compliance.PartlyAutomated], counts[compliance.NotAutomated])
}

func writeControlsMarkdown(buf *bytes.Buffer, controls []controlEntry) {
	if len(controls) == 0 {
		return
	}
	buf.WriteString("\n### Controls\n\n| Control | Assessed | Rules | Title | Check by hand |\n|---|---|---|---|---|\n")
	for _, c := range controls {
		rules := make([]string, len(c.Rules))
		for i, r := range c.Rules {
			rules[i] = "`" + r + "`"
		}
		fmt.Fprintf(buf, "| %s | %s | %s | %s | %s |\n", c.ID, automationLabel(c.Automation), strings.Join(rules, ", "), c.Title, strings.ReplaceAll(c.ManualCheck, "|", "\\|"))
	}
}
