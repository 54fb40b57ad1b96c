package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/atomicfile"
	"github.com/vigil-sec/vigil/internal/awsenv"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/guardrail"
	"github.com/vigil-sec/vigil/internal/prevent"
)

type preventOptions struct {
	aws        awsFlags
	change     changeFlags
	format     formatFlag
	out        string
	targets    []string
	regions    []string
	homeRegion string
	partition  string
	alertEmail string
	offline    bool
	plan       bool
	standalone bool

	demo awsenv.Demo // --demo, validated
}

func newPreventCommand(app *App) *cobra.Command {
	var o preventOptions
	cmd := &cobra.Command{
		Use:   "prevent",
		Short: "Generate and apply the controls that keep root credentials from coming back",
		Long: `Generate, for your organisation, the service control policies that deny member
accounts' root users (every action except AssumeRoot sessions; access key
creation), an EventBridge rule and SNS topic that alert on root activity in
every monitored account and region, the SQS queue vigil serve reads those
events from (events.sqs_queue_url), and Terraform and CloudFormation that
deploy them. With AWS credentials of the management account the organisation,
root and partition are filled in; without, they become variables. For an
account in no organisation (or with --standalone) there are no SCPs: the same
rule, topic and queue live in the account itself.

--plan shows, and --apply makes, the changes Vigil can make directly: trusted
access for IAM, centralised root access, SCPs enabled on the root, the SCPs
created and attached to --target, and in --home-region the queue, its
dead-letter queue and the queue as a target of the central rule (standalone:
the rule too). --apply asks for confirmation on a terminal (--yes skips it;
without a terminal --yes is required) and logs every change to --audit-log.

No SCP reaches the management account; see the README written with --out.`,
		Example: `  vigil prevent                               # print the artefacts (IDs filled in when credentials allow)
  vigil prevent --out ./guardrails            # write them, with a README, to a directory
  vigil prevent --offline --partition aws-us-gov --target ou-ab12-11111111
  vigil prevent --plan --target r-ab12        # dry run: what --apply would change
  vigil prevent --apply --target r-ab12 --audit-log audit.jsonl
  vigil prevent --apply --standalone          # one account: the rule and the queue for vigil serve`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPrevent(cmd.Context(), app, o, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	addAWSFlags(f, &o.aws, false)
	addFormatFlag(f, &o.format, "text", "json")
	f.StringVarP(&o.out, "out", "o", "", "write each artefact and a README.md to this directory (created if missing)")
	f.StringSliceVar(&o.targets, "target", nil, "root, OU or account ID to attach the SCPs to (repeat or comma-separate); default: the root")
	f.StringSliceVar(&o.regions, "regions", nil, "regions to monitor for root activity (default: every region enabled by default in the partition)")
	f.StringVar(&o.homeRegion, "home-region", "", "region of the central event bus and SNS topic (default: us-east-1, or the partition's global-events region)")
	f.StringVar(&o.partition, "partition", "", "aws, aws-us-gov or aws-cn, when not discovered from credentials (default aws)")
	f.StringVar(&o.alertEmail, "alert-email", "", "email address to subscribe to root activity alerts")
	f.BoolVar(&o.offline, "offline", false, "make no AWS call: unknown IDs become Terraform variables and CloudFormation parameters")
	f.BoolVar(&o.plan, "plan", false, "show the changes --apply would make, and make none")
	f.BoolVar(&o.standalone, "standalone", false, "one account outside an organisation (found by itself when credentials show no organisation): only the root activity rule, topic and queue, no SCPs; with --apply, the rule and queue in the home region")
	addChangeFlags(f, &o.change, "make the changes: enable trusted access and centralised root access, enable SCPs, create and attach the SCPs")
	return cmd
}

func (o *preventOptions) validate(app *App, changed func(string) bool) error {
	if err := o.format.validate(); err != nil {
		return err
	}
	demo, err := o.aws.validate(changed)
	if err != nil {
		return err
	}
	o.demo = demo
	changes := o.plan || o.change.apply
	switch {
	case o.plan && o.change.apply:
		return usagef("--plan and --apply cannot be combined: --plan is the dry run of --apply")
	case changes && o.out != "":
		return usagef("--out writes artefacts; it cannot be combined with --%s", map[bool]string{true: "apply", false: "plan"}[o.change.apply])
	case changes && o.offline:
		return usagef("--offline makes no AWS call, so it cannot be combined with --plan or --apply")
	case changes && changed("partition"):
		return usagef("--partition is read from the credentials with --plan and --apply")
	case changes && (changed("regions") || changed("alert-email")):
		return usagef("--regions and --alert-email shape the generated artefacts; --plan and --apply change only the organisation's SCPs and settings, and the root activity queue in --home-region")
	case o.standalone && len(o.targets) > 0:
		return usagef("--target: SCPs need an AWS Organization; --standalone watches one account, with no SCPs")
	case o.offline && (changed("profile") || changed("region") || changed("demo")):
		return usagef("--offline makes no AWS call: --profile, --region and --demo have no effect with it")
	}
	for _, name := range []string{"call-timeout", "retry-mode", "max-attempts"} {
		if o.offline && changed(name) {
			return usagef("--offline makes no AWS call: --%s has no effect with it", name)
		}
	}
	for _, t := range o.targets {
		if !prevent.IsTarget(strings.TrimSpace(t)) {
			return usagef("--target %q: want a root ID (r-…), an OU ID (ou-…-…) or a 12-digit account ID", t)
		}
	}
	if changes && len(o.targets) == 0 && !o.standalone {
		return usagef("--%s needs --target: the root ID (r-…) to cover every member account, or OU or account IDs (or --standalone for an account in no organisation)", map[bool]string{true: "apply", false: "plan"}[o.change.apply])
	}
	if err := o.change.validate(app, changed, "--apply changes your organisation and needs a confirmation, but stdin is not a terminal: review the changes with --plan, then pass --yes"); err != nil {
		return err
	}
	if o.change.apply {
		if err := checkFiles(fileArg{flag: "audit-log", path: o.change.auditLog, output: true, appends: true}); err != nil {
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
	if o.plan || o.change.apply {
		return runGuardrails(ctx, app, o)
	}
	return runArtefacts(ctx, app, o, changed)
}

// signIn is the AWS configuration of a prevent run: the user's credential
// chain, which must hold credentials, or the built-in demo's when asked
// for. done releases the demo.
func signIn(ctx context.Context, app *App, o preventOptions) (cfg aws.Config, done func(), err error) {
	env, err := awsenv.Open(ctx, o.aws.request(app, o.demo, "", 0))
	if err != nil {
		return aws.Config{}, nil, err
	}
	if env.Demo {
		fmt.Fprintln(app.Stderr, "vigil: using the built-in demo organisation, not an AWS account of yours")
	}
	return env.Config, env.Close, nil
}

func runArtefacts(ctx context.Context, app *App, o preventOptions, changed func(string) bool) error {
	opts := prevent.Options{Partition: o.partition, Targets: o.targets, Regions: o.regions, HomeRegion: o.homeRegion, AlertEmail: o.alertEmail}
	if !o.offline {
		d, err := discover(ctx, app, o)
		if err != nil {
			return err
		}
		switch {
		case d == nil:
		case changed("partition") && o.partition != d.Partition:
			return usagef("--partition %s, but the credentials are in partition %s", o.partition, d.Partition)
		case d.Standalone || o.standalone:
			// --standalone from an account of an organisation watches
			// that account alone, as if it were in none.
			if len(o.targets) > 0 {
				return usagef("--target: account %s is in no organisation, so there is nothing for SCPs to protect; the artefacts are the root activity rule, topic and queue of the account alone", d.Account)
			}
			if d.Standalone && !o.standalone {
				fmt.Fprintf(app.Stderr, "vigil: account %s is in no AWS Organization: the artefacts are the root activity rule, topic and queue of this account alone, without SCPs (as with --standalone)\n", d.Account)
			}
			opts.Standalone, opts.AccountID, opts.Partition = true, d.Account, d.Partition
		default:
			opts.Partition, opts.OrganizationID, opts.ManagementAccountID, opts.RootID = d.Partition, d.OrganizationID, d.ManagementAccountID, d.RootID
		}
	} else if o.standalone {
		opts.Standalone = true
	}
	if err := opts.Normalize(); err != nil {
		var mt prevent.ErrManagementTarget
		if errors.As(err, &mt) {
			return usagef("--target %v", err)
		}
		return usageError{err}
	}
	if opts.Standalone {
		// no SCP targets to talk about
	} else if len(opts.Targets) == 0 {
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
	if o.format.value == "json" {
		return writeJSON(app, struct {
			Schema      string             `json:"schema"`
			Version     int                `json:"version"`
			Mode        string             `json:"mode"`
			Options     prevent.Options    `json:"options"`
			QueueURL    string             `json:"sqs_queue_url,omitempty"`
			Limitations []string           `json:"limitations"`
			Artefacts   []prevent.Artefact `json:"artefacts"`
		}{preventSchema, preventVersion, "artefacts", opts, opts.QueueURL(), limitations(opts), arts})
	}
	return writeOut(app, func(w io.Writer) error { return writeArtefactText(w, opts, arts) })
}

// discover reads the organisation's IDs when credentials are configured.
// Without credentials (and without an explicit profile) the artefacts are
// generated with placeholders, and stderr says so; a named profile that
// does not work is an error, never a silent fallback.
func discover(ctx context.Context, app *App, o preventOptions) (*guardrail.Discovery, error) {
	cfg, stop, err := signIn(ctx, app, o)
	if err != nil {
		var ce *collect.CredentialError
		explicit := o.aws.profile() != "" || o.aws.region != "" || app.Getenv("AWS_PROFILE") != ""
		if !explicit && (errors.Is(err, awsenv.ErrNoRegion) || errors.As(err, &ce) && ce.Code == "NoCredentials") {
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

func limitations(o prevent.Options) []string {
	if o.Standalone {
		return prevent.StandaloneLimitations()
	}
	return prevent.Limitations()
}

func describeOrg(o prevent.Options) string {
	if o.Standalone {
		return "account " + orDash(o.AccountID, "(not known)") + " (no organisation), partition " + o.Partition
	}
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
	limits := limitations(o)
	if o.Standalone {
		fmt.Fprintf(w, "  SCPs:              none (they need an AWS Organization)\n")
		fmt.Fprintf(w, "  monitored regions: %s\n", strings.Join(o.Regions, ", "))
		fmt.Fprintf(w, "  home region:       %s (root activity rule on the default event bus, SNS topic, queue)\n", o.HomeRegion)
	} else {
		fmt.Fprintf(w, "  SCP targets:       %s\n", targets)
		fmt.Fprintf(w, "  monitored regions: %s\n", strings.Join(o.Regions, ", "))
		fmt.Fprintf(w, "  home region:       %s (central event bus, SNS topic, queue)\n", o.HomeRegion)
	}
	writeQueueSummary(w, o)
	fmt.Fprintln(w, "What these controls cannot cover:")
	for _, l := range limits {
		fmt.Fprintf(w, "  - %s\n", l)
	}
	fmt.Fprintln(w)
}

// writeQueueSummary says where vigil serve finds root events once the
// artefacts are deployed.
func writeQueueSummary(w io.Writer, o prevent.Options) {
	url := o.QueueURL()
	if url == "" {
		fmt.Fprintf(w, "  queue:             %s in %s; its URL is the Terraform output vigil_serve_config and the\n", prevent.QueueName, o.HomeRegion)
		fmt.Fprintf(w, "                     CloudFormation output VigilServeConfig, for vigil serve's events.sqs_queue_url\n\n")
		return
	}
	fmt.Fprintf(w, "  queue:             %s (ARN %s)\n\n", url, prevent.SQSARN(o.Partition, o.HomeRegion, o.QueueAccount(), prevent.QueueName))
	fmt.Fprintln(w, "Once deployed, point vigil serve at the queue in its config file:")
	fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(strings.TrimSuffix(prevent.ServeConfig(url), "\n"), "\n", "\n  "))
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
	if po.format.value == "json" {
		var names []string
		for _, a := range arts {
			names = append(names, filepath.Join(po.out, a.Name))
		}
		return encodeJSON(w, struct {
			Schema    string          `json:"schema"`
			Version   int             `json:"version"`
			Mode      string          `json:"mode"`
			Directory string          `json:"directory"`
			Files     []string        `json:"files"`
			Options   prevent.Options `json:"options"`
			QueueURL  string          `json:"sqs_queue_url,omitempty"`
		}{preventSchema, preventVersion, "written", po.out, names, o, o.QueueURL()})
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
	cfg, stop, err := signIn(ctx, app, o)
	if err != nil {
		return err
	}
	defer stop()
	c := guardrail.NewClients(cfg)
	var st *guardrail.State
	if o.standalone {
		st, err = guardrail.ReadStandalone(ctx, c)
	} else {
		st, err = guardrail.Read(ctx, c)
	}
	if err != nil {
		return err
	}
	home := o.homeRegion
	if home == "" {
		home = prevent.GlobalEventsRegion(st.Partition)
	}
	if err := prevent.CheckRegion(st.Partition, home); err != nil {
		return usagef("--home-region: %v", err)
	}
	if st.Monitor, err = guardrail.ReadMonitor(ctx, c.Monitor(home), st.Partition, st.Account, home, st.Standalone); err != nil {
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
	if o.format.value == "text" {
		if err := writeOut(app, func(w io.Writer) error { return change.WritePlan(w, plan) }); err != nil {
			return err
		}
	}
	queue := queueOf(st.Monitor)
	if o.plan {
		if o.format.value == "json" {
			return writeJSON(app, struct {
				Schema  string       `json:"schema"`
				Version int          `json:"version"`
				Mode    string       `json:"mode"`
				Plan    *change.Plan `json:"plan"`
				Queue   *queueJSON   `json:"root_activity_queue,omitempty"`
			}{preventSchema, preventVersion, "plan", plan, queue})
		}
		writeServeConfig(app.Stdout, st.Monitor, true)
		if len(plan.Steps) > 0 {
			fmt.Fprintln(app.Stdout, "\nThis was a dry run: nothing was changed. Run with --apply to make these changes.")
		}
		return nil
	}

	if len(plan.Steps) == 0 {
		if o.format.value == "json" {
			if err := writeJSON(app, struct {
				Schema  string          `json:"schema"`
				Version int             `json:"version"`
				Mode    string          `json:"mode"`
				Plan    *change.Plan    `json:"plan"`
				Results []change.Result `json:"results"`
				Queue   *queueJSON      `json:"root_activity_queue,omitempty"`
			}{preventSchema, preventVersion, "apply", plan, []change.Result{}, queue}); err != nil {
				return err
			}
		} else {
			writeServeConfig(app.Stdout, st.Monitor, false)
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
	audit, err := change.OpenAuditLog(o.change.auditLog)
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
	rep, err := change.Apply(ctx, plan, change.Options{Confirmer: app.confirmer(o.change.yes), Prompt: prompt, Audit: audit, Caller: st.CallerARN, RunID: runID(), Now: app.now})
	if err != nil {
		return err
	}
	queue = queueOf(st.Monitor) // a created queue has its URL now
	if o.format.value == "json" {
		if err := writeJSON(app, struct {
			Schema   string          `json:"schema"`
			Version  int             `json:"version"`
			Mode     string          `json:"mode"`
			Plan     *change.Plan    `json:"plan"`
			Results  []change.Result `json:"results"`
			AuditLog string          `json:"audit_log"`
			Queue    *queueJSON      `json:"root_activity_queue,omitempty"`
		}{preventSchema, preventVersion, "apply", plan, rep.Results, o.change.auditLog, queue}); err != nil {
			return err
		}
	} else {
		if err := writeOut(app, func(w io.Writer) error {
			fmt.Fprintln(w, "\nResults:")
			if err := change.WriteReport(w, rep); err != nil {
				return err
			}
			_, err := fmt.Fprintf(w, "\nAudit log: %s\n", o.change.auditLog)
			return err
		}); err != nil {
			return err
		}
		writeServeConfig(app.Stdout, st.Monitor, false)
	}
	failed := rep.Failed()
	switch {
	case failed > 0:
		return fmt.Errorf("%d of %d change(s) did not succeed (see above); fix the cause and run vigil prevent --apply again: it plans only what is still missing", failed, len(rep.Results))
	case len(plan.Blocked) > 0:
		return fmt.Errorf("%d change(s) could not be made (see \"Cannot be done\")", len(plan.Blocked))
	}
	if o.format.value == "text" && !st.Standalone {
		fmt.Fprintln(app.Stdout, "Verify with: vigil scan (org-root-scp-coverage, org-root-credentials-management)")
	}
	return nil
}

// queueJSON is the root activity queue in --plan and --apply JSON output.
type queueJSON struct {
	Region string `json:"region"`
	ARN    string `json:"arn"`
	// URL is empty until the queue exists (a plan that would create it).
	URL string `json:"url,omitempty"`
	// ServeConfig is what to put in the vigil serve config file.
	ServeConfig string `json:"serve_config,omitempty"`
}

func queueOf(m *guardrail.MonitorState) *queueJSON {
	if m == nil || !m.RuleFound && !m.Standalone {
		return nil // nothing was planned for a queue
	}
	q := &queueJSON{Region: m.Region, ARN: m.QueueARN(), URL: m.QueueURL}
	if q.URL != "" {
		q.ServeConfig = prevent.ServeConfig(q.URL)
	}
	return q
}

// writeServeConfig tells the user what to put in vigil serve's config.
func writeServeConfig(w io.Writer, m *guardrail.MonitorState, dryRun bool) {
	q := queueOf(m)
	switch {
	case q == nil:
	case q.URL == "" && dryRun:
		fmt.Fprintf(w, "\nvigil serve will read root activity from the queue %s (%s); --apply prints its URL for events.sqs_queue_url.\n", prevent.QueueName, q.ARN)
	case q.URL == "":
	default:
		fmt.Fprintf(w, "\nvigil serve reads root activity from the queue %s (%s). Put this in its config file:\n  %s\n",
			prevent.QueueName, q.ARN, strings.ReplaceAll(strings.TrimSuffix(q.ServeConfig, "\n"), "\n", "\n  "))
	}
}
