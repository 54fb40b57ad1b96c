package kb_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/slowtest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// This file proves the AWS CLI commands of the knowledge base. Every sh
// block of every page is run, as the page shows it, by bash with a real AWS
// CLI pointed at the emulator, signed as the identity the page says
// (an auditor, the root user's own key, the management account's
// administrator, or the centralised root session an earlier block opened),
// and the account state is checked before and after.
//
// The CLI is VIGIL_AWSCLI, else /usr/bin/aws (Debian's awscli), else aws on
// PATH. Commands that CLI does not know (Debian's 2.9.19 predates
// sts assume-root and the Organizations root features of November 2024)
// run with the next aws found on PATH, and the test log says which CLI ran
// which command. With no CLI at all the test skips, unless
// VIGIL_REQUIRE_AWSCLI=1, when it fails; it also fails then if some command
// is known to no CLI found.
//
// bash finds "aws" in a directory the test puts first on PATH: a link to
// this test binary, which (with VIGIL_KB_AWS_SHIM=1) runs the real CLI with
// --endpoint-url added and logs what ran. The same directory holds a vigil
// binary built from this module, for the pages' vigil commands; it reaches
// the emulator through AWS_ENDPOINT_URL.

const (
	shimEnv     = "VIGIL_KB_AWS_SHIM"
	shimCLIs    = "VIGIL_KB_AWS_CLIS"
	shimKnown   = "VIGIL_KB_AWS_UNSUPPORTED" // directory of what each CLI does not know
	shimURL     = "VIGIL_KB_AWS_ENDPOINT"
	shimLog     = "VIGIL_KB_AWS_LOG"
	shimStep    = "VIGIL_KB_STEP"
	placeholder = `<[A-Z][A-Z0-9_]*>`
)

func TestMain(m *testing.M) {
	if os.Getenv(shimEnv) == "1" {
		os.Exit(shim())
	}
	os.Exit(m.Run())
}

// shim runs the AWS CLIs in order until one knows the command. A CLI that
// exits 252 saying the command or an argument is unknown (a model older
// than the command) passes the command on; any other outcome is final.
// What a CLI does not know is remembered for the rest of the run, so that
// the same command in another procedure (the pages share blocks) does not
// start it only to hear the same answer again: every start of the CLI
// costs most of a second of CPU.
func shim() int {
	clis := filepath.SplitList(os.Getenv(shimCLIs))
	args := append(os.Args[1:], "--endpoint-url", os.Getenv(shimURL))
	known := func(cli string) string {
		command := strings.Join(append([]string{cli}, os.Args[1:]...), "\x00")
		return filepath.Join(os.Getenv(shimKnown), fmt.Sprintf("%x", sha256.Sum256([]byte(command))))
	}
	logf := func(cli, outcome string) {
		f, err := os.OpenFile(os.Getenv(shimLog), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%s\t%s\t%s\t%s\n", os.Getenv(shimStep), cli, outcome, strings.Join(os.Args[1:], " "))
			f.Close()
		}
	}
	var lastErr []byte
	code := 127
	for _, cli := range clis {
		if stderr, err := os.ReadFile(known(cli)); err == nil {
			logf(cli, "unsupported")
			lastErr = stderr
			continue
		}
		cmd := exec.Command(cli, args...)
		cmd.Stdin = os.Stdin
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			code = 127
		}
		if code == 252 && unsupported(errb.String()) {
			os.WriteFile(known(cli), errb.Bytes(), 0o600)
			logf(cli, "unsupported")
			lastErr = errb.Bytes()
			continue
		}
		os.Stdout.Write(out.Bytes())
		os.Stderr.Write(errb.Bytes())
		logf(cli, fmt.Sprint(code))
		return code
	}
	os.Stderr.Write(lastErr)
	logf("-", "unsupported")
	return code
}

func unsupported(stderr string) bool {
	return strings.Contains(stderr, "Invalid choice") || strings.Contains(stderr, "the following arguments are required") ||
		strings.Contains(stderr, "Unknown options")
}

type awsCLI struct{ path, version string }

// findCLIs returns the CLIs to use, the preferred one first.
func findCLIs(t *testing.T) []awsCLI {
	t.Helper()
	var paths []string
	if p := os.Getenv("VIGIL_AWSCLI"); p != "" {
		paths = append(paths, p)
	} else if _, err := os.Stat("/usr/bin/aws"); err == nil {
		paths = append(paths, "/usr/bin/aws")
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, "aws"); isExecutable(p) {
			paths = append(paths, p)
		}
	}
	var out []awsCLI
	seen := map[string]bool{}
	for _, p := range paths {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			if os.Getenv("VIGIL_AWSCLI") == p {
				t.Fatalf("VIGIL_AWSCLI=%s: %v", p, err)
			}
			continue
		}
		if seen[real] {
			continue
		}
		seen[real] = true
		cmd := exec.Command(p, "--version")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		v, err := cmd.CombinedOutput()
		if err != nil {
			if os.Getenv("VIGIL_AWSCLI") == p {
				t.Fatalf("VIGIL_AWSCLI=%s does not run: %v", p, err)
			}
			continue
		}
		out = append(out, awsCLI{p, strings.Fields(string(v))[0]})
	}
	return out
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// now is the procedures' present: the emulator's clock, which stands
// still, and SOURCE_DATE_EPOCH of the vigil processes the pages run.
var now = testclock.Ref().Truncate(time.Second)

// step is one block of a page run in the procedure's shell, or a probe:
// a command of the test's own that checks a claim the page makes.
type step struct {
	block   string            // the block's ID; empty for a probe
	probe   string            // a probe's command
	as      string            // sign as this access key; empty keeps the shell's credentials
	subst   map[string]string // placeholder → value
	want    func(t *testing.T, out string)
	wantErr string // the step must fail with this in its output
	state   func(t *testing.T, p *procRun)
}

type procedure struct {
	name   string
	world  kbtest.Options
	seed   func(s *kbtest.Services)
	before func(t *testing.T, p *procRun)
	steps  []step
}

// procRun is one procedure running: its emulator, its shell's directory.
type procRun struct {
	srv *awsemu.Server
	svc *kbtest.Services
	dir string
	env []string
	log string
}

func (p *procRun) account(t *testing.T, id string) *awsemu.Account {
	t.Helper()
	a, ok := p.srv.Account(id)
	if !ok {
		t.Fatalf("no account %s", id)
	}
	return a
}

// coverage records which blocks ran successfully and with which CLIs.
type coverage struct {
	mu       sync.Mutex
	ran      map[string]bool
	files    map[string]bool
	clis     map[string]map[string]bool // block → CLI version
	notKnown map[string]bool            // blocks with a command no CLI knew
}

func TestAWSCLICommands(t *testing.T) {
	slowtest.Skip(t, "the pages' AWS CLI commands, run with the AWS CLI some hundred times")
	t.Parallel()
	clis := findCLIs(t)
	require := os.Getenv("VIGIL_REQUIRE_AWSCLI") == "1"
	if len(clis) == 0 {
		if require {
			t.Fatal("VIGIL_REQUIRE_AWSCLI=1 but no AWS CLI was found (VIGIL_AWSCLI, /usr/bin/aws, aws on PATH)")
		}
		t.Skip("no AWS CLI found; set VIGIL_AWSCLI or install awscli")
	}
	for _, c := range clis {
		t.Logf("AWS CLI: %s (%s)", c.path, c.version)
	}
	ps := pages(t)
	blocks := map[string]kb.Block{}
	files := map[string]string{}
	for _, p := range ps {
		for _, b := range p.Blocks {
			switch b.Lang {
			case "sh":
				blocks[b.ID] = b
			case "json":
				files[b.File] = b.Code
			}
		}
	}
	shimDir, knownDir := t.TempDir(), t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(shimDir, "aws")); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(shimDir, "vigil"), "github.com/vigil-sec/vigil/cmd/vigil")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building vigil for the pages' vigil commands: %v\n%s", err, out)
	}
	cov := &coverage{ran: map[string]bool{}, files: map[string]bool{}, clis: map[string]map[string]bool{}, notKnown: map[string]bool{}}
	r := &cliRun{blocks: blocks, files: files, shimDir: shimDir, knownDir: knownDir, versions: map[string]string{}, cov: cov, require: require}
	for _, c := range clis {
		r.clis = append(r.clis, c.path)
		r.versions[c.path] = c.version
	}

	// Procedures are independent (an emulator, a shell directory and a
	// home each), and each is a chain of short processes whose start-up
	// (the AWS CLI's Python, most of a second of CPU each) is the cost.
	// More run at once than -parallel allows (GOMAXPROCS), so that the
	// cores stay busy while a chain waits for its next process.
	t.Run("procedures", func(t *testing.T) {
		var wg sync.WaitGroup
		for _, pr := range procedures() {
			wg.Go(func() {
				procedureSlots <- struct{}{}
				defer func() { <-procedureSlots }()
				t.Run(pr.name, func(t *testing.T) { runProcedure(t, r, pr) })
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
	var report strings.Builder
	for _, id := range ids {
		var vs []string
		for v := range cov.clis[id] {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		if len(vs) == 0 && cov.ran[id] {
			vs = []string{"(no AWS CLI command)"}
		}
		fmt.Fprintf(&report, "%-52s %s\n", id, strings.Join(vs, ", "))
		switch {
		case cov.ran[id]:
		case cov.notKnown[id] && !require:
			t.Logf("block %s not proven: no AWS CLI found knows one of its commands", id)
		default:
			t.Errorf("block %s was never run successfully by any procedure", id)
		}
	}
	for f := range files {
		if !cov.files[f] {
			t.Errorf("file %s (a json block) is read by no command that ran", f)
		}
	}
	if len(cov.notKnown) > 0 && !require {
		t.Logf("%d blocks were not proven because no AWS CLI found knows some of their commands; set VIGIL_REQUIRE_AWSCLI=1 to make that a failure", len(cov.notKnown))
	}
	t.Logf("which AWS CLI ran the commands of each block:\n%s", report.String())
	if out := os.Getenv("VIGIL_KB_CLI_REPORT"); out != "" {
		os.WriteFile(out, []byte(report.String()), 0o644)
	}
}

// cliRun is what the procedures of one test run share.
type cliRun struct {
	blocks            map[string]kb.Block // sh blocks by ID
	files             map[string]string   // json blocks by file name
	shimDir, knownDir string
	clis              []string          // the AWS CLIs, preferred first
	versions          map[string]string // CLI path → version
	cov               *coverage
	require           bool // VIGIL_REQUIRE_AWSCLI=1
}

// stepTimeout bounds one step's script. Each AWS CLI invocation costs about
// a second of CPU before it sends anything, so on a loaded 2-core machine a
// step of a dozen commands has taken more than three minutes without
// hanging (CI at load 22 killed one that way). A step that truly hangs is
// still stopped, and named, well before go test's own -timeout would end
// the package without saying which script hung.
func stepTimeout(t *testing.T) time.Duration {
	const most = 10 * time.Minute
	if dl, ok := t.Deadline(); ok {
		if left := time.Until(dl) - time.Minute; left < most {
			return max(left, time.Minute)
		}
	}
	return most
}

// procedureParallelism is how many procedures run at once: twice the
// cores, since every procedure spends part of its time waiting for a
// process to start or a "sleep 2" loop to come round.
func procedureParallelism() int { return max(2, 2*runtime.GOMAXPROCS(0)) }

// procedureSlots are shared by the AWS CLI and the Python procedures, which
// run side by side (both tests are parallel): one's waits fill with the
// other's work, and together they start no more processes at once than
// one did alone.
var procedureSlots = make(chan struct{}, procedureParallelism())

func runProcedure(t *testing.T, r *cliRun, pr procedure) {
	blocks, files, shimDir, clis, versions, cov, require := r.blocks, r.files, r.shimDir, r.clis, r.versions, r.cov, r.require
	srv := awsemutest.Start(t, kbtest.World(now, pr.world), awsemu.WithClock(awsemu.NewManualClock(now).Now))
	svc := kbtest.Serve(t, srv)
	if pr.seed != nil {
		pr.seed(svc)
	}
	dir := t.TempDir()
	home := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	empty := filepath.Join(home, "empty")
	os.WriteFile(empty, nil, 0o600)
	log := filepath.Join(home, "aws.log")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "VIGIL_") &&
			!strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	// Under -race the shim is a race-enabled binary, whose runtime sleeps
	// a second before exiting (GORACE atexit_sleep_ms, default 1000): a
	// second of nothing for every AWS CLI command the pages run.
	env = append(env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	env = append(env,
		"PATH="+shimDir+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+home,
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty, "AWS_PAGER=", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CLI_AUTO_PROMPT=off",
		shimEnv+"=1", shimCLIs+"="+strings.Join(clis, string(os.PathListSeparator)), shimURL+"="+svc.URL(), shimLog+"="+log, shimKnown+"="+r.knownDir,
		// For vigil; the shim gives the AWS CLI --endpoint-url, which wins.
		"AWS_ENDPOINT_URL="+svc.URL(),
		// vigil judges ages ("used 2 days ago") on the emulator's clock.
		clock.SourceDateEpoch+"="+testclock.EpochAt(now),
	)
	p := &procRun{srv: srv, svc: svc, dir: dir, env: env, log: log}
	if pr.before != nil {
		pr.before(t, p)
	}
	for i, s := range pr.steps {
		name := s.block
		code := s.probe
		if name == "" {
			name = fmt.Sprintf("probe %d", i+1)
		} else {
			b, ok := blocks[s.block]
			if !ok {
				t.Fatalf("step %d: no block %s in any page", i+1, s.block)
			}
			code = b.Code
		}
		for k, v := range s.subst {
			code = strings.ReplaceAll(code, "<"+k+">", v)
		}
		if left := regexp.MustCompile(placeholder).FindAllString(code, -1); len(left) > 0 {
			t.Fatalf("%s: placeholders left unsubstituted: %v", name, left)
		}
		script := "set -e\n[ -f state.sh ] && . ./state.sh\n"
		if s.as != "" {
			script += "export AWS_ACCESS_KEY_ID=" + s.as + " AWS_SECRET_ACCESS_KEY=kbtest-secret-not-checked\nunset AWS_SESSION_TOKEN\n"
		}
		// The shell's AWS_* variables carry over to the next step, as they
		// would in the reader's terminal (the session a block opened).
		script += code + "\nexport -p | grep '^declare -x AWS_' > state.sh || true\n"
		ctx, cancel := context.WithTimeout(t.Context(), stepTimeout(t))
		cmd := exec.CommandContext(ctx, "bash", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(append([]string(nil), env...), shimStep+"="+name)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		cancel()

		// Which CLIs ran this step's commands, and did one know them all?
		logData, _ := os.ReadFile(log)
		unknown := false
		for _, line := range strings.Split(string(logData), "\n") {
			f := strings.SplitN(line, "\t", 4)
			if len(f) < 4 || f[0] != name {
				continue
			}
			switch {
			case f[1] == "-":
				unknown = true
			case f[2] != "unsupported" && s.block != "":
				cov.mu.Lock()
				if cov.clis[s.block] == nil {
					cov.clis[s.block] = map[string]bool{}
				}
				cov.clis[s.block][versions[f[1]]] = true
				cov.mu.Unlock()
			}
		}
		if unknown {
			// This step and every later one of the procedure go unproven.
			cov.mu.Lock()
			for _, later := range pr.steps[i:] {
				if later.block != "" {
					cov.notKnown[later.block] = true
				}
			}
			cov.mu.Unlock()
			if require {
				t.Fatalf("%s: no AWS CLI found knows one of its commands (VIGIL_REQUIRE_AWSCLI=1):\n%s", name, errb.String())
			}
			t.Skipf("%s: no AWS CLI found knows one of its commands; install an AWS CLI released since November 2024:\n%s", name, errb.String())
		}

		combined := out.String() + errb.String()
		if s.wantErr != "" {
			if err == nil || !strings.Contains(combined, s.wantErr) {
				t.Fatalf("%s: want a failure with %q, got err=%v\n%s", name, s.wantErr, err, combined)
			}
		} else if err != nil {
			t.Fatalf("%s failed: %v\n--- script\n%s\n--- output\n%s", name, err, code, combined)
		} else if s.block != "" {
			cov.mu.Lock()
			cov.ran[s.block] = true
			for f := range files {
				if strings.Contains(code, "file://"+f) {
					cov.files[f] = true
				}
			}
			cov.mu.Unlock()
		}
		if os.Getenv("VIGIL_KB_DEBUG") != "" {
			logData, _ := os.ReadFile(log)
			t.Logf("%s log:\n%s", name, logData)
		}
		if s.want != nil {
			s.want(t, out.String())
		}
		if s.state != nil {
			s.state(t, p)
		}
	}
}

// Output checks.

func equals(want string) func(*testing.T, string) {
	return func(t *testing.T, out string) {
		t.Helper()
		if got := strings.TrimSpace(out); got != want {
			t.Errorf("output %q, want %q", got, want)
		}
	}
}

func contains(want ...string) func(*testing.T, string) {
	return func(t *testing.T, out string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	}
}

func lacks(not ...string) func(*testing.T, string) {
	return func(t *testing.T, out string) {
		t.Helper()
		for _, w := range not {
			if strings.Contains(out, w) {
				t.Errorf("output has %q:\n%s", w, out)
			}
		}
	}
}

func all(checks ...func(*testing.T, string)) func(*testing.T, string) {
	return func(t *testing.T, out string) {
		t.Helper()
		for _, c := range checks {
			c(t, out)
		}
	}
}

// onlyFirstListing checks a block that lists, deletes and lists again:
// the CLI prints nothing for an empty list, so only the first listing (of
// what was there) may show, once.
func onlyFirstListing(item string) func(*testing.T, string) {
	return func(t *testing.T, out string) {
		t.Helper()
		if got := strings.TrimSpace(out); got != item {
			t.Errorf("output %q: want the item listed once, before its deletion (%q), and an empty listing after", got, item)
		}
	}
}

func rootKeys(t *testing.T, p *procRun, id string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for _, k := range p.account(t, id).Root.AccessKeys {
		keys[k.ID] = k.Status
	}
	return keys
}

func readFile(t *testing.T, p *procRun, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(p.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
