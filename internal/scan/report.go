package scan

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/vigil-sec/vigil/internal/credreport"
	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// collect builds a one-account snapshot from the report file ("-" for
// stdin) of at most MaxSize bytes.
//
// The report's age decides whether it may support a PASS, so where it
// comes from is recorded: the generation time the input carries (the
// JSON of aws iam get-credential-report) or the user gives (reportTime,
// --report-time); failing both, the newest time recorded in the report,
// a lower bound. Never the file's modification time: a copy is new. A
// generation time after now is an error, not a report "0s old".
func (c CredentialReport) collect(_ context.Context, req *Request) (*snapshot.Document, error) {
	path, limit, reportTime := c.Path, c.MaxSize, c.GeneratedAt
	var data []byte
	var err error
	if path == "-" {
		path = "stdin"
		data, err = input.ReadAll(c.Stdin, path, limit)
	} else {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			data, err = input.ReadAll(f, path, limit)
			f.Close()
		}
	}
	if input.IsTooLarge(err) {
		return nil, fmt.Errorf("credential report %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("read credential report: %w", err)
	}
	rep, err := credreport.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("credential report %s: %w", path, err)
	}
	now := req.Clock.Now()
	cr := rep.Snapshot()
	if err := dateReport(cr, rep, reportTime, now); err != nil {
		return nil, fmt.Errorf("credential report %s: %w", path, err)
	}
	acct := snapshot.Account{ID: rep.AccountID, Partition: rep.Partition, CredentialReport: cr}
	const why = "not available when evaluating a credential report file"
	for _, g := range []snapshot.Gap{
		{Section: snapshot.SectionSummary, Call: "iam:GetAccountSummary", Code: "NotCollected", Message: why},
		{Section: snapshot.SectionOrganization, Call: "organizations:DescribeOrganization", Code: "NotCollected", Message: why},
		{Section: snapshot.SectionRootVirtualMFA, Call: "iam:ListVirtualMFADevices", Code: "NotCollected", Message: why},
	} {
		acct.AddGap(g)
	}
	if rep.Root == nil {
		acct.AddGap(snapshot.Gap{Section: snapshot.SectionCredentialReport, Call: "credential report", Code: "NoRootRow", Message: "the report has no <root_account> row"})
	}
	doc := snapshot.New(now, req.Version, snapshot.Source{Kind: snapshot.SourceCredentialReport, Detail: path})
	doc.Accounts = append(doc.Accounts, acct)
	return doc, nil
}

// dateReport settles the report's time: --report-time when given (it must
// agree with a generation time the input carries), and checks that
// neither the generation time nor any time the report records is after
// now, beyond a clock difference.
func dateReport(cr *snapshot.CredentialReport, rep *credreport.Report, reportTime *time.Time, now time.Time) error {
	if reportTime != nil {
		t := reportTime.UTC()
		if cr.GeneratedTime != nil && !cr.GeneratedTime.Equal(t) {
			return fmt.Errorf("it says it was generated at %s (GeneratedTime), but --report-time says %s", cr.GeneratedTime.Format(time.RFC3339), t.Format(time.RFC3339))
		}
		if rep.Newest != nil && rep.Newest.After(t.Add(snapshot.ClockSkew)) {
			return fmt.Errorf("it records %s, after --report-time %s, so it cannot have been generated then", rep.Newest.UTC().Format(time.RFC3339), t.Format(time.RFC3339))
		}
		cr.GeneratedTime, cr.NewestTime, cr.TimeSource = &t, nil, snapshot.TimeFromFlag
	}
	limit := now.Add(snapshot.ClockSkew)
	switch {
	case cr.GeneratedTime != nil && cr.GeneratedTime.After(limit):
		return fmt.Errorf("generated at %s (%s), after the time of this run (%s): check the clock, or the time given", cr.GeneratedTime.Format(time.RFC3339), cr.TimeSource, now.UTC().Format(time.RFC3339))
	case rep.Newest != nil && rep.Newest.After(limit):
		return fmt.Errorf("it records %s, after the time of this run (%s), so it cannot be dated: check the clock", rep.Newest.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
