package securityhub

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/asff"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

const (
	secAccount = "111122223333"
	secKey     = "AKIASECOPS0000000001"
	region     = "eu-west-1"
)

func world() *awsemu.World {
	return &awsemu.World{Accounts: []*awsemu.Account{{ID: secAccount,
		Users: []awsemu.User{{Name: "secops", AccessKeys: []awsemu.AccessKey{{ID: secKey}}}}}}}
}

// start is an emulator and a config signing as the security account in
// region, whose SDK retries at once (the tests count calls, not wait).
func start(t *testing.T) (*awsemu.Server, aws.Config) {
	srv := awsemutest.Start(t, world())
	cfg := awsemutest.ConfigFor(t, srv, secKey)
	cfg.Region = region
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			o.RateLimiter = ratelimit.None
		})
	}
	return srv, cfg
}

// org is a document of n accounts with two results each; failing says
// which statuses root-mfa has.
func org(n int, st rule.Status) *report.Document {
	snap := snapshot.New(testclock.Ref(), "test", snapshot.Source{Kind: snapshot.SourceAWS})
	var results []rule.Result
	for i := range n {
		id := fmt.Sprintf("2000%08d", i)
		snap.Accounts = append(snap.Accounts, snapshot.Account{ID: id, Name: "acct " + id, Partition: "aws"})
		for _, r := range []struct {
			id string
			st rule.Status
		}{{"root-mfa", st}, {"root-access-key", rule.Pass}} {
			results = append(results, rule.Result{Meta: &rule.Meta{RuleID: r.id, Title: "Title " + r.id, RuleSeverity: rule.High, AccountID: id, AccountName: "acct " + id, Partition: "aws"},
				Status: r.st, Severity: rule.High, Resource: "arn:aws:iam::" + id + ":root", Message: r.id + " is " + string(r.st)})
		}
	}
	return report.Build(snap, results, report.Tool{Name: "vigil", Version: "t"}, testclock.Ref())
}

// TestImportBatchesAndUpdates: 125 accounts' 250 results go in three
// calls of at most 100; a re-scan updates the same 250 findings (the
// fixed ones resolved) instead of adding any; a finding of another
// product is left alone.
func TestImportBatchesAndUpdates(t *testing.T) {
	srv, cfg := start(t)
	other := awsemu.StoredFinding{ProductArn: "arn:aws:securityhub:eu-west-1::product/aws/guardduty", ID: "gd-1", AwsAccountID: secAccount,
		Compliance: "FAILED", Workflow: "NOTIFIED", RecordState: "ACTIVE"}
	srv.AddFinding(other)
	ctx := context.Background()
	target, res, err := Import(ctx, cfg, org(125, rule.Fail), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if target != (Target{Account: secAccount, Partition: "aws", Region: region}) {
		t.Errorf("target %+v", target)
	}
	if res.Findings != 250 || res.Imported != 250 || res.Calls != 3 || len(res.Failed) != 0 {
		t.Errorf("result %+v", res)
	}
	var sizes []string
	for _, c := range srv.Calls() {
		if c.Action == "BatchImportFindings" {
			sizes = append(sizes, c.Params["Findings"])
		}
	}
	if strings.Join(sizes, ",") != "100 findings,100 findings,50 findings" {
		t.Errorf("batches %v", sizes)
	}
	stored := srv.Findings()
	if len(stored) != 251 {
		t.Fatalf("%d findings stored", len(stored))
	}
	// The re-scan: root-mfa is fixed everywhere.
	if _, res, err = Import(ctx, cfg, org(125, rule.Pass), nil, Options{}); err != nil || res.Imported != 250 {
		t.Fatalf("re-scan: %+v %v", res, err)
	}
	after := srv.Findings()
	if len(after) != 251 {
		t.Fatalf("the re-scan left %d findings, want the same 251", len(after))
	}
	for _, f := range after {
		switch {
		case f.ProductArn == other.ProductArn:
			if f.Workflow != "NOTIFIED" || f.Imports != 0 || f.Compliance != "FAILED" {
				t.Errorf("another product's finding was touched: %+v", f)
			}
		case f.Imports != 2 || f.Compliance != "PASSED" || f.Workflow != "RESOLVED" || f.AwsAccountID != secAccount:
			t.Errorf("finding %s after the re-scan: %+v", f.ID, f)
		}
	}
	// An UNKNOWN never resolves: the finding stays open with WARNING.
	if _, _, err = Import(ctx, cfg, org(1, rule.Unknown), nil, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range srv.Findings() {
		if f.ID == "vigil/root-mfa/arn:aws:iam::200000000000:root" && (f.Compliance != "WARNING" || f.Workflow != "NEW") {
			t.Errorf("an UNKNOWN result left the finding %+v", f)
		}
	}
}

// TestThrottledRetried: a throttled call is retried by the SDK; one the
// SDK gives up on is sent again after a wait on the clock.
func TestThrottledRetried(t *testing.T) {
	srv, cfg := start(t)
	ctx := context.Background()
	srv.AddFault(awsemu.Fault{Service: "securityhub", Action: "BatchImportFindings", Code: "LimitExceededException", Times: 1})
	if _, res, err := Import(ctx, cfg, org(1, rule.Fail), nil, Options{}); err != nil || res.Imported != 2 {
		t.Fatalf("throttled once: %+v %v", res, err)
	}
	if n := srv.CallCount("securityhub", "BatchImportFindings"); n != 2 {
		t.Errorf("%d calls, want the throttled one and its retry", n)
	}

	// Three throttled answers: the SDK's three attempts fail, Send waits
	// 2 s on the clock and sends the batch again.
	srv.ResetCalls()
	srv.SetFaults(awsemu.Fault{Service: "securityhub", Action: "BatchImportFindings", Code: "LimitExceededException", Times: 3})
	m := clock.NewManual(testclock.Ref())
	done := make(chan error, 1)
	var res Result
	go func() {
		var err error
		_, res, err = Import(ctx, cfg, org(1, rule.Fail), nil, Options{Clock: m})
		done <- err
	}()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := m.WaitPending(wctx, 1); err != nil {
		t.Fatalf("Send did not wait after the SDK gave up: %v", err)
	}
	m.Advance(2 * time.Second)
	if err := <-done; err != nil || res.Imported != 2 || res.Calls != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if n := srv.CallCount("securityhub", "BatchImportFindings"); n != 4 {
		t.Errorf("%d calls, want 3 throttled and 1 answered", n)
	}
}

// TestRejectedReported: findings Security Hub refuses, and one too large
// to send, are reported by ID; the others are imported.
func TestRejectedReported(t *testing.T) {
	srv, cfg := start(t)
	ctx := context.Background()
	d := org(2, rule.Fail)
	o := asff.Options{Region: region, Importer: secAccount}
	var fs []asff.Finding
	for f, err := range asff.Findings(d, o) {
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	fs[1].AwsAccountID = "999999999999"     // not the importer: refused by Security Hub
	fs[2].Compliance.Status = "SORT_OF_BAD" // refused
	fs[3].ProductFields = map[string]string{}
	for i := range 49 {
		fs[3].ProductFields[fmt.Sprint(i)] = strings.Repeat("x", 5100) // 250 KB: never sent
	}
	res, err := Send(ctx, sh.NewFromConfig(cfg), seq(fs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, f := range res.Failed {
		codes[f.ID] = f.Code
	}
	want := map[string]string{fs[1].ID: "AccessDeniedException", fs[2].ID: "InvalidInput", fs[3].ID: "FindingTooLarge"}
	if fmt.Sprint(codes) != fmt.Sprint(want) || res.Imported != 1 || res.Findings != 4 {
		t.Errorf("failed %v, imported %d of %d; want %v", codes, res.Imported, res.Findings, want)
	}
	if len(srv.Findings()) != 1 {
		t.Errorf("%d stored", len(srv.Findings()))
	}
}

// TestOnlyVigilFindings: Send refuses a finding Vigil did not make.
func TestOnlyVigilFindings(t *testing.T) {
	srv, cfg := start(t)
	f := asff.Finding{ID: "arn:aws:guardduty:finding/1", GeneratorID: "guardduty"}
	if _, err := Send(context.Background(), sh.NewFromConfig(cfg), seq([]asff.Finding{f}), Options{}); err == nil {
		t.Errorf("a foreign finding was sent")
	}
	if n := srv.CallCount("securityhub", ""); n != 0 {
		t.Errorf("%d calls", n)
	}
}

// TestBatchBytes: batches stay under 6 MB when findings are large.
func TestBatchBytes(t *testing.T) {
	srv, cfg := start(t)
	var fs []asff.Finding
	for f, err := range asff.Findings(org(30, rule.Fail), asff.Options{Region: region, Importer: secAccount}) {
		if err != nil {
			t.Fatal(err)
		}
		f.ProductFields = map[string]string{}
		for i := range 45 {
			f.ProductFields[fmt.Sprint(i)] = strings.Repeat("y", 2400) // ~110 KB a finding, 6.5 MB in all
		}
		fs = append(fs, f)
	}
	res, err := Send(context.Background(), sh.NewFromConfig(cfg), seq(fs), Options{})
	if err != nil || res.Imported != 60 || res.Calls < 2 {
		t.Fatalf("%+v %v", res, err)
	}
	if len(srv.Findings()) != 60 {
		t.Errorf("%d stored", len(srv.Findings()))
	}
}

// TestPacer: a burst goes at once, the next call waits for the rate.
func TestPacer(t *testing.T) {
	m := clock.NewManual(testclock.Ref())
	p := newPacer(m, 10, 3)
	ctx := context.Background()
	for range 3 {
		if err := p.wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- p.wait(ctx) }()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := m.WaitPending(wctx, 1); err != nil {
		t.Fatalf("the fourth call did not wait: %v", err)
	}
	select {
	case <-done:
		t.Fatal("the fourth call went before the clock moved")
	default:
	}
	m.Advance(100 * time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func seq(fs []asff.Finding) func(func(asff.Finding, error) bool) {
	return func(yield func(asff.Finding, error) bool) {
		for _, f := range fs {
			if !yield(f, nil) {
				return
			}
		}
	}
}

// TestGoldenFindingsAccepted: the findings of the single-account golden
// file (vigil scan --format asff), each imported by its own account, pass
// the SDK's own validation of BatchImportFindings and every check of the
// emulator: none is refused.
func TestGoldenFindingsAccepted(t *testing.T) {
	data, err := os.ReadFile("../../cmd/vigil/testdata/golden/scan-asff.json")
	if err != nil {
		t.Fatal(err)
	}
	var fs []asff.Finding
	if err := json.Unmarshal(data, &fs); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"111122223333": "AKIAGOLDENA000000001", "444455556666": "AKIAGOLDENB000000001"}
	w := &awsemu.World{}
	for acct, key := range keys {
		w.Accounts = append(w.Accounts, &awsemu.Account{ID: acct, Users: []awsemu.User{{Name: "importer", AccessKeys: []awsemu.AccessKey{{ID: key}}}}})
	}
	srv := awsemutest.Start(t, w)
	for acct, key := range keys {
		var own []asff.Finding
		for _, f := range fs {
			if f.AwsAccountID == acct {
				own = append(own, f)
			}
		}
		cfg := awsemutest.ConfigFor(t, srv, key)
		cfg.Region = "us-east-1"
		res, err := Send(context.Background(), sh.NewFromConfig(cfg), seq(own), Options{})
		if err != nil || len(res.Failed) != 0 || res.Imported != len(own) || len(own) == 0 {
			t.Errorf("account %s: %+v %v", acct, res, err)
		}
	}
	if got := len(srv.Findings()); got != len(fs) {
		t.Errorf("%d of %d findings stored", got, len(fs))
	}
}

// TestPacedToQuota: against an emulator that enforces a quota of 20
// calls a second in bursts of 5, 4,000 findings (40 calls) paced to it go
// through with none throttled; 40 calls sent as fast as they go to one
// that enforces 1 a second are throttled, which shows the emulator's
// quota bites.
func TestPacedToQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds of real time")
	}
	start := func(t *testing.T, rate float64, burst int) (*awsemu.Server, aws.Config) {
		srv := awsemutest.Start(t, world(), awsemu.WithSecurityHubRate(rate, burst))
		cfg := awsemutest.ConfigFor(t, srv, secKey)
		cfg.Region = region
		cfg.RetryMaxAttempts = 1 // the SDK's own retries off: every throttled call shows
		return srv, cfg
	}
	throttled := func(srv *awsemu.Server) int {
		n := 0
		for _, call := range srv.Calls() {
			if call.ErrorCode == "LimitExceededException" {
				n++
			}
		}
		return n
	}
	d := org(2000, rule.Fail)
	t.Run("paced", func(t *testing.T) {
		srv, cfg := start(t, 20, 5)
		_, res, err := Import(context.Background(), cfg, d, nil, Options{Rate: 20, Burst: 5, Clock: clock.Wall{}})
		if n := throttled(srv); err != nil || res.Imported != 4000 || res.Calls != 40 || n != 0 {
			t.Errorf("%+v %v, %d throttled", res, err, n)
		}
	})
	t.Run("unpaced", func(t *testing.T) {
		// A quota of 1 a second: 40 calls would have to take 38 s not
		// to be throttled, however loaded the machine.
		srv, cfg := start(t, 1, 2)
		c := sh.NewFromConfig(cfg)
		f := ToSDK(first(t, d))
		for range 40 {
			c.BatchImportFindings(context.Background(), &sh.BatchImportFindingsInput{Findings: []types.AwsSecurityFinding{f}})
		}
		if throttled(srv) == 0 {
			t.Errorf("40 unpaced calls were never throttled: the quota is not enforced")
		}
	})
}

func first(t *testing.T, d *report.Document) asff.Finding {
	for f, err := range asff.Findings(d, asff.Options{Region: region, Importer: secAccount}) {
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	t.Fatal("no finding")
	return asff.Finding{}
}

// TestNotEnabled: an account without Security Hub gets an error that says
// so and how to enable it, and nothing is imported.
func TestNotEnabled(t *testing.T) {
	srv, cfg := start(t)
	srv.DisableSecurityHub(secAccount)
	_, res, err := Import(context.Background(), cfg, org(1, rule.Fail), nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "not subscribed") || !strings.Contains(err.Error(), "enable-security-hub") || res.Imported != 0 {
		t.Errorf("%+v %v", res, err)
	}
}
