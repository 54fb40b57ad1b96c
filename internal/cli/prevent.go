package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/atomicfile"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/demo"
	"github.com/vigil-sec/vigil/internal/guardrail"
	"github.com/vigil-sec/vigil/internal/prevent"
)

type preventOptions struct {
	profile, region string
	format          string
	out             string
	targets         []string
	regions         []string
	homeRegion      string
	partition       string
	alertEmail      string
	offline         bool
	demo            bool
	plan            bool
	apply           bool
	yes             bool
	auditLog        string
	callTimeout     time.Duration
}

const defaultAuditLog = "vigil-audit.jsonl"

func newPreventCommand(app *App) *cobra.Command {
	o := preventOptions{auditLog: defaultAuditLog}
	cmd := &cobra.Command{
		Use:   "prevent",
		Short: "Generate and apply the controls that keep root credentials from coming back",
		Long: `Generate, for your organisation, the service control policies that deny member
accounts' root users (every action except AssumeRoot sessions; access key
creation), an EventBridge rule and SNS topic that alert on root activity in
every monitored account and region, and Terraform and CloudFormation that
deploy them. With AWS credentials of the management account the organisation,
root and partition are filled in; without, they become variables.

--plan shows, and --apply makes, the changes Vigil can make directly: trusted
access for IAM, centralised root access, SCPs enabled on the root, and the
SCPs created and attached to --target. --apply asks for confirmation on a
terminal (--yes skips it; without a terminal --yes is required) and logs
every change to --audit-log.

No SCP reaches the management account; see the README written with --out.`,
		Example: `  vigil prevent                               # print the artefacts (IDs filled in when credentials allow)
  vigil prevent --out ./guardrails            # write them, with a README, to a directory
  vigil prevent --offline --partition aws-us-gov --target ou-ab12-11111111
  vigil prevent --plan --target r-ab12        # dry run: what --apply would change
  vigil prevent --apply --target r-ab12 --audit-log audit.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPrevent(cmd.Context(), app, o, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or default)")
	f.StringVar(&o.region, "region", "", "AWS region for the API calls (default: AWS_REGION or the profile's)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.StringVarP(&o.out, "out", "o", "", "write each artefact and a README.md to this directory (created if missing)")
	f.StringSliceVar(&o.targets, "target", nil, "root, OU or account ID to attach the SCPs to (repeat or comma-separate); default: the root")
	f.StringSliceVar(&o.regions, "regions", nil, "regions to monitor for root activity (default: every region enabled by default in the partition)")
	f.StringVar(&o.homeRegion, "home-region", "", "region of the central event bus and SNS topic (default: us-east-1, or the partition's global-events region)")
	f.StringVar(&o.partition, "partition", "", "aws, aws-us-gov or aws-cn, when not discovered from credentials (default aws)")
	f.StringVar(&o.alertEmail, "alert-email", "", "email address to subscribe to root activity alerts")
	f.BoolVar(&o.offline, "offline", false, "make no AWS call: unknown IDs become Terraform variables and CloudFormation parameters")
	f.BoolVar(&o.demo, "demo", false, "use the built-in emulated organisation instead of AWS")
	f.BoolVar(&o.plan, "plan", false, "show the changes --apply would make, and make none")
	f.BoolVar(&o.apply, "apply", false, "make the changes: enable trusted access and centralised root access, enable SCPs, create and attach the SCPs")
	f.BoolVar(&o.yes, "yes", false, "with --apply: do not ask for confirmation")
	f.StringVar(&o.auditLog, "audit-log", defaultAuditLog, "with --apply: append one JSON line per change to this file (created when the first change is made; the default is in the current directory)")
	addCallTimeoutFlag(f, &o.callTimeout)
	return cmd
}

func (o *preventOptions) validate(app *App, changed func(string) bool) error {
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	changes := o.plan || o.apply
	switch {
	case o.plan && o.apply:
		return usagef("--plan and --apply cannot be combined: --plan is the dry run of --apply")
	case changes && o.out != "":
		return usagef("--out writes artefacts; it cannot be combined with --%s", map[bool]string{true: "apply", false: "plan"}[o.apply])
	case changes && o.offline:
		return usagef("--offline makes no AWS call, so it cannot be combined with --plan or --apply")
	case changes && changed("partition"):
		return usagef("--partition is read from the credentials with --plan and --apply")
	case changes && (changed("regions") || changed("home-region") || changed("alert-email")):
		return usagef("--regions, --home-region and --alert-email shape the generated artefacts; --plan and --apply change only the organisation's SCPs and settings")
	case o.offline && (changed("profile") || changed("region") || o.demo):
		return usagef("--offline makes no AWS call: --profile, --region and --demo have no effect with it")
	case !o.apply && (changed("yes") || changed("audit-log")):
		return usagef("--yes and --audit-log only apply to --apply")
	case o.offline && changed("call-timeout"):
		return usagef("--offline makes no AWS call: --call-timeout has no effect with it")
	}
	for _, t := range o.targets {
		if !prevent.IsTarget(strings.TrimSpace(t)) {
			return usagef("--target %q: want a root ID (r-…), an OU ID (ou-…-…) or a 12-digit account ID", t)
		}
	}
	if changes && len(o.targets) == 0 {
		return usagef("--%s needs --target: the root ID (r-…) to cover every member account, or OU or account IDs", map[bool]string{true: "apply", false: "plan"}[o.apply])
	}
	if o.apply && !o.yes && !app.interactive() {
		return usagef("--apply changes your organisation and needs a confirmation, but stdin is not a terminal: review the changes with --plan, then pass --yes")
	}
	if o.apply {
		if err := checkFiles(fileArg{flag: "audit-log", path: o.auditLog, output: true, appends: true}); err != nil {
			return err
		}
	}
	if o.out != "" {
		return checkDirWritable("out", o.out, false)
	}
	return nil
}

func runPrevent(ctx context.Context, app *App, o preventOptions, changed func(string) bool) error {
	if err := o.validate(app, changed); err != nil {
		return err
	}
	if o.plan || o.apply {
		return runGuardrails(ctx, app, o)
	}
	return runArtefacts(ctx, app, o, changed)
}

// demoOrChain is the AWS configuration of a run of vigil fix or vigil
// prevent: the built-in demo's when asked for, or else the user's
// credential chain, which must hold credentials (never silently the
// demo). done releases the demo.
func demoOrChain(ctx context.Context, app *App, useDemo bool, co collect.ConfigOptions, callTimeout time.Duration) (cfg aws.Config, done func(), err error) {
	if useDemo {
		env, err := demo.Start(app.now())
		if err != nil {
			return aws.Config{}, nil, fmt.Errorf("start the demo: %w", err)
		}
		fmt.Fprintln(app.Stderr, "vigil: using the built-in demo organisation, not an AWS account of yours")
		cfg := env.Config
		limitCalls(app, &cfg, callTimeout)
		return cfg, env.Stop, nil
	}
	cfg, err = collect.LoadConfig(ctx, co)
	if err != nil {
		return aws.Config{}, nil, err
	}
	if err := haveCredentials(ctx, app, cfg, callTimeout); err != nil {
		return aws.Config{}, nil, err
	}
	limitCalls(app, &cfg, callTimeout)
	return cfg, func() {}, nil
}

func runArtefacts(ctx context.Context, app *App, o preventOptions, changed func(string) bool) error {
	opts := prevent.Options{Partition: o.partition, Targets: o.targets, Regions: o.regions, HomeRegion: o.homeRegion, AlertEmail: o.alertEmail}
	if !o.offline {
		d, err := discover(ctx, app, o)
		if err != nil {
			return err
		}
		if d != nil {
			if changed("partition") && o.partition != d.Partition {
				return usagef("--partition %s, but the credentials are in partition %s", o.partition, d.Partition)
			}
			opts.Partition, opts.OrganizationID, opts.ManagementAccountID, opts.RootID = d.Partition, d.OrganizationID, d.ManagementAccountID, d.RootID
		}
	}
	if err := opts.Normalize(); err != nil {
		var mt prevent.ErrManagementTarget
		if errors.As(err, &mt) {
			return usagef("--target %v", err)
		}
		return usageError{err}
	}
	if len(opts.Targets) == 0 {
		fmt.Fprintln(app.Stderr, "vigil: the organisation's root is not known, so the SCP targets are left as a variable (scp_target_ids) and parameter (TargetIds); pass --target to fill them in")
	} else if opts.RootID != "" && len(o.targets) == 0 {
		fmt.Fprintf(app.Stderr, "vigil: no --target given: the SCPs are set to attach to the root %s, which reaches every member account\n", opts.RootID)
	}
	arts, err := prevent.Generate(&opts)
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := writeArtefacts(o.out, arts); err != nil {
			return err
		}
		return writeOut(app, func(w io.Writer) error { return writeWritten(w, o, opts, arts) })
	}
	if o.format == "json" {
		return writeOut(app, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(struct {
				Schema      string             `json:"schema"`
				Version     int                `json:"version"`
				Options     prevent.Options    `json:"options"`
				Limitations []string           `json:"limitations"`
				Artefacts   []prevent.Artefact `json:"artefacts"`
			}{"vigil.prevent", 1, opts, prevent.Limitations(), arts})
		})
	}
	return writeOut(app, func(w io.Writer) error { return writeArtefactText(w, opts, arts) })
}

// discover reads the organisation's IDs when credentials are configured.
// Without credentials (and without an explicit profile) the artefacts are
// generated with placeholders, and stderr says so; a named profile that
// does not work is an error, never a silent fallback.
func discover(ctx context.Context, app *App, o preventOptions) (*guardrail.Discovery, error) {
	cfg, stop, err := demoOrChain(ctx, app, o.demo, collect.ConfigOptions{Profile: o.profile, Region: o.region}, o.callTimeout)
	if err != nil {
		var ce *collect.CredentialError
		explicit := o.profile != "" || o.region != "" || app.Getenv("AWS_PROFILE") != ""
		if !explicit && (errors.Is(err, collect.ErrNoRegion) || errors.As(err, &ce) && ce.Code == "NoCredentials") {
			fmt.Fprintln(app.Stderr, "vigil: no AWS credentials or region configured: organisation IDs are left as variables (use --offline to say so explicitly)")
			return nil, nil
		}
		return nil, err
	}
	defer stop()
	d, err := guardrail.Discover(ctx, guardrail.NewClients(cfg))
	if err != nil {
		return nil, err
	}
	slog.Info("discovered organisation", "organization", d.OrganizationID, "root", d.RootID, "partition", d.Partition)
	switch {
	case d.RootID == "" && d.RootDenied:
		fmt.Fprintf(app.Stderr, "vigil: account %s cannot read the organisation's root (%s); run with the management account's credentials to fill it in\n", d.Account, d.RootError)
	case d.RootID == "":
		fmt.Fprintf(app.Stderr, "vigil: account %s could not read the organisation's root (%s)\n", d.Account, d.RootError)
	}
	return d, nil
}

// writeOut renders to memory first so a failure leaves stdout untouched.
func writeOut(app *App, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	_, err := app.Stdout.Write(buf.Bytes())
	return err
}

// writeArtefacts writes every artefact into dir. A new directory is built
// beside it and renamed into place, so it appears complete or not at all;
// into an existing directory each file is replaced atomically.
func writeArtefacts(dir string, arts []prevent.Artefact) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-*")
		if err != nil {
			return fmt.Errorf("--out %s: %w", dir, err)
		}
		for _, a := range arts {
			if err := atomicfile.WriteFile(filepath.Join(tmp, a.Name), []byte(a.Content), 0o644); err != nil {
				os.RemoveAll(tmp)
				return fmt.Errorf("--out %s: %w", dir, err)
			}
		}
		if err := os.Chmod(tmp, 0o755); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("--out %s: %w", dir, err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("--out %s: %w", dir, err)
		}
		return nil
	}
	for _, a := range arts {
		if err := atomicfile.WriteFile(filepath.Join(dir, a.Name), []byte(a.Content), 0o644); err != nil {
			return fmt.Errorf("--out %s: %w", dir, err)
		}
	}
	return nil
}

func describeOrg(o prevent.Options) string {
	s := "organisation " + orDash(o.OrganizationID, "(not known)")
	if o.ManagementAccountID != "" {
		s += ", management account " + o.ManagementAccountID
	}
	return s + ", partition " + o.Partition
}

func orDash(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func writeSummary(w io.Writer, o prevent.Options) {
	targets := "not known (a variable and a parameter ask for them)"
	if len(o.Targets) > 0 {
		targets = strings.Join(o.Targets, ", ")
	}
	fmt.Fprintf(w, "Vigil prevention artefacts for %s\n", describeOrg(o))
	fmt.Fprintf(w, "  SCP targets:       %s\n", targets)
	fmt.Fprintf(w, "  monitored regions: %s\n", strings.Join(o.Regions, ", "))
	fmt.Fprintf(w, "  home region:       %s (central event bus and SNS topic)\n\n", o.HomeRegion)
	fmt.Fprintln(w, "What these controls cannot cover:")
	for _, l := range prevent.Limitations() {
		fmt.Fprintf(w, "  - %s\n", l)
	}
	fmt.Fprintln(w)
}

func writeArtefactText(w io.Writer, o prevent.Options, arts []prevent.Artefact) error {
	writeSummary(w, o)
	fmt.Fprintln(w, "Files (write them with --out DIR; README.md says how to deploy them):")
	for _, a := range arts {
		fmt.Fprintf(w, "  %-34s %s\n", a.Name, a.Description)
	}
	for _, a := range arts {
		fmt.Fprintf(w, "\n==> %s <==\n", a.Name)
		if _, err := io.WriteString(w, a.Content); err != nil {
			return err
		}
	}
	return nil
}

func writeWritten(w io.Writer, po preventOptions, o prevent.Options, arts []prevent.Artefact) error {
	if po.format == "json" {
		var names []string
		for _, a := range arts {
			names = append(names, filepath.Join(po.out, a.Name))
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Directory string          `json:"directory"`
			Files     []string        `json:"files"`
			Options   prevent.Options `json:"options"`
		}{po.out, names, o})
	}
	writeSummary(w, o)
	fmt.Fprintf(w, "Wrote %d files to %s:\n", len(arts), po.out)
	for _, a := range arts {
		fmt.Fprintf(w, "  %-34s %s\n", a.Name, a.Description)
	}
	_, err := fmt.Fprintf(w, "\nNext: read %s for the deployment order.\n", filepath.Join(po.out, prevent.ReadmeName))
	return err
}

func runID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ""
	}
	return hex.EncodeToString(b[:])
}

// runGuardrails is --plan and --apply.
func runGuardrails(ctx context.Context, app *App, o preventOptions) error {
	cfg, stop, err := demoOrChain(ctx, app, o.demo, collect.ConfigOptions{Profile: o.profile, Region: o.region}, o.callTimeout)
	if err != nil {
		return err
	}
	defer stop()
	c := guardrail.NewClients(cfg)
	st, err := guardrail.Read(ctx, c)
	if err != nil {
		return err
	}
	var targets []string
	for _, t := range o.targets {
		targets = append(targets, strings.TrimSpace(t))
	}
	plan, err := guardrail.BuildPlan(st, c, guardrail.Request{Targets: targets})
	if err != nil {
		var mt prevent.ErrManagementTarget
		if errors.As(err, &mt) {
			return usagef("--target %v", err)
		}
		return err
	}
	if o.format == "text" {
		if err := writeOut(app, func(w io.Writer) error { return change.WritePlan(w, plan) }); err != nil {
			return err
		}
	}
	if o.plan {
		if o.format == "json" {
			return writeJSON(app, struct {
				Plan *change.Plan `json:"plan"`
			}{plan})
		}
		if len(plan.Steps) > 0 {
			fmt.Fprintln(app.Stdout, "\nThis was a dry run: nothing was changed. Run with --apply to make these changes.")
		}
		return nil
	}

	if len(plan.Steps) == 0 {
		if o.format == "json" {
			if err := writeJSON(app, struct {
				Plan    *change.Plan    `json:"plan"`
				Results []change.Result `json:"results"`
			}{plan, []change.Result{}}); err != nil {
				return err
			}
		}
		if len(plan.Blocked) > 0 {
			return fmt.Errorf("%d change(s) could not be made (see \"Cannot be done\")", len(plan.Blocked))
		}
		return nil
	}
	// Checked before the confirmation: a log that cannot be written stops
	// the run before anything happens. Its file is created only when the
	// first change is about to be made, so a declined run, or one with
	// nothing to change, leaves none behind.
	audit, err := change.OpenAuditLog(o.auditLog)
	if err != nil {
		return fmt.Errorf("--audit-log: %w", err)
	}
	defer audit.Close()
	prompt := fmt.Sprintf("\nApply %d change(s) to %s as %s?", len(plan.Steps), plan.Scope, st.CallerARN)
	for _, s := range plan.Steps {
		if s.Warning != "" && s.Target == st.RootID {
			prompt += "\nAttaching to the root " + st.RootID + " restricts the root user of every member account."
			break
		}
	}
	rep, err := change.Apply(ctx, plan, change.Options{Confirmer: app.confirmer(o.yes), Prompt: prompt, Audit: audit, Caller: st.CallerARN, RunID: runID(), Now: app.now})
	if err != nil {
		return err
	}
	if o.format == "json" {
		if err := writeJSON(app, struct {
			Plan     *change.Plan    `json:"plan"`
			Results  []change.Result `json:"results"`
			AuditLog string          `json:"audit_log"`
		}{plan, rep.Results, o.auditLog}); err != nil {
			return err
		}
	} else {
		if err := writeOut(app, func(w io.Writer) error {
			fmt.Fprintln(w, "\nResults:")
			if err := change.WriteReport(w, rep); err != nil {
				return err
			}
			_, err := fmt.Fprintf(w, "\nAudit log: %s\n", o.auditLog)
			return err
		}); err != nil {
			return err
		}
	}
	failed := rep.Failed()
	switch {
	case failed > 0:
		return fmt.Errorf("%d of %d change(s) did not succeed (see above); fix the cause and run vigil prevent --apply again: it plans only what is still missing", failed, len(rep.Results))
	case len(plan.Blocked) > 0:
		return fmt.Errorf("%d change(s) could not be made (see \"Cannot be done\")", len(plan.Blocked))
	}
	if o.format == "text" {
		fmt.Fprintln(app.Stdout, "Verify with: vigil scan (org-root-scp-coverage, org-root-credentials-management)")
	}
	return nil
}

func writeJSON(app *App, v any) error {
	return writeOut(app, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	})
}
