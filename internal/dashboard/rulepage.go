package dashboard

import (
	"bytes"
	"html/template"
	"regexp"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/kb"
)

// A finding's page shows its rule's knowledge base page (risk,
// compliance, cause, remediation, prevention): what `vigil explain`
// prints, rendered once per rule and kept.

// markdown renders the pages. Raw HTML in the Markdown is not rendered
// (goldmark's default), so a page cannot inject markup; links to other
// rules' pages go to the API's rule route, which serves the same text.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(ruleLinks{}, 100))),
)

type ruleLinks struct{}

var mdLink = regexp.MustCompile(`^([a-z0-9-]+)\.md(#.*)?$`)

func (ruleLinks) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			if m := mdLink.FindSubmatch(l.Destination); m != nil {
				l.Destination = append([]byte("/api/v1/rules/"), m[1]...)
			}
		}
		return ast.WalkContinue, nil
	})
}

var rulePages sync.Map // rule ID → template.HTML

// rulePage is the rule's page as HTML, "" when there is none.
func rulePage(ruleID string) template.HTML {
	if v, ok := rulePages.Load(ruleID); ok {
		return v.(template.HTML)
	}
	k, err := api.LoadKnowledge()
	if err != nil {
		return ""
	}
	p, ok := kb.Find(k.Pages, ruleID)
	if !ok {
		return ""
	}
	var b bytes.Buffer
	if err := markdown.Convert([]byte(p.Markdown), &b); err != nil {
		return ""
	}
	// goldmark escapes the page's text and drops raw HTML: the output
	// is safe to embed as is.
	h := template.HTML(b.String())
	rulePages.Store(ruleID, h)
	return h
}
