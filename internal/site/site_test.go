package site_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

func TestSiteLinks(t *testing.T) {
	files := build(t)
	for _, p := range site.Check(files) {
		t.Error(p)
	}
	// One page per rule and per framework, an index and the style sheet.
	cat, err := compliance.Default(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(rules.All()) + len(cat.Frameworks) + 2; len(files) != want {
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

// TestCheckCatchesBreakage makes sure the checker itself can fail.
func TestCheckCatchesBreakage(t *testing.T) {
	files := map[string][]byte{
		"index.html":  []byte(`<a href="a.html">a</a><a href="a.html#nope">x</a><a href="gone.html">g</a>`),
		"a.html":      []byte(`<p id="x">a</p>`),
		"orphan.html": []byte(`<p>alone</p>`),
	}
	got := strings.Join(site.Check(files), "\n")
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
