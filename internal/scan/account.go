package scan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// collect reads the account within its timeout. Calls cut short by it are
// named in their gaps; calls that got no answer (the account's deadline,
// or every attempt's call timeout) make the scan incomplete, so that a
// caller can fail after keeping what was read.
func (s Account) collect(ctx context.Context, req *Request) (*snapshot.Document, error) {
	copts := collectOptions(req, s.ReportWait)
	clients := collect.NewClients(s.Config)
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = fleet.DefaultAccountTimeout
	}
	actx, cancel := clock.Within(req.Clock, ctx, timeout)
	defer cancel()
	timedOut := func() bool { return actx.Err() != nil && ctx.Err() == nil }
	acct, err := collect.Account(actx, clients, copts)
	if err != nil {
		if timedOut() {
			fleet.MarkTimedOut(acct.Gaps, timeout)
			return nil, fmt.Errorf("cannot identify the account: sts:GetCallerIdentity got no answer within the account's deadline (--account-timeout %s)%s", collect.FlagDuration(timeout), alsoWaiting(acct.Gaps))
		}
		return nil, err
	}
	if timedOut() {
		fleet.MarkTimedOut(acct.Gaps, timeout)
	}
	doc := collect.SingleAccountDocument(acct, req.Clock.Now(), req.Version, s.Source)
	// A management account can read the organisation's tree and SCPs,
	// which the organisation rules need.
	if doc.Organization != nil {
		collect.AddOrgControls(actx, clients.OrgPolicies, doc.Organization)
		if timedOut() {
			fleet.MarkTimedOut(doc.Organization.Gaps, timeout)
		}
	}
	if why := unanswered(doc); why != "" {
		doc.Incomplete = &snapshot.Incomplete{Reason: why}
	}
	return doc, nil
}

// unanswered says which calls of a one-account scan got no answer in time
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
