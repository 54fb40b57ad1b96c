package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/atomicfile"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/credreport"
	"github.com/vigil-sec/vigil/internal/demo"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

type scanOptions struct {
	profile, region  string
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
	compliance       string
}

func newScanCommand(app *App) *cobra.Command {
	o := scanOptions{rule: rule.DefaultOptions(), reportTimeout: collect.DefaultOptions().ReportWait}
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan an AWS account's root user credentials",
		Long: `Scan the root-credential posture of the AWS account your credentials belong to
(the normal AWS credential chain: --profile, environment, SSO, instance roles),
or evaluate a saved snapshot (--from) or a credential report file
(--credential-report) without calling AWS.

Scans call read-only APIs only; 'vigil policy' prints the permissions needed.`,
		Example: `  vigil scan --demo=auto              # your account if credentials are set, else the built-in demo
  vigil scan --profile prod --region eu-west-1 --fail-on high
  vigil scan --format json --output results.json --save snapshot.json
  vigil scan --from snapshot.json
  vigil scan --credential-report report.csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), app, o, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or default)")
	f.StringVar(&o.region, "region", "", "AWS region for STS and endpoint selection (default: AWS_REGION or the profile's)")
	f.StringVar(&o.retryMode, "retry-mode", "", "SDK retry mode: standard or adaptive (default: the SDK's, or AWS_RETRY_MODE)")
	f.IntVar(&o.maxAttempts, "max-attempts", 0, "maximum attempts per API call, retries included (default: the SDK's)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file (atomically) instead of stdout")
	f.StringVar(&o.failOn, "fail-on", "", "exit with code 3 when a result fails at or above this severity: info, low, medium, high or critical")
	f.StringVar(&o.save, "save", "", "also write the collected snapshot to this file, for --from")
	f.StringVar(&o.from, "from", "", "evaluate a saved snapshot instead of calling AWS")
	f.StringVar(&o.credentialReport, "credential-report", "", "evaluate a credential report file (CSV, base64, or the JSON of aws iam get-credential-report; - for stdin)")
	f.StringVar(&o.demo, "demo", "never", "scan the built-in emulated organisation: always, never, or auto (only when no AWS credentials are found)")
	f.Lookup("demo").NoOptDefVal = "always"
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show the evidence of every result in the text report")
	f.BoolVar(&o.noColor, "no-color", false, "no colour in the text report (NO_COLOR is honoured too)")
	f.Var(dayDuration{&o.rule.RootUseWindow}, "root-use-window", "root use within this long counts as recent (e.g. 30d, 12h)")
	f.Var(dayDuration{&o.rule.MaxReportAge}, "max-report-age", "oldest credential report a PASS may rest on alone; 0 for no limit")
	f.Var(dayDuration{&o.reportTimeout}, "report-timeout", "how long to wait for IAM to generate the credential report")
	f.StringVar(&o.compliance, "compliance", "", "report per control of a framework, as FRAMEWORK or FRAMEWORK:VERSION (default version: the latest), e.g. cis-aws, cis-aws:5.0.0, pci-dss:3.2.1; an unknown name lists the valid ones")
	return cmd
}

func (o *scanOptions) validate(changed func(string) bool) (rule.Severity, bool, error) {
	if o.format != "text" && o.format != "json" {
		return 0, false, usagef("--format %q: want text or json", o.format)
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
	if offline == 1 {
		for _, name := range []string{"profile", "region", "demo", "retry-mode", "max-attempts", "report-timeout", "save"} {
			if changed(name) && !(name == "save" && changed("credential-report")) {
				return 0, false, usagef("--%s has no effect when evaluating a file (--from or --credential-report)", name)
			}
		}
	}
	for _, p := range []struct{ flag, path string }{{"output", o.output}, {"save", o.save}} {
		if p.path == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(p.path)); err != nil || !st.IsDir() {
			return 0, false, fmt.Errorf("--%s %s: directory %s does not exist", p.flag, p.path, filepath.Dir(p.path))
		}
	}
	return failOn, gate, nil
}

func runScan(ctx context.Context, app *App, o scanOptions, changed func(string) bool) error {
	failOn, gate, err := o.validate(changed)
	if err != nil {
		return err
	}
	framework, err := resolveCompliance(o.compliance)
	if err != nil {
		return err
	}
	var doc *snapshot.Document
	switch {
	case o.from != "":
		doc, err = snapshot.Load(o.from)
	case o.credentialReport != "":
		doc, err = loadCredentialReport(app, o.credentialReport)
	default:
		doc, err = collectLive(ctx, app, o)
	}
	if err != nil {
		return err
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
	if framework != nil {
		rep.Compliance = assessCompliance(framework, doc, results)
	}

	if err := writeReport(app, o, rep); err != nil {
		return err
	}
	if gate {
		if n := rep.Failures(failOn); n > 0 {
			return findingsError{n: n, min: failOn.String()}
		}
	}
	return nil
}

func writeReport(app *App, o scanOptions, rep *report.Document) error {
	render := func(w io.Writer, profile termenv.Profile) error {
		if o.format == "json" {
			return report.WriteJSON(w, rep)
		}
		return report.WriteText(w, rep, report.TextOptions{Profile: profile, Verbose: o.verbose})
	}
	if o.output != "" {
		if err := atomicfile.Write(o.output, 0o644, func(w io.Writer) error { return render(w, termenv.Ascii) }); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	// Render to memory first: a failure half-way must not leave half a
	// report on stdout either.
	var buf bytes.Buffer
	if err := render(&buf, colorProfile(app, o.noColor)); err != nil {
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
	src := snapshot.Source{Kind: snapshot.SourceAWS, Detail: o.profile}
	if o.profile == "" {
		if p := app.Getenv("AWS_PROFILE"); p != "" {
			src.Detail = "profile " + p
		}
	} else {
		src.Detail = "profile " + o.profile
	}
	useDemo := o.demo == "always"
	cfgOpts := collect.ConfigOptions{Profile: o.profile, Region: o.region, RetryMode: o.retryMode, MaxAttempts: o.maxAttempts}
	if !useDemo {
		cfg, err := collect.LoadConfig(ctx, cfgOpts)
		var credErr error
		if err == nil {
			credErr = collect.HaveCredentials(ctx, cfg)
		}
		switch {
		case o.demo == "auto" && (credErr != nil || errors.Is(err, collect.ErrNoRegion)) && !explicitAWSChoice(app, o):
			slog.Info("no AWS credentials found; scanning the built-in demo", "reason", firstErr(err, credErr))
			fmt.Fprintln(app.Stderr, "vigil: no AWS credentials or region configured; scanning the built-in demo organisation instead")
			useDemo = true
		case err != nil:
			return nil, err
		case credErr != nil:
			return nil, credErr
		default:
			return collectAccount(ctx, app, cfg, src, o.reportTimeout)
		}
	}
	env, err := demo.Start(app.now())
	if err != nil {
		return nil, fmt.Errorf("start the demo: %w", err)
	}
	defer env.Stop()
	return collectAccount(ctx, app, env.Config, snapshot.Source{Kind: snapshot.SourceDemo, Detail: env.Description}, o.reportTimeout)
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

func collectAccount(ctx context.Context, app *App, cfg aws.Config, src snapshot.Source, reportWait time.Duration) (*snapshot.Document, error) {
	copts := collect.DefaultOptions()
	copts.Now = app.now
	copts.ReportWait = reportWait
	clients := collect.NewClients(cfg)
	acct, err := collect.Account(ctx, clients, copts)
	if err != nil {
		return nil, err
	}
	doc := collect.SingleAccountDocument(acct, app.now(), app.Version, src)
	// A management account can read the organisation's tree and SCPs,
	// which the organisation rules need.
	if doc.Organization != nil {
		collect.AddOrgControls(ctx, clients.OrgPolicies, doc.Organization)
	}
	return doc, nil
}

// loadCredentialReport builds a one-account snapshot from a report file.
func loadCredentialReport(app *App, path string) (*snapshot.Document, error) {
	var data []byte
	var err error
	var mtime *time.Time
	if path == "-" {
		data, err = io.ReadAll(app.Stdin)
		path = "stdin"
	} else {
		data, err = os.ReadFile(path)
		if st, serr := os.Stat(path); serr == nil {
			t := st.ModTime().UTC()
			mtime = &t
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read credential report: %w", err)
	}
	rep, err := credreport.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("credential report %s: %w", path, err)
	}
	cr := rep.Snapshot()
	if cr.GeneratedTime == nil && mtime != nil {
		cr.FileTime = mtime
		cr.TimeSource = "file modification time"
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
	doc := snapshot.New(app.now(), app.Version, snapshot.Source{Kind: snapshot.SourceCredentialReport, Detail: path})
	doc.Accounts = append(doc.Accounts, acct)
	return doc, nil
}
