package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemuproc"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/testclock"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// binary is the vigil executable built once for all tests: these tests run
// the program the way a user does, exit codes and all.
var binary string

func TestMain(m *testing.M) {
	awsemuproc.Child() // exits when this process is the team tests' emulator
	flag.Parse()
	dir, err := os.MkdirTemp("", "vigil-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "vigil")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	// VIGIL_TEST_BINARY runs the tests on a vigil built elsewhere: a
	// benchmark alternating an old build with a new one on a loaded machine.
	if b := os.Getenv("VIGIL_TEST_BINARY"); b != "" {
		binary = b
	} else {
		build := exec.Command("go", "build", "-ldflags", "-X main.version=test", "-o", binary, ".")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build vigil:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// vigil runs the binary with a clean environment: no AWS settings leak in
// from the developer's machine, and output times are pinned.
func vigil(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	home := t.TempDir()
	base := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": home,
		"AWS_CONFIG_FILE":             filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		clock.SourceDateEpoch:         testclock.Epoch(), // the tests' reference time
	}
	for k, v := range env {
		base[k] = v
	}
	for k, v := range base {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if testclock.Moved() {
			t.Fatalf("-update writes the golden files at the default reference time; unset %s", testclock.Var)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/vigil -update to create it)", err)
	}
	// With the reference time moved, dates derived from it move too.
	if err := testclock.Shifted(string(want), got); err != nil {
		t.Errorf("output differs from %s: %v (run with -update after checking the change):\n--- want\n%s\n--- got\n%s", path, err, want, got)
	}
}

func TestVersion(t *testing.T) {
	r := vigil(t, nil, "version").want(t, 0)
	if !strings.HasPrefix(r.stdout, "vigil test (") {
		t.Errorf("version output %q", r.stdout)
	}
}

func TestGoldenText(t *testing.T) {
	r := vigil(t, nil, "scan", "--from", "testdata/snapshot.json").want(t, 0)
	golden(t, "scan.txt", r.stdout)
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("colour escape codes in output that is not a terminal")
	}
	rv := vigil(t, nil, "scan", "--from", "testdata/snapshot.json", "--verbose").want(t, 0)
	golden(t, "scan-verbose.txt", rv.stdout)
}

func TestGoldenJSON(t *testing.T) {
	r := vigil(t, nil, "scan", "--from", "testdata/snapshot.json", "--format", "json").want(t, 0)
	golden(t, "scan.json", r.stdout)
	var doc struct {
		Schema  string `json:"schema"`
		Version int    `json:"version"`
		Results []struct {
			RuleID    string            `json:"rule_id"`
			Title     string            `json:"title"`
			Status    string            `json:"status"`
			Severity  string            `json:"severity"`
			AccountID string            `json:"account_id"`
			Resource  string            `json:"resource"`
			Message   string            `json:"message"`
			Evidence  []json.RawMessage `json:"evidence"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "vigil.report" || doc.Version != 1 || len(doc.Results) != 70 {
		t.Fatalf("schema %q version %d results %d", doc.Schema, doc.Version, len(doc.Results))
	}
	for _, res := range doc.Results {
		if res.RuleID == "" || res.Title == "" || res.Status == "" || res.Severity == "" || res.AccountID == "" || res.Resource == "" || res.Message == "" || len(res.Evidence) == 0 {
			t.Errorf("result lacks a required field: %+v", res)
		}
	}
}

func TestGoldenCredentialReport(t *testing.T) {
	// A CSV carries no generation time; the test gives one, an hour
	// before the time the golden file was written at. The file's dates
	// are fixed data, so it is judged at that fixed time wherever the
	// reference time is.
	data, err := os.ReadFile("testdata/credential-report.csv")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "credential-report.csv")
	at := map[string]string{clock.SourceDateEpoch: testclock.EpochAt(testclock.Default)}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	generated := testclock.Default.Add(-time.Hour).Format(time.RFC3339)
	r := vigil(t, at, "scan", "--credential-report", file, "--report-time", generated, "--max-report-age", "0").want(t, 0)
	golden(t, "credential-report.txt", strings.ReplaceAll(r.stdout, file, "FILE"))
	if !strings.Contains(r.stdout, "Account 210987654321") {
		t.Error("account ID not taken from the root row's ARN")
	}
	// The same file on stdin.
	cmd := exec.Command(binary, "scan", "--credential-report", "-", "--format", "json", "--max-report-age", "0")
	cmd.Env = append(os.Environ(), clock.SourceDateEpoch+"="+at[clock.SourceDateEpoch])
	cmd.Stdin, _ = os.Open("testdata/credential-report.csv")
	out, err := cmd.Output()
	if err != nil || !bytes.Contains(out, []byte(`"account_id": "210987654321"`)) {
		t.Errorf("stdin report: %v\n%s", err, out)
	}
}

func TestFailOnExitCodes(t *testing.T) {
	for _, c := range []struct {
		sev  string
		code int
	}{{"critical", 3}, {"high", 3}, {"info", 3}} {
		r := vigil(t, nil, "scan", "--from", "testdata/snapshot.json", "--fail-on", c.sev).want(t, c.code)
		if !strings.Contains(r.stderr, "failed at or above severity "+c.sev) {
			t.Errorf("--fail-on %s: stderr %q", c.sev, r.stderr)
		}
	}
	// A snapshot with no failures exits 0 even when gated. Its account's
	// credential report was denied and its password policy not read, so
	// the IAM rules are UNKNOWN there: the account is given a report with
	// no IAM users (its denial dropped) and a strong password policy.
	clean := filepath.Join(t.TempDir(), "clean.json")
	data, _ := os.ReadFile("testdata/snapshot.json")
	var doc map[string]any
	json.Unmarshal(data, &doc)
	acct := doc["accounts"].([]any)[1].(map[string]any)
	acct["credential_report"] = map[string]any{"generated_time": "2026-11-26T10:30:00Z", "time_source": "GetCredentialReport", "columns": 22, "users": 0}
	acct["gaps"] = acct["gaps"].([]any)[1:]
	acct["password_policy"] = map[string]any{"present": true, "minimum_password_length": 14, "password_reuse_prevention": 24,
		"require_symbols": true, "require_numbers": true, "require_uppercase_characters": true, "require_lowercase_characters": true,
		"expire_passwords": true, "max_password_age": 90}
	// Its one region has an external access analyzer, tagged, and no instance, it
	// stores no certificate, and its only role is the support role, tagged.
	acct["regions"] = []any{map[string]any{"name": "us-east-1", "opt_in_status": "opt-in-not-required",
		"analyzers": []any{map[string]any{"name": "external", "arn": "arn:aws:access-analyzer:us-east-1:444455556666:analyzer/external", "type": "ACCOUNT", "status": "ACTIVE",
			"tags": []any{map[string]any{"key": "owner", "value": "security"}}}},
		"instances": []any{}}}
	acct["server_certificates"] = map[string]any{"certificates": []any{}, "pages": 1}
	// A security contact is registered, and people come in through
	// Identity Center's SAML provider.
	acct["alternate_contacts"] = map[string]any{"security": map[string]any{"registered": true, "name": "SOC", "email_address": "soc@example.com"},
		"billing": map[string]any{"registered": false}, "operations": map[string]any{"registered": false}}
	acct["identity_providers"] = map[string]any{"saml_read": true, "oidc_read": true,
		"saml": []any{map[string]any{"arn": "arn:aws:iam::444455556666:saml-provider/AWSSSO_0123_DO_NOT_DELETE"}}}
	acct["iam"] = map[string]any{"users": []any{}, "groups": []any{}, "policies": []any{}, "pages": 1, "tags_read": true,
		"roles": []any{map[string]any{"name": "support", "arn": "arn:aws:iam::444455556666:role/support",
			"attached_policies": []any{map[string]any{"name": "AWSSupportAccess", "arn": "arn:aws:iam::aws:policy/AWSSupportAccess"}},
			"tags":              []any{map[string]any{"key": "owner", "value": "security"}}}}}
	doc["accounts"] = []any{acct}
	b, _ := json.Marshal(doc)
	os.WriteFile(clean, b, 0o644)
	// The report's fixed date is old at some reference times: its age is
	// not what this test is about.
	vigil(t, nil, "scan", "--from", clean, "--fail-on", "low", "--max-report-age", "0").want(t, 0)
}

func TestSaveFromRoundTrip(t *testing.T) {
	dir := t.TempDir()
	snap, out := filepath.Join(dir, "snap.json"), filepath.Join(dir, "live.json")
	r := vigil(t, nil, "scan", "--demo", "--format", "json", "--output", out, "--save", snap).want(t, 0)
	if r.stdout != "" {
		t.Errorf("--output should leave stdout empty, got %q", r.stdout)
	}
	live, _ := os.ReadFile(out)
	offline := fromSnapshot(t, vigil(t, nil, "scan", "--from", snap, "--format", "json").want(t, 0).stdout, snap)
	if !bytes.Equal(live, []byte(offline)) {
		t.Errorf("--from re-evaluation differs from the live scan:\n%s\n---\n%s", live, offline)
	}
}

// fromSnapshot checks that a JSON report of scan --from names the
// snapshot file, and returns it without that line: all the rest is what
// the live scan reported.
func fromSnapshot(t *testing.T, report, snap string) string {
	t.Helper()
	line := "  \"snapshot_file\": " + strconv.Quote(snap) + ",\n"
	if !strings.Contains(report, line) {
		t.Errorf("the report of --from %s does not name it:\n%s", snap, report)
	}
	return strings.Replace(report, line, "", 1)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	malformed := write("bad.json", "{\"schema\":\"vigil.snapshot\",\"version\":1,\n\"accounts\": [}\n")
	future := write("future.json", `{"schema":"vigil.snapshot","version":9,"accounts":[]}`)
	badCSV := write("bad.csv", "user,arn,mfa_active\n<root_account>,arn:aws:iam::111122223333:root,maybe\n")
	out := filepath.Join(dir, "out.json")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing snapshot", []string{"scan", "--from", filepath.Join(dir, "nope.json")}, 1, "no such file"},
		{"malformed snapshot", []string{"scan", "--from", malformed, "--output", out}, 1, "bad.json: line 2, column 14"},
		{"wrong version", []string{"scan", "--from", future}, 1, "version 9 is not supported"},
		{"malformed report", []string{"scan", "--credential-report", badCSV}, 1, "bad.csv: line 2, column 47 (mfa_active)"},
		{"unreadable report", []string{"scan", "--credential-report", dir}, 1, "read credential report"},
		{"unknown format", []string{"scan", "--from", future, "--format", "xml"}, 2, `--format "xml"`},
		{"unknown flag", []string{"scan", "--frobnicate"}, 2, "unknown flag: --frobnicate"},
		{"bad severity", []string{"scan", "--fail-on", "severe"}, 2, `unknown severity "severe"`},
		{"two inputs", []string{"scan", "--from", future, "--credential-report", badCSV}, 2, "cannot be combined"},
		{"profile with a file", []string{"scan", "--from", future, "--profile", "x"}, 2, "--profile has no effect"},
		{"positional argument", []string{"scan", "extra"}, 2, "takes no arguments"},
		{"missing output directory", []string{"scan", "--from", "testdata/snapshot.json", "--output", filepath.Join(dir, "no", "out.json")}, 1, "does not exist"},
		{"bad duration", []string{"scan", "--root-use-window", "soon"}, 2, "not a duration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := vigil(t, nil, c.args...).want(t, c.code)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, c.want)
			}
			if r.stdout != "" {
				t.Errorf("something was printed on stdout: %q", r.stdout)
			}
			if c.code == 1 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("runtime errors should be one line, got:\n%s", r.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output file was written despite the error")
			}
		})
	}
}

func TestNoCredentials(t *testing.T) {
	r := vigil(t, map[string]string{"AWS_REGION": "us-east-1"}, "scan").want(t, 1)
	if !strings.Contains(r.stderr, "no AWS credentials found") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = vigil(t, map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"}, "scan").want(t, 1)
	if !strings.Contains(r.stderr, "no AWS region configured") {
		t.Errorf("stderr %q", r.stderr)
	}
	// An SSO profile without a cached token names the real cause.
	cfgDir := t.TempDir()
	cfgFile := filepath.Join(cfgDir, "config")
	os.WriteFile(cfgFile, []byte("[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Audit\nregion = eu-west-1\n"), 0o600)
	r = vigil(t, map[string]string{"AWS_CONFIG_FILE": cfgFile}, "scan", "--profile", "sso").want(t, 1)
	if !strings.Contains(r.stderr, "SSO session has expired or is invalid") || !strings.Contains(r.stderr, "aws sso login") {
		t.Errorf("stderr %q", r.stderr)
	}
	// --demo=auto falls back to the demo only when nothing is configured.
	r = vigil(t, nil, "scan", "--demo=auto").want(t, 0)
	if !strings.Contains(r.stdout, "DEMO") || !strings.Contains(r.stderr, "no AWS credentials") {
		t.Errorf("auto demo did not say it was a demo:\n%s\n%s", r.stdout, r.stderr)
	}
	vigil(t, map[string]string{"AWS_PROFILE": "prod", "AWS_REGION": "us-east-1"}, "scan", "--demo=auto").want(t, 1)
	// An explicit --demo works whatever AWS settings are around.
	r = vigil(t, map[string]string{"AWS_PROFILE": "prod", "AWS_REGION": "us-east-1"}, "scan", "--demo").want(t, 0)
	if !strings.Contains(r.stdout, "DEMO") {
		t.Errorf("--demo did not run the demo:\n%s", r.stdout)
	}
}

// emulated starts an emulator holding one standalone account with a root
// key and returns the environment that points the AWS SDK at it.
func emulated(t *testing.T, faults ...awsemu.Fault) (*awsemu.Server, map[string]string) {
	t.Helper()
	w, err := awsemu.LoadWorldFile("../../internal/scenario/testdata/one-active-key.json.world")
	if err != nil {
		w = oneKeyWorld(t)
	}
	srv := awsemutest.Start(t, w, awsemu.WithFaults(faults...))
	return srv, map[string]string{
		"AWS_ENDPOINT_URL":      srv.URL(),
		"AWS_ACCESS_KEY_ID":     "AKIAAUDITOR000000001",
		"AWS_SECRET_ACCESS_KEY": "not-checked",
		"AWS_REGION":            "eu-west-1",
	}
}

func oneKeyWorld(t *testing.T) *awsemu.World {
	t.Helper()
	data, err := os.ReadFile("../../internal/scenario/testdata/one-active-key.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ World json.RawMessage }
	json.Unmarshal(data, &s)
	w, err := awsemu.LoadWorld(bytes.NewReader(s.World))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestRealScanThroughEndpointURL(t *testing.T) {
	srv, env := emulated(t)
	r := vigil(t, env, "scan", "--format", "json", "--fail-on", "critical").want(t, 3)
	if !strings.Contains(r.stdout, `"rule_id": "root-access-key"`) || !strings.Contains(r.stdout, `"kind": "aws"`) {
		t.Errorf("unexpected report:\n%s", r.stdout)
	}
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			t.Errorf("the scan made a mutating call: %s:%s", c.Service, c.Action)
		}
	}
	// With credentials present, --demo=auto scans the real (here emulated) account.
	r = vigil(t, env, "scan", "--demo=auto", "--format", "json").want(t, 0)
	if !strings.Contains(r.stdout, `"kind": "aws"`) {
		t.Errorf("--demo=auto ignored the configured credentials")
	}
}

func TestPerServiceEndpointsAndProfile(t *testing.T) {
	srv, _ := emulated(t)
	home := t.TempDir()
	config := filepath.Join(home, "config")
	creds := filepath.Join(home, "credentials")
	os.WriteFile(config, []byte("[profile audit]\nregion = eu-central-1\n"), 0o600)
	os.WriteFile(creds, []byte("[audit]\naws_access_key_id = AKIAAUDITOR000000001\naws_secret_access_key = not-checked\n"), 0o600)
	env := map[string]string{
		"AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": creds,
		"AWS_ENDPOINT_URL_IAM": srv.URL(), "AWS_ENDPOINT_URL_STS": srv.URL(), "AWS_ENDPOINT_URL_ORGANIZATIONS": srv.URL(),
	}
	r := vigil(t, env, "scan", "--profile", "audit").want(t, 0)
	if !strings.Contains(r.stdout, "source: AWS (profile audit)") || !strings.Contains(r.stdout, "Account 111122223333") {
		t.Errorf("unexpected report:\n%s", r.stdout)
	}
	r = vigil(t, env, "scan", "--profile", "missing").want(t, 1)
	if !strings.Contains(r.stderr, `"missing"`) {
		t.Errorf("stderr %q should name the missing profile", r.stderr)
	}
}

func TestExpiredCredentials(t *testing.T) {
	_, env := emulated(t, awsemu.Fault{Code: "ExpiredToken"})
	r := vigil(t, env, "scan").want(t, 1)
	if !strings.Contains(r.stderr, "have expired") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestPolicyCommand(t *testing.T) {
	r := vigil(t, nil, "policy").want(t, 0)
	golden(t, "policy.json", r.stdout)
	var p struct{ Statement []struct{ Action []string } }
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || len(p.Statement) == 0 {
		t.Fatalf("policy does not parse: %v", err)
	}
}

func TestPreventPrint(t *testing.T) {
	r := vigil(t, nil, "prevent", "--offline", "--target", "r-ab12").want(t, 0)
	golden(t, "prevent.txt", r.stdout)
	for _, want := range []string{"What these controls cannot cover:", "No SCP reaches the management account", "2017-09-15",
		"RCPs) cannot stop root access key creation", "==> scp-deny-root-actions.json <==", "==> vigil-prevent.tf <==", "==> README.md <=="} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	j := vigil(t, nil, "prevent", "--offline", "--format", "json", "--partition", "aws-cn", "--alert-email", "sec@example.com").want(t, 0)
	var doc struct {
		Schema    string
		Options   struct{ Partition string }
		Artefacts []struct{ Name, Kind, Content string }
	}
	if err := json.Unmarshal([]byte(j.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "vigil.prevent" || doc.Options.Partition != "aws-cn" || len(doc.Artefacts) != 8 {
		t.Fatalf("JSON document: %+v", doc)
	}
	for _, a := range doc.Artefacts {
		if a.Kind == "scp" && !strings.Contains(a.Content, "arn:aws-cn:iam::*:root") {
			t.Errorf("%s is not for aws-cn", a.Name)
		}
	}
	// Without credentials, and without --offline, Vigil says it left IDs as variables.
	r = vigil(t, nil, "prevent").want(t, 0)
	if !strings.Contains(r.stderr, "no AWS credentials or region configured") {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestPreventOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "guardrails")
	r := vigil(t, nil, "prevent", "--offline", "--out", dir, "--target", "ou-ab12-11111111").want(t, 0)
	if !strings.Contains(r.stdout, "Wrote 8 files to "+dir) {
		t.Errorf("stdout %q", r.stdout)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 8 {
		t.Fatalf("%v: %d files", err, len(entries))
	}
	readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	for _, e := range entries {
		if e.Name() != "README.md" && !strings.Contains(string(readme), "`"+e.Name()+"`") {
			t.Errorf("README does not explain %s", e.Name())
		}
	}
	tf, _ := os.ReadFile(filepath.Join(dir, "vigil-prevent.tf"))
	if !strings.Contains(string(tf), `"ou-ab12-11111111"`) {
		t.Error("the target is not in the Terraform")
	}
	// Writing again into the existing directory replaces the files.
	vigil(t, nil, "prevent", "--offline", "--out", dir).want(t, 0)
	if tf2, _ := os.ReadFile(filepath.Join(dir, "vigil-prevent.tf")); bytes.Equal(tf, tf2) {
		t.Error("the second run did not rewrite the files")
	}
	// No temporary directories are left beside it.
	siblings, _ := os.ReadDir(filepath.Dir(dir))
	if len(siblings) != 1 {
		t.Errorf("left behind: %v", siblings)
	}
}

func TestPreventApplyRefusedWithoutTerminal(t *testing.T) {
	srv, env := emulated(t)
	// The test's stdin is not a terminal: without --yes nothing may happen,
	// not even a read.
	r := vigil(t, env, "prevent", "--apply", "--target", "r-ab12").want(t, 2)
	if !strings.Contains(r.stderr, "stdin is not a terminal") || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("stderr %q", r.stderr)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d AWS calls before the refusal", n)
	}
}

func TestPreventApplyAgainstEmulator(t *testing.T) {
	none := []string{}
	w := &awsemu.World{
		Organization: &awsemu.Organization{ID: "o-aa111bb222", ManagementAccountID: "111122223333", RootID: "r-ab12", PolicyTypes: &none},
		Accounts: []*awsemu.Account{
			{ID: "111122223333", Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: "AKIAMGMTADMIN0000001", Secret: "very-secret-value"}}}}},
			{ID: "444455556666"},
		},
	}
	srv := awsemutest.Start(t, w)
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": "AKIAMGMTADMIN0000001", "AWS_SECRET_ACCESS_KEY": "very-secret-value", "AWS_REGION": "us-east-1"}
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	r := vigil(t, env, "prevent", "--plan", "--target", "r-ab12").want(t, 0)
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			t.Fatalf("--plan made a mutating call: %s:%s", c.Service, c.Action)
		}
	}
	r = vigil(t, env, "prevent", "--apply", "--yes", "--target", "r-ab12", "--audit-log", audit).want(t, 0)
	if !strings.Contains(r.stdout, "Audit log: "+audit) {
		t.Errorf("stdout %q", r.stdout)
	}
	log, _ := os.ReadFile(audit)
	if strings.Count(string(log), "\n") != 8 || strings.Contains(string(log), "very-secret-value") {
		t.Errorf("audit log:\n%s", log)
	}
	// The coverage rule now passes on a scan of the management account.
	s := vigil(t, env, "scan", "--format", "json").want(t, 0)
	var rep struct {
		Results []struct {
			RuleID string `json:"rule_id"`
			Status string `json:"status"`
		} `json:"results"`
	}
	json.Unmarshal([]byte(s.stdout), &rep)
	found := false
	for _, res := range rep.Results {
		if res.RuleID == "org-root-scp-coverage" || res.RuleID == "org-root-credentials-management" {
			found = true
			if res.Status != "PASS" {
				t.Errorf("%s is %s after vigil prevent --apply", res.RuleID, res.Status)
			}
		}
	}
	if !found {
		t.Errorf("no organisation results in the scan:\n%s", s.stdout)
	}
}

func TestPreventBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad format", []string{"prevent", "--offline", "--format", "xml"}, 2, `--format "xml"`},
		{"bad target", []string{"prevent", "--offline", "--target", "prod"}, 2, `--target "prod"`},
		{"bad region", []string{"prevent", "--offline", "--regions", "us-east-1,mars-1"}, 2, `"mars-1" is not a region`},
		{"no global region", []string{"prevent", "--offline", "--regions", "eu-west-1"}, 2, "--regions must include us-east-1"},
		{"bad partition", []string{"prevent", "--offline", "--partition", "aws-mars"}, 2, `--partition "aws-mars"`},
		{"plan and apply", []string{"prevent", "--plan", "--apply", "--target", "r-ab12"}, 2, "cannot be combined"},
		{"apply without target", []string{"prevent", "--apply", "--yes"}, 2, "--apply needs --target"},
		{"plan offline", []string{"prevent", "--plan", "--offline", "--target", "r-ab12"}, 2, "--offline makes no AWS call"},
		{"apply with out", []string{"prevent", "--apply", "--yes", "--target", "r-ab12", "--out", dir}, 2, "--out writes artefacts"},
		{"yes without apply", []string{"prevent", "--offline", "--yes"}, 2, "only apply to --apply"},
		{"unknown flag", []string{"prevent", "--frobnicate"}, 2, "unknown flag: --frobnicate"},
		{"positional argument", []string{"prevent", "now"}, 2, "takes no arguments"},
		{"out is a file", []string{"prevent", "--offline", "--out", file}, 1, "is not a directory"},
		{"out parent missing", []string{"prevent", "--offline", "--out", filepath.Join(dir, "a", "b")}, 1, "does not exist"},
		{"apply without credentials", []string{"prevent", "--apply", "--yes", "--target", "r-ab12"}, 1, "no AWS region configured"},
		{"policy for nothing", []string{"policy", "--for", "nothing"}, 2, `--for "nothing"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := vigil(t, nil, c.args...).want(t, c.code)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, c.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty: %q", r.stdout)
			}
			if c.code == 1 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("runtime errors should be one line, got:\n%s", r.stderr)
			}
		})
	}
}

func TestPolicyForPrevent(t *testing.T) {
	r := vigil(t, nil, "policy", "--for", "prevent").want(t, 0)
	golden(t, "policy-prevent.json", r.stdout)
	for _, a := range []string{"organizations:CreatePolicy", "organizations:AttachPolicy", "iam:EnableOrganizationsRootSessions", "organizations:EnablePolicyType"} {
		if !strings.Contains(r.stdout, a) {
			t.Errorf("policy lacks %s", a)
		}
	}
}
