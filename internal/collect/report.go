package collect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/vigil-sec/vigil/internal/credreport"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// reportReuseAge is IAM's own rule: a report younger than four hours is
// what GenerateCredentialReport would hand back anyway, so it is used as is.
const reportReuseAge = 4 * time.Hour

// credentialReport gets a credential report no older than four hours.
//
// It first asks for the existing report: when one is fresh that is a single
// round trip instead of two. Otherwise it generates one and polls with
// capped exponential backoff until COMPLETE or until o.ReportWait runs out.
// ReportInProgress, LimitExceeded, throttling and service failures are
// waited out; ReportNotPresent and ReportExpired start a new generation;
// a denial ends the attempt at once.
func credentialReport(ctx context.Context, c IAM, o Options) (*snapshot.CredentialReport, *snapshot.Gap) {
	out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}, fastReport())
	if err == nil {
		if out.GeneratedTime != nil && o.now().Sub(*out.GeneratedTime) < reportReuseAge {
			return parseReport(out)
		}
	} else if g := fatalReportError("iam:GetCredentialReport", err); g != nil {
		return nil, g
	}

	// The wait is the time spent sleeping between polls, not a deadline
	// on o.now(): that clock may be pinned (SOURCE_DATE_EPOCH), and a
	// pinned deadline never passes.
	var waited time.Duration
	delay := o.ReportFirstDelay
	lastState := "not started"
	for {
		gen, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		switch {
		case err != nil:
			if g := fatalReportError("iam:GenerateCredentialReport", err); g != nil {
				return nil, g
			}
			_, code := Classify(err)
			lastState = "GenerateCredentialReport answered " + code
		case gen.State == types.ReportStateTypeComplete:
			out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}, fastReport())
			if err == nil {
				return parseReport(out)
			}
			if g := fatalReportError("iam:GetCredentialReport", err); g != nil {
				return nil, g
			}
			_, code := Classify(err)
			lastState = "GetCredentialReport answered " + code
		default:
			lastState = string(gen.State)
		}
		if waited+delay > o.ReportWait {
			g := snapshot.Gap{Section: snapshot.SectionCredentialReport, Call: "iam:GenerateCredentialReport", Code: "Timeout",
				Message: fmt.Sprintf("the credential report was not ready after %s (last state: %s); raise --report-timeout", o.ReportWait, lastState)}
			return nil, &g
		}
		if err := o.sleep(ctx, delay); err != nil {
			g := gap(snapshot.SectionCredentialReport, "iam:GenerateCredentialReport", err)
			return nil, &g
		}
		waited += delay
		delay = min(delay*2, o.ReportMaxDelay)
	}
}

// fatalReportError returns a gap for errors that waiting cannot fix, and
// nil for those worth another try.
func fatalReportError(call string, err error) *snapshot.Gap {
	var notReady *types.CredentialReportNotReadyException
	var notPresent *types.CredentialReportNotPresentException
	var expired *types.CredentialReportExpiredException
	var limit *types.LimitExceededException
	var failure *types.ServiceFailureException
	switch kind, _ := Classify(err); {
	case errors.As(err, &notReady), errors.As(err, &notPresent), errors.As(err, &expired),
		errors.As(err, &limit), errors.As(err, &failure), kind == KindThrottled:
		return nil
	}
	g := gap(snapshot.SectionCredentialReport, call, err)
	return &g
}

func parseReport(out *iam.GetCredentialReportOutput) (*snapshot.CredentialReport, *snapshot.Gap) {
	if out.ReportFormat != "" && out.ReportFormat != types.ReportFormatTypeTextCsv {
		return nil, &snapshot.Gap{Section: snapshot.SectionCredentialReport, Call: "iam:GetCredentialReport", Code: "UnexpectedFormat",
			Message: fmt.Sprintf("report format %q is not text/csv", out.ReportFormat)}
	}
	rep, err := credreport.ParseCSV(out.Content)
	if err != nil {
		return nil, &snapshot.Gap{Section: snapshot.SectionCredentialReport, Call: "iam:GetCredentialReport", Code: "MalformedReport",
			Message: "the credential report could not be parsed: " + err.Error()}
	}
	cr := rep.Snapshot()
	if out.GeneratedTime != nil {
		// The generation time makes the report's newest entry, its
		// lower bound, needless.
		t := out.GeneratedTime.UTC()
		cr.GeneratedTime, cr.NewestTime, cr.TimeSource = &t, nil, snapshot.TimeFromAPI
	}
	if cr.Root == nil {
		return cr, &snapshot.Gap{Section: snapshot.SectionCredentialReport, Call: "iam:GetCredentialReport", Code: "NoRootRow",
			Message: "the credential report has no <root_account> row"}
	}
	return cr, nil
}
