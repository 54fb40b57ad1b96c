package site

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/net/html"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/vigil-sec/vigil/internal/atomicfile"
	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/rule"
)

//go:embed style.css layout.html
var assets embed.FS

var layout = template.Must(template.ParseFS(assets, "layout.html"))

// markdown renders the pages: GitHub tables, heading IDs for anchors,
// and links between pages rewritten to the HTML files. Raw HTML in the
// Markdown is not rendered (goldmark's default), so nothing in a page can
// inject markup.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(
		parser.WithAutoHeadingID(),
		parser.WithAttribute(),
		parser.WithASTTransformers(util.Prioritized(linkRewriter{}, 100)),
	),
)

type linkRewriter struct{}

var mdLink = regexp.MustCompile(`^([a-z0-9-]+)\.md(#.*)?$`)

// Transform points links to other pages at their HTML files.
func (linkRewriter) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			if m := mdLink.FindSubmatch(l.Destination); m != nil {
				l.Destination = append(append(m[1], ".html"...), m[2]...)
			}
		}
		return ast.WalkContinue, nil
	})
}

type navItem struct{ Href, Text string }

type pageData struct {
	Title      string
	Version    string
	Body       template.HTML
	Rules      []navItem
	Frameworks []navItem
}

// Build renders the whole site in memory: file name → content.
func Build(pages []*kb.Page, rules []rule.Rule, catalog *compliance.Catalog, version string) (map[string][]byte, error) {
	files := map[string][]byte{}
	css, err := assets.ReadFile("style.css")
	if err != nil {
		return nil, err
	}
	files["style.css"] = css

	var nav pageData
	nav.Version = version
	for _, r := range rules {
		nav.Rules = append(nav.Rules, navItem{r.ID + ".html", r.ID})
	}
	for _, f := range catalog.Frameworks {
		nav.Frameworks = append(nav.Frameworks, navItem{frameworkFile(f.ID), f.Name})
	}
	render := func(name, title, md string) error {
		var body bytes.Buffer
		if err := markdown.Convert([]byte(md), &body); err != nil {
			return fmt.Errorf("render %s: %w", name, err)
		}
		d := nav
		d.Title, d.Body = title, template.HTML(body.String())
		var out bytes.Buffer
		if err := layout.Execute(&out, d); err != nil {
			return fmt.Errorf("render %s: %w", name, err)
		}
		files[name] = out.Bytes()
		return nil
	}

	if err := render("index.html", "Vigil knowledge base", indexMarkdown(pages, rules, catalog)); err != nil {
		return nil, err
	}
	for _, p := range pages {
		if err := render(p.Rule.ID+".html", p.Rule.Title, p.Markdown); err != nil {
			return nil, err
		}
	}
	for _, f := range catalog.Frameworks {
		if err := render(frameworkFile(f.ID), f.Name, frameworkMarkdown(f, catalog)); err != nil {
			return nil, err
		}
	}
	// A site with a dead link is a bug in Vigil, not in the reader's
	// setup: refuse to write it.
	if problems := Check(files); len(problems) > 0 {
		return nil, fmt.Errorf("the generated site is inconsistent: %s", strings.Join(problems, "; "))
	}
	return files, nil
}

func frameworkFile(id string) string {
	return strings.TrimSuffix(kb.FrameworkPage(id), ".md") + ".html"
}

// Write writes the files into dir, each atomically, creating dir if needed.
func Write(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data := files[n]
		if err := atomicfile.Write(filepath.Join(dir, n), 0o644, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return fmt.Errorf("write site: %w", err)
		}
	}
	return nil
}

// versionAnchor is the ID of a version's section on its framework page.
func versionAnchor(v string) string {
	return "v-" + strings.NewReplacer(".", "-", "/", "-").Replace(v)
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), "|", `\|`), "\n", " ")
}

func indexMarkdown(pages []*kb.Page, rules []rule.Rule, catalog *compliance.Catalog) string {
	var b strings.Builder
	b.WriteString("# Vigil knowledge base\n\n")
	b.WriteString("What each of Vigil's findings means, which compliance controls it breaks, how it arises, and how to " +
		"fix and prevent it: in the console, with the AWS CLI, with Python (boto3) and with the Go SDK, for standalone " +
		"and management accounts and for AWS Organizations member accounts. Every AWS CLI command and every Python " +
		"script on these pages is run by Vigil's tests against an emulator of the AWS APIs, and every Go snippet " +
		"is compiled and run.\n\n")
	b.WriteString("## Rules\n\n| Rule | Finding | Severity | Service | Frameworks |\n|---|---|---|---|---|\n")
	for _, r := range rules {
		seen := map[string]bool{}
		var fws []string
		for _, m := range catalog.RuleMappings(r.ID) {
			if !seen[m.Framework] {
				seen[m.Framework] = true
				fws = append(fws, m.Framework)
			}
		}
		fmt.Fprintf(&b, "| [%s](%s.md) | %s | %s | %s | %d |\n", r.ID, r.ID, cell(r.Title), r.Severity, r.Service, len(fws))
	}
	b.WriteString("\n## Compliance frameworks\n\n")
	b.WriteString("Each framework lists the controls of it that concern the account root user. Coverage says how many " +
		"of them Vigil's rules decide on their own, how many in part, and how many a person must assess.\n\n")
	b.WriteString("| Framework | Versions | Latest: controls | Automated | In part | Manual |\n|---|---|---|---|---|---|\n")
	for _, f := range catalog.Frameworks {
		latest := f.Latest()
		a := catalog.Assess(latest, nil, nil, nil)
		var vs []string
		for _, v := range f.Versions {
			vs = append(vs, fmt.Sprintf("[%s](%s#%s)", v.Version, kb.FrameworkPage(f.ID), versionAnchor(v.Version)))
		}
		fmt.Fprintf(&b, "| [%s](%s) | %s | %s: %d | %d | %d | %d |\n", cell(f.Name), kb.FrameworkPage(f.ID), strings.Join(vs, ", "),
			latest.Version, a.Coverage.Controls, a.Coverage.Automated, a.Coverage.PartlyAutomated, a.Coverage.Manual)
	}
	return b.String()
}

func frameworkMarkdown(f *compliance.Framework, catalog *compliance.Catalog) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", f.Name)
	fmt.Fprintf(&b, "Published by %s. [The framework](%s).\n\n", f.Publisher, f.URL)
	fmt.Fprintf(&b, "**Vigil's scope:** %s\n\n", strings.TrimSpace(f.Scope))
	if f.Notes != "" {
		fmt.Fprintf(&b, "**Notes:** %s\n\n", strings.TrimSpace(f.Notes))
	}
	b.WriteString("Check an account against it with `vigil scan --compliance " + f.ID + "` (the latest version) or `--compliance " + f.ID + ":VERSION`.\n\n")
	var vs []string
	for _, v := range f.Versions {
		vs = append(vs, fmt.Sprintf("[%s](#%s)", v.Version, versionAnchor(v.Version)))
	}
	fmt.Fprintf(&b, "Versions: %s.\n", strings.Join(vs, " · "))
	for i := len(f.Versions) - 1; i >= 0; i-- {
		v := f.Versions[i]
		latest := ""
		if i == len(f.Versions)-1 {
			latest = " (latest)"
		}
		fmt.Fprintf(&b, "\n## Version %s%s {#%s}\n\n", v.Version, latest, versionAnchor(v.Version))
		if len(v.Aliases) > 0 {
			fmt.Fprintf(&b, "Also accepted as: %s.\n\n", strings.Join(v.Aliases, ", "))
		}
		if v.Note != "" {
			fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(v.Note))
		}
		a := catalog.Assess(v, nil, nil, nil)
		c := a.Coverage
		fmt.Fprintf(&b, "%d controls in Vigil's scope: %d decided by a rule, %d checked in part, %d for a person to assess.\n\n",
			c.Controls, c.Automated, c.PartlyAutomated, c.Manual)
		b.WriteString("| Control | Title | Vigil | Rules | Mapping source |\n|---|---|---|---|---|\n")
		for _, ctl := range v.Controls {
			ms := catalog.ControlMappings(v, ctl.ID)
			var rs, srcs []string
			for _, m := range ms {
				r := fmt.Sprintf("[%s](%s.md)", m.Rule, m.Rule)
				switch m.Coverage {
				case compliance.Partial:
					r += " (partial: " + m.Manual + ")"
				case compliance.Evidence:
					r += " (evidence for the person assessing it)"
				}
				rs = append(rs, r)
				srcs = append(srcs, m.Rule+": "+kb.SourceText(m, catalog))
			}
			auto := "manual"
			for _, ca := range a.Controls {
				if ca.ID == ctl.ID {
					auto = string(ca.Automation)
				}
			}
			ctitle := ctl.Title
			var facts []string
			for _, x := range []string{ctl.Section, ctl.Level, ctl.Assessment} {
				if x != "" {
					facts = append(facts, x)
				}
			}
			if len(facts) > 0 {
				ctitle += " (" + strings.Join(facts, "; ") + ")"
			}
			if len(rs) == 0 {
				rs = []string{"none: assess by hand"}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(ctl.ID), cell(ctitle), auto, cell(strings.Join(rs, "; ")), cell(strings.Join(srcs, "; ")))
		}
	}
	return b.String()
}

// Check verifies a generated site: every relative link points to a
// file of the site and, with a fragment, to an element with that ID; every
// HTML file is reachable from index.html. It returns the problems found.
func Check(files map[string][]byte) []string {
	ids := map[string]map[string]bool{}
	links := map[string][]string{}
	var problems []string
	for name, data := range files {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		doc, err := html.Parse(bytes.NewReader(data))
		if err != nil {
			problems = append(problems, name+": "+err.Error())
			continue
		}
		ids[name] = map[string]bool{}
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				for _, a := range n.Attr {
					switch {
					case a.Key == "id":
						if ids[name][a.Val] {
							problems = append(problems, name+": duplicate id "+a.Val)
						}
						ids[name][a.Val] = true
					case (a.Key == "href" || a.Key == "src") && !strings.Contains(a.Val, "://") && !strings.HasPrefix(a.Val, "mailto:"):
						links[name] = append(links[name], a.Val)
					case a.Key == "href" && strings.HasPrefix(a.Val, "http://"):
						problems = append(problems, name+": insecure link "+a.Val)
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
	}
	for name, ls := range links {
		for _, l := range ls {
			file, frag, _ := strings.Cut(l, "#")
			if file == "" {
				file = name
			}
			if _, ok := files[file]; !ok {
				problems = append(problems, name+": broken link "+l)
				continue
			}
			if frag != "" && !ids[file][frag] {
				problems = append(problems, name+": link "+l+" names no element of "+file)
			}
		}
	}
	seen := map[string]bool{"index.html": true}
	queue := []string{"index.html"}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, l := range links[n] {
			file, _, _ := strings.Cut(l, "#")
			if file != "" && !seen[file] {
				seen[file] = true
				queue = append(queue, file)
			}
		}
	}
	for name := range files {
		if !seen[name] {
			problems = append(problems, name+": not reachable from index.html")
		}
	}
	sort.Strings(problems)
	return problems
}
