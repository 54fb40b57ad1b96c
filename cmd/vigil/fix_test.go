package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// fixDoc is the part of vigil fix's JSON the tests read.
type fixDoc struct {
	Schema  string `json:"schema"`
	Version int    `json:"version"`
	DryRun  bool   `json:"dry_run"`
	Plan    struct {
		Scope    string `json:"scope"`
		Accounts []struct {
			AccountID   string `json:"account_id"`
			Path        string `json:"path"`
			Credentials []struct {
				Kind   string `json:"kind"`
				ID     string `json:"id"`
				Action string `json:"action"`
			} `json:"credentials"`
			Steps []struct {
				ID     string `json:"id"`
				Action string `json:"action"`
				Target string `json:"target"`
			} `json:"steps"`
			Results []struct {
				Step   string `json:"step"`
				Status string `json:"status"`
			} `json:"results"`
			Manual *struct {
				Case string `json:"case"`
			} `json:"manual"`
		} `json:"accounts"`
	} `json:"plan"`
}

// TestFixDemo: the plans of the built-in demo, golden, and the dry run
// changes nothing (no audit log either).
func TestFixDemo(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"fix-demo.txt", []string{"fix", "--demo"}},
		{"fix-org-demo.txt", []string{"fix", "--org", "--demo"}},
		{"fix-org-demo-all.txt", []string{"fix", "--org", "--demo", "--role", "VigilAudit", "--certificates", "--password", "--mfa"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := append(c.args, "--audit-log", filepath.Join(dir, "never.jsonl"))
			vigil(t, nil, cmd...).want(t, 2) // --audit-log only with --apply
			r := vigil(t, nil, c.args...).want(t, 0)
			golden(t, c.name, demoSecond.ReplaceAllString(demoURL.ReplaceAllString(r.stdout, "http://127.0.0.1:PORT"), demoSecondMask))
			if !strings.Contains(r.stderr, "built-in demo organisation") {
				t.Errorf("stderr %q", r.stderr)
			}
		})
	}
	var doc fixDoc
	r := vigil(t, nil, "fix", "--org", "--demo", "--format", "json").want(t, 0)
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if doc.Schema != "vigil.fix" || doc.Version != 1 || !doc.DryRun || len(doc.Plan.Accounts) != 5 {
		t.Fatalf("document %+v", doc)
	}
	paths := map[string]string{}
	for _, a := range doc.Plan.Accounts {
		paths[a.AccountID] = a.Path
	}
	if paths["111111111111"] != "manual" || paths["333333333333"] != "assume-root" {
		t.Errorf("paths %v", paths)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a dry run left files: %v", entries)
	}
}

// TestFixDemoApply: 'vigil fix --org --demo --apply --yes' makes, in the
// demo it planned in, every change its plan lists, and logs each one as
// succeeded in the file --audit-log names. The demo's emulator lives only
// as long as the process, so the proof is the run's own account of what
// it did: the JSON results of every step, the text summary, and the
// audit log, each matched against the plan of a dry run.
func TestFixDemoApply(t *testing.T) {
	var dry fixDoc
	if err := json.Unmarshal([]byte(vigil(t, nil, "fix", "--org", "--demo", "--format", "json").want(t, 0).stdout), &dry); err != nil {
		t.Fatal(err)
	}
	type change struct{ account, action, target string }
	var planned []change
	for _, a := range dry.Plan.Accounts {
		for _, s := range a.Steps {
			planned = append(planned, change{a.AccountID, s.Action, s.Target})
		}
	}
	if len(planned) == 0 {
		t.Fatal("the demo's plan has no change to apply")
	}
	sorted := func(cs []change) []change {
		slices.SortFunc(cs, func(a, b change) int {
			return strings.Compare(a.account+a.target+a.action, b.account+b.target+b.action)
		})
		return cs
	}

	// JSON: every planned step has a result, and it succeeded.
	dir := t.TempDir()
	audit := filepath.Join(dir, "logs", "fix-audit.jsonl")
	if err := os.Mkdir(filepath.Dir(audit), 0o755); err != nil {
		t.Fatal(err)
	}
	r := vigil(t, nil, "fix", "--org", "--demo", "--apply", "--yes", "--audit-log", audit, "--format", "json").want(t, 0)
	var doc fixDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	var done []change
	for _, a := range doc.Plan.Accounts {
		results := map[string]string{}
		for _, res := range a.Results {
			results[res.Step] = res.Status
		}
		for _, s := range a.Steps {
			if results[s.ID] != "succeeded" {
				t.Errorf("account %s step %s (%s %s): %q, want succeeded", a.AccountID, s.ID, s.Action, s.Target, results[s.ID])
				continue
			}
			done = append(done, change{a.AccountID, s.Action, s.Target})
		}
	}
	if doc.DryRun || !slices.Equal(sorted(done), sorted(slices.Clone(planned))) {
		t.Errorf("dry run %v; changes made %v, planned %v", doc.DryRun, done, planned)
	}

	// The audit log is where --audit-log says, with one succeeded line per
	// planned change, and nothing else was written beside it.
	var logged []change
	for _, l := range auditLines(t, audit) {
		if l["result"] != "succeeded" || l["run_id"] == "" || !strings.Contains(fmt.Sprint(l["detail"]), "signed by ASIA") {
			t.Errorf("audit line %v", l)
		}
		logged = append(logged, change{fmt.Sprint(l["account"]), fmt.Sprint(l["action"]), fmt.Sprint(l["target"])})
	}
	if !slices.Equal(sorted(logged), sorted(slices.Clone(planned))) {
		t.Errorf("audit log %v, planned %v", logged, planned)
	}
	if entries, _ := os.ReadDir(filepath.Dir(audit)); len(entries) != 1 {
		t.Errorf("files beside the audit log: %v", entries)
	}

	// Text: the results say so, and the exit code is 0 (above).
	text := filepath.Join(dir, "text-audit.jsonl")
	r = vigil(t, nil, "fix", "--org", "--demo", "--apply", "--yes", "--audit-log", text).want(t, 0)
	for _, want := range []string{"Results:", fmt.Sprintf("%d change(s) succeeded, 0 failed, 0 not attempted.", len(planned)), "Audit log: " + text} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, c := range planned {
		if !strings.Contains(r.stdout, "ok      "+c.action+"  "+c.target) {
			t.Errorf("stdout lacks the result of %s %s:\n%s", c.action, c.target, r.stdout)
		}
	}
	if len(auditLines(t, text)) != len(planned) {
		t.Errorf("text run: audit log %v", auditLines(t, text))
	}
}

// demoEmulator serves the demo organisation in the test, so that several
// runs of the binary see the same, changing, state.
func demoEmulator(t *testing.T) (*awsemu.Server, map[string]string) {
	t.Helper()
	srv := awsemutest.Start(t, awsemu.DemoWorld(testclock.Ref()))
	return srv, map[string]string{
		"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.DemoManagementAdminKey,
		"AWS_SECRET_ACCESS_KEY": "demo-admin-secret-in-env", "AWS_REGION": "us-east-1",
	}
}

// TestFixApplyRefusedWithoutTerminal: --apply without --yes on a
// non-terminal stdin is a usage error before any AWS call.
func TestFixApplyRefusedWithoutTerminal(t *testing.T) {
	srv, env := demoEmulator(t)
	r := vigil(t, env, "fix", "--org", "--apply").want(t, 2)
	if !strings.Contains(r.stderr, "stdin is not a terminal") || !strings.Contains(r.stderr, "--yes") || r.stdout != "" {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d AWS calls before the refusal", n)
	}
}

// TestFixApplyThenScan: the dry run changes nothing; --apply --yes
// deletes what the plan said, logs it, and prints no secret; a scan then
// passes root-access-key for the fixed member; a second run has nothing
// to do.
func TestFixApplyThenScan(t *testing.T) {
	srv, env := demoEmulator(t)
	plan := vigil(t, env, "fix", "--org").want(t, 0)
	if !strings.Contains(plan.stdout, "This was a dry run") || !strings.Contains(plan.stdout, "iam:DeleteAccessKey AKIADEMOPRODROOT0001") {
		t.Errorf("plan:\n%s", plan.stdout)
	}
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			t.Fatalf("the dry run made a mutating call: %s:%s", c.Service, c.Action)
		}
	}
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	r := vigil(t, env, "fix", "--org", "--apply", "--yes", "--audit-log", audit).want(t, 0)
	for _, want := range []string{"Results:", "ok      iam:DeleteAccessKey  AKIADEMOPRODROOT0001", "1 change(s) succeeded, 0 failed", "Audit log: " + audit} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "This was a dry run") {
		t.Error("an applied run says it was a dry run")
	}
	var changes []string
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			changes = append(changes, c.CallerAccount+" "+c.Action+" "+c.Params["AccessKeyId"])
		}
	}
	if len(changes) != 1 || changes[0] != "333333333333 DeleteAccessKey AKIADEMOPRODROOT0001" {
		t.Errorf("changes %v", changes)
	}
	lines := auditLines(t, audit)
	if len(lines) != 1 || lines[0]["account"] != "333333333333" || lines[0]["target"] != "AKIADEMOPRODROOT0001" || lines[0]["action"] != "iam:DeleteAccessKey" ||
		lines[0]["result"] != "succeeded" || lines[0]["caller"] != "arn:aws:iam::111111111111:user/vigil-admin" || lines[0]["run_id"] == "" {
		t.Errorf("audit log %v", lines)
	}
	log, _ := os.ReadFile(audit)
	for _, s := range append(srv.IssuedSecrets(), "demo-admin-secret-in-env") {
		for name, text := range map[string]string{"stdout": plan.stdout + r.stdout, "stderr": plan.stderr + r.stderr, "audit log": string(log)} {
			if strings.Contains(text, s) {
				t.Errorf("a secret is in the %s", name)
			}
		}
	}

	s := parseReport(t, vigil(t, env, "scan", "--org", "--assume-root", "--format", "json").want(t, 0).stdout)
	found := false
	for _, res := range s.Results {
		if res.RuleID == "root-access-key" && res.AccountID == "333333333333" {
			found = true
			if res.Status != "PASS" {
				t.Errorf("root-access-key is %s in 333333333333 after vigil fix --apply", res.Status)
			}
		}
	}
	if !found {
		t.Error("no root-access-key result for 333333333333")
	}

	again := vigil(t, env, "fix", "--org", "--apply", "--yes", "--audit-log", audit).want(t, 0)
	if !strings.Contains(again.stdout, "Nothing to change.") || len(auditLines(t, audit)) != 1 {
		t.Errorf("second run:\n%s", again.stdout)
	}
}

// TestFixPartialFailure: a failure in one account does not stop the
// others; the exit code is 1 and a second run finishes the job.
func TestFixPartialFailure(t *testing.T) {
	srv := awsemutest.Start(t, twoMemberWorld(testclock.Ref()))
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": "AKIATWOMGMTADMIN0001", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "eu-west-1"}
	srv.AddFault(awsemu.Fault{Service: "iam", Action: "DeleteAccessKey", AccountID: "222222222222", Code: "AccessDenied"})
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	r := vigil(t, env, "fix", "--org", "--apply", "--yes", "--audit-log", audit).want(t, 1)
	if !strings.Contains(r.stderr, "did not succeed, in account(s) 222222222222") || !strings.Contains(r.stdout, "FAILED  iam:DeleteAccessKey") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if a, _ := srv.Account("333333333333"); len(a.Root.AccessKeys) != 0 {
		t.Error("the healthy account was not fixed")
	}
	srv.ClearFaults()
	vigil(t, env, "fix", "--org", "--apply", "--yes", "--audit-log", audit).want(t, 0)
	if a, _ := srv.Account("222222222222"); len(a.Root.AccessKeys) != 0 {
		t.Error("the second run did not finish the job")
	}
	results := map[string]int{}
	for _, l := range auditLines(t, audit) {
		results[l["result"].(string)]++
	}
	if results["failed"] != 1 || results["succeeded"] != 2 {
		t.Errorf("audit results %v", results)
	}
}

func twoMemberWorld(now time.Time) *awsemu.World {
	old := &awsemu.KeyLastUsed{Date: now.Add(-200 * 24 * time.Hour), Region: "us-east-1", Service: "s3"}
	return &awsemu.World{
		Organization: &awsemu.Organization{ID: "o-twomembers1", ManagementAccountID: "111111111111", RootID: "r-two1",
			TrustedAccess: []string{"iam.amazonaws.com"}, RootCredentialsManagement: true},
		Accounts: []*awsemu.Account{
			{ID: "111111111111", Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: "AKIATWOMGMTADMIN0001"}}}}},
			{ID: "222222222222", Root: awsemu.Root{AccessKeys: []awsemu.AccessKey{{ID: "AKIATWOMEMBERA000001", LastUsed: old}}}},
			{ID: "333333333333", Root: awsemu.Root{AccessKeys: []awsemu.AccessKey{{ID: "AKIATWOMEMBERB000001", LastUsed: old}}}},
		},
	}
}

// TestFixFrom: a saved scan limits the run to what it saw, here at the
// CLI: the org is implied by an organisation snapshot.
func TestFixFrom(t *testing.T) {
	srv, env := demoEmulator(t)
	snap := filepath.Join(t.TempDir(), "seen.json")
	vigil(t, env, "scan", "--org", "--assume-root", "--accounts", "111111111111,444444444444", "--save", snap, "--format", "json").want(t, 0)
	srv.ResetCalls()
	r := vigil(t, env, "fix", "--from", snap).want(t, 0)
	if !strings.Contains(r.stdout, "Snapshot: only what the snapshot "+snap) || strings.Contains(r.stdout, "AKIADEMOPRODROOT0001") ||
		!strings.Contains(r.stdout, "333333333333 production: not in the snapshot") {
		t.Errorf("plan from the snapshot:\n%s", r.stdout)
	}
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			t.Errorf("mutating call %s:%s", c.Service, c.Action)
		}
		if c.Action == "AssumeRoot" && c.Params["TargetPrincipal"] == "333333333333" {
			t.Error("an account outside the snapshot was entered")
		}
	}
}

func TestFixBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema":"vigil.snapshot","version":1,`), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad format", []string{"fix", "--format", "xml"}, 2, `--format "xml"`},
		{"yes without apply", []string{"fix", "--yes"}, 2, "only apply to --apply"},
		{"ou without org", []string{"fix", "--ou", "Prod"}, 2, "--ou needs --org"},
		{"role without org", []string{"fix", "--role", "Reader"}, 2, "--role needs --org"},
		{"external id without role", []string{"fix", "--org", "--external-id", "x1"}, 2, "--external-id needs --role"},
		{"bad role", []string{"fix", "--org", "--role", "bad role!"}, 2, "--role"},
		{"org and targets", []string{"fix", "--org", "--targets", "t.yaml"}, 2, "cannot be combined"},
		{"lookback too long", []string{"fix", "--lookback", "91d"}, 2, `"91d" is out of range: want 1h to 90d`},
		{"lookback not a duration", []string{"fix", "--lookback", "soon"}, 2, "soon"},
		{"events", []string{"fix", "--events", "51"}, 2, "--events 51"},
		{"min idle negative", []string{"fix", "--min-idle", "-1d"}, 2, "-1d"},
		{"bad account", []string{"fix", "--org", "--accounts", "12"}, 2, "12-digit"},
		{"parallel without multi", []string{"fix", "--parallel", "4"}, 2, "--parallel needs"},
		{"demo with profile", []string{"fix", "--demo", "--profile", "x"}, 2, "--demo"},
		{"positional", []string{"fix", "now"}, 2, "takes no arguments"},
		{"unknown flag", []string{"fix", "--frobnicate"}, 2, "unknown flag"},
		{"apply no tty", []string{"fix", "--apply"}, 2, "stdin is not a terminal"},
		{"audit log dir missing", []string{"fix", "--apply", "--yes", "--audit-log", filepath.Join(dir, "no", "a.jsonl")}, 1, "does not exist"},
		{"audit log is a dir", []string{"fix", "--apply", "--yes", "--audit-log", dir}, 1, "is a directory"},
		{"bad snapshot", []string{"fix", "--from", bad}, 1, bad},
		{"missing snapshot", []string{"fix", "--from", filepath.Join(dir, "none.json")}, 1, "none.json"},
		{"no credentials", []string{"fix"}, 1, "no AWS region configured"},
		{"policy for nothing", []string{"policy", "--for", "nothing"}, 2, `--for "nothing"`},
		{"policy fix with org", []string{"policy", "--for", "fix", "--org"}, 2, "--org and --assume-root describe scans"},
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

func TestPolicyForFix(t *testing.T) {
	r := vigil(t, nil, "policy", "--for", "fix").want(t, 0)
	golden(t, "policy-fix.json", r.stdout)
	if !strings.Contains(r.stdout, "IAMDeleteRootUserCredentials") || strings.Contains(r.stdout, "sts:AssumeRole\"") {
		t.Errorf("policy:\n%s", r.stdout)
	}
	m := vigil(t, nil, "policy", "--for", "fix", "--member-role").want(t, 0)
	golden(t, "policy-fix-member-role.json", m.stdout)
	g := vigil(t, nil, "policy", "--for", "fix", "--role", "TrailReader", "--partition", "aws-us-gov").want(t, 0)
	if !strings.Contains(g.stdout, "arn:aws-us-gov:iam::*:role/TrailReader") || !strings.Contains(g.stdout, "arn:aws-us-gov:iam::aws:policy/root-task/IAMDeleteRootUserCredentials") {
		t.Errorf("GovCloud policy:\n%s", g.stdout)
	}
}

func auditLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// TestFixTargets: --targets and repeated --profile reach the accounts a
// scan would, each once; accounts reached with IAM users get the manual
// path, a profile that names no account fails the run after the plan.
func TestFixTargets(t *testing.T) {
	srv, env, home := targetsWorld(t)
	acct1 := awsemu.OrgWorldAccountID(0)
	file := filepath.Join(home, "targets.yaml")
	os.WriteFile(file, []byte("targets:\n  - profile: acct1\n  - profile: acct1-again\n  - profile: mgmt\n  - profile: missing\n"), 0o644)
	r := vigil(t, env, "fix", "--targets", file, "--format", "json").want(t, 1)
	var doc fixDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	paths := map[string]string{}
	for _, a := range doc.Plan.Accounts {
		paths[a.AccountID] = a.Path
	}
	if len(paths) != 2 || paths[acct1] != "manual" || paths[awsemu.OrgWorldManagementID] != "manual" {
		t.Errorf("paths %v", paths)
	}
	if !strings.Contains(r.stderr, "the run is incomplete: 1 of 4 targets could not be reached at all: profile missing") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = vigil(t, env, "fix", "--profile", "acct1", "--profile", "mgmt").want(t, 0)
	if !strings.Contains(r.stdout, "Vigil fix — 2 target(s)") || !strings.Contains(r.stdout, "vigil fix --org --accounts "+acct1) {
		t.Errorf("plan:\n%s", r.stdout)
	}
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			t.Errorf("mutating call %s:%s", c.Service, c.Action)
		}
	}
}
