package kb

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/rule"
)

//go:embed pages fragments
var embedded embed.FS

// Page is one rule's page, composed and checked.
type Page struct {
	Rule rule.Rule
	// Markdown is the whole page: what 'vigil explain --format markdown'
	// prints and what the site renders.
	Markdown string
	// Blocks are the page's fenced code blocks in order.
	Blocks []Block
}

// Block is a fenced code block of a page.
type Block struct {
	// ID is "RULE/NAME" for a block written in the page and
	// "FRAGMENT/NAME" for one from an included fragment (the same block then
	// appears in every page that includes the fragment). Go blocks have no
	// ID; Snippet names their source file instead.
	ID      string
	Lang    string // sh, python, json, go or text
	File    string // json: the file name the commands read it from
	Snippet string // go: the file in internal/kb/snippets
	Code    string
	// Path is the chain of headings above the block.
	Path []string
	Line int // 1-based line of the opening fence in Markdown
}

// Outline is the fixed section structure of every page: each H2 in order,
// with the H3 and H4 headings it must contain.
var Outline = []OutlineSection{
	{Title: "Risk"},
	{Title: "Compliance"},
	{Title: "Cause", Sub: []OutlineSection{
		{Title: "How it happens"},
		{Title: "How to find it", Sub: consoleCLIGo},
	}},
	{Title: "Remediation", Sub: []OutlineSection{
		{Title: "Standalone or management account", Sub: consoleCLIGo},
		{Title: "Organizations member accounts", Sub: consoleCLIGo},
	}},
	{Title: "Prevention", Sub: []OutlineSection{
		{Title: "Centralised root access"},
		{Title: "Service control policy"},
		{Title: "Alert on root activity"},
		{Title: "What these cannot cover"},
	}},
	{Title: "Common wrong advice"},
	{Title: "References"},
}

// OutlineSection is a heading the outline requires and what it must hold.
type OutlineSection struct {
	Title string
	Sub   []OutlineSection
}

var consoleCLIGo = []OutlineSection{{Title: "Console"}, {Title: "AWS CLI"}, {Title: pythonSection}, {Title: "Go SDK"}}

// pythonSection is the heading of a page's boto3 scripts. Every section
// (H3) that shows AWS CLI commands shows the same in Python: a python block,
// or the name of a script shown elsewhere on the page.
const pythonSection = "Python (boto3)"

// Load composes and checks the page of every rule from the embedded
// sources. Every rule must have a page and every page a rule.
func Load(rules []rule.Rule, catalog *compliance.Catalog) ([]*Page, error) {
	return LoadFS(embedded, rules, catalog)
}

// LoadFS is Load from another file system laid out like the embedded one
// (pages/*.md, fragments/*.md). Errors name the file and line.
func LoadFS(fsys fs.FS, rules []rule.Rule, catalog *compliance.Catalog) ([]*Page, error) {
	fragments := map[string]string{}
	fragFiles, err := fs.Glob(fsys, "fragments/*.md")
	if err != nil {
		return nil, err
	}
	for _, f := range fragFiles {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		fragments[strings.TrimSuffix(strings.TrimPrefix(f, "fragments/"), ".md")] = string(data)
	}

	pageFiles, err := fs.Glob(fsys, "pages/*.md")
	if err != nil {
		return nil, err
	}
	sources := map[string]string{}
	for _, f := range pageFiles {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		sources[strings.TrimSuffix(strings.TrimPrefix(f, "pages/"), ".md")] = string(data)
	}

	var errs []error
	known := map[string]bool{}
	for _, r := range rules {
		known[r.ID] = true
	}
	var stray []string
	for id := range sources {
		if !known[id] {
			stray = append(stray, id)
		}
	}
	sort.Strings(stray)
	for _, id := range stray {
		errs = append(errs, fmt.Errorf("pages/%s.md: no rule has the ID %q", id, id))
	}

	links := linkTargets(rules, catalog)
	usedFragments := map[string]bool{}
	var pages []*Page
	for _, r := range rules {
		src, ok := sources[r.ID]
		if !ok {
			errs = append(errs, fmt.Errorf("rule %s has no page (pages/%s.md)", r.ID, r.ID))
			continue
		}
		p, err := compose(r, src, fragments, usedFragments, catalog)
		if err == nil {
			err = p.check(links)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pages = append(pages, p)
	}
	for name := range fragments {
		if !usedFragments[name] {
			errs = append(errs, fmt.Errorf("fragments/%s.md is included by no page", name))
		}
	}
	if err := checkBlockIDs(pages); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return pages, nil
}

// linkTargets are the relative links a page may use: other pages of the
// knowledge base, as they are named in the site.
func linkTargets(rules []rule.Rule, catalog *compliance.Catalog) map[string]bool {
	t := map[string]bool{"index.md": true}
	for _, r := range rules {
		t[r.ID+".md"] = true
	}
	for _, f := range catalog.Frameworks {
		t[FrameworkPage(f.ID)] = true
	}
	return t
}

// FrameworkPage is the relative link of a framework's page in the site.
func FrameworkPage(frameworkID string) string { return "framework-" + frameworkID + ".md" }

var (
	includeLine = regexp.MustCompile(`(?m)^<!-- vigil:include ([a-z0-9-]+) -->$`)
	fenceID     = regexp.MustCompile("(?m)^(\\s*```[a-z]+ (?:[^\\n]* )?)id=([a-z0-9-]+)")
)

// compose builds the page Markdown: the heading and risk facts from the
// rule, the writer's Risk section, the Compliance section from the
// catalog, then the rest of the source with fragments included and block
// IDs made global.
func compose(r rule.Rule, src string, fragments map[string]string, used map[string]bool, catalog *compliance.Catalog) (*Page, error) {
	file := "pages/" + r.ID + ".md"
	// Block IDs written in the page are qualified with the page's rule ID
	// before fragments go in, whose IDs take the fragment's name.
	src = fenceID.ReplaceAllString(src, "${1}id="+r.ID+"/${2}")
	var missing []string
	src = includeLine.ReplaceAllStringFunc(src, func(line string) string {
		name := includeLine.FindStringSubmatch(line)[1]
		frag, ok := fragments[name]
		if !ok {
			missing = append(missing, name)
			return line
		}
		used[name] = true
		return strings.TrimSpace(fenceID.ReplaceAllString(frag, "${1}id="+name+"/${2}"))
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: includes unknown fragment(s) %s", file, strings.Join(missing, ", "))
	}
	if strings.Contains(src, "<!-- vigil:") {
		return nil, fmt.Errorf("%s: a vigil directive is malformed (want a line <!-- vigil:include NAME -->)", file)
	}
	if !strings.HasPrefix(src, "## Risk\n") {
		return nil, fmt.Errorf("%s: line 1: the page must start with \"## Risk\" (the title comes from the rule)", file)
	}
	risk, rest, ok := strings.Cut(strings.TrimPrefix(src, "## Risk\n"), "\n## Cause\n")
	if !ok {
		return nil, fmt.Errorf("%s: no \"## Cause\" section after Risk", file)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	scope := "each account"
	if r.Scope == rule.OrganizationScope {
		scope = "the organisation"
	}
	fmt.Fprintf(&b, "Rule `%s` · severity **%s** · category %s · service `%s` · evaluated for %s\n\n", r.ID, r.Severity, r.Category, r.Service, scope)
	b.WriteString("## Risk\n\n")
	fmt.Fprintf(&b, "**Risk level: %s.** **Category: %s.**", capitalize(r.Severity.String()), r.Category)
	if r.RootUser {
		b.WriteString(" A failure in an organisation's management account is reported one level higher, because no SCP can restrict that account's root user and centralised root access cannot reach it.")
	}
	b.WriteString("\n\n")
	b.WriteString(strings.TrimSpace(risk))
	b.WriteString("\n\n## Compliance\n\n")
	b.WriteString(complianceSection(r.ID, catalog))
	b.WriteString("\n## Cause\n")
	b.WriteString(rest)
	md := strings.TrimRight(b.String(), "\n") + "\n"
	return &Page{Rule: r, Markdown: md}, nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// complianceSection lists the rule's mappings by framework, and the
// frameworks it does not map to, from the catalog. Consecutive mappings of a
// version that share coverage and sources are listed together, so a
// rationale is said once.
func complianceSection(ruleID string, catalog *compliance.Catalog) string {
	var b strings.Builder
	b.WriteString("The controls this rule helps decide. **Full**: the rule decides the control on its own. ")
	b.WriteString("**Partial**: it checks part of the control; a person checks the rest. ")
	b.WriteString("Each line says where the mapping is published; **Vigil** marks a mapping of Vigil's own, with its reasoning.\n")
	byFramework := map[string][]compliance.Mapping{}
	for _, m := range catalog.RuleMappings(ruleID) {
		byFramework[m.Framework] = append(byFramework[m.Framework], m)
	}
	var unmapped []string
	for _, f := range catalog.Frameworks {
		ms := byFramework[f.ID]
		if len(ms) == 0 {
			unmapped = append(unmapped, f.Name)
			continue
		}
		fmt.Fprintf(&b, "\n### [%s](%s)\n\n", f.Name, FrameworkPage(f.ID))
		// Group the version's mappings that share coverage and sources,
		// in catalog order.
		var groups [][]compliance.Mapping
		for _, m := range ms {
			placed := false
			for gi, g := range groups {
				if sameGroup(g[0], m) {
					groups[gi] = append(g, m)
					placed = true
					break
				}
			}
			if !placed {
				groups = append(groups, []compliance.Mapping{m})
			}
		}
		for _, g := range groups {
			var controls []string
			for _, m := range g {
				v, _ := catalog.Resolve(m.Framework + ":" + m.Version)
				ctl, _ := v.Control(m.Control)
				controls = append(controls, "**"+m.Control+"** "+strings.TrimSuffix(ctl.Title, "."))
			}
			m := g[0]
			cov := "full"
			switch m.Coverage {
			case compliance.Partial:
				cov = "partial; also check by hand: " + strings.TrimSuffix(m.Manual, ".")
			case compliance.Evidence:
				cov = "evidence: a person judges the control with what this rule read, and its pass never passes the control"
			}
			fmt.Fprintf(&b, "- Version %s: %s. Coverage %s. Source: %s\n", m.Version, strings.Join(controls, "; "), cov, strings.TrimSuffix(SourceText(m, catalog), ".")+".")
		}
	}
	if len(unmapped) > 0 {
		fmt.Fprintf(&b, "\nNo control of these frameworks (in Vigil's scope) maps to this rule: %s.\n", strings.Join(unmapped, "; "))
	}
	return b.String()
}

func sameGroup(a, b compliance.Mapping) bool {
	return a.Version == b.Version && a.Coverage == b.Coverage && a.Manual == b.Manual && a.Rationale == b.Rationale &&
		slices.Equal(a.Sources, b.Sources)
}

// SourceText says where a mapping comes from, for people: the sources'
// short names and references, or Vigil's rationale for its own mappings.
func SourceText(m compliance.Mapping, catalog *compliance.Catalog) string {
	var parts []string
	for _, s := range m.Sources {
		if s.ID == "vigil" {
			parts = append(parts, "Vigil's reasoning: "+m.Rationale)
			continue
		}
		name := s.ID
		switch s.ID {
		case "security-hub":
			name = "Security Hub CSPM"
		case "prowler":
			name = "Prowler"
		case "turbot":
			name = "Powerpipe (Turbot)"
		case "config-packs":
			name = "AWS Config conformance packs"
		case "cis":
			name = "CIS benchmark"
		default:
			if src, ok := catalog.Source(s.ID); ok {
				name = src.Name
			}
		}
		if s.Ref != "" {
			name += " (" + s.Ref + ")"
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, "; ")
}

// checkBlockIDs makes sure a block ID names one text: the same fragment
// block in several pages is one block, but two different blocks may not
// share an ID, nor two different scripts a file name.
func checkBlockIDs(pages []*Page) error {
	seen := map[string]Block{}
	where := map[string]string{}
	scripts := map[string]Block{} // a script's file name names one script
	var errs []error
	for _, p := range pages {
		for _, b := range p.Blocks {
			if b.Lang == "python" {
				if prev, ok := scripts[b.File]; ok && prev.Code != b.Code {
					errs = append(errs, fmt.Errorf("%s: %s is the name of two different scripts (%s and %s)", p.Rule.ID, b.File, prev.ID, b.ID))
				}
				scripts[b.File] = b
			}
			if b.ID == "" {
				continue
			}
			if prev, ok := seen[b.ID]; ok && prev.Code != b.Code {
				errs = append(errs, fmt.Errorf("block %s differs between %s and %s", b.ID, where[b.ID], p.Rule.ID))
			}
			seen[b.ID], where[b.ID] = b, p.Rule.ID
		}
	}
	return errors.Join(errs...)
}

// Find returns the page of a rule.
func Find(pages []*Page, ruleID string) (*Page, bool) {
	for _, p := range pages {
		if p.Rule.ID == ruleID {
			return p, true
		}
	}
	return nil, false
}
