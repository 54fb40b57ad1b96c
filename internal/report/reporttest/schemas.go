package reporttest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/internal/report"
)

// Schemas is the variable naming the directory of the official schemas
// (../shared/schemas beside the repository by default), and
// RequireSchemas the one that makes their absence a failure: CI sets it,
// so a validation test cannot quietly skip there.
const (
	Schemas        = "VIGIL_SCHEMAS"
	RequireSchemas = "VIGIL_REQUIRE_SCHEMAS"
)

// SchemaDir is the directory of the official schemas (its README lists
// them): $VIGIL_SCHEMAS, or ../shared/schemas from the repository's root.
// When neither exists the test is skipped, or fails when
// VIGIL_REQUIRE_SCHEMAS=1.
func SchemaDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(Schemas)
	if dir == "" {
		if root, ok := moduleRoot(); ok {
			dir = filepath.Join(root, "..", "shared", "schemas")
		}
	}
	if dir != "" {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
	}
	if os.Getenv(RequireSchemas) == "1" {
		t.Fatalf("the official schemas are not at %q (set %s to their directory); %s=1 makes this a failure", dir, Schemas, RequireSchemas)
	}
	t.Skipf("the official schemas are not at %q: set %s to their directory", dir, Schemas)
	return ""
}

// moduleRoot is the directory holding go.mod, from the test's directory up.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// A Document is one of the suite's documents, for a format's own tests
// (validating each against the format's schema).
type Document struct {
	Name string
	Doc  *report.Document
}

// Documents is the suite's corpus, built: one account, an organisation,
// a compliance view, the empty ones, Unicode, planted secrets, control
// characters.
func Documents() []Document {
	var out []Document
	for _, d := range corpus() {
		out = append(out, Document{Name: d.name, Doc: d.build(nil)})
	}
	return out
}
