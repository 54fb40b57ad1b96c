package cli

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
)

// addCallTimeoutFlag adds --call-timeout, alike for every command that
// calls AWS.
func addCallTimeoutFlag(f *pflag.FlagSet, d *time.Duration) {
	*d = collect.DefaultCallTimeout
	f.Var(dayDuration{d}, "call-timeout", "give up on one attempt of an AWS call after this long; the SDK then retries it (up to --max-attempts)")
}

// checkCallTimeout rejects a call timeout that would bound nothing.
func checkCallTimeout(d time.Duration) error {
	if d <= 0 {
		return usagef("--call-timeout must be positive")
	}
	return nil
}

// limitCalls bounds every call made with cfg: each attempt by the call
// timeout, on the run's clock, with a warning naming a call that stalls.
func limitCalls(app *App, cfg *aws.Config, timeout time.Duration) {
	collect.LimitCalls(cfg, collect.CallLimits{Timeout: timeout, StallWarning: collect.DefaultStallWarning, Clock: app.clock()})
}

// haveCredentials checks the credential chain within the call timeout:
// an SSO or container endpoint that never answers must not hang the run
// before its first call either.
func haveCredentials(ctx context.Context, app *App, cfg aws.Config, timeout time.Duration) error {
	ctx, cancel := clock.Within(app.clock(), ctx, timeout)
	defer cancel()
	return collect.HaveCredentials(ctx, cfg)
}
