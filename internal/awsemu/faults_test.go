package awsemu_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

// TestIAMThrottlingRetriedBySDK uses the SDK's default retryer, delays
// included, to show that an IAM Throttling answer is what the SDK expects.
func TestIAMThrottlingRetriedBySDK(t *testing.T) {
	srv := startTest(t, awsemu.WithFaults(awsemu.Fault{Service: "iam", Action: "GetAccountSummary", Code: "Throttling", Times: 1}))
	out, err := clientsFor(t, srv, mgmtRootKey).iam.GetAccountSummary(t.Context(), &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatalf("throttled once, still failed: %v", err)
	}
	attempts, ok := retry.GetAttemptResults(out.ResultMetadata)
	if !ok || len(attempts.Results) != 2 {
		t.Errorf("SDK attempts = %d, want 2", len(attempts.Results))
	}
	calls := srv.Calls()
	if len(calls) != 2 || calls[0].ErrorCode != "Throttling" || calls[0].Status != 400 || calls[1].Status != 200 {
		t.Errorf("calls = %+v", calls)
	}
}

// throttleRecorder is the standard retryer, without sleeps, noting whether
// the SDK classified each retried error as a throttle.
func throttleRecorder(seen *[]bool) func(*config.LoadOptions) error {
	return func(o *config.LoadOptions) error {
		o.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.Backoff = retry.BackoffDelayerFunc(func(_ int, err error) (time.Duration, error) {
					*seen = append(*seen, retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary)
					return 0, nil
				})
			})
		}
		return nil
	}
}

func TestThrottlesAreClassifiedAsThrottles(t *testing.T) {
	ctx := t.Context()
	t.Run("iam exhausts retries", func(t *testing.T) {
		srv := startTest(t, awsemu.WithFaults(awsemu.Fault{Service: "iam", Code: "Throttling"}))
		var seen []bool
		_, err := clientsFor(t, srv, mgmtRootKey, throttleRecorder(&seen)).iam.ListAccessKeys(ctx, nil)
		wantAPIError(t, err, "Throttling", 400)
		if !slices.Equal(seen, []bool{true, true}) {
			t.Errorf("throttle classification per retry = %v", seen)
		}
		if n := srv.CallCount("iam", "ListAccessKeys"); n != 3 {
			t.Errorf("attempts = %d, want 3", n)
		}
	})
	t.Run("organizations retried once", func(t *testing.T) {
		srv := startTest(t, awsemu.WithFaults(awsemu.Fault{Service: "organizations", Action: "ListAccounts", Code: "TooManyRequestsException", Times: 1}))
		var seen []bool
		out, err := clientsFor(t, srv, mgmtAdminKey, throttleRecorder(&seen)).orgs.ListAccounts(ctx, &organizations.ListAccountsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Accounts) != 4 || !slices.Equal(seen, []bool{true}) || srv.CallCount("organizations", "ListAccounts") != 2 {
			t.Errorf("accounts %d, throttles %v, calls %d", len(out.Accounts), seen, srv.CallCount("organizations", "ListAccounts"))
		}
	})
	t.Run("organizations exhausts retries", func(t *testing.T) {
		srv := startTest(t, awsemu.WithFaults(awsemu.Fault{Service: "organizations", Code: "TooManyRequestsException"}))
		_, err := clientsFor(t, srv, mgmtAdminKey, fastRetries).orgs.DescribeOrganization(ctx, nil)
		wantType[*orgtypes.TooManyRequestsException](t, err)
		if n := srv.CallCount("organizations", "DescribeOrganization"); n != 3 {
			t.Errorf("attempts = %d, want 3", n)
		}
	})
}

func TestFaultMatching(t *testing.T) {
	ctx := t.Context()
	t.Run("account-scoped access denied", func(t *testing.T) {
		srv := startTest(t, awsemu.WithFaults(awsemu.Fault{AccountID: memberID, Code: "AccessDenied"}))
		_, err := clientsFor(t, srv, memberAliceKey, fastRetries).iam.GetAccountSummary(ctx, nil)
		wantAPIError(t, err, "AccessDenied", 403)
		_, err = clientsFor(t, srv, memberAliceKey, fastRetries).sts.GetCallerIdentity(ctx, nil)
		wantAPIError(t, err, "AccessDenied", 403)
		if _, err := clientsFor(t, srv, mgmtRootKey, fastRetries).iam.GetAccountSummary(ctx, nil); err != nil {
			t.Errorf("other account faulted: %v", err)
		}
		if n := srv.CallCount("iam", "GetAccountSummary"); n != 2 {
			t.Errorf("AccessDenied was retried: %d calls", n)
		}
	})
	t.Run("skip then fail once on the second page", func(t *testing.T) {
		srv := awsemutest.Start(t, bigOrg(30), awsemu.WithFaults(awsemu.Fault{Service: "organizations", Action: "ListAccounts", Code: "TooManyRequestsException", Skip: 1, Times: 1}))
		p := organizations.NewListAccountsPaginator(clientsFor(t, srv, "AKIABIGMGMTUSER00001", fastRetries).orgs, &organizations.ListAccountsInput{})
		n := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += len(out.Accounts)
		}
		var codes []string
		for _, c := range srv.Calls() {
			codes = append(codes, c.ErrorCode)
		}
		if n != 30 || !slices.Equal(codes, []string{"", "TooManyRequestsException", ""}) {
			t.Errorf("%d accounts, calls %q", n, codes)
		}
	})
	t.Run("faulted call changes nothing", func(t *testing.T) {
		srv := startTest(t, awsemu.WithFaults(awsemu.Fault{Service: "iam", Action: "DeleteAccessKey", Code: "ServiceFailure"}))
		_, err := clientsFor(t, srv, mgmtRootKey, fastRetries).iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(mgmtRootKey2)})
		wantAPIError(t, err, "ServiceFailure", 500)
		if acct, _ := srv.Account(mgmtID); len(acct.Root.AccessKeys) != 2 {
			t.Error("key deleted despite the fault")
		}
	})
	t.Run("custom status and message", func(t *testing.T) {
		srv := startTest(t, awsemu.WithFaults(awsemu.Fault{Service: "sts", Action: "*", Code: "RegionDisabledException", Status: 403, Message: "region off"}))
		_, err := clientsFor(t, srv, mgmtAdminKey, fastRetries).sts.GetCallerIdentity(ctx, nil)
		wantAPIError(t, err, "RegionDisabledException", 403)
		if err == nil || !strings.Contains(err.Error(), "region off") {
			t.Errorf("error = %v", err)
		}
	})
}

func TestProbabilisticFaultsAreDeterministic(t *testing.T) {
	pattern := func() []bool {
		srv := startTest(t, awsemu.WithSeed(42), awsemu.WithFaults(awsemu.Fault{Service: "iam", Code: "InvalidInput", Probability: 0.3}))
		c := clientsFor(t, srv, mgmtRootKey, fastRetries).iam
		var failed []bool
		for range 60 {
			_, err := c.GetAccountSummary(t.Context(), nil)
			failed = append(failed, err != nil)
		}
		return failed
	}
	a, b := pattern(), pattern()
	if !slices.Equal(a, b) {
		t.Error("same seed, different failure pattern")
	}
	n := 0
	for _, f := range a {
		if f {
			n++
		}
	}
	if n < 6 || n > 32 {
		t.Errorf("%d of 60 calls failed with probability 0.3", n)
	}
}

// TestLatency: latency delays the service it is set for and no other, and
// never outlives a client that gave up. The lower bounds are real
// (latency is a sleep); nothing here bounds how long the machine may
// take, so a busy machine cannot fail it: what must not wait is checked
// against a latency of an hour, under a deadline of a minute.
func TestLatency(t *testing.T) {
	srv := startTest(t)
	c := clientsFor(t, srv, mgmtRootKey, fastRetries)
	srv.SetServiceLatency("iam", 150*time.Millisecond)

	start := time.Now()
	if _, err := c.iam.GetAccountSummary(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("IAM call took %v despite 150 ms latency", d)
	}
	srv.SetServiceLatency("iam", time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := c.sts.GetCallerIdentity(ctx, nil); err != nil {
		t.Fatalf("STS call with an hour of IAM latency: %v; latency leaked across services", err)
	}

	// A client that gives up is not kept waiting, and the call is logged.
	srv.SetServiceLatency("iam", -1)
	srv.SetLatency(time.Hour)
	srv.ResetCalls()
	gaveUp, cancelCall := context.WithCancel(ctx)
	defer cancelCall()
	go func() {
		// Give up once the server holds the request, so that there is a
		// call to log.
		if _, err := srv.WaitHeld(gaveUp, func(h []awsemu.Call) bool { return len(h) > 0 }); err == nil {
			cancelCall()
		}
	}()
	_, err := c.iam.GetAccountSummary(gaveUp, nil)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want the client's cancellation", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the cancelled call waited out the test's minute: the server held it")
	}
	waitForLog(t, srv, func(calls []awsemu.Call) bool {
		return len(calls) == 1 && calls[0].ErrorCode == "RequestCanceled" && calls[0].Status == 0
	})
	srv.SetLatency(0)
}

// waitForLog waits until the server's call log satisfies ok: the server
// logs an abandoned call once it notices the client left, which may be
// just after the client returned. A minute is a bound on a hang, not on
// speed.
func waitForLog(t *testing.T, srv *awsemu.Server, ok func([]awsemu.Call) bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !ok(srv.Calls()); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("calls = %+v", srv.Calls())
		}
	}
}

func TestCallLog(t *testing.T) {
	clock := awsemu.NewManualClock(t0)
	srv := awsemutest.Start(t, testWorld(), awsemu.WithClock(clock.Now))
	ctx := t.Context()
	c := clientsFor(t, srv, memberAliceKey)
	if _, err := c.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("root"), MaxItems: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	_, err := c.orgs.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(5)})
	wantType[*orgtypes.AccessDeniedException](t, err)
	calls := srv.Calls()
	if len(calls) != 2 {
		t.Fatalf("calls = %+v", calls)
	}
	first, second := calls[0], calls[1]
	if first.Seq >= second.Seq || first.Service != "iam" || first.Action != "ListAccessKeys" || first.CallerAccount != memberID ||
		first.Principal != "arn:aws:iam::444455556666:user/alice" || first.AccessKeyID != memberAliceKey ||
		first.Params["UserName"] != "root" || first.Params["MaxItems"] != "5" || len(first.Params) != 2 || first.Status != 200 || !first.Time.Equal(t0) {
		t.Errorf("first call = %+v", first)
	}
	if second.Service != "organizations" || second.Params["MaxResults"] != "5" || second.ErrorCode != "AccessDeniedException" ||
		second.Status != 400 || !second.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("second call = %+v", second)
	}
	// Calls returns copies.
	calls[0].Params["UserName"] = "changed"
	if srv.Calls()[0].Params["UserName"] != "root" {
		t.Error("Calls() shares its maps with the server")
	}
	if srv.CallCount("iam", "") != 1 || srv.CallCount("organizations", "ListAccounts") != 1 {
		t.Error("CallCount disagrees with the log")
	}
	srv.ResetCalls()
	if len(srv.Calls()) != 0 {
		t.Error("ResetCalls left calls")
	}
}

func TestLatencyOptionsAndSetClock(t *testing.T) {
	srv := startTest(t, awsemu.WithLatency(time.Millisecond), awsemu.WithServiceLatency("organizations", 80*time.Millisecond))
	c := clientsFor(t, srv, mgmtAdminKey, fastRetries)
	start := time.Now()
	if _, err := c.orgs.DescribeOrganization(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("organizations call took %v despite 80 ms latency", d)
	}
	later := t0.Add(48 * time.Hour)
	srv.SetClock(func() time.Time { return later })
	if _, err := c.iam.GetAccountSummary(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if got := calls[len(calls)-1].Time; !got.Equal(later) {
		t.Errorf("call time = %v after SetClock, want %v", got, later)
	}
	if srv.Partition() != "aws" {
		t.Errorf("Partition() = %q", srv.Partition())
	}
}

// TestDelayAndHangFaults: a slow account is served late, a dead account
// never answers until the client gives up, and neither holds up calls
// from other accounts. Nothing is timed from above: the healthy calls are
// made while the dead one is held, so they could only wait behind it
// forever (the test's minute), never a little.
func TestDelayAndHangFaults(t *testing.T) {
	srv := startTest(t, awsemu.WithFaults(
		awsemu.Fault{AccountID: memberID, Service: "iam", Hang: true},
		awsemu.Fault{AccountID: adminID, Delay: 150 * time.Millisecond, Code: "AccessDenied"}, // Code ignored: slows only
	))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dead := clientsFor(t, srv, memberAliceKey, fastRetries)
	slow := clientsFor(t, srv, delegatedKey, fastRetries)
	fine := clientsFor(t, srv, mgmtAdminKey, fastRetries)

	hungCtx, giveUp := context.WithCancel(ctx)
	defer giveUp()
	hung := make(chan error, 1)
	go func() {
		_, err := dead.iam.GetAccountSummary(hungCtx, nil)
		hung <- err
	}()
	held, err := srv.WaitHeld(ctx, func(h []awsemu.Call) bool { return len(h) == 1 })
	if err != nil {
		t.Fatalf("the dead account's call was never held: %v", err)
	}
	if c := held[0]; c.Service != "iam" || c.Action != "GetAccountSummary" || c.CallerAccount != memberID || c.AccessKeyID != memberAliceKey || c.Status != 0 {
		t.Errorf("held call %+v", c)
	}
	if _, err := fine.iam.GetAccountSummary(ctx, nil); err != nil {
		t.Fatalf("a healthy account's call while a dead one is held: %v", err)
	}
	start := time.Now()
	if _, err := slow.iam.GetAccountSummary(ctx, nil); err != nil {
		t.Fatalf("a Delay rule made the call fail: %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("delayed call took %v, want at least 150ms", d)
	}
	// STS in the dead account is unaffected: the rule names IAM only.
	if _, err := dead.sts.GetCallerIdentity(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if h := srv.Held(); len(h) != 1 || h[0].Action != "GetAccountSummary" {
		t.Errorf("held after the other calls: %+v", h)
	}
	select {
	case err := <-hung:
		t.Fatalf("the hung call ended on its own: %v", err)
	default:
	}
	giveUp()
	if err := <-hung; !errors.Is(err, context.Canceled) {
		t.Errorf("hung call ended with %v, want the client's cancellation", err)
	}
	waitForLog(t, srv, func(calls []awsemu.Call) bool {
		for _, c := range calls {
			if c.ErrorCode == "RequestCanceled" && c.Action == "GetAccountSummary" {
				return true
			}
		}
		return false
	})
	if h := srv.Held(); len(h) != 0 {
		t.Errorf("still held after the client gave up: %+v", h)
	}
}

// TestCloseEndsHungCalls: shutting the server down never waits for a
// client that would wait forever.
func TestCloseEndsHungCalls(t *testing.T) {
	srv := awsemu.NewServer(testWorld(), awsemu.WithFaults(awsemu.Fault{Hang: true}))
	c := clientsFor(t, srv, mgmtAdminKey, fastRetries)
	go func() { _, _ = c.iam.GetAccountSummary(context.Background(), nil) }() // meant to hang
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := srv.WaitHeld(ctx, func(h []awsemu.Call) bool { return len(h) == 1 }); err != nil {
		t.Fatalf("the call was never held: %v", err)
	}
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Close waited for a hung request")
	}
}
