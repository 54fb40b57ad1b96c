package markdown

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestConformance: the Markdown writer keeps the writer contract.
func TestConformance(t *testing.T) {
	reporttest.Run(t, New(), read)
}

var (
	md  = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	br  = regexp.MustCompile(`<br\s*/?>`)
	tag = regexp.MustCompile(`<[^>]*>`)
	// inline elements are removed without a space, block ones leave one.
	inline = regexp.MustCompile(`</?(a|code|strong)\b[^>]*>`)
	allow  = map[string]bool{"p": true, "h2": true, "h3": true, "h4": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
		"ul": true, "li": true, "a": true, "details": true, "summary": true, "br": true, "code": true, "strong": true, "blockquote": true}
)

// read renders the Markdown as GitHub does (GFM, raw HTML allowed, as
// GitHub's sanitiser allows <details>), checks that the only elements are
// those the writer means to make (text from outside made none: no link,
// image or script; a URL in a message is autolinked, as GitHub does),
// and returns the text a reader sees.
func read(out []byte) (string, error) {
	var b bytes.Buffer
	if err := md.Convert(out, &b); err != nil {
		return "", err
	}
	for _, m := range regexp.MustCompile(`<(/?)([a-zA-Z0-9]+)`).FindAllStringSubmatch(b.String(), -1) {
		if !allow[strings.ToLower(m[2])] {
			return "", &unexpected{m[2]}
		}
	}
	s := br.ReplaceAllString(b.String(), "\n")
	s = inline.ReplaceAllString(s, "")
	s = tag.ReplaceAllString(s, " ")
	return html.UnescapeString(s), nil
}

type unexpected struct{ tag string }

func (u *unexpected) Error() string { return "the rendered Markdown has a <" + u.tag + "> element" }

// TestHostileText: text from outside that would be Markdown or HTML
// (a link, an image, a script, a table break, a mention, emphasis) shows
// as itself and makes no element.
func TestHostileText(t *testing.T) {
	const hostile = "[click](https://evil.example) ![x](https://evil.example/x.png) <script>alert(1)</script> | cell | @octocat *bold* `code` \\ <details>"
	snap := snapshot.New(testclock.Ref(), "test", snapshot.Source{Kind: snapshot.SourceAWS})
	snap.Accounts = []snapshot.Account{{ID: "111122223333", Name: hostile, Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleStandalone}}}
	d := report.Build(snap, []rule.Result{{Meta: &rule.Meta{RuleID: "root-access-key", Title: "t", AccountID: "111122223333"},
		Status: rule.Fail, Severity: rule.Critical,
		Resource: "arn:aws:iam::111122223333:root", Message: hostile, Evidence: []rule.Evidence{{Source: "x", Value: hostile}}}}, report.Tool{Version: "t"}, testclock.Ref())
	var b bytes.Buffer
	if err := New().Write(&b, d); err != nil {
		t.Fatal(err)
	}
	text, err := read(b.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if strings.Count(strings.Join(strings.Fields(text), " "), strings.Join(strings.Fields(hostile), " ")) < 3 {
		t.Errorf("the hostile text is not shown as itself (name, message, evidence):\n%s", text)
	}
	if strings.Contains(b.String(), "@octocat") {
		t.Errorf("a mention is left in the Markdown")
	}
}

// TestOrder: failing findings come first, most severe first, before the
// undecided ones; the full list is folded.
func TestOrder(t *testing.T) {
	snap := snapshot.New(testclock.Ref(), "test", snapshot.Source{Kind: snapshot.SourceAWS})
	snap.Accounts = []snapshot.Account{{ID: "111122223333", Name: "a", Partition: "aws"}, {ID: "222233334444", Name: "b", Partition: "aws"}}
	res := func(acct, id string, st rule.Status, sev rule.Severity) rule.Result {
		return rule.Result{Meta: &rule.Meta{RuleID: id, AccountID: acct}, Status: st, Severity: sev, Resource: "arn:aws:iam::" + acct + ":root", Message: id + " in " + acct}
	}
	d := report.Build(snap, []rule.Result{
		res("111122223333", "low-rule", rule.Fail, rule.Low), res("111122223333", "unknown-rule", rule.Unknown, rule.Critical),
		res("222233334444", "critical-rule", rule.Fail, rule.Critical), res("111122223333", "pass-rule", rule.Pass, rule.Critical),
	}, report.Tool{Version: "t"}, testclock.Ref())
	var b bytes.Buffer
	if err := New().Write(&b, d); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	order := []string{"## Vigil: 2 failing findings, 1 undecided", "### Failing (2)", "critical-rule in 222233334444", "low-rule in 111122223333",
		"### Undecided (UNKNOWN) (1)", "<details>", "<summary>Every result (4)</summary>", "pass-rule in 111122223333"}
	at := 0
	for _, s := range order {
		i := strings.Index(out[at:], strings.ReplaceAll(s, "-", "-"))
		if i < 0 {
			t.Fatalf("%q is not after byte %d:\n%s", s, at, out)
		}
		at += i
	}
}
