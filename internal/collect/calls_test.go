package collect

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/vigil-sec/vigil/internal/clock"
)

// stubSTS is an HTTP client in place of STS: it answers with the next
// scripted answer, or, for a nil one, holds the request until the client
// gives up. requests receives each request as it arrives.
type stubSTS struct {
	mu       sync.Mutex
	answers  []*http.Response
	requests chan *http.Request
}

func (s *stubSTS) Do(r *http.Request) (*http.Response, error) {
	s.requests <- r
	s.mu.Lock()
	var a *http.Response
	if len(s.answers) > 0 {
		a, s.answers = s.answers[0], s.answers[1:]
	}
	s.mu.Unlock()
	if a == nil {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	a.Request = r
	return a, nil
}

func xmlAnswer(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(strings.NewReader(body))}
}

const (
	identityXML = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/a</Arn><UserId>AIDA</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
	deniedXML   = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>r2</RequestId></ErrorResponse>`
)

// limited is an STS client on the stub whose calls are limited on a
// manual clock: 5s per attempt, a warning after 1s, two attempts.
func limited(t *testing.T, stub *stubSTS, clk *clock.Manual, logs io.Writer) *sts.Client {
	t.Helper()
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE000000001", "secret", ""),
		HTTPClient:  stub,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 2
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
	LimitCalls(&cfg, CallLimits{Timeout: 5 * time.Second, StallWarning: time.Second, Clock: clk, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	return sts.NewFromConfig(ForAccount(cfg, "111122223333"))
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits for cond; the minute only turns a hang into a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}

func TestFlagDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		700 * time.Millisecond: "700ms", 10 * time.Second: "10s", 3 * time.Minute: "3m", 90 * time.Second: "1m30s",
		time.Hour: "1h", 90 * time.Minute: "1h30m", time.Hour + time.Second: "1h0m1s",
	} {
		if got := FlagDuration(d); got != want {
			t.Errorf("FlagDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestLimitCalls: an attempt with no answer is named while it waits and
// given up on at the limit; the retryer tries again; after the last
// attempt the call fails as a timeout of its own kind, naming the call,
// the limit and the attempts. An answer, even an error, is AWS's answer
// and passes through untouched.
func TestLimitCalls(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	stub := &stubSTS{requests: make(chan *http.Request, 4)}
	logs := &logBuffer{}
	c := limited(t, stub, clk, logs)

	done := make(chan error, 1)
	go func() {
		_, err := c.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		done <- err
	}()
	<-stub.requests
	clk.Advance(time.Second)
	waitFor(t, "the stall warning", func() bool {
		return strings.Contains(logs.String(), `msg="still waiting for an answer from AWS" call=sts:GetCallerIdentity attempt=1 account_id=111122223333 waited=1s call_timeout=5s`)
	})
	clk.Advance(4 * time.Second)
	<-stub.requests // the retry
	if !strings.Contains(logs.String(), `msg="no answer from AWS in time; the SDK retries while attempts remain" call=sts:GetCallerIdentity attempt=1 account_id=111122223333 call_timeout=5s`) {
		t.Errorf("the timed-out attempt is not logged:\n%s", logs)
	}
	clk.Advance(5 * time.Second)
	err := <-done
	var te *CallTimeoutError
	if !errors.As(err, &te) || te.Call != "sts:GetCallerIdentity" || te.Limit != 5*time.Second || te.Attempt != 2 {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("a call timeout reads as the caller's deadline or cancellation: %v", err)
	}
	if kind, code := Classify(err); kind != KindTimeout || code != CodeCallTimeout {
		t.Errorf("classified as %d %q", kind, code)
	}
	if g := NewGap("s", "sts:GetCallerIdentity", err); g.Code != CodeCallTimeout || g.Message != "no answer within 5s on any of 2 attempts (--call-timeout, --max-attempts)" {
		t.Errorf("gap %+v", g)
	}
	if n := clk.Pending(); n != 0 {
		t.Errorf("%d deadlines left pending", n)
	}

	// Answers pass through: a denial stays a denial, an identity arrives.
	stub.answers = []*http.Response{xmlAnswer(403, deniedXML), xmlAnswer(200, identityXML)}
	_, err = c.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	<-stub.requests
	if kind, code := Classify(err); kind != KindDenied || code != "AccessDenied" {
		t.Errorf("a denial classified as %d %q: %v", kind, code, err)
	}
	out, err := c.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	<-stub.requests
	if err != nil || aws.ToString(out.Account) != "111122223333" {
		t.Errorf("answer %+v, %v", out, err)
	}

	// The caller's own deadline is not a call timeout: it is not retried
	// and stays the context's error.
	ctx, cancel := clk.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	go func() {
		_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		done <- err
	}()
	<-stub.requests
	clk.Advance(2 * time.Second)
	err = <-done
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &te) {
		t.Errorf("the caller's deadline ended the call with %v", err)
	}
	select {
	case r := <-stub.requests:
		t.Errorf("retried after the caller's deadline: %v", r.URL)
	default:
	}
}

// TestForAccountCopiesDoNotShare: two accounts' copies of one config
// never share the slot of their own option, even when the config's
// option slice has room to spare (as an append by LimitCalls or awsreq
// once left it): the second copy overwrote the first's account name, a
// data race under -race.
func TestForAccountCopiesDoNotShare(t *testing.T) {
	var cfg aws.Config
	cfg.APIOptions = make([]func(*middleware.Stack) error, 1, 8)
	cfg.APIOptions[0] = func(*middleware.Stack) error { return nil }
	a := ForAccount(cfg, "111111111111")
	b := ForAccount(cfg, "222222222222")
	if len(a.APIOptions) != 2 || len(b.APIOptions) != 2 {
		t.Fatalf("options: %d and %d, want 2 each", len(a.APIOptions), len(b.APIOptions))
	}
	if &a.APIOptions[1] == &b.APIOptions[1] {
		t.Error("the two accounts' options share one slot: the second overwrote the first")
	}
	var c aws.Config
	c.APIOptions = make([]func(*middleware.Stack) error, 0, 8)
	LimitCalls(&c, CallLimits{})
	if cap(c.APIOptions) != len(c.APIOptions) {
		t.Errorf("LimitCalls left room in the options (len %d, cap %d) that copies would append into", len(c.APIOptions), cap(c.APIOptions))
	}
}
