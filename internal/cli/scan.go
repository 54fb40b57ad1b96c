package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/atomicfile"
	"github.com/vigil-sec/vigil/internal/awsenv"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/formats"
	"github.com/vigil-sec/vigil/internal/report/text"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/scan"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/suppress"
)

type scanOptions struct {
	aws              awsFlags
	scope            scopeFlags
	org              orgFlags
	out              reportOutput
	failOn           string
	save             string
	from             string
	credentialReport string
	verbose          bool
	noColor          bool
	rule             rule.Options
	reportTimeout    time.Duration
	compliance       string
	show             string
	maxInput         int64
	reportTime       string
	unknownOK        bool
	to               string
	onlyRules        []string
	skipRules        []string

	demo awsenv.Demo // --demo, validated

	// store, when it names one, records the scan (--db, --config).
	store storeFlags
	// suppressions is a YAML file of accepted risks (--suppressions).
	suppressions string
}

// recording reports whether the scan is recorded into a store.
func (o *scanOptions) recording() bool { return o.store.db != "" || o.store.config != "" }

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
  vigil scan --rules iam-access-analyzer,ec2-instance-role
  vigil scan --skip-rules ec2-instance-role
  vigil scan --credential-report report.csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), app, o, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	addAWSFlags(f, &o.aws, true)
	addScopeFlags(f, &o.scope, "scanned")
	addOrgFlags(f, &o.org)
	addReportOutputFlags(f, &o.out, formats.Text)
	f.StringVar(&o.failOn, "fail-on", "", "exit with code 3 when a result fails at or above this severity (info, low, medium, high or critical), or else with code 4 when one there could not be decided (UNKNOWN)")
	f.BoolVar(&o.unknownOK, "unknown-ok", false, "with --fail-on: let UNKNOWN results pass the gate (exit 0 instead of 4)")
	f.StringVar(&o.save, "save", "", "also write the collected snapshot to this file, for --from")
	f.StringVar(&o.from, "from", "", "evaluate a saved snapshot instead of calling AWS")
	f.StringVar(&o.credentialReport, "credential-report", "", "evaluate a credential report file (CSV, base64, or the JSON of aws iam get-credential-report; - for stdin)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show the evidence of every result in the text report")
	f.BoolVar(&o.noColor, "no-color", false, "no colour in the text report (NO_COLOR is honoured too)")
	f.Var(newDuration(&o.rule.RootUseWindow, rangeRootUseWindow), "root-use-window", "root use within this long counts as recent, e.g. 30d or 12h ("+rangeRootUseWindow.String()+")")
	f.Var(newDuration(&o.rule.MaxReportAge, rangeMaxReportAge), "max-report-age", "oldest credential report a PASS may rest on alone ("+rangeMaxReportAge.String()+")")
	f.Var(newDuration(&o.reportTimeout, rangeReportTimeout), "report-timeout", "how long to wait for IAM to generate the credential report ("+rangeReportTimeout.String()+")")
	f.StringVar(&o.compliance, "compliance", "", "report per control of a framework, as FRAMEWORK or FRAMEWORK:VERSION (default version: the latest), e.g. cis-aws, cis-aws:5.0.0, pci-dss:3.2.1; an unknown name lists the valid ones")
	f.StringVar(&o.show, "show", "", "text report detail: all, issues (FAIL and UNKNOWN in full, the rest in one line) or failures (default: all for one account, issues for more)")
	f.Var(sizeFlag{&o.maxInput}, "max-input-size", maxInputUsage)
	f.StringVar(&o.to, "to", "", "also import the results into AWS Security Hub (securityhub), into the account and Region of the scan's credentials")
	f.StringSliceVar(&o.onlyRules, "rules", nil, "evaluate only these rules (comma-separated IDs; 'vigil rules' lists them)")
	f.StringSliceVar(&o.skipRules, "skip-rules", nil, "evaluate every rule but these (comma-separated IDs)")
	f.StringVar(&o.suppressions, "suppressions", "", "a YAML file of accepted risks: matching results keep their status, show as suppressed and do not count for --fail-on")
	addStoreFlags(f, &o.store, "record the scan into this store (findings, transitions, alerts' outbox), as vigil serve does")
	f.StringVar(&o.reportTime, "report-time", "", "with --credential-report: when IAM generated the report, in RFC 3339 (2026-11-26T10:30:00Z); a CSV does not say, and without it the report's age is bounded only by the newest time it records")
	return cmd
}

func (o *scanOptions) validate(changed func(string) bool) (rule.Severity, bool, error) {
	if o.show != "" {
		if _, err := text.ParseShow(o.show); err != nil {
			return 0, false, usagef("--show %v", err)
		}
	}
	demo, err := o.aws.validate(changed)
	if err != nil {
		return 0, false, err
	}
	o.demo = demo
	if err := o.org.validate(&o.scope, &o.aws, changed); err != nil {
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
	if o.to != "" && o.to != toSecurityHub {
		return 0, false, usagef("--to %q: want %s", o.to, toSecurityHub)
	}
	if o.to != "" && offline == 1 {
		return 0, false, usagef("--to securityhub sends with the scan's credentials; to send a saved result, use vigil report send --to securityhub --from RESULT.json")
	}
	if o.to != "" && (o.scope.targets != "" || len(o.aws.profiles) > 1) {
		return 0, false, usagef("--to securityhub imports into one account: scan with one identity (--org for many accounts), or save the result and use vigil report send")
	}
	if offline == 1 {
		for _, name := range []string{"profile", "region", "demo", "retry-mode", "max-attempts", "report-timeout", "call-timeout", "account-timeout", "save", "org", "targets"} {
			if changed(name) && !(name == "save" && changed("credential-report")) {
				return 0, false, usagef("--%s has no effect when evaluating a file (--from or --credential-report)", name)
			}
		}
	}
	if err := o.out.validate(fileArg{flag: "suppressions", path: o.suppressions}, fileArg{flag: "from", path: o.from}, fileArg{flag: "credential-report", path: o.credentialReport},
		fileArg{flag: "targets", path: o.scope.targets}, fileArg{flag: "save", path: o.save, output: true}); err != nil {
		return 0, false, err
	}
	return failOn, gate, nil
}

// trimAll drops the spaces around comma-separated names ("a, b").
func trimAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
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
	var sendCfg aws.Config // the scan's own identity, for --to
	req := scan.Request{Rules: o.rule, Clock: app.clock(), Version: app.Version, Logger: slog.Default()}
	if len(o.onlyRules) > 0 || len(o.skipRules) > 0 {
		selected, err := rules.Select(trimAll(o.onlyRules), trimAll(o.skipRules))
		if err != nil {
			return usagef("--rules/--skip-rules: %v", err)
		}
		req.Selected = selected
	}
	if o.compliance != "" {
		cat, err := loadCatalog()
		if err != nil {
			return err
		}
		v, err := cat.Resolve(o.compliance)
		if err != nil {
			return usagef("--compliance: %v", err)
		}
		req.Catalog, req.Compliance = cat, v
	}
	var muted *suppress.File
	if o.suppressions != "" {
		data, err := readLimited(o.suppressions)
		if err != nil {
			return usagef("--suppressions: %v", err)
		}
		muted, err = suppress.Parse(data, o.suppressions, app.now(), func(id string) bool { _, ok := rules.ByID(id); return ok })
		if err != nil {
			return usagef("--suppressions: %v", err)
		}
		for _, w := range muted.Warnings {
			slog.Warn(w)
		}
	}
	var alerts *scanAlerts
	if o.recording() {
		a, err := openScanAlerts(ctx, app, &o)
		if err != nil {
			return err
		}
		if a != nil {
			defer a.close()
			alerts = a
		}
	}
	var calls func() int64
	switch {
	case o.from != "":
		req.Source = scan.SnapshotFile{Path: o.from, MaxSize: o.maxInput}
	case o.credentialReport != "":
		req.Source = scan.CredentialReport{Path: o.credentialReport, Stdin: app.Stdin, MaxSize: o.maxInput, GeneratedAt: reportTime}
	default:
		env, err := awsenv.Open(ctx, o.aws.request(app, o.demo, o.scope.targets, o.maxInput))
		if err != nil {
			return inputError(err)
		}
		defer env.Close()
		sendCfg = env.Config
		counter := env.CountCalls()
		calls = counter.Load
		if env.FellBack != nil {
			fmt.Fprintln(app.Stderr, "vigil: no AWS credentials or region configured; scanning the built-in demo organisation instead")
		}
		switch {
		case o.scope.org:
			req.Source = scan.Organization{Config: env.Config, Source: env.Source, Options: o.org.options(&o.scope), ReportWait: o.reportTimeout}
		case env.Targets != nil:
			req.Source = scan.Targets{Targets: env.Targets, Source: env.Source, Options: o.scope.targetOptions(), ReportWait: o.reportTimeout}
		default:
			req.Source = scan.Account{Config: env.Config, Source: env.Source, Timeout: o.scope.accountTimeout, ReportWait: o.reportTimeout}
		}
		if o.scope.several(o.aws.profiles) {
			defer startProgress(app, o.scope.quiet, &req.Progress)()
		}
	}
	res, err := scan.Run(ctx, req)
	if err != nil {
		return inputError(err)
	}
	doc, rep := res.Snapshot, res.Report
	if muted != nil {
		muted.Apply(rep.Results)
	}
	if o.recording() {
		n := int64(0)
		if calls != nil {
			n = calls()
		}
		if err := recordScan(ctx, app, o, res, int(n), alerts); err != nil {
			return err
		}
	}
	if o.save != "" {
		if err := atomicfile.Write(o.save, 0o600, func(w io.Writer) error { return snapshot.Encode(w, doc) }); err != nil {
			return fmt.Errorf("save snapshot: %w", err)
		}
		slog.Info("snapshot saved", "path", o.save)
	}
	if err := writeReport(app, o, rep); err != nil {
		return err
	}
	if o.to == toSecurityHub {
		if err := sendToSecurityHub(ctx, app, sendCfg, rep, app.Stderr); err != nil {
			return err
		}
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
	// ASFF findings are dated in the Region the scan signed in.
	o.out.region = o.aws.region
	return o.out.write(app, rep, func(toStdout bool) formats.Options {
		show := text.DefaultShow(rep)
		if o.show != "" {
			show, _ = text.ParseShow(o.show) // validated already
		}
		profile := termenv.Ascii
		if toStdout {
			profile = colorProfile(app, o.noColor)
		}
		return formats.Options{Text: text.Options{Profile: profile, Verbose: o.verbose, Show: show}}
	})
}

// colorProfile picks colours for stdout: none unless it is a terminal, and
// never when NO_COLOR is set (https://no-color.org) or --no-color is given.
func colorProfile(app *App, noColor bool) termenv.Profile {
	if noColor || app.Getenv("NO_COLOR") != "" || !app.IsTerminal(app.Stdout) {
		return termenv.Ascii
	}
	return termenv.ANSI256
}
