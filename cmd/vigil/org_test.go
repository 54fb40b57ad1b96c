package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// demoURL is the demo emulator's address, which changes every run.
var demoURL = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)

// demoSecond: the demo's emulator clock starts at SOURCE_DATE_EPOCH (the
// reference time) and runs in real time, so a credential report generated
// during the run may be stamped a second or two later on a slow machine.
// The seconds are masked as demoSecondMask (same width, so line wrapping
// is unchanged).
var (
	demoSecond     = regexp.MustCompile(regexp.QuoteMeta(testclock.Ref().Format("2006-01-02T15:04:")) + `[0-9]{2}Z`)
	demoSecondMask = testclock.Ref().Format("2006-01-02T15:04:") + "0NZ"
)

// demoHistoryPredatesSCPs: the demo organisation is dated relative to
// now, its oldest member having joined six years before. With the
// reference time moved before 2023-09-16 that member joined before
// 2017-09-15, and the organisation report rightly says its root user can
// manage its keys whatever the SCPs say: another text than the golden one.
func demoHistoryPredatesSCPs() bool {
	return testclock.Ref().Before(time.Date(2023, 9, 16, 0, 0, 0, 0, time.UTC))
}

// reportJSON is the part of the JSON report the organisation tests read.
type reportJSON struct {
	Incomplete   *struct{ Reason string } `json:"incomplete"`
	Organization *struct {
		ID                  string `json:"id"`
		ManagementAccountID string `json:"management_account_id"`
		AccessMode          string `json:"access_mode"`
		Caller              string `json:"caller_arn"`
		Features            *struct {
			RootCredentialsManagement bool `json:"root_credentials_management"`
		} `json:"features"`
		Skipped []struct {
			AccountID string `json:"account_id"`
			Reason    string `json:"reason"`
		} `json:"skipped"`
	} `json:"organization"`
	Accounts []struct {
		AccountID string   `json:"account_id"`
		Name      string   `json:"name"`
		Role      string   `json:"organization_role"`
		OUPath    []string `json:"ou_path"`
		Status    string   `json:"status"`
		Access    *struct {
			Method  string `json:"method"`
			RoleARN string `json:"role_arn"`
			Profile string `json:"profile"`
			Note    string `json:"note"`
		} `json:"access"`
		Gaps []struct {
			Call string `json:"call"`
			Code string `json:"error_code"`
		} `json:"gaps"`
	} `json:"accounts"`
	Unreached []struct {
		Target string `json:"target"`
	} `json:"unreached"`
	Summary struct {
		AccountStatus *struct{ Failing, Unknown, Clean, Skipped, Unreached int } `json:"account_status"`
	} `json:"summary"`
	Results []struct {
		RuleID    string `json:"rule_id"`
		AccountID string `json:"account_id"`
		Status    string `json:"status"`
	} `json:"results"`
}

func parseReport(t *testing.T, out string) reportJSON {
	t.Helper()
	var r reportJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report does not parse: %v\n%s", err, out)
	}
	return r
}

// TestOrgDemo: 'vigil scan --org --demo' works out of the box, through a
// role and through AssumeRoot, and says everything an organisation report
// must: every account once, the management account marked, OU paths,
// access per account, the suspended account skipped with its reason.
func TestOrgDemo(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []string
		method string
	}{
		{"org-demo.txt", []string{"scan", "--org", "--demo"}, "assume-role"},
		{"org-demo-assume-root.txt", []string{"scan", "--org", "--demo", "--assume-root"}, "assume-root"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := vigil(t, nil, c.args...).want(t, 0)
			if demoHistoryPredatesSCPs() {
				t.Logf("golden file not compared: with the reference time at %s the demo's accounts joined before 2017-09-15, which the report rightly tells", testclock.Ref())
			} else {
				golden(t, c.name, demoSecond.ReplaceAllString(demoURL.ReplaceAllString(r.stdout, "http://127.0.0.1:PORT"), demoSecondMask))
			}
			if r.stderr != "" {
				t.Errorf("stderr is not empty (no terminal, no warnings expected): %q", r.stderr)
			}
			j := parseReport(t, vigil(t, nil, append(c.args, "--format", "json")...).want(t, 0).stdout)
			if o := j.Organization; o == nil || o.ID != "o-demo1234567" || o.ManagementAccountID != "111111111111" || o.AccessMode != c.method ||
				o.Features == nil || !o.Features.RootCredentialsManagement || len(o.Skipped) != 1 || o.Skipped[0].AccountID != "666666666666" ||
				!strings.Contains(o.Skipped[0].Reason, "SUSPENDED") {
				t.Errorf("organisation %+v", j.Organization)
			}
			if len(j.Accounts) != 5 {
				t.Fatalf("%d accounts, want the 5 active ones", len(j.Accounts))
			}
			for _, a := range j.Accounts {
				want := c.method
				if a.AccountID == "111111111111" {
					want = "direct"
					if a.Role != "management" || a.Access == nil || a.Access.Note == "" {
						t.Errorf("management account %+v", a)
					}
				}
				if a.Access == nil || a.Access.Method != want || len(a.OUPath) == 0 || a.OUPath[0] != "Root" || a.Name == "" {
					t.Errorf("account %s: access %+v, OU path %v", a.AccountID, a.Access, a.OUPath)
				}
			}
			if st := j.Summary.AccountStatus; st == nil || st.Failing+st.Unknown+st.Clean != 5 || st.Skipped != 1 {
				t.Errorf("account status %+v", j.Summary.AccountStatus)
			}
		})
	}
	// A saved organisation snapshot re-evaluates to the same report.
	dir := t.TempDir()
	snap, live := filepath.Join(dir, "org.snap.json"), filepath.Join(dir, "live.json")
	vigil(t, nil, "scan", "--org", "--demo", "--assume-root", "--format", "json", "--output", live, "--save", snap).want(t, 0)
	want, _ := os.ReadFile(live)
	if got := fromSnapshot(t, vigil(t, nil, "scan", "--from", snap, "--format", "json").want(t, 0).stdout, snap); got != string(want) {
		t.Errorf("--from the saved organisation snapshot differs from the live report:\n%s\n---\n%s", want, got)
	}
	// --fail-on applies across every account.
	r := vigil(t, nil, "scan", "--org", "--demo", "--fail-on", "critical").want(t, 3)
	if !strings.Contains(r.stderr, "failed at or above severity critical") {
		t.Errorf("stderr %q", r.stderr)
	}
	// The single-account demo is what it was.
	if r := vigil(t, nil, "scan", "--demo=auto").want(t, 0); strings.Contains(r.stdout, "  accounts: ") || !strings.Contains(r.stdout, "Summary: 1 account · 42 results") {
		t.Errorf("--demo=auto without --org changed:\n%s", r.stdout)
	}
}

func TestOrgFlagErrors(t *testing.T) {
	dir := t.TempDir()
	targetsFile := filepath.Join(dir, "t.yaml")
	os.WriteFile(targetsFile, []byte("targets:\n  - profile: a\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--assume-root"}, "--assume-root needs --org"},
		{[]string{"scan", "--ou", "Workloads"}, "--ou needs --org"},
		{[]string{"scan", "--accounts", "111111111111"}, "--accounts needs --org"},
		{[]string{"scan", "--parallel", "4"}, "--parallel needs --org, --targets or several --profile"},
		{[]string{"scan", "--org", "--targets", targetsFile}, "cannot be combined"},
		{[]string{"scan", "--org", "--profile", "a", "--profile", "b"}, "--org takes one --profile"},
		{[]string{"scan", "--targets", targetsFile, "--profile", "a"}, "--targets and --profile cannot be combined"},
		{[]string{"scan", "--targets", targetsFile, "--demo"}, "--demo scans the built-in organisation"},
		{[]string{"scan", "--org", "--parallel", "0"}, "--parallel 0: want 1 to 1024"},
		{[]string{"scan", "--org", "--account-timeout", "0"}, `"0" is out of range: want 1s to 1d`},
		{[]string{"scan", "--org", "--accounts", "12345"}, `account "12345": want a 12-digit AWS account ID`},
		{[]string{"scan", "--org", "--role", "bad role!"}, `role "bad role!"`},
		{[]string{"scan", "--org", "--session-duration", "5m"}, `"5m" is out of range: want 15m to 12h`},
		{[]string{"scan", "--org", "--ou", "ou-bad"}, `OU "ou-bad": not a valid OU ID`},
		{[]string{"scan", "--org", "--from", "x.json"}, "--org has no effect when evaluating a file"},
		{[]string{"scan", "--show", "everything"}, `--show "everything": want all, issues or failures`},
		{[]string{"policy", "--assume-root"}, "--assume-root and --role need --org"},
		{[]string{"policy", "--org", "--member-role"}, "pick one"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := vigil(t, nil, c.args...).want(t, 2)
			if !strings.Contains(r.stderr, c.want) || r.stdout != "" {
				t.Errorf("stderr %q lacks %q (stdout %q)", r.stderr, c.want, r.stdout)
			}
		})
	}
	// An OU that does not exist is not a usage error but a fact about
	// the organisation: exit 1, one line naming what does exist.
	r := vigil(t, nil, "scan", "--org", "--demo", "--ou", "Workloads/Nope").want(t, 1)
	if !strings.Contains(r.stderr, `no OU named "Nope" under Root/Workloads`) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestTargetsFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	for _, c := range []struct {
		file, content, want string
	}{
		{"unknown-key.yaml", "targets:\n  - profile: prod\n  - role_arn: arn:aws:iam::123456789012:role/VigilAudit\n    externalid: x\n", "unknown-key.yaml:4: unknown key \"externalid\""},
		{"both.yaml", "# two ways in\ntargets:\n  - profile: prod\n    role_arn: arn:aws:iam::123456789012:role/R\n", "both.yaml:3: target 1: set profile or role_arn, not both"},
		{"bad-arn.yaml", "targets:\n  - role_arn: arn:aws:iam::1234:role/R\n", "bad-arn.yaml:2: target 1: role_arn"},
		{"syntax.json", "{\"targets\": [{\"profile\": \"a\"}\n", "syntax.json:"},
		{"empty.yaml", "", "empty.yaml:1: the file is empty"},
	} {
		t.Run(c.file, func(t *testing.T) {
			r := vigil(t, nil, "scan", "--targets", write(c.file, c.content)).want(t, 1)
			if !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 || r.stdout != "" {
				t.Errorf("stderr %q lacks %q", r.stderr, c.want)
			}
		})
	}
	r := vigil(t, nil, "scan", "--targets", filepath.Join(dir, "nope.yaml")).want(t, 1)
	if !strings.Contains(r.stderr, "nope.yaml") {
		t.Errorf("stderr %q does not name the missing file", r.stderr)
	}
}

// targetsWorld is an organisation whose accounts can each be reached
// through a profile with an IAM user's key, or through the audit role.
func targetsWorld(t *testing.T) (*awsemu.Server, map[string]string, string) {
	t.Helper()
	w := awsemu.OrgWorld(4, awsemu.OrgWorldOptions{Now: testclock.Ref()})
	w.Accounts[1].Users = []awsemu.User{{Name: "auditor", AccessKeys: []awsemu.AccessKey{{ID: "AKIATARGETSACCT10001"}, {ID: "AKIATARGETSACCT10002"}}}}
	srv := awsemutest.Start(t, w, awsemu.WithClock(testclock.Ref))
	home := t.TempDir()
	config, creds := filepath.Join(home, "config"), filepath.Join(home, "credentials")
	os.WriteFile(config, []byte("[profile mgmt]\nregion = eu-west-1\n[profile acct1]\nregion = eu-west-1\n[profile acct1-again]\nregion = eu-west-1\n"), 0o600)
	os.WriteFile(creds, []byte("[mgmt]\naws_access_key_id = "+awsemu.OrgWorldAdminKey+"\naws_secret_access_key = x\n"+
		"[acct1]\naws_access_key_id = AKIATARGETSACCT10001\naws_secret_access_key = x\n"+
		"[acct1-again]\naws_access_key_id = AKIATARGETSACCT10002\naws_secret_access_key = x\n"), 0o600)
	env := map[string]string{"AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_ENDPOINT_URL": srv.URL()}
	return srv, env, home
}

// TestTargetsScan: profiles and roles from a file, one account reached
// three ways and reported once with a note, a role that is refused, and a
// profile that does not exist: every target is in the report, and the run
// is incomplete (exit 1, after writing) because one named no account.
func TestTargetsScan(t *testing.T) {
	srv, env, home := targetsWorld(t)
	acct1, acct2 := awsemu.OrgWorldAccountID(0), awsemu.OrgWorldAccountID(1)
	file := filepath.Join(home, "targets.yaml")
	os.WriteFile(file, []byte(`# what vigil scans besides the organisation
defaults:
  source_profile: mgmt
targets:
  - profile: acct1
    name: first
  - profile: acct1-again
  - role_arn: arn:aws:iam::`+acct1+`:role/VigilAudit
  - role_arn: arn:aws:iam::`+acct2+`:role/NoSuchRole
  - profile: mgmt
  - profile: missing
`), 0o644)
	out := filepath.Join(home, "report.json")
	r := vigil(t, env, "scan", "--targets", file, "--format", "json", "--output", out).want(t, 1)
	if !strings.Contains(r.stderr, "the scan is incomplete: 1 of 6 targets could not be scanned at all: profile missing") {
		t.Errorf("stderr %q", r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the report was not written before the error: %v", err)
	}
	j := parseReport(t, string(data))
	ids := map[string]int{}
	for _, a := range j.Accounts {
		ids[a.AccountID]++
		switch a.AccountID {
		case acct1:
			// A member account read on its own cannot read the
			// organisation's features; that gap is expected.
			if a.Name != "first" || a.Access == nil || a.Access.Profile != "acct1" || !strings.Contains(a.Access.Note, "profile acct1-again") ||
				!strings.Contains(a.Access.Note, "role/VigilAudit") || len(a.Gaps) != 1 || a.Gaps[0].Call != "iam:ListOrganizationsFeatures" {
				t.Errorf("account reached three ways: %+v %+v", a.Access, a.Gaps)
			}
		case acct2:
			if len(a.Gaps) != 1 || a.Gaps[0].Call != "sts:AssumeRole" || a.Gaps[0].Code != "AccessDenied" || a.Status != "unknown" {
				t.Errorf("refused role: %+v status %s", a.Gaps, a.Status)
			}
		case awsemu.OrgWorldManagementID:
			if a.Role != "management" {
				t.Errorf("management account role %q", a.Role)
			}
		}
	}
	if len(ids) != 3 || ids[acct1] != 1 || ids[acct2] != 1 || ids[awsemu.OrgWorldManagementID] != 1 {
		t.Errorf("accounts %v, want three, each once", ids)
	}
	if len(j.Unreached) != 1 || j.Unreached[0].Target != "profile missing" || j.Incomplete == nil {
		t.Errorf("unreached %+v, incomplete %+v", j.Unreached, j.Incomplete)
	}
	if j.Organization == nil || j.Organization.ID != "o-orgworld01" {
		t.Errorf("the management account's organisation is not in the report: %+v", j.Organization)
	}
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			t.Errorf("mutating call %s:%s", c.Service, c.Action)
		}
	}

	// Repeated --profile does the same without a file.
	r = vigil(t, env, "scan", "--profile", "acct1", "--profile", "mgmt", "--profile", "acct1-again").want(t, 0)
	if !strings.Contains(r.stdout, "Account "+acct1) || !strings.Contains(r.stdout, "also listed as profile acct1-again") || !strings.Contains(r.stdout, "Summary: 2 accounts:") {
		t.Errorf("multi-profile report:\n%s", r.stdout)
	}
}

// TestOrgInterrupt: Ctrl-C in the middle of an organisation scan writes
// what finished, marks the rest as not scanned, and exits 1.
//
// Counted, not timed: after twenty accounts every account's summary hangs
// and the deadlines are half an hour away, so once the workers are all
// held the scan cannot end before the interrupt, and after it only the
// interrupt can end it within the test's minute.
func TestOrgInterrupt(t *testing.T) {
	w := awsemu.OrgWorld(400, awsemu.OrgWorldOptions{Now: testclock.Ref(), Suspended: 3})
	const parallel = 8
	srv := awsemutest.Start(t, w, awsemu.WithFaults(awsemu.Fault{Service: "iam", Action: "GetAccountSummary", Skip: 20, Hang: true}))
	cmd := exec.Command(binary, "scan", "--org", "--assume-root", "--format", "json", "--parallel", strconv.Itoa(parallel),
		"--account-timeout", "30m", "--call-timeout", "30m")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL=" + srv.URL(), "AWS_ACCESS_KEY_ID=" + awsemu.OrgWorldAdminKey, "AWS_SECRET_ACCESS_KEY=x", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", testclock.EnvVar()}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := srv.WaitHeld(ctx, func(h []awsemu.Call) bool { return len(h) == parallel }); err != nil {
		cmd.Process.Kill()
		t.Fatalf("the workers never all hung: %v\nstderr: %s", err, errb.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	var err error
	select {
	case err = <-exited:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("the scan did not stop within a minute of the interrupt")
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want code 1\nstderr: %s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "the scan is incomplete: the run was cancelled") {
		t.Errorf("stderr %q", errb.String())
	}
	j := parseReport(t, out.String())
	if j.Incomplete == nil {
		t.Fatal("the report does not say it is incomplete")
	}
	cancelled, seen := 0, map[string]bool{}
	for _, a := range j.Accounts {
		if seen[a.AccountID] {
			t.Errorf("%s twice", a.AccountID)
		}
		seen[a.AccountID] = true
		for _, g := range a.Gaps {
			if g.Code == "Cancelled" {
				cancelled++
			}
		}
	}
	if cancelled == 0 || cancelled == len(j.Accounts) {
		t.Errorf("%d of %d accounts cancelled; the interrupt should land mid-scan", cancelled, len(j.Accounts))
	}
}

// TestOrgLogs: a failure in an account is logged as a warning with the
// account and the call, as JSON with --log-format json; the report still
// goes to stdout.
func TestOrgLogs(t *testing.T) {
	w := awsemu.OrgWorld(6, awsemu.OrgWorldOptions{Now: testclock.Ref(), NoRole: []string{awsemu.OrgWorldAccountID(2)}})
	srv := awsemutest.Start(t, w)
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.OrgWorldAdminKey, "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
	r := vigil(t, env, "scan", "--org", "--log-format", "json").want(t, 0)
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("stderr line is not JSON: %q", line)
		}
		if rec["level"] == "WARN" && rec["account_id"] == awsemu.OrgWorldAccountID(2) && rec["call"] == "sts:AssumeRole" && rec["error_code"] == "AccessDenied" {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning for the denied role in:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "Account "+awsemu.OrgWorldAccountID(2)) || !strings.Contains(r.stdout, "sts:AssumeRole — AccessDenied") {
		t.Errorf("report:\n%s", r.stdout)
	}
}

func TestPolicyVariants(t *testing.T) {
	for name, args := range map[string][]string{
		"policy-org.json":             {"policy", "--org"},
		"policy-org-assume-root.json": {"policy", "--org", "--assume-root"},
		"policy-member-role.json":     {"policy", "--member-role"},
	} {
		r := vigil(t, nil, args...).want(t, 0)
		golden(t, name, r.stdout)
		var p struct{ Statement []struct{ Action []string } }
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || len(p.Statement) == 0 {
			t.Fatalf("%s does not parse: %v", name, err)
		}
	}
}
