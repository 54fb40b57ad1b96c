package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestPackageBoundaries holds the layout the style guide describes: the
// snapshot, rules and writers never depend on the AWS SDK (so rules stay
// pure functions of a snapshot and run offline), and the collector never
// depends on the rules or the writers (data flows one way). The report
// model knows no terminal (the server renders the same Document), and
// the writers sit above it: see reportImports.
func TestPackageBoundaries(t *testing.T) {
	const mod = "github.com/vigil-sec/vigil/internal/"
	sdk := []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}
	terminal := []string{"github.com/muesli/termenv", "github.com/schollz/progressbar", "github.com/charmbracelet/glamour",
		"golang.org/x/term", "github.com/spf13/cobra", "github.com/spf13/pflag"}
	cases := []struct {
		pkg       string
		forbidden []string
	}{
		{"snapshot", sdk},
		{"credreport", sdk},
		{"input", sdk},
		{"rule", sdk},
		{"rules", sdk},
		{"report", sdk},
		{"report", terminal},
		{"redact", sdk},
		{"report/...", append([]string{mod + "collect", mod + "orgscan", mod + "fleet", mod + "cli"}, sdk...)},
		{"compliance", sdk},
		{"iampolicy", sdk},
		{"prevent", sdk},
		{"change", sdk},
		{"collect", []string{mod + "rule", mod + "rules", mod + "report", mod + "cli"}},
		{"fleet", []string{mod + "rule", mod + "rules", mod + "report", mod + "cli"}},
		{"awsemu", []string{mod + "collect", mod + "rules", mod + "fleet", mod + "fix"}},
		// Alerts: the model and the HTTP and SMTP channels need no SDK;
		// none of notify reaches the rules catalog or the command line.
		{"notify", append([]string{mod + "rules", mod + "collect", mod + "fleet", mod + "cli"}, sdk...)},
		{"notify/webhook", sdk},
		{"notify/slack", sdk},
		{"notify/email", sdk},
		{"notify/...", []string{mod + "rules", mod + "cli", mod + "scan"}},
		{"serveconfig", append([]string{mod + "rules", mod + "cli"}, sdk...)},
		// The API and the dashboard read the store; they neither scan nor
		// reach the command line.
		{"api", append([]string{mod + "cli", mod + "scan", mod + "collect", mod + "fleet"}, sdk...)},
		{"dashboard", append([]string{mod + "cli", mod + "scan", mod + "collect", mod + "fleet"}, sdk...)},
	}
	for _, c := range cases {
		out, err := exec.Command("go", "list", "-deps", mod+c.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", c.pkg, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 2 {
			t.Fatalf("go list %s listed nothing", c.pkg)
		}
		for _, d := range deps {
			for _, f := range c.forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("internal/%s depends on %s", c.pkg, d)
				}
			}
		}
	}
	t.Run("report imports", reportImports)
}

// reportImports holds the outputs' layout: every package under
// internal/report imports the model (a writer renders a report.Document,
// nothing else); only the command line imports report/formats, the one
// switch over the writers; and only tests import report/reporttest, which
// the binary never links.
func reportImports(t *testing.T) {
	const report = "github.com/vigil-sec/vigil/internal/report"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/vigil-sec/vigil/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	writers := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, imports := f[0], f[1:]
		if strings.HasPrefix(pkg, report+"/") {
			writers++
			if !slices.Contains(imports, report) {
				t.Errorf("%s does not import %s: a writer renders the model", pkg, report)
			}
		}
		if slices.Contains(imports, report+"/formats") && pkg != "github.com/vigil-sec/vigil/internal/cli" {
			t.Errorf("%s imports report/formats: only the command line picks a format", pkg)
		}
		if slices.Contains(imports, report+"/reporttest") {
			t.Errorf("%s imports report/reporttest, which is for tests", pkg)
		}
	}
	if writers < 3 {
		t.Fatalf("go list found %d packages under internal/report", writers)
	}
	deps, err := exec.Command("go", "list", "-deps", "github.com/vigil-sec/vigil/cmd/vigil").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if slices.Contains(strings.Fields(string(deps)), report+"/reporttest") {
		t.Errorf("the binary links report/reporttest")
	}
}
