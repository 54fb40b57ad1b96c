package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The layout of the use cases (../shared/docs/style.md, ARCHITECTURE.md):
// the command line is the only place terminals and flags live, the use
// cases never reach back into it, and test support stays out of the
// binary. Each rule is checked on the real import graph (go list).

const module = "github.com/vigil-sec/vigil"

// graph is every package of the module with its imports and its
// transitive dependencies, test files excluded.
type pkgInfo struct {
	imports, deps []string
}

func importGraph(t *testing.T) map[string]pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	g := map[string]pkgInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("go list line %q", line)
		}
		g[parts[0]] = pkgInfo{imports: strings.Fields(parts[1]), deps: strings.Fields(parts[2])}
	}
	if len(g) < 20 {
		t.Fatalf("go list listed %d packages", len(g))
	}
	return g
}

func has(list []string, prefix string) bool {
	for _, p := range list {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// TestTerminalsOnlyInCLI: nothing below the command line depends on
// cobra, pflag, glamour, the progress bar or terminal detection, so that
// the server and the use cases can run without a terminal.
func TestTerminalsOnlyInCLI(t *testing.T) {
	banned := []string{"github.com/spf13/cobra", "github.com/spf13/pflag", "github.com/charmbracelet/glamour", "github.com/schollz/progressbar", "golang.org/x/term"}
	for pkg, info := range importGraph(t) {
		if pkg == module+"/cmd/vigil" || pkg == module+"/internal/cli" {
			continue
		}
		for _, b := range banned {
			if has(info.deps, b) {
				t.Errorf("%s depends on %s; only internal/cli may", strings.TrimPrefix(pkg, module+"/"), b)
			}
		}
	}
}

// TestUseCasesNeverImportCLI: the use cases and everything the server
// will build on never import the command line.
func TestUseCasesNeverImportCLI(t *testing.T) {
	for pkg, info := range importGraph(t) {
		if pkg == module+"/cmd/vigil" || pkg == module+"/internal/cli" {
			continue
		}
		if has(info.deps, module+"/internal/cli") {
			t.Errorf("%s depends on internal/cli", strings.TrimPrefix(pkg, module+"/"))
		}
	}
}

// TestNoTestSupportInBinary: the binary links no test code (package
// testing, httptest, the tests' clock, the emulator's test helpers), and
// of its packages only demo imports the emulator.
func TestNoTestSupportInBinary(t *testing.T) {
	g := importGraph(t)
	bin, ok := g[module+"/cmd/vigil"]
	if !ok {
		t.Fatal("cmd/vigil not listed")
	}
	for _, banned := range []string{"testing", "net/http/httptest", module + "/internal/testclock", module + "/internal/awsemu/awsemutest", module + "/internal/awsemu/awsemuproc", module + "/internal/kb/kbtest", module + "/internal/slowtest"} {
		for _, d := range bin.deps {
			if d == banned {
				t.Errorf("the vigil binary links %s", banned)
			}
		}
	}
	for _, d := range append(bin.deps, module+"/cmd/vigil") {
		info, ok := g[d]
		if !ok || d == module+"/internal/demo" {
			continue
		}
		for _, imp := range info.imports {
			if imp == module+"/internal/awsemu" {
				t.Errorf("%s imports internal/awsemu; in the binary only internal/demo may", strings.TrimPrefix(d, module+"/"))
			}
		}
	}
}
