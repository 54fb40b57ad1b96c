package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
)

// The knowledge base and the compliance catalog are embedded in the binary
// and checked by the tests, so a failure to load them is a broken build,
// reported as a runtime error rather than a panic.

func loadCatalog() (*compliance.Catalog, error) {
	c, err := compliance.Default(ruleIDs())
	if err != nil {
		return nil, fmt.Errorf("load the compliance catalog: %w", err)
	}
	return c, nil
}

func loadPages(c *compliance.Catalog) ([]*kb.Page, error) {
	pages, err := kb.Load(rules.All(), c)
	if err != nil {
		return nil, fmt.Errorf("load the knowledge base: %w", err)
	}
	return pages, nil
}

func ruleIDs() []string {
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	return ids
}

// findRule resolves a rule ID given on the command line.
func findRule(id string) (rule.Rule, error) {
	if r, ok := rules.ByID(id); ok {
		return r, nil
	}
	ids := ruleIDs()
	sort.Strings(ids)
	return rule.Rule{}, usagef("unknown rule %q; valid: %s", id, strings.Join(ids, ", "))
}

func rulesByID(id string) (rule.Rule, bool) { return rules.ByID(id) }

// reportKnowledge is what the knowledge base and the compliance catalog
// say about every rule, for the report formats that carry it (SARIF's
// rule help, OCSF's compliance and remediation).
func reportKnowledge() (report.Knowledge, error) {
	cat, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	pages, err := loadPages(cat)
	if err != nil {
		return nil, err
	}
	k := report.Knowledge{}
	for _, p := range pages {
		rk := report.RuleKnowledge{Help: p.Markdown}
		rk.Summary = sectionBody(p, "Risk")
		rk.Remediation = sectionBody(p, "Remediation", "Standalone or management account")
		rk.RemediationMember = sectionBody(p, "Remediation", "Organizations member accounts")
		for _, m := range cat.RuleMappings(p.Rule.ID) {
			c := report.Control{Framework: m.Framework, FrameworkName: m.Framework, Version: m.Version, ID: m.Control, Coverage: string(m.Coverage)}
			if fw, ok := cat.Framework(m.Framework); ok {
				c.FrameworkName = fw.Name
				for _, v := range fw.Versions {
					if v.Version != m.Version {
						continue
					}
					if ctl, ok := v.Control(m.Control); ok {
						c.Title = ctl.Title
					}
				}
			}
			rk.Controls = append(rk.Controls, c)
		}
		k[p.Rule.ID] = rk
	}
	return k, nil
}

// sectionBody is the text of a page's section before its first
// sub-heading, without its own heading: the paragraph that says what the
// section is about.
func sectionBody(p *kb.Page, titles ...string) string {
	md, err := p.Section(titles...)
	if err != nil {
		return ""
	}
	_, body, _ := strings.Cut(md, "\n")
	if i := strings.Index(body, "\n#"); i >= 0 {
		body = body[:i]
	}
	return strings.TrimSpace(body)
}
