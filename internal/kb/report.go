package kb

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/report"
)

// ReportKnowledge is what the pages and the catalog say about every rule,
// in the shape the report formats that carry it take (SARIF's rule help,
// OCSF's compliance and remediation): the page, its risk paragraph, the
// opening of each remediation, and the framework controls the rule maps
// onto.
func ReportKnowledge(pages []*Page, cat *compliance.Catalog) report.Knowledge {
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
	return k
}

// sectionBody is the text of a page's section before its first
// sub-heading, without its own heading: the paragraph that says what the
// section is about.
func sectionBody(p *Page, titles ...string) string {
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
