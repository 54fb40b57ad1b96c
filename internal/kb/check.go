package kb

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// Parser is the Markdown dialect of the pages: CommonMark with GitHub's
// tables. The site and the terminal renderer use the same one, so what the
// checks see is what readers get.
var Parser = goldmark.New(goldmark.WithExtensions(extension.GFM))

// heading is a node of the page's outline.
type heading struct {
	level   int
	title   string
	line    int
	content bool // some non-heading block lies directly under it
	subs    []*heading
}

var (
	blockInfo = regexp.MustCompile(`^(sh|python|json|go|text)((?: [a-z]+=[A-Za-z0-9_./-]+)*)$`)
	attr      = regexp.MustCompile(`([a-z]+)=([A-Za-z0-9_./-]+)`)
	// The mistakes published Python makes: acting on an IAM user called
	// root instead of the root user, and keys written into the script.
	pyRootUserName = regexp.MustCompile(`UserName\s*=\s*["']root["']`)
	scriptName     = regexp.MustCompile(`\b[A-Za-z0-9_]+\.py\b`)
	pyCredentials  = regexp.MustCompile(`aws_(?:secret_access_key|access_key_id|session_token)\s*=\s*["']|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)
)

// check parses the composed page, fills in its blocks, and verifies the
// outline, the code block tags and the links.
func (p *Page) check(links map[string]bool) error {
	file := "pages/" + p.Rule.ID + ".md"
	src := []byte(p.Markdown)
	doc := Parser.Parser().Parse(text.NewReader(src))
	lineOf := func(offset int) int { return 1 + strings.Count(p.Markdown[:offset], "\n") }

	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s (composed) line %d: %s", file, line, fmt.Sprintf(format, args...)))
	}

	root := &heading{level: 1}
	stack := []*heading{root}
	// Only top-level blocks decide what a heading holds; code blocks are
	// found anywhere (they sit inside list items too).
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok {
			if h.Level == 1 {
				continue
			}
			node := &heading{level: h.Level, title: plainText(h, src), line: lineOf(h.Lines().At(0).Start)}
			for len(stack) > 1 && stack[len(stack)-1].level >= h.Level {
				stack = stack[:len(stack)-1]
			}
			parent := stack[len(stack)-1]
			if h.Level > parent.level+1 {
				bad(node.line, "heading %q skips a level", node.title)
			}
			parent.subs = append(parent.subs, node)
			stack = append(stack, node)
			continue
		}
		stack[len(stack)-1].content = true
	}
	checkOutline(root, Outline, "", bad)
	checkEmpty(root, bad)

	var path []string
	// What each H3 holds, for the rule that AWS CLI commands come with Python.
	type h3 struct {
		sh, python int
		line       int
		scripts    []string // inline code naming a .py file
	}
	var order []string
	sections := map[string]*h3{}
	section := func() *h3 {
		key := strings.Join(path[:min(2, len(path))], " > ")
		if sections[key] == nil {
			sections[key] = &h3{}
			order = append(order, key)
		}
		return sections[key]
	}
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			// The page title (H1) is above everything; the path starts at H2.
			if n.Level >= 2 && n.Level-2 <= len(path) {
				path = append(path[:n.Level-2], plainText(n, src))
			}
		case *ast.FencedCodeBlock:
			line := 1
			if n.Info != nil {
				line = lineOf(n.Info.Segment.Start)
			}
			b, err := block(n, src, path, line)
			if err != nil {
				bad(line, "%v", err)
				return ast.WalkSkipChildren, nil
			}
			p.Blocks = append(p.Blocks, b)
			switch sec := section(); b.Lang {
			case "sh":
				if sec.sh == 0 {
					sec.line = line
				}
				sec.sh++
			case "python":
				sec.python++
			}
		case *ast.CodeSpan:
			sec := section()
			sec.scripts = append(sec.scripts, scriptName.FindAllString(plainText(n, src), -1)...)
		case *ast.CodeBlock:
			bad(lineOf(n.Lines().At(0).Start), "indented code block: use a tagged fenced block")
		case *ast.HTMLBlock, *ast.RawHTML:
			// Renderers drop raw HTML, so text like <ACCOUNT_ID> outside
			// backticks would vanish from the page.
			bad(lineNear(n, src, lineOf), "raw HTML (write placeholders such as <ID> inside backticks)")
		case *ast.Link:
			checkLink(string(n.Destination), links, func(format string, args ...any) { bad(lineNear(n, src, lineOf), format, args...) })
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		return err
	}
	scripts := map[string]bool{}
	for _, b := range p.Blocks {
		if b.Lang == "python" {
			scripts[b.File] = true
		}
	}
	for _, key := range order {
		sec := sections[key]
		if sec.sh == 0 || sec.python > 0 || slices.ContainsFunc(sec.scripts, func(s string) bool { return scripts[s] }) {
			continue
		}
		bad(sec.line, "section %q has AWS CLI commands but no Python: add a python block, or name a script shown on the page (`NAME.py`)", key)
	}
	ids := map[string]Block{}
	for _, b := range p.Blocks {
		if b.ID == "" {
			continue
		}
		// A script may be shown again where it applies again (the check of
		// "How to find it" is also the check after the fix), but an ID
		// names one text.
		if prev, ok := ids[b.ID]; ok && (b.Lang != "python" || prev.Code != b.Code) {
			bad(b.Line, "block ID %s used twice in the page", b.ID)
		}
		ids[b.ID] = b
		// The IAM user rules' pages name users; every other page is about
		// root, which no --user-name reaches.
		if b.Lang == "sh" && strings.Contains(b.Code, "--user-name") && !strings.HasPrefix(p.Rule.ID, "iam-") {
			bad(b.Line, "block %s passes --user-name: root is not an IAM user", b.ID)
		}
		if b.Lang == "python" {
			if pyRootUserName.MatchString(b.Code) {
				bad(b.Line, "block %s passes UserName='root': root is not an IAM user", b.ID)
			}
			if pyCredentials.MatchString(b.Code) {
				bad(b.Line, "block %s holds credentials in its code: take them from the environment", b.ID)
			}
		}
	}
	return errors.Join(errs...)
}

func block(n *ast.FencedCodeBlock, src []byte, path []string, line int) (Block, error) {
	info := ""
	if n.Info != nil {
		info = strings.TrimSpace(string(n.Info.Segment.Value(src)))
	}
	m := blockInfo.FindStringSubmatch(info)
	if m == nil {
		return Block{}, fmt.Errorf("code block info %q: want sh, python, json, go or text, then key=value tags", info)
	}
	var code strings.Builder
	for i := 0; i < n.Lines().Len(); i++ {
		seg := n.Lines().At(i)
		code.Write(seg.Value(src))
	}
	b := Block{Lang: m[1], Code: code.String(), Path: append([]string(nil), path...), Line: line}
	for _, kv := range attr.FindAllStringSubmatch(m[2], -1) {
		switch kv[1] {
		case "id":
			b.ID = kv[2]
		case "file":
			b.File = kv[2]
		case "snippet":
			b.Snippet = kv[2]
		default:
			return Block{}, fmt.Errorf("code block tag %q: want id, file or snippet", kv[1])
		}
	}
	switch b.Lang {
	case "sh":
		if b.ID == "" || b.File != "" || b.Snippet != "" {
			return Block{}, errors.New("a sh block needs an id and nothing else")
		}
	case "python":
		if b.ID == "" || !strings.HasSuffix(b.File, ".py") || b.Snippet != "" {
			return Block{}, errors.New("a python block needs an id and the file=NAME.py the page tells the reader to save it as")
		}
	case "json":
		if b.ID == "" || b.File == "" || b.Snippet != "" {
			return Block{}, errors.New("a json block needs an id and the file= it is saved as")
		}
	case "go":
		if b.Snippet == "" || b.ID != "" || b.File != "" {
			return Block{}, errors.New("a go block needs snippet=FILE and nothing else")
		}
	case "text":
		if b.ID != "" || b.File != "" || b.Snippet != "" {
			return Block{}, errors.New("a text block takes no tags")
		}
	}
	if strings.TrimSpace(b.Code) == "" && b.Lang != "go" {
		return Block{}, errors.New("empty code block")
	}
	return b, nil
}

func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			b.Write(t.Segment.Value(src))
		}
		if s, ok := c.(*ast.String); ok && entering {
			b.Write(s.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// lineNear finds a line for an inline node, which has no position of its
// own, from the nearest block ancestor.
func lineNear(n ast.Node, src []byte, lineOf func(int) int) int {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if p.Type() == ast.TypeBlock && p.Lines().Len() > 0 {
			return lineOf(p.Lines().At(0).Start)
		}
	}
	return 1
}

func checkLink(dest string, links map[string]bool, bad func(string, ...any)) {
	switch {
	case strings.HasPrefix(dest, "https://"):
		return
	case strings.Contains(dest, "://"), strings.HasPrefix(dest, "mailto:"):
		bad("link %q: only https links leave the knowledge base", dest)
		return
	case strings.HasPrefix(dest, "#"):
		return // anchors within the page are checked in the generated site
	}
	page, _, _ := strings.Cut(dest, "#")
	if !links[page] {
		bad("link %q points to no page of the knowledge base", dest)
	}
}

func checkOutline(h *heading, want []OutlineSection, where string, bad func(int, string, ...any)) {
	if len(want) == 0 {
		return
	}
	line := h.line
	if line == 0 {
		line = 1
	}
	// The writer may add headings, but the required ones must be there in
	// this order; at the top level nothing else is allowed.
	i := 0
	for _, s := range h.subs {
		if i < len(want) && s.title == want[i].Title {
			checkOutline(s, want[i].Sub, where+s.title+" > ", bad)
			i++
			continue
		}
		if h.level == 1 {
			bad(s.line, "section %q is not in the outline (want %s)", s.title, outlineTitles(Outline))
		}
	}
	for ; i < len(want); i++ {
		bad(line, "missing section %s%q (in order: %s)", where, want[i].Title, outlineTitles(want))
	}
}

func outlineTitles(s []OutlineSection) string {
	var t []string
	for _, x := range s {
		t = append(t, x.Title)
	}
	return strings.Join(t, ", ")
}

// checkEmpty requires every heading to hold something: text of its own, or
// sub-sections that do.
func checkEmpty(h *heading, bad func(int, string, ...any)) bool {
	has := h.content
	for _, s := range h.subs {
		if checkEmpty(s, bad) {
			has = true
		}
	}
	if !has && h.level > 1 {
		bad(h.line, "section %q is empty", h.title)
	}
	return has || h.level == 1
}
