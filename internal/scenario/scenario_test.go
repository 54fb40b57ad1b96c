package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

type scenario struct {
	Description string
	Now         time.Time
	SignAs      string
	Faults      []awsemu.Fault
	World       json.RawMessage
	Expect      expectation
}

type expectation struct {
	// Error, when set, is a fragment of the error the collection must end
	// with; nothing else is checked.
	Error        string
	Role         snapshot.OrgRole
	Partition    string
	CallerIsRoot bool
	ReportTime   *time.Time
	Results      map[string]expectedResult
	// Gaps are "service:Action:Code"; nil means "not checked", [] means
	// "none at all".
	Gaps     *[]string
	MinCalls map[string]int
	// MaxCalls bounds calls ("service:Action" → at most), e.g. that a
	// region not opted into is never called.
	MaxCalls map[string]int
	// Resources are per-resource outcomes: rule ID → resource → status.
	// A rule listed here must judge exactly these resources.
	Resources map[string]map[string]rule.Status
	Features  *struct{ RootCredentialsManagement, RootSessions bool }
}

type expectedResult struct {
	Status            rule.Status
	Severity          string
	Message           []string
	ManagementAccount *bool
	Resource          string
}

func load(t *testing.T, path string) scenario {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s scenario
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if s.Description == "" || s.Now.IsZero() || s.SignAs == "" {
		t.Fatalf("%s: description, now and signAs are required", path)
	}
	return s
}

// run collects the scenario's account through the real SDK.
func run(t *testing.T, s scenario) (*snapshot.Document, *awsemu.Server, error) {
	t.Helper()
	world, err := awsemu.LoadWorld(bytes.NewReader(s.World))
	if err != nil {
		t.Fatalf("world: %v", err)
	}
	clock := awsemu.NewManualClock(s.Now)
	srv := awsemutest.Start(t, world, awsemu.WithClock(clock.Now), awsemu.WithFaults(s.Faults...))
	opts := collect.DefaultOptions()
	opts.Now = clock.Now
	// Polling advances the emulated clock instead of sleeping, so a scan
	// that waits for minutes in real life takes milliseconds here.
	opts.Sleep = func(ctx context.Context, d time.Duration) error {
		clock.Advance(d)
		return ctx.Err()
	}
	// A bound on a hang (a bug), not on the machine's speed.
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	acct, err := collect.Account(ctx, collect.NewClients(awsemutest.ConfigFor(t, srv, s.SignAs)), opts)
	checkReadOnly(t, srv)
	if err != nil {
		return nil, srv, err
	}
	return collect.SingleAccountDocument(acct, clock.Now(), "test", snapshot.Source{Kind: snapshot.SourceAWS}), srv, nil
}

// checkReadOnly: a scan must never change an account, and must call
// nothing the published policy does not grant.
func checkReadOnly(t *testing.T, srv *awsemu.Server) {
	t.Helper()
	calls := srv.Calls()
	if len(calls) == 0 {
		t.Fatal("the scan made no calls at all")
	}
	for _, c := range calls {
		action := c.Service + ":" + c.Action
		if awsemu.Mutating(c.Service, c.Action) {
			t.Errorf("scan made a mutating call: %s", action)
		}
		if !slices.Contains(collect.ScanActions, action) {
			t.Errorf("scan called %s, which is not in the policy printed by 'vigil policy'", action)
		}
	}
}

// regionalRules judge resources other than the root user and IAM users.
var regionalRules = map[string]bool{"iam-expired-server-certificate": true, "iam-access-analyzer": true, "iam-analyzer-tags": true, "ec2-instance-role": true}

func TestScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) < 20 {
		t.Fatalf("found %d scenario files, expected the full set", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := load(t, path)
			doc, srv, err := run(t, s)
			if s.Expect.Error != "" {
				if err == nil || !strings.Contains(err.Error(), s.Expect.Error) {
					t.Fatalf("err = %v, want one containing %q", err, s.Expect.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("collect: %v", err)
			}
			check(t, s, doc, srv)
		})
	}
}

func check(t *testing.T, s scenario, doc *snapshot.Document, srv *awsemu.Server) {
	t.Helper()
	acct := doc.Accounts[0]
	e := s.Expect
	if e.Role != "" && acct.Role() != e.Role {
		t.Errorf("role = %q, want %q", acct.Role(), e.Role)
	}
	if e.Partition != "" && acct.Partition != e.Partition {
		t.Errorf("partition = %q, want %q", acct.Partition, e.Partition)
	}
	if acct.Caller == nil || acct.Caller.IsRoot != e.CallerIsRoot {
		t.Errorf("caller = %+v, want IsRoot %v", acct.Caller, e.CallerIsRoot)
	}
	if e.ReportTime != nil {
		if acct.CredentialReport == nil || acct.CredentialReport.GeneratedTime == nil || !acct.CredentialReport.GeneratedTime.Equal(*e.ReportTime) {
			t.Errorf("credential report = %+v, want one generated at %s", acct.CredentialReport, e.ReportTime)
		}
	}
	if e.Gaps != nil {
		var got []string
		for _, g := range acct.Gaps {
			got = append(got, g.Call+":"+g.Code)
		}
		if diff := cmp.Diff(*e.Gaps, got, cmp.Transformer("nilToEmpty", func(s []string) []string {
			if s == nil {
				return []string{}
			}
			return s
		})); diff != "" {
			t.Errorf("gaps (-want +got):\n%s\nall gaps: %+v", diff, acct.Gaps)
		}
	}
	if e.Features != nil {
		f := acct.Org.Features
		if f == nil || f.RootCredentialsManagement != e.Features.RootCredentialsManagement || f.RootSessions != e.Features.RootSessions {
			t.Errorf("features = %+v, want %+v", f, e.Features)
		}
	}
	for call, n := range e.MinCalls {
		svc, action, _ := strings.Cut(call, ":")
		if got := srv.CallCount(svc, action); got < n {
			t.Errorf("%s called %d times, want at least %d", call, got, n)
		}
	}
	for call, n := range e.MaxCalls {
		svc, action, _ := strings.Cut(call, ":")
		if got := srv.CallCount(svc, action); got > n {
			t.Errorf("%s called %d times, want at most %d", call, got, n)
		}
	}
	results := rule.Evaluate(rules.All(), doc, doc.CollectedAt, rule.DefaultOptions())
	perResource := map[string]map[string]rule.Status{}
	for _, r := range results {
		if perResource[r.RuleID] == nil {
			perResource[r.RuleID] = map[string]rule.Status{}
		}
		perResource[r.RuleID][r.Resource] = r.Status
	}
	for id, want := range e.Resources {
		if diff := cmp.Diff(want, perResource[id]); diff != "" {
			t.Errorf("%s per resource (-want +got):\n%s", id, diff)
		}
	}
	want := 0
	for _, r := range rules.All() {
		if r.Scope == rule.AccountScope || doc.Organization != nil {
			want++
		}
	}
	// The IAM user rules give one result per user, the others one per
	// account (or organisation).
	judged := map[string]bool{}
	for _, r := range results {
		judged[r.RuleID] = true
	}
	if len(judged) != want {
		t.Fatalf("%d rules gave results, want every applicable rule (%d)", len(judged), want)
	}
	byID := map[string]rule.Result{}
	for _, r := range results {
		byID[r.RuleID] = r
		// The IAM rules judge the account's users, roles, groups and
		// policies, and AWS-managed policies in use.
		perUser := strings.HasPrefix(r.RuleID, "iam-") && (strings.HasPrefix(r.Resource, "arn:"+acct.Partition+":iam::"+acct.ID+":") ||
			strings.HasPrefix(r.Resource, "arn:"+acct.Partition+":iam::aws:policy/"))
		// The regional rules and the certificates judge resources of the
		// account (a region's analyzers, an instance, a certificate).
		regional := regionalRules[r.RuleID] && collect.AccountOfARN(r.Resource) == acct.ID
		if r.Resource != acct.RootARN() && !strings.Contains(r.Resource, ":organization/") && !perUser && !regional {
			t.Errorf("%s: resource %q, want %q", r.RuleID, r.Resource, acct.RootARN())
		}
		if len(r.Evidence) == 0 {
			t.Errorf("%s: no evidence", r.RuleID)
		}
	}
	for id, want := range e.Results {
		got, ok := byID[id]
		if !ok {
			t.Errorf("no result for %s", id)
			continue
		}
		if got.Status != want.Status {
			t.Errorf("%s: status %s, want %s; message: %s", id, got.Status, want.Status, got.Message)
		}
		if want.Severity != "" && got.Severity.String() != want.Severity {
			t.Errorf("%s: severity %s, want %s", id, got.Severity, want.Severity)
		}
		if want.ManagementAccount != nil && got.ManagementAccount != *want.ManagementAccount {
			t.Errorf("%s: management_account %v, want %v", id, got.ManagementAccount, *want.ManagementAccount)
		}
		if want.Resource != "" && got.Resource != want.Resource {
			t.Errorf("%s: resource %q, want %q", id, got.Resource, want.Resource)
		}
		for _, frag := range want.Message {
			if !strings.Contains(got.Message, frag) {
				t.Errorf("%s: message %q lacks %q", id, got.Message, frag)
			}
		}
	}
	checkOfflineRoundTrip(t, doc, results)
}

// checkOfflineRoundTrip: a saved snapshot re-evaluated offline (vigil scan
// --from) must give exactly the results of the live scan.
func checkOfflineRoundTrip(t *testing.T, doc *snapshot.Document, live []rule.Result) {
	t.Helper()
	var buf bytes.Buffer
	if err := snapshot.Encode(&buf, doc); err != nil {
		t.Fatal(err)
	}
	back, err := snapshot.Decode(&buf, "roundtrip")
	if err != nil {
		t.Fatal(err)
	}
	offline := rule.Evaluate(rules.All(), back, back.CollectedAt, rule.DefaultOptions())
	if diff := cmp.Diff(live, offline); diff != "" {
		t.Errorf("offline re-evaluation differs from the live scan (-live +offline):\n%s", diff)
	}
}

// TestAccessDeniedOnEachCall denies one read call at a time on an account
// with a root key, and checks that the denial is recorded against that
// call and that no rule which needed the data passes.
func TestAccessDeniedOnEachCall(t *testing.T) {
	base := load(t, "testdata/one-active-key.json")
	cases := []struct {
		service, action string
		// unknown are rules that must come out UNKNOWN.
		unknown []string
	}{
		{"iam", "GetAccountSummary", nil},
		{"iam", "GenerateCredentialReport", []string{"root-recent-use"}},
		{"iam", "GetCredentialReport", []string{"root-recent-use"}},
		{"iam", "ListVirtualMFADevices", []string{"root-hardware-mfa"}},
		{"organizations", "DescribeOrganization", []string{"root-member-password"}},
		{"iam", "ListOrganizationsFeatures", nil},
		{"iam", "ListServerCertificates", []string{"iam-expired-server-certificate"}},
		{"ec2", "DescribeRegions", []string{"iam-access-analyzer", "iam-analyzer-tags", "ec2-instance-role"}},
		{"ec2", "DescribeInstances", []string{"ec2-instance-role"}},
		{"access-analyzer", "ListAnalyzers", []string{"iam-access-analyzer", "iam-analyzer-tags"}},
		// The manual items' evidence: denied is UNKNOWN, never "no
		// security contact" and never a pass.
		{"account", "GetAlternateContact", []string{"account-security-contact"}},
		{"iam", "ListSAMLProviders", []string{"iam-identity-federation"}},
	}
	for _, c := range cases {
		t.Run(c.action, func(t *testing.T) {
			t.Parallel()
			s := base
			code := "AccessDenied"
			switch c.service {
			case "organizations", "access-analyzer", "account":
				code = "AccessDeniedException"
			case "ec2":
				code = "UnauthorizedOperation"
			}
			s.Faults = []awsemu.Fault{{Service: c.service, Action: c.action, Code: code}}
			doc, _, err := run(t, s)
			if err != nil {
				t.Fatal(err)
			}
			acct := doc.Accounts[0]
			call := c.service + ":" + c.action
			found := false
			for _, g := range acct.Gaps {
				if g.Call == call && g.Code == code && g.Message != "" {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s gap for %s; gaps: %+v", code, call, acct.Gaps)
			}
			results := rule.Evaluate(rules.All(), doc, doc.CollectedAt, rule.DefaultOptions())
			// A rule that needed the data passes nothing and is UNKNOWN
			// somewhere (per region for the regional rules, whose regions
			// not opted into stay NOT_APPLICABLE).
			unknown := map[string]bool{}
			for _, r := range results {
				if r.RuleID == "root-access-key" && r.Status != rule.Fail {
					t.Errorf("root-access-key = %s (%s); the key is still visible through another source", r.Status, r.Message)
				}
				if slices.Contains(c.unknown, r.RuleID) && r.Status != rule.Unknown && r.Status != rule.NotApplicable {
					t.Errorf("%s = %s, want UNKNOWN when %s is denied: %s", r.RuleID, r.Status, call, r.Message)
				}
				if r.Status == rule.Unknown {
					unknown[r.RuleID] = true
				}
			}
			for _, id := range c.unknown {
				if !unknown[id] {
					t.Errorf("%s has no UNKNOWN result when %s is denied", id, call)
				}
			}
		})
	}
}

// TestEverythingDenied: an identity that may call nothing but
// GetCallerIdentity gets UNKNOWN everywhere, and never a PASS.
func TestEverythingDenied(t *testing.T) {
	s := load(t, "testdata/clean-account.json")
	s.Faults = []awsemu.Fault{{Service: "iam", Code: "AccessDenied"}, {Service: "organizations", Code: "AccessDeniedException"},
		{Service: "ec2", Code: "UnauthorizedOperation"}, {Service: "access-analyzer", Code: "AccessDeniedException"},
		{Service: "account", Code: "AccessDeniedException"}}
	doc, _, err := run(t, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rule.Evaluate(rules.All(), doc, doc.CollectedAt, rule.DefaultOptions()) {
		if r.Status != rule.Unknown {
			t.Errorf("%s = %s, want UNKNOWN with everything denied: %s", r.RuleID, r.Status, r.Message)
		}
		// EC2 names its refusal UnauthorizedOperation.
		if !strings.Contains(r.Message, "AccessDenied") && !strings.Contains(r.Message, "UnauthorizedOperation") {
			t.Errorf("%s: message does not name the denial: %s", r.RuleID, r.Message)
		}
	}
}

// TestCancelledScan: a cancelled context ends the collection with the
// context's error rather than a half-filled account. Every call hangs, so
// only the cancellation can end it: no time bound is needed to tell.
func TestCancelledScan(t *testing.T) {
	s := load(t, "testdata/clean-account.json")
	world, err := awsemu.LoadWorld(bytes.NewReader(s.World))
	if err != nil {
		t.Fatal(err)
	}
	srv := awsemutest.Start(t, world, awsemu.WithFaults(awsemu.Fault{Hang: true}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := collect.Account(ctx, collect.NewClients(awsemutest.ConfigFor(t, srv, s.SignAs)), collect.DefaultOptions())
		done <- err
	}()
	waitUntil(t, "the collection's calls to reach the server", func() bool { return len(srv.Held()) > 0 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(hangLimit):
		t.Fatal("the collection did not end when its context was cancelled")
	}
}
