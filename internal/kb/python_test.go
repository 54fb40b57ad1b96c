package kb_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/slowtest"
)

// This file proves the Python (boto3) scripts of the knowledge base the way
// awscli_test.go proves the AWS CLI commands: every python block of every
// page is saved as a file and run, unchanged, by a real Python with boto3,
// against the emulator (AWS_ENDPOINT_URL), signed as the identity the page
// names, with the arguments the page tells the reader to give, and the
// account state is checked before and after. A block that no procedure runs
// successfully fails the test.
//
// The Python is VIGIL_PYTHON, else python3 on PATH. Its boto3 must know
// sts.assume_root (1.35 or later). Without one the test skips, unless
// VIGIL_REQUIRE_PYTHON=1 (as in CI), when it fails.

// minBoto3 is the oldest boto3 the scripts are written for: the first
// minor version whose STS client has assume_root.
var minBoto3 = [2]int{1, 35}

type pythonRun struct {
	exe, version string
}

// findPython returns the interpreter to run the scripts with, or why there
// is none fit to.
func findPython(t *testing.T) (pythonRun, error) {
	t.Helper()
	exe := os.Getenv("VIGIL_PYTHON")
	if exe == "" {
		p, err := exec.LookPath("python3")
		if err != nil {
			return pythonRun{}, errors.New("no python3 on PATH (set VIGIL_PYTHON)")
		}
		exe = p
	}
	// Through a pyenv shim this runs the chosen version; the real
	// executable it names is what the scripts then run with, so each start
	// skips the shim.
	probe := `import sys, boto3
print(sys.executable)
print(boto3.__version__)
print(hasattr(boto3.session.Session().client("sts", region_name="us-east-1"), "assume_root"))`
	out, err := exec.Command(exe, "-c", probe).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return pythonRun{}, fmt.Errorf("%s cannot import boto3 (pip install 'boto3>=1.35'): %s", exe, strings.TrimSpace(string(ee.Stderr)))
		}
		return pythonRun{}, fmt.Errorf("%s: %w", exe, err)
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		return pythonRun{}, fmt.Errorf("%s: unexpected answer %q", exe, out)
	}
	v := strings.SplitN(f[1], ".", 3)
	major, _ := strconv.Atoi(v[0])
	minor := 0
	if len(v) > 1 {
		minor, _ = strconv.Atoi(v[1])
	}
	if major < minBoto3[0] || (major == minBoto3[0] && minor < minBoto3[1]) || f[2] != "True" {
		return pythonRun{}, fmt.Errorf("%s has boto3 %s, without sts.assume_root: the scripts need boto3 %d.%d or later", exe, f[1], minBoto3[0], minBoto3[1])
	}
	return pythonRun{exe: f[0], version: f[1]}, nil
}

// pyStep is one script of a page run as the reader would run it.
type pyStep struct {
	block   string            // the python block's ID
	args    []string          // its command-line arguments
	as      string            // sign as this access key
	env     map[string]string // more environment, as a scheduler would set
	want    func(t *testing.T, out string)
	wantErr string // the script must exit non-zero with this in its output
	state   func(t *testing.T, p *procRun)
}

type pyProcedure struct {
	name   string
	world  kbtest.Options
	seed   func(s *kbtest.Services)
	before func(t *testing.T, p *procRun)
	steps  []pyStep
}

func TestPythonScripts(t *testing.T) {
	slowtest.Skip(t, "the pages' Python scripts, each run by Python with boto3")
	t.Parallel()
	py, err := findPython(t)
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_PYTHON") == "1" {
			t.Fatalf("VIGIL_REQUIRE_PYTHON=1: %v", err)
		}
		t.Skipf("%v; set VIGIL_PYTHON to a Python with boto3 1.35 or later", err)
	}
	t.Logf("Python: %s (boto3 %s)", py.exe, py.version)

	blocks := map[string]kb.Block{}
	files := map[string]string{}
	for _, p := range pages(t) {
		for _, b := range p.Blocks {
			switch b.Lang {
			case "python":
				blocks[b.ID] = b
			case "json":
				files[b.File] = b.Code
			}
		}
	}
	var mu sync.Mutex
	ran := map[string]bool{}
	t.Run("procedures", func(t *testing.T) {
		var wg sync.WaitGroup
		for _, pr := range pyProcedures() {
			wg.Go(func() {
				procedureSlots <- struct{}{}
				defer func() { <-procedureSlots }()
				t.Run(pr.name, func(t *testing.T) {
					for _, id := range runPyProcedure(t, py, blocks, files, pr) {
						mu.Lock()
						ran[id] = true
						mu.Unlock()
					}
				})
			})
		}
		wg.Wait()
	})
	if f := flag.Lookup("test.run"); f != nil && strings.Contains(f.Value.String(), "/") {
		return // a subset of the procedures ran: coverage means nothing
	}
	var ids []string
	for id := range blocks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if !ran[id] {
			t.Errorf("python block %s was never run successfully by any procedure", id)
		}
	}
}

// runPyProcedure runs the steps in order and returns the blocks that ran
// as they should.
func runPyProcedure(t *testing.T, py pythonRun, blocks map[string]kb.Block, files map[string]string, pr pyProcedure) []string {
	srv := awsemutest.Start(t, kbtest.World(now, pr.world), awsemu.WithClock(awsemu.NewManualClock(now).Now))
	svc := kbtest.Serve(t, srv)
	if pr.seed != nil {
		pr.seed(svc)
	}
	dir, home := t.TempDir(), t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	empty := filepath.Join(home, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "VIGIL_") && !strings.HasPrefix(kv, "PYTHON") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "PYTHONDONTWRITEBYTECODE=1",
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL="+svc.URL())
	p := &procRun{srv: srv, svc: svc, dir: dir, env: env}
	if pr.before != nil {
		pr.before(t, p)
	}
	var ran []string
	for i, s := range pr.steps {
		b, ok := blocks[s.block]
		if !ok {
			t.Fatalf("step %d: no python block %s in any page", i+1, s.block)
		}
		// Saved under the name the page gives it, as the reader would.
		script := filepath.Join(dir, b.File)
		if err := os.WriteFile(script, []byte(b.Code), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), stepTimeout(t))
		cmd := exec.CommandContext(ctx, py.exe, append([]string{script}, s.args...)...)
		cmd.Dir = dir
		cmd.Env = append([]string(nil), env...)
		if s.as != "" {
			cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+s.as, "AWS_SECRET_ACCESS_KEY=kbtest-secret-not-checked")
		}
		for k, v := range s.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		cancel()
		name := fmt.Sprintf("step %d (%s %s)", i+1, s.block, strings.Join(s.args, " "))
		combined := out.String() + errb.String()
		t.Logf("%s:\n%s", name, combined)
		switch {
		case s.wantErr != "":
			if err == nil || !strings.Contains(combined, s.wantErr) {
				t.Fatalf("%s: want a failure with %q, got err=%v\n%s", name, s.wantErr, err, combined)
			}
		case err != nil:
			t.Fatalf("%s failed: %v\n--- output\n%s", name, err, combined)
		case errb.Len() > 0 && strings.Contains(errb.String(), "Traceback"):
			t.Fatalf("%s printed a traceback:\n%s", name, errb.String())
		default:
			ran = append(ran, s.block)
		}
		if s.want != nil {
			s.want(t, out.String())
		}
		if s.state != nil {
			s.state(t, p)
		}
	}
	return ran
}
