package guardrail_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/guardrail"
	"github.com/vigil-sec/vigil/internal/prevent"
)

const (
	mgmtID     = "111122223333"
	memberID   = "444455556666"
	mgmtKey    = "AKIAMGMTADMIN0000001"
	mgmtSecret = "mgmt-admin-secret-do-not-log"
	memberKey  = "AKIAMEMBERADMIN00001"
	rootID     = "r-ab12"
	ouProd     = "ou-ab12-11111111"
)

// freshWorld is an organisation where nothing is in place yet: no trusted
// access for IAM, no centralised root access, SCPs off on the root.
func freshWorld() *awsemu.World {
	none := []string{}
	return &awsemu.World{
		Organization: &awsemu.Organization{ID: "o-aa111bb222", ManagementAccountID: mgmtID, RootID: rootID,
			OUs: []awsemu.OU{{ID: ouProd, Name: "Prod", ParentID: rootID}}, PolicyTypes: &none},
		Accounts: []*awsemu.Account{
			{ID: mgmtID, Name: "management", Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: mgmtKey, Secret: mgmtSecret}}}}},
			{ID: memberID, Name: "prod", ParentID: ouProd, Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: memberKey}}}}},
		},
	}
}

func clients(t *testing.T, srv *awsemu.Server, key string) guardrail.Clients {
	t.Helper()
	cfg := awsemutest.ConfigFor(t, srv, key)
	cfg.RetryMaxAttempts = 1
	return guardrail.NewClients(cfg)
}

func plan(t *testing.T, srv *awsemu.Server, targets ...string) (*change.Plan, guardrail.Clients) {
	t.Helper()
	c := clients(t, srv, mgmtKey)
	st, err := guardrail.Read(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := guardrail.BuildPlan(st, c, guardrail.Request{Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

func mutatingCalls(srv *awsemu.Server) []string {
	var out []string
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			out = append(out, c.Service+":"+c.Action+" "+c.Params["TargetId"])
		}
	}
	return out
}

func stepActions(p *change.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.ID)
	}
	return out
}

func apply(t *testing.T, p *change.Plan, auditPath string) *change.Report {
	t.Helper()
	log, err := change.OpenAuditLog(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	rep, err := change.Apply(t.Context(), p, change.Options{Confirmer: change.Yes{}, Audit: log, Caller: "arn:aws:iam::111122223333:user/admin", RunID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestPlanApplyIdempotent(t *testing.T) {
	srv := awsemutest.Start(t, freshWorld())
	p, _ := plan(t, srv, rootID)
	if got := mutatingCalls(srv); len(got) != 0 {
		t.Fatalf("reading and planning made mutating calls: %v", got)
	}
	want := []string{guardrail.StepTrustedAccess, guardrail.StepRootCredentials, guardrail.StepRootSessions, guardrail.StepPolicyType,
		"create-deny-root-actions", "attach-deny-root-actions-" + rootID, "create-deny-root-access-keys", "attach-deny-root-access-keys-" + rootID}
	if diff := cmp.Diff(want, stepActions(p)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	if !strings.Contains(p.Steps[5].Warning, "every member account") {
		t.Errorf("attaching to the root carries no warning: %+v", p.Steps[5])
	}

	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	srv.ResetCalls()
	rep := apply(t, p, audit)
	if rep.Failed() != 0 {
		t.Fatalf("apply: %+v", rep.Results)
	}
	// Exactly the planned calls, in the planned order.
	var planned []string
	for _, s := range p.Steps {
		target := ""
		if s.Action == "organizations:AttachPolicy" {
			target = s.Target
		}
		planned = append(planned, s.Action+" "+target)
	}
	if diff := cmp.Diff(planned, mutatingCalls(srv)); diff != "" {
		t.Errorf("calls differ from the plan (-plan +calls):\n%s", diff)
	}
	// And the state is what the plan said.
	o := srv.World().Organization
	if !slices.Contains(o.TrustedAccess, "iam.amazonaws.com") || !o.RootCredentialsManagement || !o.RootSessions || o.PolicyTypes == nil || !slices.Contains(*o.PolicyTypes, "SERVICE_CONTROL_POLICY") {
		t.Errorf("organisation after apply: %+v", o)
	}
	var vigil []string
	for _, pol := range o.Policies {
		if strings.HasPrefix(pol.Name, "Vigil") {
			vigil = append(vigil, pol.Name+"@"+strings.Join(pol.Targets, ","))
		}
	}
	if diff := cmp.Diff([]string{prevent.DenyRootActionsName + "@" + rootID, prevent.DenyRootAccessKeysName + "@" + rootID}, vigil); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}

	// The audit log: one line per action, who, where, what, how; no secret.
	raw, _ := os.ReadFile(audit)
	if strings.Contains(string(raw), mgmtSecret) || strings.Contains(string(raw), "placeholder-secret") {
		t.Fatal("a secret reached the audit log")
	}
	lines := readLines(t, audit)
	if len(lines) != len(p.Steps) {
		t.Fatalf("%d audit lines for %d steps", len(lines), len(p.Steps))
	}
	for i, l := range lines {
		for _, k := range []string{"time", "caller", "account", "target", "action", "result", "step"} {
			if l[k] == nil || l[k] == "" {
				t.Errorf("line %d lacks %s: %v", i, k, l)
			}
		}
		if l["account"] != mgmtID || l["result"] != "succeeded" || l["action"] != p.Steps[i].Action {
			t.Errorf("line %d: %v", i, l)
		}
	}
	if d := lines[4]["detail"].(string); !strings.HasPrefix(d, "created p-") {
		t.Errorf("create step detail %q", d)
	}

	// A second run plans nothing and says why.
	srv.ResetCalls()
	again, _ := plan(t, srv, rootID)
	if len(again.Steps) != 0 || len(again.InPlace) != 8 {
		t.Errorf("second plan: steps %v in place %v", stepActions(again), again.InPlace)
	}
	if got := mutatingCalls(srv); len(got) != 0 {
		t.Errorf("a re-run made mutating calls: %v", got)
	}
}

func TestPartialFailureThenFinish(t *testing.T) {
	srv := awsemutest.Start(t, freshWorld(), awsemu.WithFaults(
		awsemu.Fault{Service: "organizations", Action: "EnablePolicyType", Code: "AccessDeniedException"},
		awsemu.Fault{Service: "organizations", Action: "EnableAWSServiceAccess", Code: "ServiceException"}))
	p, _ := plan(t, srv, ouProd, memberID)
	rep := apply(t, p, filepath.Join(t.TempDir(), "audit.jsonl"))
	status := map[string]change.Status{}
	for _, r := range rep.Results {
		status[r.Step] = r.Status
	}
	want := map[string]change.Status{
		guardrail.StepTrustedAccess: change.Failed, guardrail.StepRootCredentials: change.Skipped, guardrail.StepRootSessions: change.Skipped,
		guardrail.StepPolicyType: change.Failed, "create-deny-root-actions": change.Succeeded, "create-deny-root-access-keys": change.Succeeded,
		"attach-deny-root-actions-" + ouProd: change.Skipped, "attach-deny-root-actions-" + memberID: change.Skipped,
		"attach-deny-root-access-keys-" + ouProd: change.Skipped, "attach-deny-root-access-keys-" + memberID: change.Skipped,
	}
	if diff := cmp.Diff(want, status); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
	for _, r := range rep.Results {
		if r.Status == change.Failed && r.Error == "" {
			t.Errorf("%s failed without saying why", r.Step)
		}
	}

	// Second run, the faults gone: only what is missing, and no duplicate policy.
	srv.ClearFaults()
	p2, _ := plan(t, srv, ouProd, memberID)
	want2 := []string{guardrail.StepTrustedAccess, guardrail.StepRootCredentials, guardrail.StepRootSessions, guardrail.StepPolicyType,
		"attach-deny-root-actions-" + ouProd, "attach-deny-root-actions-" + memberID, "attach-deny-root-access-keys-" + ouProd, "attach-deny-root-access-keys-" + memberID}
	if diff := cmp.Diff(want2, stepActions(p2)); diff != "" {
		t.Fatalf("second plan (-want +got):\n%s", diff)
	}
	if rep := apply(t, p2, filepath.Join(t.TempDir(), "audit.jsonl")); rep.Failed() != 0 {
		t.Fatalf("second apply: %+v", rep.Results)
	}
	p3, _ := plan(t, srv, ouProd, memberID)
	if len(p3.Steps) != 0 {
		t.Errorf("third plan not empty: %v", stepActions(p3))
	}
	n := 0
	for _, pol := range srv.World().Organization.Policies {
		if strings.HasPrefix(pol.Name, "Vigil") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d Vigil policies, want 2", n)
	}
}

func TestExistingPolicies(t *testing.T) {
	w := freshWorld()
	w.Organization.PolicyTypes = nil // SCPs on
	w.Organization.TrustedAccess = []string{"iam.amazonaws.com"}
	w.Organization.RootCredentialsManagement, w.Organization.RootSessions = true, true
	keys, _ := json.Marshal(prevent.SCPs("aws")[1].Doc)
	w.Organization.Policies = []awsemu.Policy{
		// The key policy exists under another name, attached to the OU.
		{ID: "p-mykeys01", Name: "NoRootKeys", Content: string(keys), Targets: []string{ouProd}},
		// Vigil's deny-root policy exists with old text.
		{ID: "p-vigilold", Name: prevent.DenyRootActionsName, Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`},
	}
	srv := awsemutest.Start(t, w)
	p, _ := plan(t, srv, ouProd)
	if diff := cmp.Diff([]string{"update-deny-root-actions", "attach-deny-root-actions-" + ouProd}, stepActions(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if !slices.ContainsFunc(p.InPlace, func(s string) bool { return strings.Contains(s, "same text as p-mykeys01 (NoRootKeys)") }) {
		t.Errorf("in place %v", p.InPlace)
	}
	if rep := apply(t, p, filepath.Join(t.TempDir(), "a.jsonl")); rep.Failed() != 0 {
		t.Fatalf("%+v", rep.Results)
	}
	if next, _ := plan(t, srv, ouProd); len(next.Steps) != 0 {
		t.Errorf("not idempotent: %v", stepActions(next))
	}
}

func TestQuotaBlocks(t *testing.T) {
	w := freshWorld()
	w.Organization.PolicyTypes = nil
	for i := range 4 {
		id := "p-other00" + string(rune('1'+i))
		w.Organization.Policies = append(w.Organization.Policies, awsemu.Policy{ID: id, Name: "Other" + id, Content: `{"Statement":[]}`, Targets: []string{memberID}})
	}
	srv := awsemutest.Start(t, w)
	p, _ := plan(t, srv, memberID)
	if len(p.Blocked) != 2 || !strings.Contains(p.Blocked[0], "already has 5 SCPs") {
		t.Errorf("blocked %v", p.Blocked)
	}
	for _, s := range p.Steps {
		if strings.HasPrefix(s.ID, "attach-") {
			t.Errorf("planned an attachment the quota forbids: %s", s.ID)
		}
	}
}

func TestReadRefuses(t *testing.T) {
	srv := awsemutest.Start(t, freshWorld())
	_, err := guardrail.Read(t.Context(), clients(t, srv, memberKey))
	var nm guardrail.NotManagementError
	if !errors.As(err, &nm) || nm.Management != mgmtID || !strings.Contains(err.Error(), "only the management account 111122223333") {
		t.Errorf("member account: %v", err)
	}
	c := clients(t, srv, mgmtKey)
	st, err := guardrail.Read(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	var mt prevent.ErrManagementTarget
	if _, err := guardrail.BuildPlan(st, c, guardrail.Request{Targets: []string{mgmtID}}); !errors.As(err, &mt) {
		t.Errorf("attaching to the management account: %v", err)
	}
	if _, err := guardrail.BuildPlan(st, c, guardrail.Request{}); err == nil || !strings.Contains(err.Error(), "r-ab12") {
		t.Errorf("no targets: %v", err)
	}

	w := freshWorld()
	w.Organization.FeatureSet = "CONSOLIDATED_BILLING"
	_, err = guardrail.Read(t.Context(), clients(t, awsemutest.Start(t, w), mgmtKey))
	if err == nil || !strings.Contains(err.Error(), "all features") {
		t.Errorf("consolidated billing: %v", err)
	}
	srv = awsemutest.Start(t, freshWorld(), awsemu.WithFaults(awsemu.Fault{Service: "organizations", Action: "ListPolicies", Code: "AccessDeniedException"}))
	_, err = guardrail.Read(t.Context(), clients(t, srv, mgmtKey))
	if err == nil || !strings.Contains(err.Error(), "organizations:ListPolicies") {
		t.Errorf("denied read: %v", err)
	}
}

// TestActionsMatchInterfaces ties the printed policy to the calls the
// package can make.
func TestActionsMatchInterfaces(t *testing.T) {
	var got []string
	for prefix, typ := range map[string]reflect.Type{"organizations": reflect.TypeFor[guardrail.Orgs](), "iam": reflect.TypeFor[guardrail.IAM](), "sts": reflect.TypeFor[guardrail.STS]()} {
		for i := range typ.NumMethod() {
			got = append(got, prefix+":"+typ.Method(i).Name)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(guardrail.Actions, got); diff != "" {
		t.Errorf("Actions differ from the interfaces (-Actions +interfaces):\n%s", diff)
	}
	got = nil
	for prefix, typ := range map[string]reflect.Type{"sqs": reflect.TypeFor[guardrail.SQS](), "events": reflect.TypeFor[guardrail.Events]()} {
		for i := range typ.NumMethod() {
			got = append(got, prefix+":"+typ.Method(i).Name)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(append(slices.Clone(guardrail.RuleActions), guardrail.QueueActions...), got); diff != "" {
		t.Errorf("RuleActions and QueueActions differ from the interfaces (-Actions +interfaces):\n%s", diff)
	}
	p := guardrail.Policy("aws-us-gov")
	if len(p.Statement) != 3 || len(p.Statement[0].Action) != len(guardrail.Actions) ||
		p.Statement[1].Resource != "arn:aws-us-gov:sqs:*:*:vigil-root-activity*" || p.Statement[2].Resource != "arn:aws-us-gov:events:*:*:rule/*vigil-root-activity-alert" {
		t.Errorf("policy %+v", p)
	}
}

func readLines(t *testing.T, path string) []map[string]any {
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
			t.Fatalf("not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}
