// Package scan is the scan use case: a source of account state (a saved
// snapshot, a credential report file, one account, an organisation, a
// list of targets) becomes a snapshot, the rules judge it, the compliance
// view (when asked for) maps the results to a framework's controls, and
// the whole is a report.Document, the canonical result every writer
// renders. The command line calls Run with the flags turned into a
// Request; the server calls it on a schedule and stores the result.
// Nothing here knows about terminals, flags or output formats.
package scan

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Request is one scan.
type Request struct {
	// Source is where the state comes from.
	Source Source
	// Rules tune the rules (the recent-use window, the oldest credential
	// report a PASS may rest on).
	Rules rule.Options
	// Selected are the rules to evaluate (rules.Select); every rule when
	// nil.
	Selected []rule.Rule
	// Compliance, when set, judges the results against this framework
	// version of Catalog (report.Document.Compliance).
	Catalog    *compliance.Catalog
	Compliance *compliance.Version
	// Clock dates the snapshot and the report and runs every deadline;
	// the wall clock when nil.
	Clock clock.Clock
	// Version is the tool's version, written into snapshots and reports.
	Version string
	// Progress, when set, is told how a multi-account scan advances.
	Progress fleet.Progress
	// Logger receives a warning per call that failed in an account;
	// slog.Default() when nil.
	Logger *slog.Logger
	// OrgRulesWithManagement judges the organisation's own rules only in
	// a scan that read the management account, whose results they are.
	// vigil serve scans an organisation one account per job: judged in
	// every job, the SCP coverage of every member account was N² work a
	// tick, all but one copy thrown away.
	OrgRulesWithManagement bool
}

// Result is a finished scan.
type Result struct {
	// Snapshot is the state the rules judged (what --save writes).
	Snapshot *snapshot.Document
	// Results are the rules' verdicts, sorted.
	Results []rule.Result
	// Report is the canonical result document.
	Report *report.Document
}

// Source is where a scan's state comes from: SnapshotFile,
// CredentialReport, Account, Organization or Targets.
type Source interface {
	collect(ctx context.Context, req *Request) (*snapshot.Document, error)
}

// SnapshotFile is a snapshot written by an earlier scan (--save). Rules
// judge the state as of its collection time, so the same file always
// gives the same results.
type SnapshotFile struct {
	Path    string
	MaxSize int64
}

// CredentialReport is an IAM credential report as auditors receive it
// (CSV, its base64 text, or the JSON of aws iam get-credential-report);
// Path "-" reads Stdin. GeneratedAt, when the user knows it, dates a
// report that does not carry its generation time.
type CredentialReport struct {
	Path        string
	Stdin       io.Reader
	MaxSize     int64
	GeneratedAt *time.Time
}

// Account is the one account Config signs in to, read within Timeout
// (calls cut short by it are named in their gaps). Source describes the
// identity for the report.
type Account struct {
	Config     aws.Config
	Source     snapshot.Source
	Timeout    time.Duration
	ReportWait time.Duration
}

// Organization is every selected account of the organisation Config's
// caller administers (fleet.Scan).
type Organization struct {
	Config     aws.Config
	Source     snapshot.Source
	Options    fleet.Options
	ReportWait time.Duration
}

// Targets is each account of a list of profiles and roles, once
// (fleet.ScanTargets).
type Targets struct {
	Targets    []fleet.Target
	Source     snapshot.Source
	Options    fleet.TargetOptions
	ReportWait time.Duration
}

// Run scans: it collects the source's state, evaluates every rule on it
// as of its collection time (so re-evaluating a saved snapshot later gives
// the same answer), and builds the report. The error is non-nil only when
// there is no state to judge at all (an unreadable file, credentials that
// do not work, an organisation that cannot be listed); a scan that
// covered less than it was asked to returns its results with
// Snapshot.Incomplete set.
func Run(ctx context.Context, req Request) (*Result, error) {
	if req.Clock == nil {
		req.Clock = clock.Wall{}
	}
	if req.Logger == nil {
		req.Logger = slog.Default()
	}
	if req.Source == nil {
		return nil, fmt.Errorf("scan: no source")
	}
	doc, err := req.Source.collect(ctx, &req)
	if err != nil {
		return nil, err
	}
	all := req.Selected
	if all == nil {
		all = rules.All()
	}
	if req.OrgRulesWithManagement && doc.Organization != nil && !slices.ContainsFunc(doc.Accounts, func(a snapshot.Account) bool {
		return a.ID == doc.Organization.ManagementAccountID
	}) {
		all = slices.DeleteFunc(slices.Clone(all), func(r rule.Rule) bool { return r.Scope == rule.OrganizationScope })
	}
	results := rule.Evaluate(all, doc, doc.CollectedAt, req.Rules)
	rep := report.Build(doc, results, report.Tool{Name: "vigil", Version: req.Version}, req.Clock.Now())
	if f, ok := req.Source.(SnapshotFile); ok {
		rep.SnapshotFile = f.Path
	}
	if req.Compliance != nil {
		// From the document's results: Build has redacted their messages.
		rep.Compliance = assessCompliance(req.Catalog, req.Compliance, doc, rep.Results, req.Selected)
	}
	return &Result{Snapshot: doc, Results: results, Report: rep}, nil
}

func (f SnapshotFile) collect(_ context.Context, _ *Request) (*snapshot.Document, error) {
	return snapshot.LoadLimit(f.Path, f.MaxSize)
}

// collectOptions are the single-account collection's settings of a run.
func collectOptions(req *Request, reportWait time.Duration) collect.Options {
	o := collect.DefaultOptions()
	o.Now = req.Clock.Now
	if reportWait > 0 {
		o.ReportWait = reportWait
	}
	return o
}

// collect scans the organisation of the caller.
func (s Organization) collect(ctx context.Context, req *Request) (*snapshot.Document, error) {
	cfg := s.Config
	if cfg.RetryMaxAttempts == 0 {
		cfg.RetryMaxAttempts = fleet.DefaultMaxAttempts
	}
	o := s.Options
	o.Collect = collectOptions(req, s.ReportWait)
	o.Now, o.Clock, o.Progress, o.Logger = req.Clock.Now, req.Clock, req.Progress, req.Logger
	doc, err := fleet.Scan(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	doc.ToolVersion, doc.Source = req.Version, s.Source
	return doc, nil
}

// collect scans several profiles or the profiles and roles of a targets
// file, each account once.
func (s Targets) collect(ctx context.Context, req *Request) (*snapshot.Document, error) {
	o := s.Options
	o.Collect = collectOptions(req, s.ReportWait)
	o.Now, o.Clock, o.Progress, o.Logger = req.Clock.Now, req.Clock, req.Progress, req.Logger
	doc := fleet.ScanTargets(ctx, s.Targets, o)
	doc.ToolVersion, doc.Source = req.Version, s.Source
	return doc, nil
}
