package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestProgressOnTerminal: on a terminal an organisation scan shows a bar
// on stderr (accounts done of total, elapsed); stdout gets the report
// alone. Off a terminal, or with --quiet, there is no bar.
func TestProgressOnTerminal(t *testing.T) {
	run := func(terminal bool, args ...string) (string, string) {
		var out, errb bytes.Buffer
		app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Version: "test",
			Now:    testclock.Ref,
			Getenv: func(string) string { return "" },
			IsTerminal: func(w io.Writer) bool {
				return terminal && w == io.Writer(&errb)
			},
		}
		if code := Main(context.Background(), args, app); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		return out.String(), errb.String()
	}
	out, errOut := run(true, "scan", "--org", "--demo", "--format", "json")
	if !strings.Contains(errOut, "accounts") || !strings.Contains(errOut, "5/5") {
		t.Errorf("no progress bar on a terminal stderr: %q", errOut)
	}
	if strings.Contains(out, "5/5") || !strings.HasPrefix(out, "{") {
		t.Errorf("the bar leaked into the report on stdout: %.200q", out)
	}
	if _, errOut := run(true, "scan", "--org", "--demo", "--quiet"); strings.Contains(errOut, "5/5") {
		t.Errorf("--quiet still shows the bar: %q", errOut)
	}
	if _, errOut := run(false, "scan", "--org", "--demo"); errOut != "" {
		t.Errorf("stderr is not a terminal, yet: %q", errOut)
	}
}
