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

	var buf bytes.Buffer
	switch o.format.value {
	case "json":
		out := struct {
			Framework string      `json:"framework,omitempty"`
			Rules     []ruleEntry `json:"rules"`
		}{Rules: entries}
		if version != nil {
			out.Framework = version.Spec()
		}
		if err := encodeJSON(&buf, out); err != nil {
			return err
		}
	case "markdown":
		writeRulesMarkdown(&buf, entries, version)
	default:
		writeRulesText(&buf, entries, version)
	}
	_, err = app.Stdout.Write(buf.Bytes())
	return err
}

// controlList names the controls of one rule: "1.5 (partial)".
func controlList(e ruleEntry) string {
	var parts []string
	for _, c := range e.Compliance {
		s := c.Control
		if c.Coverage == compliance.Partial {
			s += " (partial)"
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
