package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/vigil-sec/vigil/internal/clock"
)

// Every AWS call Vigil makes is bounded twice: each attempt (one HTTP
// request and its answer) by CallLimits.Timeout, after which the SDK's
// retryer tries again with backoff up to its maximum attempts, and the
// whole account (all calls, all attempts) by the caller's account
// deadline. Neither the SDK nor Go's HTTP client bounds a request that
// was accepted and never answered: without these, one such endpoint
// holds a scan forever, silently.
//
// The per-attempt bound is a middleware rather than http.Client.Timeout:
// it runs on Vigil's clock (tests drive it), it knows which call it is
// bounding (so a stalled call can be named while it stalls and when it
// gives up), and it can tell a timeout of its own from the caller's
// deadline, which must not be retried.

// Defaults of the call limits.
const (
	// DefaultCallTimeout bounds one attempt. IAM, STS and Organizations
	// answer in well under a second; the largest answer Vigil reads, a
	// credential report of an account with thousands of users, is a few
	// megabytes. Thirty seconds is far beyond either and still leaves the
	// retries room inside the default account deadline (3m).
	DefaultCallTimeout = 30 * time.Second
	// DefaultStallWarning is how long an attempt may wait before a warning
	// names it (then again each time the wait doubles).
	DefaultStallWarning = 10 * time.Second
)

// CodeCallTimeout is the gap code of a call none of whose attempts was
// answered within CallLimits.Timeout.
const CodeCallTimeout = "CallTimeout"

// CallLimits bound the AWS calls of one run.
type CallLimits struct {
	// Timeout bounds each attempt of a call; 0 means no bound of its own.
	Timeout time.Duration
	// StallWarning is how long an attempt may wait before a warning names
	// the call, repeated each time the wait doubles; 0 means no warning.
	StallWarning time.Duration
	// Clock runs both; the wall clock when nil.
	Clock clock.Clock
	// Logger receives the warnings, and at debug level every attempt;
	// slog.Default() (as it is when the call is made) when nil.
	Logger *slog.Logger
}

// CallTimeoutError is one attempt of a call that got no answer within
// CallLimits.Timeout. The SDK's retryer retries it (RetryableError); after
// the last attempt it is the call's error. It does not wrap the context's
// error: a call that timed out is not a cancelled run, nor a deadline of
// the caller's that passed.
type CallTimeoutError struct {
	Call    string // "iam:GetCredentialReport"
	Limit   time.Duration
	Attempt int
}

func (e *CallTimeoutError) Error() string {
	return fmt.Sprintf("%s: no answer within %s (attempt %d)", e.Call, e.Limit, e.Attempt)
}

// Timeout marks the error as a timeout for the SDK's retry cost and for
// net-style checks.
func (e *CallTimeoutError) Timeout() bool { return true }

// RetryableError tells the SDK's retryer to try again.
func (e *CallTimeoutError) RetryableError() bool { return true }

// CallError is a call that failed, said the way its gap says it ("CallTimeout:
// no answer within 30s on any of 3 attempts …") instead of in the SDK's
// words; it wraps the SDK's error.
type CallError struct {
	Call string
	Err  error
}

func (e *CallError) Error() string { return e.Call + ": " + gap("", e.Call, e.Err).Text() }

func (e *CallError) Unwrap() error { return e.Err }

// FlagDuration writes d as a user would give it to a flag: "3m", "1h30m",
// "700ms", not "3m0s".
func FlagDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// timeoutMessage says what a call that timed out on every attempt waited
// for, for a gap.
func timeoutMessage(err error, te *CallTimeoutError) string {
	attempts := te.Attempt
	var max *retry.MaxAttemptsError
	if errors.As(err, &max) {
		attempts = max.Attempt
	}
	if attempts <= 1 {
		return fmt.Sprintf("no answer within %s (--call-timeout)", FlagDuration(te.Limit))
	}
	return fmt.Sprintf("no answer within %s on any of %d attempts (--call-timeout, --max-attempts)", FlagDuration(te.Limit), attempts)
}

// LimitCalls makes every call made with cfg, with any client built from it
// and any copy of it (role and root sessions included), obey l. Call it
// once per configuration.
func LimitCalls(cfg *aws.Config, l CallLimits) {
	if l.Clock == nil {
		l.Clock = clock.Wall{}
	}
	lim := &limiter{l: l}
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), lim.add)
}

// ForAccount returns a copy of cfg whose calls name the account in the
// warnings and debug lines of LimitCalls, for runs over many accounts.
func ForAccount(cfg aws.Config, accountID string) aws.Config {
	c := cfg.Copy()
	// Copy is shallow: appending to the shared slice would write into its
	// spare capacity, which every account's copy shares (a data race, and
	// one account's name on another's calls). Clip it so append copies.
	c.APIOptions = append(slices.Clip(c.APIOptions), func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("VigilAccount",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(middleware.WithStackValue(ctx, accountKey{}, accountID), in)
			}), middleware.Before)
	})
	return c
}

type (
	accountKey struct{}
	attemptKey struct{}
)

type limiter struct{ l CallLimits }

func (lim *limiter) ID() string { return "VigilCallLimits" }

// add puts the attempt counter first in the stack and the bound right
// after the retry loop, so that it wraps exactly one attempt: credential
// retrieval, signing, sending and reading the answer.
func (lim *limiter) add(st *middleware.Stack) error {
	if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("VigilAttemptCounter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(middleware.WithStackValue(ctx, attemptKey{}, new(atomic.Int32)), in)
		}), middleware.Before); err != nil {
		return err
	}
	if _, ok := st.Finalize.Get("Retry"); ok {
		return st.Finalize.Insert(lim, "Retry", middleware.After)
	}
	return st.Finalize.Add(lim, middleware.Before)
}

// callName is the call as IAM policies and CloudTrail name it.
func callName(ctx context.Context) string {
	svc := strings.ToLower(strings.ReplaceAll(awsmiddleware.GetServiceID(ctx), " ", ""))
	return svc + ":" + awsmiddleware.GetOperationName(ctx)
}

func (lim *limiter) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	call := callName(ctx)
	attempt := 1
	if n, ok := middleware.GetStackValue(ctx, attemptKey{}).(*atomic.Int32); ok {
		attempt = int(n.Add(1))
	}
	log := lim.l.Logger
	if log == nil {
		log = slog.Default()
	}
	attrs := []any{"call", call, "attempt", attempt}
	if id, ok := middleware.GetStackValue(ctx, accountKey{}).(string); ok {
		attrs = append(attrs, "account_id", id)
	}
	log.Debug("calling AWS", attrs...)
	start := lim.l.Clock.Now()

	actx, cancel := clock.Within(lim.l.Clock, ctx, lim.l.Timeout)
	defer cancel()
	stop := lim.watch(actx, ctx, log, attrs)
	out, md, err := next.HandleFinalize(actx, in)
	stop()

	took := lim.l.Clock.Now().Sub(start)
	var ae smithy.APIError
	if err != nil && actx.Err() != nil && ctx.Err() == nil && !errors.As(err, &ae) {
		// Our own bound passed, not the caller's, and AWS gave no answer
		// of its own: the attempt timed out.
		log.Warn("no answer from AWS in time; the SDK retries while attempts remain", append(attrs, "call_timeout", lim.l.Timeout)...)
		return out, md, &CallTimeoutError{Call: call, Limit: lim.l.Timeout, Attempt: attempt}
	}
	if err != nil {
		_, code := Classify(err)
		log.Debug("AWS call failed", append(attrs, "took", took, "error_code", code)...)
	} else {
		log.Debug("AWS answered", append(attrs, "took", took)...)
	}
	return out, md, err
}

// watch warns after StallWarning, and each time the wait doubles, that
// the attempt is still waiting, until stop is called or the attempt ends.
// stop returns only once the watch has, so no warning follows the answer.
func (lim *limiter) watch(attempt, call context.Context, log *slog.Logger, attrs []any) (stop func()) {
	every := lim.l.StallWarning
	if every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	// The first deadline is set before the attempt starts, so that it
	// counts from the attempt's start on any clock.
	wctx, cancel := clock.Within(lim.l.Clock, attempt, every)
	go func() {
		defer wg.Done()
		// At 10s, 20s, 40s…: said early, and not every few seconds of a
		// long timeout.
		for waited := every; ; waited *= 2 {
			if waited > every {
				wctx, cancel = clock.Within(lim.l.Clock, attempt, waited/2)
			}
			select {
			case <-wctx.Done():
			case <-done:
			}
			cancel()
			// Only the warning's own deadline: not the attempt's end, the
			// caller's, or the answer.
			if !errors.Is(wctx.Err(), context.DeadlineExceeded) || attempt.Err() != nil || call.Err() != nil {
				return
			}
			select {
			case <-done:
				return
			default:
			}
			w := []any{"waited", waited}
			if lim.l.Timeout > 0 {
				w = append(w, "call_timeout", lim.l.Timeout)
			}
			log.Warn("still waiting for an answer from AWS", append(append([]any{}, attrs...), w...)...)
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// WithoutCallLimits takes LimitCalls' bound off one call, for a call that
// waits by design: an SQS long poll answers after up to 20 seconds, which
// is neither a stall to warn of nor an attempt to cut short. The caller
// bounds it itself. Use it as an APIOptions entry of that call.
func WithoutCallLimits(st *middleware.Stack) error {
	if _, ok := st.Finalize.Get("VigilCallLimits"); !ok {
		return nil
	}
	_, err := st.Finalize.Remove("VigilCallLimits")
	return err
}
