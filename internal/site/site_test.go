package site_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/site"
)

func build(t *testing.T) map[string][]byte {
	t.Helper()
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	cat, err := compliance.Default(ids)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := kb.Load(rules.All(), cat)
	if err != nil {
		t.Fatal(err)
	}
	files, err := site.Build(pages, rules.All(), cat, "test")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// CheckLinks verifies a generated site: every relative link points to a
// file of the site and, with a fragment, to an element with that ID; every
// HTML file is reachable from index.html. It returns the problems found.
func CheckLinks(files map[string][]byte) []string {
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

func TestSiteLinks(t *testing.T) {
	files := build(t)
	for _, p := range CheckLinks(files) {
		t.Error(p)
	}
	// One page per rule and per framework, an index and the style sheet.
	if want := len(rules.All()) + 13 + 2; len(files) != want {
		t.Errorf("%d files, want %d", len(files), want)
	}
	for _, r := range rules.All() {
		page := string(files[r.ID+".html"])
		for _, want := range []string{"<h2 id=\"compliance\">Compliance</h2>", "<h2 id=\"remediation\">Remediation</h2>", `class="language-sh"`, `class="language-go"`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s.html lacks %s", r.ID, want)
			}
		}
	}
}

// TestCheckLinksCatchesBreakage makes sure the checker itself can fail.
func TestCheckLinksCatchesBreakage(t *testing.T) {
	files := map[string][]byte{
		"index.html":  []byte(`<a href="a.html">a</a><a href="a.html#nope">x</a><a href="gone.html">g</a>`),
		"a.html":      []byte(`<p id="x">a</p>`),
		"orphan.html": []byte(`<p>alone</p>`),
	}
	got := strings.Join(CheckLinks(files), "\n")
	for _, want := range []string{"broken link gone.html", "link a.html#nope names no element", "orphan.html: not reachable"} {
		if !strings.Contains(got, want) {
			t.Errorf("checker missed %q:\n%s", want, got)
		}
	}
}

func TestSiteIsDeterministicAndWrittenWhole(t *testing.T) {
	a, b := build(t), build(t)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two builds", name)
		}
	}
	dir := filepath.Join(t.TempDir(), "site")
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "keep.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := site.Write(dir, a); err != nil {
		t.Fatal(err)
	}
	for name, data := range a {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s not written: %v", name, err)
		}
	}
	// A file where the directory should be is an error, not a half-written site.
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, []byte("x"), 0o644)
	if err := site.Write(blocked, a); err == nil {
		t.Error("writing into a file succeeded")
	}
}
