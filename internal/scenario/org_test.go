package scenario

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/text"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/slowtest"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// quickRetries is the SDK's standard retryer, its classification of
// throttles and transient errors included, with more attempts and
// millisecond backoff: the retry logic runs for real, the test stays fast.
func quickRetries(o *config.LoadOptions) error {
	o.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 12
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	return nil
}

type orgRun struct {
	doc  *snapshot.Document
	srv  *awsemu.Server
	err  error
	logs *syncBuffer
	o    fleet.Options
}

// syncBuffer is a log sink several workers write to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runOrg scans a world's organisation as the identity behind key.
func runOrg(t *testing.T, ctx context.Context, w *awsemu.World, key string, o fleet.Options, srvOpts ...awsemu.Option) orgRun {
	t.Helper()
	r := startOrg(t, ctx, w, key, o, nil, srvOpts...)
	<-r.done
	return r.run
}

// runningOrg is a scan started in the background, for tests that act on
// it while it runs (advance its clock, watch what is in flight).
type runningOrg struct {
	srv  *awsemu.Server
	done chan struct{}
	run  orgRun
}

// startOrg starts a scan; ops, when set, records the calls client side.
func startOrg(t *testing.T, ctx context.Context, w *awsemu.World, key string, o fleet.Options, ops *opLog, srvOpts ...awsemu.Option) *runningOrg {
	t.Helper()
	srv := awsemutest.Start(t, w, srvOpts...)
	logs := &syncBuffer{}
	o.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	if o.Collect.ReportWait == 0 {
		o.Collect = collect.DefaultOptions()
		o.Collect.ReportFirstDelay, o.Collect.ReportMaxDelay = time.Millisecond, 10*time.Millisecond
	}
	if o.Now == nil && o.Clock == nil {
		// The emulator's clock also starts at the reference time.
		o.Now = testclock.Running()
	}
	if o.Collect.Now == nil && o.Now != nil {
		o.Collect.Now = o.Now
	}
	cfgOpts := []func(*config.LoadOptions) error{quickRetries}
	if ops != nil {
		cfgOpts = append(cfgOpts, ops.option)
	}
	cfg := awsemutest.ConfigFor(t, srv, key, cfgOpts...)
	r := &runningOrg{srv: srv, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		doc, err := fleet.Scan(ctx, cfg, o)
		r.run = orgRun{doc: doc, srv: srv, err: err, logs: logs, o: o}
	}()
	return r
}

// ended returns the scan's outcome once it has ended: soon after the
// test let the deadlines it waits for pass. Only a scan that waits for
// something else (a bug) reaches the limit.
func (r *runningOrg) ended(t *testing.T, why string) orgRun {
	t.Helper()
	select {
	case <-r.done:
		return r.run
	case <-time.After(hangLimit):
		t.Fatalf("the scan did not end within %v after %s", hangLimit, why)
		return orgRun{}
	}
}

// expected lists, from the world, which accounts a scan must report as
// scanned and which as skipped: every member, exactly once.
func expected(w *awsemu.World, selected func(*awsemu.Account) bool) (scanned, skipped []string) {
	for _, a := range w.Accounts {
		if a.Standalone || selected != nil && !selected(a) {
			continue
		}
		if a.State == "" || a.State == awsemu.StateActive {
			scanned = append(scanned, a.ID)
		} else {
			skipped = append(skipped, a.ID)
		}
	}
	sort.Strings(scanned)
	sort.Strings(skipped)
	return scanned, skipped
}

// checkOrg holds what every organisation scan must: the snapshot is
// valid; every expected account appears once, scanned or skipped; every
// scanned account has a result for every account rule; the scan made only
// read calls, each within the policy of whoever made it; and no session
// secret reached the snapshot, the reports or the logs.
func checkOrg(t *testing.T, r orgRun, wantScanned, wantSkipped []string) []rule.Result {
	t.Helper()
	if r.err != nil {
		t.Fatalf("scan failed: %v", r.err)
	}
	doc := r.doc
	var buf bytes.Buffer
	if err := snapshot.Encode(&buf, doc); err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.Decode(bytes.NewReader(buf.Bytes()), "scan"); err != nil {
		t.Fatalf("the snapshot does not validate: %v", err)
	}
	var scanned, skipped []string
	for _, a := range doc.Accounts {
		scanned = append(scanned, a.ID)
	}
	for _, s := range doc.Organization.Skipped {
		skipped = append(skipped, s.AccountID)
		if s.Reason == "" {
			t.Errorf("skipped account %s has no reason", s.AccountID)
		}
	}
	if !sort.StringsAreSorted(scanned) || !sort.StringsAreSorted(skipped) {
		t.Error("accounts or skipped accounts are not sorted by ID: the output would depend on discovery order")
	}
	sort.Strings(scanned)
	sort.Strings(skipped)
	if diff := cmp.Diff(wantScanned, scanned); diff != "" {
		t.Errorf("scanned accounts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantSkipped, skipped); diff != "" {
		t.Errorf("skipped accounts (-want +got):\n%s", diff)
	}

	results := rule.Evaluate(rules.All(), doc, doc.CollectedAt, rule.DefaultOptions())
	// Every account rule answers every account, once or once per
	// resource (users, Regions, instances): count the rules.
	perAccount := map[string]int{}
	answered := map[[2]string]bool{}
	accountRules := 0
	for _, rr := range rules.All() {
		if rr.Scope == rule.AccountScope {
			accountRules++
		}
	}
	for _, res := range results {
		if k := [2]string{res.AccountID, res.RuleID}; !strings.Contains(res.Resource, ":organization/") && !answered[k] {
			answered[k] = true
			perAccount[res.AccountID]++
		}
		if len(res.Evidence) == 0 {
			t.Errorf("%s %s: no evidence", res.AccountID, res.RuleID)
		}
	}
	for _, id := range wantScanned {
		if perAccount[id] != accountRules {
			t.Errorf("account %s has %d results, want %d", id, perAccount[id], accountRules)
		}
	}
	for _, a := range doc.Accounts {
		if a.GapFor(snapshot.SectionAccess) == nil {
			continue
		}
		for _, res := range results {
			if res.AccountID == a.ID && !strings.Contains(res.Resource, ":organization/") && res.Status == rule.Pass {
				t.Errorf("%s %s: PASS on an account that could not be reached", a.ID, res.RuleID)
			}
		}
	}
	checkOrgCalls(t, r)

	rep := report.Build(doc, results, report.Tool{Name: "vigil", Version: "test"}, doc.CollectedAt)
	var textOut, js bytes.Buffer
	if err := text.New(text.Options{}).Write(&textOut, rep); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	for _, secret := range r.srv.IssuedSecrets() {
		for name, out := range map[string]string{"snapshot": buf.String(), "text report": textOut.String(), "JSON report": js.String(), "logs": r.logs.String()} {
			if strings.Contains(out, secret) {
				t.Errorf("a session secret leaked into the %s", name)
			}
		}
	}
	return results
}

// checkOrgCalls: read-only, and each call within the policy that
// 'vigil policy' prints for its caller: the member role's, the audit task
// policy's for AssumeRoot sessions, the caller's for the rest.
func checkOrgCalls(t *testing.T, r orgRun) {
	t.Helper()
	caller := fleet.CallerPolicy(r.o.Mode, r.o.Role.Name, "aws", r.o.RoleForManagement)
	var callerActions []string
	for _, s := range caller.Statement {
		callerActions = append(callerActions, s.Action...)
	}
	member := fleet.MemberRolePolicy().Statement[0].Action
	for _, c := range r.srv.Calls() {
		action := c.Service + ":" + c.Action
		if awsemu.Mutating(c.Service, c.Action) {
			t.Errorf("mutating call %s by %s", action, c.Principal)
		}
		var allowed []string
		who := "the caller"
		switch {
		case c.Principal == "":
			continue // abandoned or unauthenticated: it made no call on anyone's behalf
		case strings.Contains(c.Principal, ":assumed-role/"):
			allowed, who = member, "a member role session"
		case strings.HasPrefix(c.AccessKeyID, "ASIA") && strings.HasSuffix(c.Principal, ":root"):
			allowed, who = collect.AuditTaskPolicyActions, "an AssumeRoot session"
		default:
			allowed = callerActions
		}
		if !slices.Contains(allowed, action) {
			t.Errorf("%s called %s, which its policy does not grant", who, action)
		}
	}
}

func profileOf(w *awsemu.World, seed uint64, id string) string {
	for i := 1; i < len(w.Accounts); i++ {
		if w.Accounts[i].ID == id {
			return awsemu.OrgWorldProfile(seed, i-1)
		}
	}
	return ""
}

func statusOf(results []rule.Result, account, ruleID string) rule.Status {
	for _, r := range results {
		if r.AccountID == account && r.RuleID == ruleID {
			return r.Status
		}
	}
	return ""
}

// TestOrgPagination: 137 members need seven ListAccounts pages of at most
// twenty; none is lost or listed twice, and each has its OU path.
func TestOrgPagination(t *testing.T) {
	slowtest.Skip(t, "a scan of 137 accounts")
	t.Parallel()
	w := awsemu.OrgWorld(137, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 1})
	r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Mode: fleet.ModeRole})
	scanned, skipped := expected(w, nil)
	checkOrg(t, r, scanned, skipped)
	if n := r.srv.CallCount("organizations", "ListAccounts"); n != 7 {
		t.Errorf("ListAccounts called %d times, want 7 pages", n)
	}
	ous := map[string]awsemu.OU{}
	for _, ou := range w.Organization.OUs {
		ous[ou.ID] = ou
	}
	pathOf := func(parent string) []string {
		var p []string
		for parent != w.Organization.RootID {
			p = append([]string{ous[parent].Name}, p...)
			parent = ous[parent].ParentID
		}
		return append([]string{"Root"}, p...)
	}
	byID := map[string]*awsemu.Account{}
	for _, a := range w.Accounts {
		byID[a.ID] = a
	}
	for _, a := range r.doc.Accounts {
		parent := byID[a.ID].ParentID
		if parent == "" {
			parent = w.Organization.RootID
		}
		if diff := cmp.Diff(pathOf(parent), a.OUPath); diff != "" {
			t.Errorf("%s OU path (-want +got):\n%s", a.ID, diff)
		}
		if len(a.Gaps) > 0 {
			t.Errorf("%s: gaps %+v", a.ID, a.Gaps)
		}
		if a.Access == nil || a.Name == "" {
			t.Errorf("%s: access %+v, name %q", a.ID, a.Access, a.Name)
		}
	}
	if r.doc.Incomplete != nil || len(r.doc.Organization.Gaps) > 0 {
		t.Errorf("incomplete %+v, organisation gaps %+v", r.doc.Incomplete, r.doc.Organization.Gaps)
	}
}

// TestOrgModesAgree: through a role or through AssumeRoot, every member
// gets the same verdicts; the states the generator planted are found.
func TestOrgModesAgree(t *testing.T) {
	t.Parallel()
	const seed = 5
	w := awsemu.OrgWorld(70, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: seed})
	scanned, skipped := expected(w, nil)
	byRole := checkOrg(t, runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Mode: fleet.ModeRole}), scanned, skipped)
	rootRun := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Mode: fleet.ModeRoot})
	byRoot := checkOrg(t, rootRun, scanned, skipped)
	for _, id := range scanned {
		for _, ruleID := range []string{"root-access-key", "root-mfa", "root-hardware-mfa", "root-signing-certificate", "root-recent-use", "root-member-password"} {
			a, b := statusOf(byRole, id, ruleID), statusOf(byRoot, id, ruleID)
			if a != b {
				t.Errorf("%s %s: %s through the role, %s through AssumeRoot", id, ruleID, a, b)
			}
		}
		if id == awsemu.OrgWorldManagementID {
			continue
		}
		want := map[string]map[string]rule.Status{
			"no-credentials":        {"root-access-key": rule.NotApplicable, "root-mfa": rule.NotApplicable},
			"active-key":            {"root-access-key": rule.Fail},
			"inactive-key":          {"root-access-key": rule.Fail},
			"password-no-mfa":       {"root-mfa": rule.Fail, "root-access-key": rule.Pass},
			"password-virtual-mfa":  {"root-hardware-mfa": rule.Fail, "root-mfa": rule.Pass},
			"password-hardware-mfa": {"root-hardware-mfa": rule.Pass},
			"signing-certificate":   {"root-signing-certificate": rule.Fail},
		}[profileOf(w, seed, id)]
		for ruleID, st := range want {
			if got := statusOf(byRoot, id, ruleID); got != st {
				t.Errorf("%s (%s) %s = %s, want %s", id, profileOf(w, seed, id), ruleID, got, st)
			}
		}
	}
	for _, a := range rootRun.doc.Accounts {
		switch {
		case a.ID == awsemu.OrgWorldManagementID:
			if a.Access.Method != snapshot.AccessDirect || !strings.Contains(a.Access.Note, "AssumeRoot cannot target it") {
				t.Errorf("management account access %+v", a.Access)
			}
		case a.Access.Method != snapshot.AccessAssumeRoot || a.RootCredentials == nil || a.RootCredentials.User == nil || a.Summary == nil:
			t.Errorf("%s: access %+v, inventory %+v", a.ID, a.Access, a.RootCredentials)
		}
	}
	// AssumeRoot sessions: one per account, always with the audit policy.
	if n := rootRun.srv.CallCount("sts", "AssumeRoot"); n != len(scanned)-1 {
		t.Errorf("%d AssumeRoot calls for %d members", n, len(scanned)-1)
	}
	for _, c := range rootRun.srv.Calls() {
		if c.Action == "AssumeRoot" && c.Params["TaskPolicyArn.arn"] != "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials" {
			t.Errorf("AssumeRoot with task policy %q", c.Params["TaskPolicyArn.arn"])
		}
	}
}

// TestOrgOUFilter: --ou by name path or ID scans that OU and everything
// below it, found by walking the tree (no ListAccounts at all).
func TestOrgOUFilter(t *testing.T) {
	t.Parallel()
	w := awsemu.OrgWorld(90, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 2, Suspended: 2})
	var workloads, sandbox1 string // "Workloads" (level 1) and its child "Sandbox-4"? found by name below
	for _, ou := range w.Organization.OUs {
		if ou.Name == "Workloads" && ou.ParentID == w.Organization.RootID {
			workloads = ou.ID
		}
	}
	for _, ou := range w.Organization.OUs {
		if ou.Name == "Security-1" && ou.ParentID != workloads && ou.ParentID != w.Organization.RootID {
			sandbox1 = ou.ID
			break
		}
	}
	under := func(ids ...string) func(*awsemu.Account) bool {
		return func(a *awsemu.Account) bool {
			for p := a.ParentID; p != "" && p != w.Organization.RootID; {
				if slices.Contains(ids, p) {
					return true
				}
				for _, ou := range w.Organization.OUs {
					if ou.ID == p {
						p = ou.ParentID
						break
					}
				}
			}
			return false
		}
	}
	for _, c := range []struct {
		name string
		ous  []string
		sel  func(*awsemu.Account) bool
	}{
		{"path", []string{"Workloads"}, under(workloads)},
		{"path from the root, and an ID", []string{"Root/Workloads", sandbox1}, under(workloads, sandbox1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Mode: fleet.ModeRoot, OUs: c.ous})
			scanned, skipped := expected(w, c.sel)
			if len(scanned) < 10 {
				t.Fatalf("only %d accounts under %v; the test world is wrong", len(scanned), c.ous)
			}
			checkOrg(t, r, scanned, skipped)
			if n := r.srv.CallCount("organizations", "ListAccounts"); n != 0 {
				t.Errorf("ListAccounts called %d times with --ou", n)
			}
			for _, a := range r.doc.Accounts {
				if len(a.OUPath) < 2 || a.OUPath[0] != "Root" {
					t.Errorf("%s: OU path %v", a.ID, a.OUPath)
				}
			}
			if !strings.Contains(r.doc.Organization.Scope, "Root/Workloads") {
				t.Errorf("scope %q does not name the OU", r.doc.Organization.Scope)
			}
		})
	}
	t.Run("unknown OU", func(t *testing.T) {
		r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{OUs: []string{"Workloads/Nope"}})
		if r.err == nil || !strings.Contains(r.err.Error(), `no OU named "Nope" under Root/Workloads`) || !strings.Contains(r.err.Error(), "Security-1") {
			t.Errorf("err = %v, want one naming the missing OU and the ones that exist", r.err)
		}
	})
}

// TestOrgSkippedStates: suspended and closed accounts, and accounts left
// out by --accounts and --exclude, are reported as skipped with the
// reason, never scanned, never dropped.
func TestOrgSkippedStates(t *testing.T) {
	t.Parallel()
	w := awsemu.OrgWorld(30, awsemu.OrgWorldOptions{Now: testclock.Ref(), Suspended: 3, Closed: 2})
	r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Mode: fleet.ModeRoot})
	scanned, skipped := expected(w, nil)
	checkOrg(t, r, scanned, skipped)
	reasons := map[string]string{}
	for _, s := range r.doc.Organization.Skipped {
		reasons[s.AccountID] = s.Reason
	}
	if !strings.Contains(reasons[awsemu.OrgWorldAccountID(29)], "CLOSED") || !strings.Contains(reasons[awsemu.OrgWorldAccountID(25)], "SUSPENDED") {
		t.Errorf("reasons %v", reasons)
	}
	for _, c := range r.srv.Calls() {
		if c.Action == "AssumeRoot" && (c.Params["TargetPrincipal"] == awsemu.OrgWorldAccountID(25) || c.Params["TargetPrincipal"] == awsemu.OrgWorldAccountID(29)) {
			t.Errorf("a skipped account was scanned: %+v", c)
		}
	}

	// Named accounts: by default only those are described, so only the
	// named ones that are not scanned are reported skipped; a run over the
	// whole structure lists every other account as not selected.
	pick := []string{awsemu.OrgWorldAccountID(1), awsemu.OrgWorldAccountID(2), awsemu.OrgWorldAccountID(3), awsemu.OrgWorldAccountID(26), "999999999999"}
	for _, structure := range []fleet.Structure{fleet.StructureSelected, fleet.StructureWhole} {
		r = runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Accounts: pick, Exclude: []string{awsemu.OrgWorldAccountID(2)}, Structure: structure})
		var all []string
		for _, a := range w.Accounts {
			all = append(all, a.ID)
		}
		if structure == fleet.StructureSelected {
			all = pick[:4]
		}
		wantSkipped := append(slices.DeleteFunc(slices.Clone(all), func(id string) bool {
			return id == awsemu.OrgWorldAccountID(1) || id == awsemu.OrgWorldAccountID(3)
		}), "999999999999")
		sort.Strings(wantSkipped)
		checkOrg(t, r, []string{awsemu.OrgWorldAccountID(1), awsemu.OrgWorldAccountID(3)}, wantSkipped)
		for _, s := range r.doc.Organization.Skipped {
			// The state comes first: it would stop a scan whatever was asked.
			want := map[string]string{awsemu.OrgWorldAccountID(2): "--exclude", "999999999999": "not a member of organization",
				awsemu.OrgWorldAccountID(25): "SUSPENDED", awsemu.OrgWorldAccountID(26): "SUSPENDED", awsemu.OrgWorldAccountID(27): "SUSPENDED",
				awsemu.OrgWorldAccountID(28): "CLOSED", awsemu.OrgWorldAccountID(29): "CLOSED"}[s.AccountID]
			if want == "" {
				want = "not selected by --accounts"
			}
			if !strings.Contains(s.Reason, want) {
				t.Errorf("structure %d: %s skipped because %q, want %q", structure, s.AccountID, s.Reason, want)
			}
		}
	}
}

// TestOrgDeniedRole: a missing role, a role that refuses, and a role that
// wants an external ID: each account appears with every rule UNKNOWN and
// the AssumeRole denial as evidence; the others are scanned in full.
func TestOrgDeniedRole(t *testing.T) {
	t.Parallel()
	missing, refusing := awsemu.OrgWorldAccountID(3), awsemu.OrgWorldAccountID(7)
	w := awsemu.OrgWorld(20, awsemu.OrgWorldOptions{Now: testclock.Ref(), NoRole: []string{missing}})
	w.Accounts[8].Roles = []awsemu.Role{{Name: "VigilAudit", DenyAssume: true}}
	r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{})
	scanned, skipped := expected(w, nil)
	results := checkOrg(t, r, scanned, skipped)
	for _, a := range r.doc.Accounts {
		g := a.GapFor(snapshot.SectionAccess)
		denied := a.ID == missing || a.ID == refusing
		if denied != (g != nil) {
			t.Errorf("%s: access gap %+v", a.ID, g)
			continue
		}
		if !denied {
			continue
		}
		if g.Call != "sts:AssumeRole" || g.Code != "AccessDenied" || !strings.Contains(g.Message, "role/VigilAudit") {
			t.Errorf("%s: gap %+v", a.ID, g)
		}
		if a.Access == nil || a.Access.RoleARN != "arn:aws:iam::"+a.ID+":role/VigilAudit" {
			t.Errorf("%s: access %+v", a.ID, a.Access)
		}
		for _, res := range results {
			if res.AccountID == a.ID && res.Status != rule.Unknown {
				t.Errorf("%s %s = %s, want UNKNOWN", a.ID, res.RuleID, res.Status)
			}
		}
	}
	logs := r.logs.String()
	if !strings.Contains(logs, `"account_id":"`+missing+`"`) || !strings.Contains(logs, `"call":"sts:AssumeRole"`) || !strings.Contains(logs, `"level":"WARN"`) {
		t.Errorf("the denial is not logged as a warning with the account and the call:\n%s", logs)
	}

	// With an external ID the role accepts, and one it does not.
	w = awsemu.OrgWorld(4, awsemu.OrgWorldOptions{Now: testclock.Ref()})
	for _, a := range w.Accounts {
		a.Roles = []awsemu.Role{{Name: "VigilAudit", ExternalID: "ext-123"}}
	}
	r = runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Role: fleet.Role{ExternalID: "ext-123", SessionName: "audit-7"}})
	scanned, skipped = expected(w, nil)
	checkOrg(t, r, scanned, skipped)
	for _, a := range r.doc.Accounts {
		if len(a.Gaps) > 0 {
			t.Errorf("%s: gaps with the right external ID: %+v", a.ID, a.Gaps)
		}
	}
	for _, c := range r.srv.Calls() {
		if c.Action == "AssumeRole" && (c.Params["ExternalId"] != "ext-123" || c.Params["RoleSessionName"] != "audit-7") {
			t.Errorf("AssumeRole params %v", c.Params)
		}
	}
}

// TestOrgAccountTimeout: a dead account (every call in it hangs) is cut
// off at its deadline and reported so, with the calls it was waiting on;
// an account where one call hangs loses that call only; neither holds up
// any other account.
//
// The deadlines run on a manual clock, which the test advances past the
// account deadline only once every healthy account has finished, the hung
// calls are in flight and the half-dead account has taken in every other
// answer: the outcome cannot depend on how busy the machine is. That the
// healthy accounts finish while the others hang is what shows that a dead
// account holds up no other; that one advance ends the run is what shows
// it costs one deadline, not more.
func TestOrgAccountTimeout(t *testing.T) {
	t.Parallel()
	dead, slowIAM := awsemu.OrgWorldAccountID(4), awsemu.OrgWorldAccountID(9)
	w := awsemu.OrgWorld(24, awsemu.OrgWorldOptions{Now: testclock.Ref()})
	for _, a := range w.Accounts {
		if a.ID == slowIAM {
			// No root key, so no iam:GetAccessKeyLastUsed: the calls the
			// account makes besides the summary are the fixed lists below.
			a.Root.AccessKeys = nil
		}
	}
	// What the dead account has in flight when it hangs, by mode: the
	// collection's first calls, which start together (the authorization
	// details as three chains: users, roles, the rest; the three alternate
	// contacts; the SAML and the OIDC providers).
	deadCalls := map[fleet.Mode][]string{
		fleet.ModeRole: {"account:GetAlternateContact", "account:GetAlternateContact", "account:GetAlternateContact",
			"ec2:DescribeRegions", "iam:GetAccountAuthorizationDetails", "iam:GetAccountAuthorizationDetails", "iam:GetAccountAuthorizationDetails",
			"iam:GetAccountPasswordPolicy", "iam:GetAccountSummary", "iam:GetCredentialReport", "iam:ListOpenIDConnectProviders", "iam:ListSAMLProviders", "iam:ListServerCertificates", "iam:ListVirtualMFADevices"},
		fleet.ModeRoot: {"iam:GetAccountSummary", "iam:GetLoginProfile", "iam:GetUser", "iam:ListAccessKeys", "iam:ListMFADevices", "iam:ListSigningCertificates"},
	}
	// What the half-dead account answers besides the summary, by mode;
	// "+ok": the call that ends its chain must have succeeded.
	others := map[fleet.Mode][]string{
		fleet.ModeRole: {"iam:ListVirtualMFADevices", "iam:GetAccountAuthorizationDetails", "iam:GetAccountPasswordPolicy", "iam:GetCredentialReport+ok"},
		fleet.ModeRoot: {"iam:GetUser", "iam:ListAccessKeys", "iam:ListSigningCertificates", "iam:ListMFADevices", "iam:GetLoginProfile"},
	}
	const timeout = 700 * time.Millisecond
	scanned, skipped := expected(w, nil)
	healthy := slices.DeleteFunc(slices.Clone(scanned), func(id string) bool { return id == dead || id == slowIAM })
	for _, mode := range []fleet.Mode{fleet.ModeRole, fleet.ModeRoot} {
		clk := testclock.Manual()
		progress := &doneSet{}
		ops := &opLog{}
		run := startOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey,
			fleet.Options{Mode: mode, AccountTimeout: timeout, Parallel: 4, Clock: clk, Progress: progress}, ops,
			awsemu.WithFaults(
				awsemu.Fault{AccountID: dead, Hang: true},
				awsemu.Fault{AccountID: slowIAM, Service: "iam", Action: "GetAccountSummary", Hang: true}))
		var deadHeld []string
		waitUntil(t, fmt.Sprintf("mode %d: the healthy accounts to finish while the others hang", mode), func() bool {
			if !progress.all(healthy) {
				return false
			}
			var slowKey string
			for _, c := range run.srv.Held() {
				if c.CallerAccount == slowIAM {
					slowKey = c.AccessKeyID
				}
			}
			deadHeld = heldBy(run.srv, dead)
			return slices.Equal(deadHeld, deadCalls[mode]) && slices.Equal(heldBy(run.srv, slowIAM), []string{"iam:GetAccountSummary"}) &&
				ops.answered(slowKey, others[mode]...)
		})
		if progress.all([]string{dead}) || progress.all([]string{slowIAM}) {
			t.Fatalf("mode %d: an account with a hung call finished before its deadline", mode)
		}
		clk.Advance(timeout)
		r := run.ended(t, "the account deadline passed")
		results := checkOrg(t, r, scanned, skipped)
		if n := clk.Pending(); n != 0 {
			t.Errorf("mode %d: %d deadlines still pending after the run", mode, n)
		}
		for _, a := range r.doc.Accounts {
			var timeouts []string
			for _, g := range a.Gaps {
				if g.Code == fleet.CodeAccountTimeout {
					timeouts = append(timeouts, g.Call)
					if !strings.Contains(g.Message, "--account-timeout 700ms") {
						t.Errorf("%s: timeout message %q", a.ID, g.Message)
					}
				}
			}
			switch a.ID {
			case dead:
				if len(timeouts) == 0 || a.Summary != nil {
					t.Errorf("mode %d: dead account %s: gaps %+v", mode, a.ID, a.Gaps)
				}
				// Each call named is one that was waiting at the deadline.
				for _, c := range timeouts {
					if !slices.Contains(deadHeld, c) {
						t.Errorf("mode %d: dead account timed out on %s, which was not in flight (in flight: %v)", mode, c, deadHeld)
					}
				}
				if statusOf(results, a.ID, "root-access-key") != rule.Unknown {
					t.Errorf("dead account root-access-key = %s", statusOf(results, a.ID, "root-access-key"))
				}
			case slowIAM:
				// Only the summary hung: the rest was read, and the
				// account says exactly which call timed out.
				if !slices.Equal(timeouts, []string{"iam:GetAccountSummary"}) {
					t.Errorf("mode %d: %s timed out on %v, want only iam:GetAccountSummary", mode, a.ID, timeouts)
				}
			default:
				if len(timeouts) > 0 {
					t.Errorf("mode %d: healthy account %s timed out: %v", mode, a.ID, timeouts)
				}
			}
		}
	}
}

// TestOrgThrottlingStorm: a fifth of every call throttled, in every
// service, discovery included. The SDK's retries carry every account
// through: all complete, nothing is lost.
func TestOrgThrottlingStorm(t *testing.T) {
	slowtest.Skip(t, "a scan of 120 accounts under throttling")
	t.Parallel()
	w := awsemu.OrgWorld(120, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 9, Suspended: 1})
	for _, mode := range []fleet.Mode{fleet.ModeRole, fleet.ModeRoot} {
		r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Mode: mode},
			awsemu.WithSeed(uint64(mode)+11),
			awsemu.WithFaults(
				awsemu.Fault{Service: "iam", Code: "Throttling", Probability: 0.2},
				awsemu.Fault{Service: "sts", Code: "Throttling", Probability: 0.2},
				awsemu.Fault{Service: "organizations", Code: "TooManyRequestsException", Probability: 0.2}))
		scanned, skipped := expected(w, nil)
		checkOrg(t, r, scanned, skipped)
		throttled := 0
		for _, c := range r.srv.Calls() {
			if c.ErrorCode == "Throttling" || c.ErrorCode == "TooManyRequestsException" {
				throttled++
			}
		}
		if throttled < 100 {
			t.Errorf("mode %d: only %d calls throttled; the storm did not happen", mode, throttled)
		}
		for _, a := range r.doc.Accounts {
			for _, g := range a.Gaps {
				if g.Code != fleet.CodeNotCollected {
					t.Errorf("mode %d: %s did not complete: %+v", mode, a.ID, g)
				}
			}
		}
		if r.doc.Incomplete != nil || len(r.doc.Organization.Gaps) > 0 {
			t.Errorf("mode %d: incomplete %+v, organisation gaps %+v", mode, r.doc.Incomplete, r.doc.Organization.Gaps)
		}
	}
}

// TestOrgAssumeRootRefused: with centralised root access off, AssumeRoot
// cannot work. When the organisation says so, no member is even tried;
// when the features cannot be read, each refusal is recorded. Either way
// every member is there, UNKNOWN, saying why.
func TestOrgAssumeRootRefused(t *testing.T) {
	t.Parallel()
	w := awsemu.OrgWorld(12, awsemu.OrgWorldOptions{Now: testclock.Ref(), FeaturesOff: true})
	scanned, skipped := expected(w, nil)

	r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Mode: fleet.ModeRoot})
	results := checkOrg(t, r, scanned, skipped)
	if n := r.srv.CallCount("sts", "AssumeRoot"); n != 0 {
		t.Errorf("%d AssumeRoot calls although the organisation has the features off", n)
	}
	if statusOf(results, awsemu.OrgWorldManagementID, "org-root-credentials-management") != rule.Fail {
		t.Errorf("org-root-credentials-management = %s", statusOf(results, awsemu.OrgWorldManagementID, "org-root-credentials-management"))
	}
	for _, a := range r.doc.Accounts {
		if a.ID == awsemu.OrgWorldManagementID {
			continue
		}
		if g := a.GapFor(snapshot.SectionAccess); g == nil || g.Code != fleet.CodeFeatureOff || !strings.Contains(g.Message, "--role") {
			t.Errorf("%s: access gap %+v", a.ID, g)
		}
	}

	// The features unreadable (only the feature gating the audit task is
	// off): AssumeRoot is tried and each refusal recorded.
	w.Organization.RootSessions = true
	r = runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Mode: fleet.ModeRoot},
		awsemu.WithFaults(awsemu.Fault{Service: "iam", Action: "ListOrganizationsFeatures", Code: "AccessDenied"}))
	results = checkOrg(t, r, scanned, skipped)
	if statusOf(results, awsemu.OrgWorldManagementID, "org-root-credentials-management") != rule.Unknown {
		t.Errorf("org-root-credentials-management with the features unreadable = %s", statusOf(results, awsemu.OrgWorldManagementID, "org-root-credentials-management"))
	}
	for _, a := range r.doc.Accounts {
		if a.ID == awsemu.OrgWorldManagementID {
			continue
		}
		g := a.GapFor(snapshot.SectionAccess)
		if g == nil || g.Call != "sts:AssumeRoot" || g.Code != "AccessDenied" || !strings.Contains(g.Message, "root credentials management is not enabled") {
			t.Errorf("%s: access gap %+v", a.ID, g)
		}
	}
}

// TestOrgManagementAccount: the management account is always in the
// report and marked. AssumeRoot cannot reach it: from the management
// account it is read directly; from a delegated administrator it is
// unreachable unless a role is allowed for it.
func TestOrgManagementAccount(t *testing.T) {
	t.Parallel()
	w := awsemu.OrgWorld(8, awsemu.OrgWorldOptions{Now: testclock.Ref(), DelegatedAdmin: true})
	scanned, skipped := expected(w, nil)
	mgmt := func(doc *snapshot.Document) snapshot.Account {
		for _, a := range doc.Accounts {
			if a.ID == awsemu.OrgWorldManagementID {
				return a
			}
		}
		t.Fatal("no management account in the report")
		return snapshot.Account{}
	}

	r := runOrg(t, t.Context(), w, awsemu.OrgWorldDelegatedKey, fleet.Options{Mode: fleet.ModeRoot})
	results := checkOrg(t, r, scanned, skipped)
	m := mgmt(r.doc)
	if m.Role() != snapshot.RoleManagement || m.GapFor(snapshot.SectionAccess) == nil || m.GapFor(snapshot.SectionAccess).Code != fleet.CodeNotReachable {
		t.Errorf("management account from the delegated admin: role %s, gaps %+v", m.Role(), m.Gaps)
	}
	if statusOf(results, m.ID, "root-access-key") != rule.Unknown {
		t.Errorf("unreachable management account root-access-key = %s", statusOf(results, m.ID, "root-access-key"))
	}
	delegated := awsemu.OrgWorldAccountID(0)
	for _, a := range r.doc.Accounts {
		if a.ID == delegated && (a.Access.Method != snapshot.AccessAssumeRoot || len(a.Gaps) != 2) {
			t.Errorf("the delegated administrator's own account: access %+v gaps %+v", a.Access, a.Gaps)
		}
	}

	r = runOrg(t, t.Context(), w, awsemu.OrgWorldDelegatedKey, fleet.Options{Mode: fleet.ModeRoot, RoleForManagement: true})
	checkOrg(t, r, scanned, skipped)
	m = mgmt(r.doc)
	if m.Access.Method != snapshot.AccessAssumeRole || len(m.Gaps) != 0 || m.Summary == nil || !strings.Contains(m.Access.Note, "through the role") {
		t.Errorf("management account through the role: access %+v gaps %+v", m.Access, m.Gaps)
	}

	r = runOrg(t, t.Context(), w, awsemu.OrgWorldDelegatedKey, fleet.Options{Mode: fleet.ModeRole})
	checkOrg(t, r, scanned, skipped)
	for _, a := range r.doc.Accounts {
		want := snapshot.AccessAssumeRole
		if a.ID == delegated {
			want = snapshot.AccessDirect
		}
		if a.Access.Method != want || len(a.Gaps) != 0 {
			t.Errorf("%s: access %+v gaps %+v", a.ID, a.Access, a.Gaps)
		}
	}
}

// TestOrgCancelled: cancelling mid-scan returns promptly with what
// finished; every other account is there, marked as not scanned, and the
// run says it is incomplete.
func TestOrgCancelled(t *testing.T) {
	t.Parallel()
	w := awsemu.OrgWorld(200, awsemu.OrgWorldOptions{Now: testclock.Ref(), Suspended: 2})
	ctx, cancel := context.WithCancel(t.Context())
	// Cancelled once ten accounts are done, not after a fixed time: on a
	// loaded machine a timer can fire before the run has set up at all.
	stop := &cancelAfter{after: 10, cancel: cancel}
	r := runOrg(t, ctx, w, awsemu.OrgWorldAdminKey, fleet.Options{Mode: fleet.ModeRoot, Parallel: 8, Progress: stop}, awsemu.WithLatency(40*time.Millisecond))
	if stop.done.Load() < stop.after {
		t.Fatalf("the scan finished before it was cancelled: %v", r.err)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.doc.Incomplete == nil || !strings.Contains(r.doc.Incomplete.Reason, "cancelled") {
		t.Fatalf("incomplete = %+v", r.doc.Incomplete)
	}
	finished, cancelled := 0, 0
	seen := map[string]bool{}
	for _, a := range r.doc.Accounts {
		if seen[a.ID] {
			t.Errorf("%s appears twice", a.ID)
		}
		seen[a.ID] = true
		g := a.GapFor(snapshot.SectionAccess)
		switch {
		case g != nil && g.Code == fleet.CodeCancelled:
			cancelled++
			if a.Summary != nil || a.RootCredentials != nil {
				t.Errorf("%s is marked cancelled but keeps partial data", a.ID)
			}
		case g == nil && a.Summary != nil:
			finished++
		default:
			t.Errorf("%s is neither finished nor marked cancelled: %+v", a.ID, a.Gaps)
		}
	}
	if finished == 0 || cancelled == 0 {
		t.Errorf("%d finished, %d cancelled: the cancellation did not land mid-scan", finished, cancelled)
	}
	// Promptly, counted rather than timed: once cancelled, the scan
	// starts no account. Every session opened belongs to an account that
	// finished or to one of the at most Parallel in flight when the run
	// was cancelled; a scan that carried on would open one per account.
	opened := 0
	for _, c := range r.srv.Calls() {
		if c.Action == "AssumeRoot" && c.Status == 200 {
			opened++
		}
	}
	if opened > finished+r.o.Parallel {
		t.Errorf("%d AssumeRoot sessions for %d finished accounts and %d workers: accounts were started after the cancellation", opened, finished, r.o.Parallel)
	}
	// Whatever discovery had listed is accounted for, skipped included.
	for _, s := range r.doc.Organization.Skipped {
		if seen[s.AccountID] {
			t.Errorf("%s is both skipped and scanned", s.AccountID)
		}
	}
	if !strings.Contains(r.doc.Incomplete.Reason, "discovery had not finished") && len(r.doc.Accounts)+len(r.doc.Organization.Skipped) != len(w.Accounts) {
		t.Errorf("discovery finished, yet %d of %d accounts are in the report", len(r.doc.Accounts)+len(r.doc.Organization.Skipped), len(w.Accounts))
	}
	checkOrgCalls(t, r)
}

// cancelAfter is a scan's progress that cancels it once a number of
// accounts are done.
type cancelAfter struct {
	after  int32
	cancel context.CancelFunc
	done   atomic.Int32
}

func (c *cancelAfter) Add(int)        {}
func (c *cancelAfter) DiscoveryDone() {}
func (c *cancelAfter) Done(string, bool) {
	if c.done.Add(1) == c.after {
		c.cancel()
	}
}

// TestOrgDiscoveryFailures: a caller that may not list the organisation
// gets a one-line error naming the call; a listing that breaks off half
// way keeps what it found and says the run is incomplete.
func TestOrgDiscoveryFailures(t *testing.T) {
	t.Parallel()
	w := awsemu.OrgWorld(70, awsemu.OrgWorldOptions{Now: testclock.Ref(), DelegatedAdmin: true})
	w.Accounts[3].Users = []awsemu.User{{Name: "dev", AccessKeys: []awsemu.AccessKey{{ID: "AKIAMEMBERDEV0000001"}}}}
	r := runOrg(t, t.Context(), w, "AKIAMEMBERDEV0000001", fleet.Options{})
	if r.err == nil || !strings.Contains(r.err.Error(), "organizations:ListAccounts: AccessDeniedException") || strings.Contains(r.err.Error(), "\n") {
		t.Errorf("a member account as caller: err = %v", r.err)
	}

	// ListAccounts breaks off after two pages: the OU walk, which lists
	// every OU's accounts, still finds them all.
	r = runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{},
		awsemu.WithFaults(awsemu.Fault{Service: "organizations", Action: "ListAccounts", Skip: 2, Code: "AccessDeniedException"}))
	scanned, skipped := expected(w, nil)
	checkOrg(t, r, scanned, skipped)
	if r.doc.Incomplete != nil || len(r.doc.Organization.Gaps) != 1 || !strings.Contains(r.doc.Organization.Gaps[0].Message, "listed every account instead") {
		t.Errorf("incomplete %+v, organisation gaps %+v", r.doc.Incomplete, r.doc.Organization.Gaps)
	}

	// Both listings break off: what was found is scanned, the run says
	// it is incomplete, and why.
	r = runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{},
		awsemu.WithFaults(awsemu.Fault{Service: "organizations", Action: "ListAccounts", Skip: 2, Code: "AccessDeniedException"},
			awsemu.Fault{Service: "organizations", Action: "ListAccountsForParent", Code: "AccessDeniedException"}))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.doc.Incomplete == nil || !strings.Contains(r.doc.Incomplete.Reason, "discovery stopped early (organizations:ListAccounts: AccessDeniedException") {
		t.Errorf("incomplete = %+v", r.doc.Incomplete)
	}
	if n := len(r.doc.Accounts) + len(r.doc.Organization.Skipped); n != 40 {
		t.Errorf("%d accounts from two pages, want 40", n)
	}

	standalone := &awsemu.World{Accounts: []*awsemu.Account{{ID: "123456789012", Users: []awsemu.User{{Name: "a", AccessKeys: []awsemu.AccessKey{{ID: "AKIASTANDALONE000009"}}}}}}}
	r = runOrg(t, t.Context(), standalone, "AKIASTANDALONE000009", fleet.Options{})
	if r.err == nil || !strings.Contains(r.err.Error(), "not in an AWS Organization") {
		t.Errorf("standalone caller: err = %v", r.err)
	}
}

// TestOrgAsRoot: root credentials can reach no member account (AWS
// refuses AssumeRole and AssumeRoot to them); the scan says so up front.
func TestOrgAsRoot(t *testing.T) {
	t.Parallel()
	w := awsemu.OrgWorld(3, awsemu.OrgWorldOptions{Now: testclock.Ref()})
	w.Accounts[0].Root.AccessKeys = []awsemu.AccessKey{{ID: "AKIAORGWORLDROOT0001"}}
	r := runOrg(t, t.Context(), w, "AKIAORGWORLDROOT0001", fleet.Options{Mode: fleet.ModeRoot})
	if r.err == nil || !strings.Contains(r.err.Error(), "runs as the root user") {
		t.Errorf("err = %v", r.err)
	}
	if n := r.srv.CallCount("sts", "AssumeRoot") + r.srv.CallCount("sts", "AssumeRole"); n != 0 {
		t.Errorf("%d sessions attempted as root", n)
	}
}

// TestOrgDiscoveryHangs: a hung Organizations endpoint bounds discovery
// by the same deadline as an account; it never hangs the run. The
// deadline runs on a manual clock, advanced once what must finish first
// has finished and the hung calls are in flight; one advance must end the
// run.
func TestOrgDiscoveryHangs(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	w := awsemu.OrgWorld(45, awsemu.OrgWorldOptions{Now: testclock.Ref()})
	scanned, skipped := expected(w, nil)

	// ListAccounts stops answering after the first page; the OU walk
	// still lists everything, and every account is scanned meanwhile.
	clk := testclock.Manual()
	progress := &doneSet{}
	run := startOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{AccountTimeout: timeout, Clock: clk, Progress: progress}, nil,
		awsemu.WithFaults(awsemu.Fault{Service: "organizations", Action: "ListAccounts", Skip: 1, Hang: true}))
	waitUntil(t, "every account scanned while ListAccounts hangs", func() bool {
		return progress.all(scanned) && slices.Contains(heldBy(run.srv, awsemu.OrgWorldManagementID), "organizations:ListAccounts")
	})
	clk.Advance(timeout)
	r := run.ended(t, "the ListAccounts deadline passed")
	checkOrg(t, r, scanned, skipped)
	if r.doc.Incomplete != nil {
		t.Errorf("incomplete %+v", r.doc.Incomplete)
	}
	listGap := false
	for _, g := range r.doc.Organization.Gaps {
		listGap = listGap || g.Call == "organizations:ListAccounts" && strings.Contains(g.Message, "listed every account instead")
	}
	if !listGap {
		t.Errorf("no gap for the hung ListAccounts: %+v", r.doc.Organization.Gaps)
	}

	// Nothing in Organizations answers: a clear error, after one deadline.
	// Setup's deadline covers sts:GetCallerIdentity too, which answers:
	// the deadline passes once it has.
	clk = testclock.Manual()
	ops := &opLog{}
	run = startOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{AccountTimeout: timeout, Clock: clk}, ops,
		awsemu.WithFaults(awsemu.Fault{Service: "organizations", Hang: true}))
	waitUntil(t, "setup and discovery to hang", func() bool {
		held := heldBy(run.srv, awsemu.OrgWorldManagementID)
		return slices.Contains(held, "organizations:DescribeOrganization") && slices.Contains(held, "organizations:ListAccounts") &&
			ops.answered(awsemu.OrgWorldAdminKey, "sts:GetCallerIdentity")
	})
	clk.Advance(timeout)
	r = run.ended(t, "the setup and discovery deadlines passed")
	if r.err == nil || !strings.Contains(r.err.Error(), "organizations:") {
		t.Errorf("err = %v", r.err)
	}
}

// TestOrgSCPCoverage: an organisation scan judges SCP coverage from the
// tree its own discovery walked — one ListRoots, no second walk — and
// names exactly the member accounts no root-restricting SCP reaches.
func TestOrgSCPCoverage(t *testing.T) {
	t.Parallel()
	w := awsemu.OrgWorld(40, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 7})
	var workloads string
	for _, ou := range w.Organization.OUs {
		if ou.Name == "Workloads" && ou.ParentID == w.Organization.RootID {
			workloads = ou.ID
		}
	}
	if workloads == "" {
		t.Fatal("the generated world has no Workloads OU")
	}
	w.Organization.Policies = append(w.Organization.Policies, awsemu.Policy{
		ID: "p-vigilroot01", Name: "DenyRoot",
		Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"Null":{"aws:AssumedRoot":"true"}}}]}`,
		Targets: []string{workloads},
	})
	// Which accounts sit under Workloads, from the world itself.
	parent := map[string]string{}
	for _, ou := range w.Organization.OUs {
		parent[ou.ID] = ou.ParentID
	}
	var covered, uncovered []string
	for _, a := range w.Accounts {
		if a.ID == w.Organization.ManagementAccountID {
			continue
		}
		in := false
		for p := a.ParentID; p != ""; p = parent[p] {
			if p == workloads {
				in = true
			}
		}
		if in {
			covered = append(covered, a.ID)
		} else {
			uncovered = append(uncovered, a.ID)
		}
	}
	if len(covered) == 0 || len(uncovered) == 0 {
		t.Fatalf("covered %d, uncovered %d: the test world does not split", len(covered), len(uncovered))
	}
	r := runOrg(t, t.Context(), w, awsemu.OrgWorldAdminKey, fleet.Options{Mode: fleet.ModeRoot})
	scanned, skipped := expected(w, nil)
	results := checkOrg(t, r, scanned, skipped)
	if n := r.srv.CallCount("organizations", "ListRoots"); n != 1 {
		t.Errorf("ListRoots called %d times: the tree was walked more than once", n)
	}
	c := r.doc.Organization.Controls
	if c == nil || c.Root == nil || len(c.SCPs) < 2 || len(c.Accounts) != len(w.Accounts) {
		t.Fatalf("controls not filled from discovery: %+v", c)
	}
	var res *rule.Result
	for i := range results {
		if results[i].RuleID == "org-root-scp-coverage" {
			res = &results[i]
		}
	}
	if res == nil {
		t.Fatal("no org-root-scp-coverage result")
	}
	if res.Status != rule.Fail {
		t.Fatalf("status %s, want FAIL: %s", res.Status, res.Message)
	}
	// The message names the first few; the evidence names every one.
	flagged := map[string]bool{}
	for _, e := range res.Evidence {
		if strings.Contains(e.Value, "no root-restricting SCP reaches it") {
			flagged[e.Key] = true
		}
	}
	for _, id := range uncovered {
		if !flagged[id] {
			t.Errorf("uncovered account %s not in the evidence", id)
		}
	}
	for _, id := range covered {
		if flagged[id] {
			t.Errorf("covered account %s reported as uncovered", id)
		}
	}
	if !strings.Contains(res.Message, fmt.Sprintf("%d of %d member accounts", len(uncovered), len(covered)+len(uncovered))) {
		t.Errorf("message does not count the accounts: %s", res.Message)
	}
}
