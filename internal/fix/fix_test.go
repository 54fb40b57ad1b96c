package fix_test

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/fix"
	"github.com/vigil-sec/vigil/internal/fleet"
)

// TestOrgPlan: each member account on the AssumeRoot path, the guard
// deciding each key, the management account on the manual path and never
// the target of sts:AssumeRoot, and nothing changed.
func TestOrgPlan(t *testing.T) {
	e := start(t)
	p := e.planOrg()
	if p.Scope != "organisation o-aa111bb222" || p.Caller != "arn:aws:iam::"+mgmtID+":user/admin" {
		t.Errorf("plan header %q %q", p.Scope, p.Caller)
	}
	want := []string{idleID + " iam:DeleteAccessKey " + idleKey, idleID + " iam:DeleteAccessKey " + idleKey2, unusedID + " iam:DeleteAccessKey " + unusedKey}
	if diff := cmp.Diff(want, planned(p)); diff != "" {
		t.Errorf("planned steps (-want +got):\n%s", diff)
	}
	idle := account(t, p, idleID)
	if idle.Path != fix.PathAssumeRoot || !strings.Contains(idle.Via, "IAMDeleteRootUserCredentials") || idle.Caller != p.Caller {
		t.Errorf("idle account path %s via %q caller %q", idle.Path, idle.Via, idle.Caller)
	}
	k := credential(t, idle, idleKey)
	if k.Action != fix.ActDelete || k.LastUsed == nil || k.LastUsed.Region != "eu-west-1" || k.LastUsed.Service != "s3" || !strings.Contains(k.Reason, "idle for 100 days") {
		t.Errorf("idle key %+v", k)
	}
	if s := idle.Steps[0]; !strings.Contains(s.Warning, "irreversible") || s.Via == "" {
		t.Errorf("member step %+v", s)
	}
	// Certificates, the password and MFA only when asked for.
	for _, c := range idle.Credentials {
		if c.Kind != fix.KindAccessKey && c.Action != fix.ActLeave {
			t.Errorf("%s %s: %s (not asked for)", c.Kind, c.ID, c.Action)
		}
	}
	busy := credential(t, account(t, p, busyID), busyKey)
	if busy.Action != fix.ActRefuse || !strings.Contains(busy.Reason, "used 3 days ago") || !strings.Contains(busy.Reason, "--force") {
		t.Errorf("busy key %+v", busy)
	}
	if c := credential(t, account(t, p, unusedID), unusedKey); c.Action != fix.ActDelete || !strings.Contains(c.Reason, "no recorded use") {
		t.Errorf("unused key %+v", c)
	}
	// Without --role CloudTrail cannot be read, and the plan says why.
	contains(t, strings.Join(idle.Notes, "\n"), "does not allow cloudtrail:LookupEvents", "--role")
	mgmt := account(t, p, mgmtID)
	if mgmt.Path != fix.PathManual || mgmt.Manual.Case != fix.CaseOwnAccount || len(mgmt.Steps) != 0 || !strings.Contains(mgmt.Manual.Why, "management account") {
		t.Errorf("management account %+v %+v", mgmt, mgmt.Manual)
	}
	// Its evidence: the credential report's slot, with the last use.
	if len(mgmt.Credentials) != 1 || mgmt.Credentials[0].Report == nil || mgmt.Credentials[0].Report.Service != "ec2" {
		t.Errorf("management evidence %+v", mgmt.Credentials)
	}
	if c := account(t, p, cleanID); len(c.Credentials) != 0 || len(c.Steps) != 0 {
		t.Errorf("clean account %+v", c)
	}
	for _, a := range p.Accounts {
		if a.ID == standalone {
			t.Error("the standalone account is not in the organisation")
		}
	}
	for _, c := range e.srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			t.Errorf("the plan made a mutating call: %s:%s", c.Service, c.Action)
		}
		if c.Action == "AssumeRoot" && c.Params["TargetPrincipal"] == mgmtID {
			t.Error("sts:AssumeRoot targeted the management account")
		}
		if c.Action == "AssumeRoot" && c.Params["TaskPolicyArn.arn"] != "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials" {
			t.Errorf("AssumeRoot with %s", c.Params["TaskPolicyArn.arn"])
		}
	}
	if p.Failed() {
		t.Errorf("plan failed: %+v", p)
	}
}

// TestOrgApply: applying changes exactly what the plan said (its steps,
// the calls the emulator saw, the accounts' state), logs each change, and
// a second run plans nothing.
func TestOrgApply(t *testing.T) {
	e := start(t)
	p := e.planOrg(func(o *fix.Options) { o.Certificates, o.Password, o.MFA = true, true, true })
	e.srv.ResetCalls()
	path := e.apply(p)
	steps := planned(p)
	if diff := cmp.Diff(steps, e.mutations()); diff != "" {
		t.Errorf("calls made vs plan (-plan +calls):\n%s", diff)
	}
	if len(steps) != 6 {
		t.Errorf("%d steps: %v", len(steps), steps)
	}
	// The password before MFA, in the one account that has both.
	var order []string
	for _, c := range e.srv.Calls() {
		if c.CallerAccount == idleID && awsemu.Mutating(c.Service, c.Action) {
			order = append(order, c.Action)
		}
	}
	if i, j := slices.Index(order, "DeleteLoginProfile"), slices.Index(order, "DeactivateMFADevice"); i < 0 || j < i {
		t.Errorf("order %v", order)
	}
	a, _ := e.srv.Account(idleID)
	if len(a.Root.AccessKeys)+len(a.Root.SigningCertificates)+len(a.Root.MFADevices) != 0 || a.Root.Password {
		t.Errorf("idle root after apply %+v", a.Root)
	}
	if k := rootKeys(t, e.srv, busyID); len(k) != 1 {
		t.Errorf("the busy key was touched: %v", k)
	}
	if k := rootKeys(t, e.srv, mgmtID); len(k) != 1 {
		t.Errorf("the management root key was touched: %v", k)
	}

	// The audit log: one line per change, with who, where, what.
	lines := readAudit(t, path)
	if len(lines) != len(steps) {
		t.Fatalf("%d audit lines for %d changes", len(lines), len(steps))
	}
	for _, l := range lines {
		if l["result"] != "succeeded" || l["caller"] != "arn:aws:iam::"+mgmtID+":user/admin" || l["run_id"] != "test-run" ||
			l["via"] != "sts:AssumeRoot session with IAMDeleteRootUserCredentials" || l["time"] == "" || l["target"] == "" {
			t.Errorf("audit line %v", l)
		}
		if d, _ := l["detail"].(string); !strings.Contains(d, "signed by ASIA") {
			t.Errorf("audit detail %q does not name the session", d)
		}
	}
	for _, a := range p.Accounts {
		for _, r := range a.Results {
			if r.Status != "succeeded" {
				t.Errorf("%s %s: %s %s", a.ID, r.Step, r.Status, r.Error)
			}
		}
	}

	again := e.planOrg(func(o *fix.Options) { o.Certificates, o.Password, o.MFA = true, true, true })
	if n := again.StepCount(); n != 0 {
		t.Errorf("second run plans %d changes: %v", n, planned(again))
	}
	noSecrets(t, e, render(t, p)+render(t, again)+string(mustRead(t, path)))
}

// TestGuard: recent and unknown use refused, --force overrides, --min-idle
// moves the line.
func TestGuard(t *testing.T) {
	e := start(t)
	// The last use of one account's key cannot be read.
	e.srv.AddFault(awsemu.Fault{Service: "iam", Action: "GetAccessKeyLastUsed", AccountID: unusedID, Code: "AccessDenied"})
	p := e.planOrg()
	c := credential(t, account(t, p, unusedID), unusedKey)
	if c.Action != fix.ActRefuse || c.LastUsed != nil || !strings.Contains(c.Reason, "could not be read") || !strings.Contains(c.LastUsedError, "AccessDenied") {
		t.Errorf("unknown last use: %+v", c)
	}
	forced := e.planOrg(func(o *fix.Options) { o.Force = true })
	for _, id := range []string{unusedID, busyID} {
		a := account(t, forced, id)
		if len(a.Steps) != 1 || !strings.Contains(a.Credentials[0].Reason, "--force overrides the guard") {
			t.Errorf("%s with --force: %+v", id, a.Credentials[0])
		}
	}
	e.srv.ClearFaults()
	short := e.planOrg(func(o *fix.Options) { o.MinIdle = 2 * day })
	if c := credential(t, account(t, short, busyID), busyKey); c.Action != fix.ActDelete {
		t.Errorf("--min-idle 2d: busy key %+v", c)
	}
	long := e.planOrg(func(o *fix.Options) { o.MinIdle = 200 * day })
	if c := credential(t, account(t, long, idleID), idleKey); c.Action != fix.ActRefuse || !strings.Contains(c.Reason, "within --min-idle 200d") {
		t.Errorf("--min-idle 200d: idle key %+v", c)
	}
	if c := credential(t, account(t, long, idleID), idleKey2); c.Action != fix.ActDelete {
		t.Errorf("a never used key is idle however long --min-idle is: %+v", c)
	}
}

// TestTrailEvents: with a read role in the member accounts, each key's
// CloudTrail events are listed, newest first, within the lookback, and a
// newer event than the recorded last use counts for the guard.
func TestTrailEvents(t *testing.T) {
	e := start(t)
	p := e.planOrg(func(o *fix.Options) { o.TrailRole = &fleet.Role{Name: trailRole}; o.MinIdle = 2 * day })
	c := credential(t, account(t, p, busyID), busyKey)
	var names []string
	for _, ev := range c.Events {
		names = append(names, ev.Name+"@"+ev.Region)
	}
	if diff := cmp.Diff([]string{"RunInstances@eu-west-1", "DescribeInstances@eu-west-1", "ListUsers@us-east-1"}, names); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if ev := c.Events[0]; ev.SourceIP != "203.0.113.7" || ev.UserAgent != "backup-script/1.0" || ev.Source != "ec2.amazonaws.com" {
		t.Errorf("event %+v", ev)
	}
	contains(t, c.Trail, "last 90d in eu-west-1, us-east-1", "3 event(s)")
	if c.Action != fix.ActDelete { // used 3 days ago, --min-idle 2d
		t.Errorf("busy key %+v", c)
	}
	// A newer event than IAM's record makes the key busy.
	if err := e.srv.AddTrailEvents(busyID, awsemu.TrailEvent{Time: e.now.Add(-time.Hour), Region: "eu-west-1", Source: "s3.amazonaws.com", Name: "GetObject", AccessKeyID: busyKey}); err != nil {
		t.Fatal(err)
	}
	p = e.planOrg(func(o *fix.Options) {
		o.TrailRole = &fleet.Role{Name: trailRole}
		o.MinIdle = 2 * day
		o.MaxEvents = 1
		o.Lookback = 4 * day
	})
	c = credential(t, account(t, p, busyID), busyKey)
	if c.Action != fix.ActRefuse || len(c.Events) != 1 || c.Events[0].Name != "GetObject" || !strings.Contains(c.Trail, "there are more") || !strings.Contains(c.Trail, "last 4d") {
		t.Errorf("with a newer event: %+v", c)
	}
	// The calls: the role read CloudTrail; the root sessions did not try.
	for _, call := range e.srv.Calls() {
		if call.Service == "cloudtrail" && !strings.Contains(call.Principal, ":assumed-role/"+trailRole+"/") {
			t.Errorf("LookupEvents by %s", call.Principal)
		}
	}
	// A role that cannot be assumed: said, not fatal.
	p = e.planOrg(func(o *fix.Options) { o.TrailRole = &fleet.Role{Name: "Missing"} })
	a := account(t, p, idleID)
	contains(t, strings.Join(a.Notes, "\n"), "sts:AssumeRole", "Missing", "AccessDenied")
	if len(a.Steps) != 2 || p.Failed() {
		t.Errorf("a missing trail role stopped the plan: %+v", a)
	}
}

func readAudit(t *testing.T, path string) []map[string]any {
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

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noSecrets: no session secret, session token or secret key of the world
// appears in what the run showed or stored.
func noSecrets(t *testing.T, e *env, out string) {
	t.Helper()
	secrets := append(e.srv.IssuedSecrets(), "mgmt-root-secret-value", "mgmt-admin-secret-value", "standalone-root-secret-1", "standalone-root-secret-2", "ops-secret-value")
	if len(e.srv.IssuedSecrets()) == 0 {
		t.Error("no sessions were issued: the check is empty")
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("a secret leaked: %.6s…", s)
		}
	}
}
