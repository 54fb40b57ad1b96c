package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// addCallTimeoutFlag adds --call-timeout, alike for every command that
// calls AWS.
func addCallTimeoutFlag(f *pflag.FlagSet, d *time.Duration) {
	*d = collect.DefaultCallTimeout
	f.Var(newDuration(d, rangeCallTimeout), "call-timeout", "give up on one attempt of an AWS call after this long ("+rangeCallTimeout.String()+"); the SDK then retries it (up to --max-attempts)")
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

// unanswered says which calls of a one-account run got no answer in time
// (the account deadline, or every attempt's call timeout), or "".
func unanswered(doc *snapshot.Document) string {
	var gaps []snapshot.Gap
	for _, a := range doc.Accounts {
		gaps = append(gaps, a.Gaps...)
	}
	if doc.Organization != nil {
		gaps = append(gaps, doc.Organization.Gaps...)
	}
	var calls []string
	for _, g := range gaps {
		if g.Code == collect.CodeCallTimeout || g.Code == fleet.CodeAccountTimeout {
			calls = append(calls, g.Call+" ("+g.Text()+")")
		}
	}
	if len(calls) == 0 {
		return ""
	}
	slices.Sort(calls)
	return fmt.Sprintf("%d AWS call(s) got no answer in time: %s", len(calls), strings.Join(calls, "; "))
}

// alsoWaiting names the other calls a deadline cut short.
func alsoWaiting(gaps []snapshot.Gap) string {
	var calls []string
	for _, g := range gaps {
		if g.Code == fleet.CodeAccountTimeout {
			calls = append(calls, g.Call)
		}
	}
	if len(calls) == 0 {
		return ""
	}
	slices.Sort(calls)
	return "; also still waiting: " + strings.Join(calls, ", ")
}
