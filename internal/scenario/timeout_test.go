package scenario

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// threeAttempts is the SDK's standard retryer with its default three
// attempts and millisecond backoff: the retry logic runs for real, and the
// only waits are the ones the test makes pass on its clock.
func threeAttempts(o *config.LoadOptions) error {
	o.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	return nil
}

// singleScan is a one-account collection with bounded calls, running in
// the background on a manual clock.
type singleScan struct {
	srv  *awsemu.Server
	clk  *clock.Manual
	logs *syncBuffer
	ops  *opLog
	key  string
	// others counts the calls beside the credential report's (othersOf).
	others map[string]int
	done   chan struct{}
	acct   snapshot.Account
	err    error
}

const callTimeout = 30 * time.Second

// startSingle collects the account of a scenario file with its calls
// bounded by callTimeout (stall warnings every 10s) on a manual clock.
func startSingle(t *testing.T, path string, faults ...awsemu.Fault) *singleScan {
	t.Helper()
	s := load(t, path)
	world, err := awsemu.LoadWorld(bytes.NewReader(s.World))
	if err != nil {
		t.Fatal(err)
	}
	sc := &singleScan{clk: clock.NewManual(s.Now), logs: &syncBuffer{}, ops: &opLog{}, key: s.SignAs, done: make(chan struct{}),
		others: othersOf(t, s.World, s.SignAs, s.Now)}
	sc.srv = awsemutest.Start(t, world, awsemu.WithClock(sc.clk.Now), awsemu.WithFaults(faults...))
	cfg := awsemutest.ConfigFor(t, sc.srv, s.SignAs, threeAttempts, sc.ops.option)
	collect.LimitCalls(&cfg, collect.CallLimits{Timeout: callTimeout, StallWarning: 10 * time.Second, Clock: sc.clk,
		Logger: slog.New(slog.NewTextHandler(sc.logs, nil))})
	opts := collect.DefaultOptions()
	opts.Now = sc.clk.Now
	// The report's generation is counted in polls, not time.
	opts.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	go func() {
		defer close(sc.done)
		sc.acct, sc.err = collect.Account(t.Context(), collect.NewClients(cfg), opts)
	}()
	return sc
}

// canceled counts the attempts of a call the client gave up on.
func canceled(srv *awsemu.Server, action string) int {
	n := 0
	for _, c := range srv.Calls() {
		if c.Action == action && c.ErrorCode == "RequestCanceled" {
			n++
		}
	}
	return n
}

// othersOf runs the collection of a world once without faults and
// counts the calls it makes beside the credential report's. A test may
// only move its clock past a held attempt's deadline once each of them has
// returned, or it would cut a call still in flight; deriving them from a
// real run keeps the list true as the collection learns new reads (the
// regional ones arrive after ec2:DescribeRegions answers, not at start).
func othersOf(t *testing.T, world []byte, signAs string, now time.Time) map[string]int {
	t.Helper()
	w, err := awsemu.LoadWorld(bytes.NewReader(world))
	if err != nil {
		t.Fatal(err)
	}
	ops := &opLog{}
	srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return now }))
	cfg := awsemutest.ConfigFor(t, srv, signAs, threeAttempts, ops.option)
	opts := collect.DefaultOptions()
	opts.Now = func() time.Time { return now }
	opts.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	if _, err := collect.Account(t.Context(), collect.NewClients(cfg), opts); err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, o := range ops.ops {
		if o.call != "iam:GetCredentialReport" && o.call != "iam:GenerateCredentialReport" {
			n[o.call]++
		}
	}
	if len(n) == 0 {
		t.Fatal("the fault-free collection made no calls beside the credential report's")
	}
	return n
}

// answeredAll reports whether, signed with key, each call returned at
// least as many times as want counts.
func (l *opLog) answeredAll(key string, want map[string]int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := map[string]int{}
	for _, o := range l.ops {
		if o.key == key {
			got[o.call]++
		}
	}
	for call, n := range want {
		if got[call] < n {
			return false
		}
	}
	return true
}

// attemptHeld waits until attempt n of a call is held by the server (the
// n-1 before it were given up on) and every other call has been answered:
// only then may the clock pass the attempt's deadline, which would cut
// any call still in flight.
func (sc *singleScan) attemptHeld(t *testing.T, action string, n int) {
	t.Helper()
	waitUntil(t, "attempt of "+action+" to be in flight alone", func() bool {
		held := false
		for _, c := range sc.srv.Held() {
			held = held || c.Action == action
		}
		return held && canceled(sc.srv, action) == n-1 && sc.ops.answeredAll(sc.key, sc.others)
	})
}

func (sc *singleScan) ended(t *testing.T) {
	t.Helper()
	select {
	case <-sc.done:
	case <-time.After(hangLimit):
		t.Fatalf("the collection did not end within %v after its last deadline passed", hangLimit)
	}
	if n := sc.clk.Pending(); n != 0 {
		t.Errorf("%d deadlines still pending after the collection", n)
	}
}

// TestCallTimeoutRetried: an attempt that gets no answer is given up on at
// the call timeout, and named while it stalls; the SDK's retryer tries
// again, and the answer to the retry is used as if nothing had happened.
func TestCallTimeoutRetried(t *testing.T) {
	t.Parallel()
	sc := startSingle(t, "testdata/clean-account.json",
		awsemu.Fault{Service: "iam", Action: "GetCredentialReport", Hang: true, Times: 1})
	sc.attemptHeld(t, "GetCredentialReport", 1)
	sc.clk.Advance(10 * time.Second)
	waitUntil(t, "a warning naming the stalled call", func() bool {
		return strings.Contains(sc.logs.String(), `msg="still waiting for an answer from AWS" call=iam:GetCredentialReport attempt=1 waited=10s call_timeout=30s`)
	})
	sc.clk.Advance(callTimeout - 10*time.Second)
	sc.ended(t)
	if sc.err != nil {
		t.Fatal(sc.err)
	}
	if len(sc.acct.Gaps) != 0 || sc.acct.CredentialReport == nil || sc.acct.CredentialReport.Root == nil {
		t.Errorf("gaps %+v, report %+v", sc.acct.Gaps, sc.acct.CredentialReport)
	}
	waitUntil(t, "the server to log the abandoned attempt", func() bool { return canceled(sc.srv, "GetCredentialReport") == 1 })
	if logs := sc.logs.String(); !strings.Contains(logs, `msg="no answer from AWS in time; the SDK retries while attempts remain" call=iam:GetCredentialReport attempt=1 call_timeout=30s`) {
		t.Errorf("the timeout is not logged with the call:\n%s", logs)
	}
}

// TestCallTimeoutGivesUp: a call no attempt of which is answered ends, after
// the SDK's attempts, as a gap of its own kind (a timeout, never a
// denial or a cancelled run) that names the call and the limit; what else
// the account answered is kept, and every rule that needs the missing
// data is UNKNOWN with the timed-out call as evidence, never PASS.
func TestCallTimeoutGivesUp(t *testing.T) {
	t.Parallel()
	sc := startSingle(t, "testdata/clean-account.json",
		awsemu.Fault{Service: "iam", Action: "GetCredentialReport", Hang: true})
	for n := 1; n <= 3; n++ {
		sc.attemptHeld(t, "GetCredentialReport", n)
		sc.clk.Advance(callTimeout)
	}
	sc.ended(t)
	if sc.err != nil {
		t.Fatal(sc.err)
	}
	if sc.acct.Summary == nil || sc.acct.RootVirtualMFA == nil || sc.acct.CredentialReport != nil {
		t.Errorf("summary %v, virtual MFA %v, report %v: want all but the report", sc.acct.Summary, sc.acct.RootVirtualMFA, sc.acct.CredentialReport)
	}
	if len(sc.acct.Gaps) != 1 {
		t.Fatalf("gaps %+v, want one", sc.acct.Gaps)
	}
	g := sc.acct.Gaps[0]
	want := snapshot.Gap{Section: snapshot.SectionCredentialReport, Call: "iam:GetCredentialReport", Code: collect.CodeCallTimeout,
		Message: "no answer within 30s on any of 3 attempts (--call-timeout, --max-attempts)"}
	if g != want {
		t.Errorf("gap\n got %+v\nwant %+v", g, want)
	}
	if k := collect.KindOf(g.Code); k != collect.KindTimeout {
		t.Errorf("a timeout classified as kind %d", k)
	}
	// The server logs the last one once it notices the client left.
	waitUntil(t, "the server to log three abandoned attempts", func() bool { return canceled(sc.srv, "GetCredentialReport") == 3 })

	doc := collect.SingleAccountDocument(sc.acct, sc.clk.Now(), "test", snapshot.Source{Kind: snapshot.SourceAWS})
	needReport := 0
	for _, r := range rule.Evaluate(rules.All(), doc, doc.CollectedAt, rule.DefaultOptions()) {
		cites := false
		for _, e := range r.Evidence {
			cites = cites || e.Source == "iam:GetCredentialReport" && strings.Contains(e.Error, collect.CodeCallTimeout)
		}
		if !cites {
			continue
		}
		needReport++
		if r.Status != rule.Unknown {
			t.Errorf("%s = %s on a timed-out credential report: %s", r.RuleID, r.Status, r.Message)
		}
	}
	if needReport == 0 {
		t.Error("no result cites the timed-out call as evidence")
	}
}
