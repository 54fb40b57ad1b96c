package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

const (
	tMgmt      = "111122223333"
	tMember    = "444455556666"
	tMgmtKey   = "AKIAMGMTADMIN0000001"
	tMemberKey = "AKIAMEMBERADMIN00001"
	tRoot      = "r-ab12"
)

func preventWorld() *awsemu.World {
	none := []string{}
	return &awsemu.World{
		Organization: &awsemu.Organization{ID: "o-aa111bb222", ManagementAccountID: tMgmt, RootID: tRoot, PolicyTypes: &none},
		Accounts: []*awsemu.Account{
			{ID: tMgmt, Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: tMgmtKey}}}}},
			{ID: tMember, Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: tMemberKey}}}}},
		},
	}
}

// emulatorEnv points the SDK's normal credential chain at an emulator;
// the SDK reads the process environment, so these tests are not parallel.
func emulatorEnv(t *testing.T, srv *awsemu.Server, key string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "not-checked", "AWS_REGION": "us-east-1",
		"AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
	os.Unsetenv("AWS_PROFILE")
}

type run struct {
	code           int
	stdout, stderr string
}

func runVigil(t *testing.T, stdin string, tty bool, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Version: "test",
		Now:             testclock.Ref,
		Getenv:          os.Getenv,
		IsTerminal:      func(io.Writer) bool { return false },
		StdinIsTerminal: func() bool { return tty },
	}
	code := Main(context.Background(), args, app)
	return run{code, out.String(), errb.String()}
}

func mutating(srv *awsemu.Server) []string {
	var out []string
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			out = append(out, c.Service+":"+c.Action)
		}
	}
	return out
}

func TestPreventConfirmation(t *testing.T) {
	cases := []struct {
		name     string
		stdin    string
		tty      bool
		extra    []string
		code     int
		changes  bool
		anyCalls bool
		stderr   string
	}{
		{name: "terminal, yes", stdin: "yes\n", tty: true, code: 0, changes: true, anyCalls: true, stderr: "Only 'yes' will be accepted"},
		{name: "terminal, no", stdin: "no\n", tty: true, code: 1, anyCalls: true, stderr: "not confirmed: nothing was changed"},
		{name: "terminal, y is not yes", stdin: "y\n", tty: true, code: 1, anyCalls: true, stderr: "nothing was changed"},
		{name: "terminal closed", stdin: "", tty: true, code: 1, anyCalls: true, stderr: "nothing was changed"},
		{name: "no terminal, no --yes", stdin: "yes\n", tty: false, code: 2, stderr: "stdin is not a terminal"},
		{name: "no terminal, --yes", tty: false, extra: []string{"--yes"}, code: 0, changes: true, anyCalls: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := awsemutest.Start(t, preventWorld())
			emulatorEnv(t, srv, tMgmtKey)
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			args := append([]string{"prevent", "--apply", "--target", tRoot, "--audit-log", audit}, c.extra...)
			r := runVigil(t, c.stdin, c.tty, args...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, c.code, r.stdout, r.stderr)
			}
			if c.stderr != "" && !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, r.stderr)
			}
			got := mutating(srv)
			if c.changes != (len(got) > 0) {
				t.Errorf("mutating calls %v (changes expected: %v)", got, c.changes)
			}
			if !c.anyCalls && len(srv.Calls()) != 0 {
				t.Errorf("the refusal came after %d AWS calls; it must come first", len(srv.Calls()))
			}
			log, _ := os.ReadFile(audit)
			if lines := strings.Count(string(log), "\n"); lines != len(got) {
				t.Errorf("%d audit lines for %d changes", lines, len(got))
			}
		})
	}
}

func TestPreventPlanIsADryRun(t *testing.T) {
	srv := awsemutest.Start(t, preventWorld())
	emulatorEnv(t, srv, tMgmtKey)
	r := runVigil(t, "", false, "prevent", "--plan", "--target", tRoot)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := mutating(srv); len(got) != 0 {
		t.Fatalf("--plan made mutating calls: %v", got)
	}
	for _, want := range []string{"Planned changes (8):", "organizations:EnablePolicyType  r-ab12", "This was a dry run: nothing was changed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runVigil(t, "", false, "prevent", "--plan", "--target", tRoot, "--format", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"action": "organizations:CreatePolicy"`) {
		t.Errorf("JSON plan: %d %s", r.code, r.stdout)
	}
	// Declined and refused runs are dry too.
	declined := filepath.Join(t.TempDir(), "a")
	runVigil(t, "no\n", true, "prevent", "--apply", "--target", tRoot, "--audit-log", declined)
	if got := mutating(srv); len(got) != 0 {
		t.Fatalf("a declined run made mutating calls: %v", got)
	}
	if _, err := os.Stat(declined); err == nil {
		t.Error("a declined run created the audit log")
	}
}

func TestPreventApplyErrors(t *testing.T) {
	srv := awsemutest.Start(t, preventWorld())
	emulatorEnv(t, srv, tMgmtKey)
	dir := t.TempDir()
	r := runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", tMgmt, "--audit-log", filepath.Join(dir, "a"))
	if r.code != 2 || !strings.Contains(r.stderr, "management account: SCPs never apply to it") {
		t.Errorf("management target: %d %s", r.code, r.stderr)
	}
	// A failed step: exit 1, the others done, the message says to re-run.
	srv.AddFault(awsemu.Fault{Service: "organizations", Action: "EnablePolicyType", Code: "AccessDeniedException"})
	r = runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", tRoot, "--audit-log", filepath.Join(dir, "a"))
	if r.code != 1 || !strings.Contains(r.stderr, "did not succeed") || !strings.Contains(r.stdout, "FAILED  organizations:EnablePolicyType") {
		t.Errorf("partial failure: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	srv.ClearFaults()
	r = runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", tRoot, "--audit-log", filepath.Join(dir, "a"))
	if r.code != 0 || strings.Contains(r.stdout, "CreatePolicy") {
		t.Errorf("second run should only finish the job: %d\n%s", r.code, r.stdout)
	}
	r = runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", tRoot, "--audit-log", filepath.Join(dir, "a"))
	if r.code != 0 || !strings.Contains(r.stdout, "Nothing to change.") {
		t.Errorf("third run: %d\n%s", r.code, r.stdout)
	}

	// From a member account: a clear error, no change.
	emulatorEnv(t, srv, tMemberKey)
	srv.ResetCalls()
	r = runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", tRoot, "--audit-log", filepath.Join(dir, "b"))
	if r.code != 1 || !strings.Contains(r.stderr, "only the management account 111122223333") || len(mutating(srv)) != 0 {
		t.Errorf("member account: %d %s", r.code, r.stderr)
	}
	// An audit log in a directory that does not exist stops the run before
	// any call; one that cannot be opened, before any change.
	emulatorEnv(t, srv, tMgmtKey)
	srv.ResetCalls()
	r = runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", tRoot, "--audit-log", filepath.Join(dir, "missing", "a"))
	if r.code != 1 || !strings.Contains(r.stderr, "--audit-log") || len(srv.Calls()) != 0 {
		t.Errorf("bad audit log: %d %s (%d calls)", r.code, r.stderr, len(srv.Calls()))
	}
	srv.ResetCalls()
	r = runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", "ou-ab12-99999999", "--audit-log", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "--audit-log") || len(mutating(srv)) != 0 {
		t.Errorf("unopenable audit log: %d %s (%v)", r.code, r.stderr, mutating(srv))
	}
	// A run with nothing to change leaves no log file behind.
	quiet := filepath.Join(dir, "quiet.jsonl")
	r = runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", tRoot, "--audit-log", quiet)
	if _, err := os.Stat(quiet); r.code != 0 || err == nil {
		t.Errorf("nothing to change: %d, log created: %v\n%s\n%s", r.code, err == nil, r.stdout, r.stderr)
	}
}

func TestPreventDiscovers(t *testing.T) {
	srv := awsemutest.Start(t, preventWorld())
	emulatorEnv(t, srv, tMgmtKey)
	r := runVigil(t, "", false, "prevent", "--format", "json")
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	for _, want := range []string{`"organization_id": "o-aa111bb222"`, `"root_id": "r-ab12"`, `"targets": [`, `"name": "vigil-prevent.tf"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	if !strings.Contains(r.stderr, "attach to the root r-ab12") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if got := mutating(srv); len(got) != 0 {
		t.Errorf("generating artefacts made mutating calls: %v", got)
	}
	// From a member account the root stays unknown, and stderr says why.
	emulatorEnv(t, srv, tMemberKey)
	r = runVigil(t, "", false, "prevent")
	if r.code != 0 || !strings.Contains(r.stderr, "cannot read the organisation's root (organizations:ListRoots: AccessDenied") ||
		!strings.Contains(r.stderr, "management account's credentials") || !strings.Contains(r.stdout, "organisation o-aa111bb222") {
		t.Errorf("member: %d\n%s", r.code, r.stderr)
	}
	// A failure that is not a denial names its cause, with no advice
	// about whose credentials to use.
	emulatorEnv(t, srv, tMgmtKey)
	srv.AddFault(awsemu.Fault{Service: "organizations", Action: "ListRoots", Code: "ServiceException"})
	r = runVigil(t, "", false, "prevent")
	if r.code != 0 || !strings.Contains(r.stderr, "could not read the organisation's root (organizations:ListRoots: ServiceException") ||
		strings.Contains(r.stderr, "management account's credentials") {
		t.Errorf("ListRoots failing: %d\n%s", r.code, r.stderr)
	}
	srv.ClearFaults()
	emulatorEnv(t, srv, tMemberKey)
	r = runVigil(t, "", false, "prevent", "--target", tMgmt)
	if r.code != 2 {
		t.Errorf("management target while printing: %d %s", r.code, r.stderr)
	}
}
