package cli

import (
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/guide"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/report/asff"
	"github.com/vigil-sec/vigil/internal/report/formats"
	"github.com/vigil-sec/vigil/internal/report/html"
)

// reportGuides is the advice the asff and html writers add to results:
// each rule's fix, from its knowledge base page, and the compliance
// controls it maps to, from the catalog.
func reportGuides() (guide.Guides, error) {
	cat, pages, err := catalogAndPages()
	if err != nil {
		return nil, err
	}
	return guidesFrom(pages, cat), nil
}

func guidesFrom(pages []*kb.Page, cat *compliance.Catalog) guide.Guides {
	g := guide.Guides{}
	for _, p := range pages {
		var reqs []string
		for _, m := range cat.RuleMappings(p.Rule.ID) {
			name := m.Framework
			if f, ok := cat.Framework(m.Framework); ok {
				name = f.Name
			}
			reqs = append(reqs, name+" "+m.Version+"/"+m.Control)
		}
		g[p.Rule.ID] = guide.Guide{Fix: fixSummary(p), Requirements: reqs}
	}
	return g
}

// fixSummary is the first paragraph of the page's remediation for a
// standalone or management account (the one every account's fix starts
// from), as plain text.
func fixSummary(p *kb.Page) string {
	md, err := p.Section("Remediation", "Standalone or management account")
	if err != nil {
		if md, err = p.Section("Remediation"); err != nil {
			return ""
		}
	}
	var para []string
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#"), strings.HasPrefix(line, "```"):
			if len(para) > 0 {
				return plain(strings.Join(para, " "))
			}
			continue
		case line == "":
			if len(para) > 0 {
				return plain(strings.Join(para, " "))
			}
			continue
		}
		para = append(para, line)
	}
	return plain(strings.Join(para, " "))
}

var (
	mdLink     = regexp.MustCompile(`\[([^\]]+)\]\([^)]*\)`)
	mdEmphasis = regexp.MustCompile("\\*\\*|__|`")
	mdItalic   = regexp.MustCompile(`\*([^*\s][^*]*)\*`)
)

// plain is Markdown inline text without its markup: links become their
// text, emphasis and code marks go.
func plain(s string) string {
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdEmphasis.ReplaceAllString(s, "")
	s = mdItalic.ReplaceAllString(s, "$1")
	return strings.Join(strings.Fields(s), " ")
}

// writerOptions are the options of the writers that carry advice (asff,
// html): the guides, loaded only for them, and the Region findings are
// for (--region; empty picks the partition's first).
func writerOptions(f formats.Format, region string) (formats.Options, error) {
	var o formats.Options
	if f != formats.ASFF && f != formats.HTML {
		return o, nil
	}
	g, err := reportGuides()
	if err != nil {
		return o, err
	}
	o.ASFF = asff.Options{Region: region, Guides: g}
	o.HTML = html.Options{Guides: g}
	return o, nil
}
