package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/atomicfile"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/orgscan"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/formats"
	"github.com/vigil-sec/vigil/internal/report/text"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

type scanOptions struct {
	profile, region  string
	profiles         []string
	retryMode        string
	maxAttempts      int
	format           string
	output           string
	failOn           string
	save             string
	from             string
	credentialReport string
	demo             string
	verbose          bool
	noColor          bool
	rule             rule.Options
	reportTimeout    time.Duration
	callTimeout      time.Duration
	compliance       string
	show             string
	maxInput         int64
	reportTime       string
	unknownOK        bool
	multi            multiOptions
}

func newScanCommand(app *App) *cobra.Command {
	o := scanOptions{rule: rule.DefaultOptions(), reportTimeout: collect.DefaultOptions().ReportWait, maxInput: input.DefaultMaxSize}
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan AWS accounts' root user credentials: one, a list, or a whole organisation",
		Long: `Scan the root-credential posture of the AWS account your credentials belong to
(the normal AWS credential chain: --profile, environment, SSO, instance roles),
of every account of an AWS Organization (--org, from the management account or
a delegated administrator), of several profiles and roles (--profile repeated,
or --targets FILE), or evaluate a saved snapshot (--from) or a credential
report file (--credential-report) without calling AWS.

With --org, member accounts are reached through a read-only role (--role,
default VigilAudit) or, with --assume-root, through sts:AssumeRoot and the
IAMAuditRootUserCredentials task policy: no role in member accounts at all.

Scans call read-only APIs only; 'vigil policy' prints the permissions needed
('vigil policy --org', 'vigil policy --member-role' for organisation scans).

Exit codes: 0 done; 1 runtime error, or a run that covered less than asked
(written first, marked INCOMPLETE); 2 usage error; 3 a result failed at or
above --fail-on; 4 none failed there but one could not be decided (UNKNOWN),
unless --unknown-ok.`,
		Example: `  vigil scan --demo=auto              # your account if credentials are set, else the built-in demo
  vigil scan --profile prod --region eu-west-1 --fail-on high
  vigil scan --org --assume-root      # every member account's root, no role needed in them
  vigil scan --org --role VigilAudit --ou Workloads/Prod --format json -o org.json
  vigil scan --org --demo             # the built-in demo organisation
  vigil scan --profile prod --profile staging
  vigil scan --targets accounts.yaml
  vigil scan --format json --output results.json --save snapshot.json
  vigil scan --from snapshot.json
  vigil scan --credential-report report.csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), app, o, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.profiles, "profile", nil, "AWS shared config profile (default: AWS_PROFILE or default); repeat to scan several accounts")
	f.StringVar(&o.region, "region", "", "AWS region for STS and endpoint selection (default: AWS_REGION or the profile's)")
	f.StringVar(&o.retryMode, "retry-mode", "", "SDK retry mode: standard or adaptive (default: the SDK's, or AWS_RETRY_MODE)")
	f.IntVar(&o.maxAttempts, "max-attempts", 0, "maximum attempts per API call, retries included (default: the SDK's, 3; 10 for --org, --targets and several --profile)")
	f.StringVar(&o.format, "format", string(formats.Text), "output format: "+formats.List())
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file (atomically) instead of stdout")
	f.StringVar(&o.failOn, "fail-on", "", "exit with code 3 when a result fails at or above this severity (info, low, medium, high or critical), or else with code 4 when one there could not be decided (UNKNOWN)")
	f.BoolVar(&o.unknownOK, "unknown-ok", false, "with --fail-on: let UNKNOWN results pass the gate (exit 0 instead of 4)")
	f.StringVar(&o.save, "save", "", "also write the collected snapshot to this file, for --from")
	f.StringVar(&o.from, "from", "", "evaluate a saved snapshot instead of calling AWS")
	f.StringVar(&o.credentialReport, "credential-report", "", "evaluate a credential report file (CSV, base64, or the JSON of aws iam get-credential-report; - for stdin)")
	f.StringVar(&o.demo, "demo", "never", "scan the built-in emulated organisation: always, never, or auto (only when no AWS credentials are found)")
	f.Lookup("demo").NoOptDefVal = "always"
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show the evidence of every result in the text report")
	f.BoolVar(&o.noColor, "no-color", false, "no colour in the text report (NO_COLOR is honoured too)")
	f.Var(newDuration(&o.rule.RootUseWindow, rangeRootUseWindow), "root-use-window", "root use within this long counts as recent, e.g. 30d or 12h ("+rangeRootUseWindow.String()+")")
	f.Var(newDuration(&o.rule.MaxReportAge, rangeMaxReportAge), "max-report-age", "oldest credential report a PASS may rest on alone ("+rangeMaxReportAge.String()+")")
	f.Var(newDuration(&o.reportTimeout, rangeReportTimeout), "report-timeout", "how long to wait for IAM to generate the credential report ("+rangeReportTimeout.String()+")")
	addCallTimeoutFlag(f, &o.callTimeout)
	f.StringVar(&o.compliance, "compliance", "", "report per control of a framework, as FRAMEWORK or FRAMEWORK:VERSION (default version: the latest), e.g. cis-aws, cis-aws:5.0.0, pci-dss:3.2.1; an unknown name lists the valid ones")
	f.StringVar(&o.show, "show", "", "text report detail: all, issues (FAIL and UNKNOWN in full, the rest in one line) or failures (default: all for one account, issues for more)")
	f.Var(sizeFlag{&o.maxInput}, "max-input-size", maxInputUsage)
	f.StringVar(&o.reportTime, "report-time", "", "with --credential-report: when IAM generated the report, in RFC 3339 (2026-11-26T10:30:00Z); a CSV does not say, and without it the report's age is bounded only by the newest time it records")
	addMultiFlags(f, &o.multi)
	return cmd
}

func (o *scanOptions) validate(changed func(string) bool) (rule.Severity, bool, error) {
	if _, err := formats.Parse(o.format); err != nil {
		return 0, false, usagef("--format %v", err)
	}
	if o.show != "" {
		if _, err := text.ParseShow(o.show); err != nil {
			return 0, false, usagef("--show %v", err)
		}
	}
	if len(o.profiles) == 1 {
		o.profile = o.profiles[0]
	}
	if err := o.validateMulti(changed); err != nil {
		return 0, false, err
	}
	var failOn rule.Severity
	gate := o.failOn != ""
	if gate {
		s, err := rule.ParseSeverity(o.failOn)
		if err != nil {
			return 0, false, usagef("--fail-on: %v", err)
		}
		failOn = s
	}
	if o.unknownOK && !gate {
		return 0, false, usagef("--unknown-ok only applies with --fail-on")
	}
	switch o.demo {
	case "always", "never", "auto":
	default:
		return 0, false, usagef("--demo %q: want always, never or auto", o.demo)
	}
	offline := 0
	for _, name := range []string{"from", "credential-report"} {
		if changed(name) {
			offline++
		}
	}
	if offline > 1 {
		return 0, false, usagef("--from and --credential-report cannot be combined")
	}
	if changed("report-time") && !changed("credential-report") {
		return 0, false, usagef("--report-time dates a --credential-report file; a live scan and a saved snapshot carry their report's time")
	}
	if offline == 1 {
		for _, name := range []string{"profile", "region", "demo", "retry-mode", "max-attempts", "report-timeout", "call-timeout", "account-timeout", "save", "org", "targets"} {
			if changed(name) && !(name == "save" && changed("credential-report")) {
				return 0, false, usagef("--%s has no effect when evaluating a file (--from or --credential-report)", name)
			}
		}
	}
	if err := checkFiles(fileArg{flag: "from", path: o.from}, fileArg{flag: "credential-report", path: o.credentialReport},
		fileArg{flag: "targets", path: o.multi.targets},
		fileArg{flag: "output", path: o.output, output: true}, fileArg{flag: "save", path: o.save, output: true}); err != nil {
		return 0, false, err
	}
	return failOn, gate, nil
}

func runScan(ctx context.Context, app *App, o scanOptions, changed func(string) bool) error {
	failOn, gated, err := o.validate(changed)
	if err != nil {
		return err
	}
	var reportTime *time.Time
	if o.reportTime != "" {
		t, err := time.Parse(time.RFC3339, o.reportTime)
		if err != nil {
			return usagef("--report-time %s: want an RFC 3339 time such as 2026-11-26T10:30:00Z", input.Quote(o.reportTime))
		}
		reportTime = &t
	}
	catalog, framework, err := resolveCompliance(o.compliance)
	if err != nil {
		return err
	}
	var doc *snapshot.Document
	switch {
	case o.from != "":
		doc, err = snapshot.LoadLimit(o.from, o.maxInput)
	case o.credentialReport != "":
		doc, err = loadCredentialReport(app, o.credentialReport, o.maxInput, reportTime)
	case o.multi.org:
		doc, err = collectOrg(ctx, app, o)
	case o.multi.targets != "" || len(o.profiles) > 1:
		doc, err = collectTargets(ctx, app, o)
	default:
		doc, err = collectLive(ctx, app, o)
	}
	if err != nil {
		return inputError(err)
	}
	if o.save != "" {
		if err := atomicfile.Write(o.save, 0o600, func(w io.Writer) error { return snapshot.Encode(w, doc) }); err != nil {
			return fmt.Errorf("save snapshot: %w", err)
		}
		slog.Info("snapshot saved", "path", o.save)
	}

	// Rules judge the state as of its collection, so re-evaluating a saved
	// snapshot later gives the same answer.
	results := rule.Evaluate(rules.All(), doc, doc.CollectedAt, o.rule)
	rep := report.Build(doc, results, report.Tool{Name: "vigil", Version: app.Version}, app.now())
	rep.SnapshotFile = o.from
	if framework != nil {
		// From the document's results: Build has redacted their messages.
		rep.Compliance = assessCompliance(catalog, framework, doc, rep.Results)
	}

	if err := writeReport(app, o, rep); err != nil {
		return err
	}
	// What finished was written; a run that did not cover everything it
	// was asked to still fails, whatever the results say.
	if doc.Incomplete != nil {
		return fmt.Errorf("the scan is incomplete: %s", doc.Incomplete.Reason)
	}
	if gated {
		return gate(rep, failOn, o.unknownOK)
	}
	return nil
}

func writeReport(app *App, o scanOptions, rep *report.Document) error {
	format, _ := formats.Parse(o.format) // validated already
	options := func(profile termenv.Profile) formats.Options {
		show := text.DefaultShow(rep)
		if o.show != "" {
			show, _ = text.ParseShow(o.show) // validated already
		}
		return formats.Options{Text: text.Options{Profile: profile, Verbose: o.verbose, Show: show}}
	}
	if o.output != "" {
		if err := atomicfile.Write(o.output, 0o644, func(w io.Writer) error {
			return formats.Write(w, format, rep, options(termenv.Ascii))
		}); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	// Render to memory first: a failure half-way must not leave half a
	// report on stdout either.
	var buf bytes.Buffer
	if err := formats.Write(&buf, format, rep, options(colorProfile(app, o.noColor))); err != nil {
		return err
	}
	_, err := app.Stdout.Write(buf.Bytes())
	return err
}

// colorProfile picks colours for stdout: none unless it is a terminal, and
// never when NO_COLOR is set (https://no-color.org) or --no-color is given.
func colorProfile(app *App, noColor bool) termenv.Profile {
	if noColor || app.Getenv("NO_COLOR") != "" || !app.IsTerminal(app.Stdout) {
		return termenv.Ascii
	}
	return termenv.ANSI256
}

func collectLive(ctx context.Context, app *App, o scanOptions) (*snapshot.Document, error) {
	cfg, src, stop, err := liveConfig(ctx, app, o)
	if err != nil {
		return nil, err
	}
	defer stop()
	return collectAccount(ctx, app, cfg, src, o)
}

// explicitAWSChoice is true when the user clearly meant a real account: a
// named profile must never silently fall back to the demo.
func explicitAWSChoice(app *App, o scanOptions) bool {
	return o.profile != "" || app.Getenv("AWS_PROFILE") != ""
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// collectAccount reads one account within --account-timeout. Calls cut
// short by it are named in their gaps; calls that got no answer (the
// account deadline or --call-timeout) make the run incomplete, so that it
// exits non-zero after writing what it read.
func collectAccount(ctx context.Context, app *App, cfg aws.Config, src snapshot.Source, o scanOptions) (*snapshot.Document, error) {
	copts := collect.DefaultOptions()
	copts.Now = app.now
	copts.ReportWait = o.reportTimeout
	clients := collect.NewClients(cfg)
	timeout := o.multi.accountTimeout
	actx, cancel := clock.Within(app.clock(), ctx, timeout)
	defer cancel()
	timedOut := func() bool { return actx.Err() != nil && ctx.Err() == nil }
	acct, err := collect.Account(actx, clients, copts)
	if err != nil {
		if timedOut() {
			orgscan.MarkTimedOut(acct.Gaps, timeout)
			return nil, fmt.Errorf("cannot identify the account: sts:GetCallerIdentity got no answer within the account's deadline (--account-timeout %s)%s", collect.FlagDuration(timeout), alsoWaiting(acct.Gaps))
		}
		return nil, err
	}
	if timedOut() {
		orgscan.MarkTimedOut(acct.Gaps, timeout)
	}
	doc := collect.SingleAccountDocument(acct, app.now(), app.Version, src)
	// A management account can read the organisation's tree and SCPs,
	// which the organisation rules need.
	if doc.Organization != nil {
		collect.AddOrgControls(actx, clients.OrgPolicies, doc.Organization)
		if timedOut() {
			orgscan.MarkTimedOut(doc.Organization.Gaps, timeout)
		}
	}
	if why := unanswered(doc); why != "" {
		doc.Incomplete = &snapshot.Incomplete{Reason: why}
	}
	return doc, nil
}
