package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/awsenv"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fix"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

type fixOptions struct {
	aws          awsFlags
	scope        scopeFlags
	change       changeFlags
	format       formatFlag
	role         string
	externalID   string
	sessionName  string
	from         string
	delete       bool
	certificates bool
	password     bool
	mfa          bool
	minIdle      time.Duration
	force        bool
	lookback     time.Duration
	events       int
	maxInput     int64

	demo awsenv.Demo // --demo, validated
}

func newFixCommand(app *App) *cobra.Command {
	o := fixOptions{sessionName: "vigil-fix", minIdle: fix.DefaultMinIdle, lookback: fix.MaxLookback, events: fix.DefaultMaxEvents, maxInput: input.DefaultMaxSize}
	cmd := &cobra.Command{
		Use:   "fix",
		Short: "Remove root user access keys (and, when asked, other root credentials) safely",
		Long: `Plan, and with --apply make, the removal of root user credentials in the
account of your credentials, every account of your organisation (--org),
or a list of profiles and roles (--profile repeated, --targets FILE).

Each account takes one of three paths, shown in the plan:
  member accounts   sts:AssumeRoot with IAMDeleteRootUserCredentials, from the
                    management account or delegated administrator: deletes
                    (that policy cannot deactivate, so deleting is final)
  root's own key    signed with one of the root user's access keys: deactivates
                    first and deletes on a later run (--delete: at once); the
                    key that signs the run goes last
  anything else     says why Vigil cannot, and prints the knowledge base's steps

Before touching an access key the plan shows when, where and for what it was
last used (and its CloudTrail events, where CloudTrail can be read), and
refuses keys used within --min-idle or whose last use cannot be read, unless
--force. Access keys are always in scope; --certificates, --password and --mfa
add the root user's signing certificates, console password and MFA devices.

Without --apply nothing is changed. --apply asks for confirmation on a
terminal (--yes skips it; without a terminal --yes is required) and appends
every change to --audit-log. --from FILE acts only on what a saved scan saw.`,
		Example: `  vigil fix                                 # plan for the account of your credentials
  vigil fix --org                           # plan for every member account (run from the management account)
  vigil fix --org --role VigilTrailReader   # … with each key's CloudTrail events, read through a role
  vigil fix --org --apply --audit-log fix.jsonl
  vigil scan --org --assume-root --save seen.json && vigil fix --from seen.json --apply
  AWS_PROFILE=root-key vigil fix --apply    # signed with a root access key: deactivate first
  vigil fix --org --demo                    # the built-in emulated organisation`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFix(cmd.Context(), app, o, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	addAWSFlags(f, &o.aws, true)
	addScopeFlags(f, &o.scope, "planned and changed")
	f.StringVar(&o.role, "role", "", "with --org: a role in each member account allowed cloudtrail:LookupEvents, to list each key's CloudTrail events (the delete task policy cannot)")
	f.StringVar(&o.externalID, "external-id", "", "with --role: the external ID its trust policy requires")
	f.StringVar(&o.sessionName, "session-name", o.sessionName, "with --role: the role session name")
	f.StringVar(&o.from, "from", "", "act only on the credentials this saved snapshot (vigil scan --save) recorded")
	addChangeFlags(f, &o.change, "make the changes (after confirmation)")
	f.BoolVar(&o.delete, "delete", false, "signed with root's own key: delete active keys at once instead of deactivating them first")
	f.BoolVar(&o.certificates, "certificates", false, "also delete the root user's signing certificates")
	f.BoolVar(&o.password, "password", false, "also delete the root user's console password (member accounts only)")
	f.BoolVar(&o.mfa, "mfa", false, "also deactivate the root user's MFA devices (member accounts only; needs --password when root has one)")
	f.Var(newDuration(&o.minIdle, rangeMinIdle), "min-idle", "refuse access keys used more recently than this, e.g. 30d ("+rangeMinIdle.String()+")")
	f.BoolVar(&o.force, "force", false, "act on access keys the guard refuses (recently used, or of unknown last use)")
	f.Var(newDuration(&o.lookback, rangeLookback), "lookback", "how far back to search CloudTrail for a key's events ("+rangeLookback.String()+", all CloudTrail's event history keeps)")
	f.IntVar(&o.events, "events", o.events, "how many of a key's newest CloudTrail events to show (1 to 50)")
	addFormatFlag(f, &o.format, "text", "json")
	f.Var(sizeFlag{&o.maxInput}, "max-input-size", "largest --from snapshot or --targets file read (at least 1MiB)")
	return cmd
}

func (o *fixOptions) validate(app *App, changed func(string) bool) error {
	if err := o.format.validate(); err != nil {
		return err
	}
	demo, err := o.aws.validate(changed)
	if err != nil {
		return err
	}
	o.demo = demo
	if changed("role") && !o.scope.org {
		return usagef("--role needs --org")
	}
	for _, name := range []string{"external-id", "session-name"} {
		if changed(name) && o.role == "" {
			return usagef("--%s needs --role", name)
		}
	}
	if err := o.scope.validate(o.aws.profiles, changed); err != nil {
		return err
	}
	switch {
	case o.demo != awsenv.DemoNever && (o.scope.targets != "" || len(o.aws.profiles) > 0 || changed("region")):
		return usagef("--demo uses the built-in organisation: --profile, --targets and --region have no effect with it")
	case o.events < 1 || o.events > fix.MaxEvents:
		return usagef("--events %d: want 1 to %d", o.events, fix.MaxEvents)
	}
	if o.role != "" {
		r := fleet.Role{Name: o.role, ExternalID: o.externalID, SessionName: o.sessionName}
		if err := r.Validate(); err != nil {
			return usagef("--role: %v", err)
		}
	}
	// Before any AWS call: a run that would change things must be able
	// to ask, and to log.
	if err := o.change.validate(app, changed, "--apply removes root credentials and needs a confirmation, but stdin is not a terminal: review the plan with vigil fix (no --apply), then pass --yes"); err != nil {
		return err
	}
	audit := fileArg{flag: "audit-log", path: o.change.auditLog, output: true, appends: true}
	if !o.change.apply {
		audit = fileArg{}
	}
	return checkFiles(fileArg{flag: "from", path: o.from}, fileArg{flag: "targets", path: o.scope.targets}, audit)
}

func runFix(ctx context.Context, app *App, o fixOptions, changed func(string) bool) error {
	if err := o.validate(app, changed); err != nil {
		return err
	}
	fo := fix.Options{MinIdle: o.minIdle, Force: o.force, Delete: o.delete, Certificates: o.certificates, Password: o.password, MFA: o.mfa,
		Lookback: o.lookback, MaxEvents: o.events, Now: app.now, AccountTimeout: o.scope.accountTimeout, Clock: app.clock()}
	fo.Collect = collect.DefaultOptions()
	fo.Collect.Now = app.now
	if o.role != "" {
		fo.TrailRole = &fleet.Role{Name: o.role, ExternalID: o.externalID, SessionName: o.sessionName}
	}
	// The snapshot is read before any AWS call, so a bad file costs
	// nothing.
	var fromOrg bool
	if o.from != "" {
		doc, err := snapshot.LoadLimit(o.from, o.maxInput)
		if err != nil {
			return inputError(err)
		}
		fo.Seen = fix.NewSeen(doc, o.from)
		fromOrg = doc.Organization != nil && doc.Organization.AccessMode != ""
	}
	org := o.scope.org || fromOrg && o.scope.targets == "" && len(o.aws.profiles) == 0

	// The demo's emulator must outlive the plan: applying it calls the
	// same endpoint.
	plan, release, err := planFix(ctx, app, o, org, fo)
	if err != nil {
		return inputError(err)
	}
	defer release()
	if !o.change.apply {
		if err := writeFix(app, o, plan, false); err != nil {
			return err
		}
		return planProblems(plan)
	}

	if plan.StepCount() == 0 {
		if err := writeFix(app, o, plan, false); err != nil {
			return err
		}
		if o.format.value == "text" {
			fmt.Fprintln(app.Stdout, "Nothing to change.")
		}
		return planProblems(plan)
	}
	if o.format.value == "text" {
		if err := writeFix(app, o, plan, false); err != nil {
			return err
		}
	}
	// Checked before the confirmation: a log that cannot be written stops
	// the run before anything changes. Its file is created only when the
	// first change is about to be made, so a declined run, or one with
	// nothing to change, leaves none behind.
	audit, err := change.OpenAuditLog(o.change.auditLog)
	if err != nil {
		return fmt.Errorf("--audit-log: %w", err)
	}
	defer audit.Close()
	ok, err := app.confirmer(o.change.yes).Confirm(ctx, confirmPrompt(plan))
	if err != nil {
		return fmt.Errorf("confirmation: %w", err)
	}
	if !ok {
		return change.ErrDeclined
	}
	aerr := fix.Apply(ctx, plan, fix.ApplyOptions{Audit: audit, RunID: runID(), Parallel: o.scope.parallel, AccountTimeout: o.scope.accountTimeout, Clock: app.clock(), Now: app.now})
	if err := writeFix(app, o, plan, true); err != nil {
		return err
	}
	if aerr != nil {
		return fmt.Errorf("audit log %s: %w; nothing more was attempted", o.change.auditLog, aerr)
	}
	if out := plan.Outcome(); out.Failed+out.Skipped > 0 {
		return fmt.Errorf("%d of %d change(s) did not succeed, in account(s) %s (see above); fix the cause and run vigil fix --apply again: what is already gone counts as done",
			out.Failed+out.Skipped, out.Succeeded+out.Failed+out.Skipped, strings.Join(out.FailedAccounts, ", "))
	}
	return planProblems(plan)
}

// planProblems fails a run whose plan may be missing something.
func planProblems(p *fix.Plan) error {
	if p.Incomplete != "" {
		return fmt.Errorf("the run is incomplete: %s", p.Incomplete)
	}
	var bad []string
	for _, a := range p.Accounts {
		if len(a.Errors) > 0 {
			bad = append(bad, a.ID)
		}
	}
	var unreached []string
	for _, u := range p.Unreached {
		unreached = append(unreached, u.Target)
	}
	switch {
	case len(bad) > 0:
		return fmt.Errorf("%d account(s) could not be read in full (%s): what failed is listed as ERROR above, and nothing was planned from what is missing", len(bad), strings.Join(bad, ", "))
	case len(unreached) > 0:
		return fmt.Errorf("%d target(s) could not be reached: %s", len(unreached), strings.Join(unreached, ", "))
	}
	return nil
}

func confirmPrompt(p *fix.Plan) string {
	accounts, deletions := 0, 0
	for _, a := range p.Accounts {
		if len(a.Steps) > 0 {
			accounts++
		}
		for _, s := range a.Steps {
			if strings.HasPrefix(s.Action, "iam:Delete") {
				deletions++
			}
		}
	}
	prompt := fmt.Sprintf("\nApply %d change(s) in %d account(s)", p.StepCount(), accounts)
	if p.Caller != "" {
		prompt += " as " + p.Caller
	}
	prompt += "?"
	if deletions > 0 {
		prompt += fmt.Sprintf("\n%d of them delete credentials, which cannot be undone.", deletions)
	}
	return prompt
}

// planFix reads every account in scope and plans it. The plan's steps
// call the endpoints it was made with, so release (which stops the demo's
// emulator) must wait until the plan has been applied.
func planFix(ctx context.Context, app *App, o fixOptions, org bool, fo fix.Options) (plan *fix.Plan, release func(), err error) {
	env, err := awsenv.Open(ctx, o.aws.request(app, o.demo, o.scope.targets, o.maxInput))
	if err != nil {
		return nil, nil, err
	}
	if env.Demo {
		fmt.Fprintln(app.Stderr, "vigil: using the built-in demo organisation, not an AWS account of yours")
	}
	switch {
	case env.Targets != nil:
		to := o.scope.targetOptions()
		to.Now, to.Clock = app.now, app.clock()
		stopProgress := startProgress(app, o.scope.quiet, &to.Progress)
		plan, err = fix.PlanTargets(ctx, env.Targets, to, fo)
		stopProgress()
	case !org:
		plan, err = fix.PlanAccount(ctx, env.Config, fo)
	default:
		cfg := env.Config
		if cfg.RetryMaxAttempts == 0 {
			cfg.RetryMaxAttempts = fleet.DefaultMaxAttempts
		}
		oo := o.scope.fleetOptions()
		oo.Now, oo.Clock = app.now, app.clock()
		stopProgress := startProgress(app, o.scope.quiet, &oo.Progress)
		plan, err = fix.PlanOrg(ctx, cfg, oo, fo)
		stopProgress()
	}
	if err != nil {
		env.Close()
		return nil, nil, err
	}
	return plan, env.Close, nil
}

// fixDocument is the JSON output of vigil fix.
type fixDocument struct {
	Schema    string    `json:"schema"`
	Version   int       `json:"version"`
	Tool      string    `json:"tool_version"`
	PlannedAt time.Time `json:"planned_at"`
	DryRun    bool      `json:"dry_run"`
	Plan      *fix.Plan `json:"plan"`
	AuditLog  string    `json:"audit_log,omitempty"`
}

func writeFix(app *App, o fixOptions, p *fix.Plan, applied bool) error {
	if o.format.value == "json" {
		d := fixDocument{Schema: "vigil.fix", Version: 1, Tool: app.Version, PlannedAt: app.now().UTC(), DryRun: !o.change.apply, Plan: p}
		if applied {
			d.AuditLog = o.change.auditLog
		}
		return writeJSON(app, d)
	}
	if applied {
		return writeOut(app, func(w io.Writer) error { return writeFixResults(w, p, o.change.auditLog) })
	}
	steps, err := manualSteps()
	if err != nil {
		return err
	}
	return writeOut(app, func(w io.Writer) error {
		return fix.WriteText(w, p, fix.TextOptions{Now: app.now(), Apply: o.change.apply, Steps: steps})
	})
}

func writeFixResults(w io.Writer, p *fix.Plan, auditLog string) error {
	fmt.Fprintln(w, "\nResults:")
	for _, a := range p.Accounts {
		if len(a.Results) == 0 {
			continue
		}
		fmt.Fprintf(w, "Account %s\n", a.ID)
		if err := change.WriteReport(w, &change.Report{Results: a.Results}); err != nil {
			return err
		}
	}
	out := p.Outcome()
	_, err := fmt.Fprintf(w, "\n%d change(s) succeeded, %d failed, %d not attempted.\nAudit log: %s\nVerify with: vigil scan (root-access-key)\n", out.Succeeded, out.Failed, out.Skipped, auditLog)
	return err
}

// manualSteps renders, from the knowledge base, the steps of each case
// Vigil cannot handle.
func manualSteps() (func(fix.Case) (string, error), error) {
	cat, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	pages, err := loadPages(cat)
	if err != nil {
		return nil, err
	}
	return func(c fix.Case) (string, error) { return renderSteps(pages, c) }, nil
}

func renderSteps(pages []*kb.Page, c fix.Case) (string, error) {
	var b strings.Builder
	for i, s := range c.Steps() {
		page, ok := kb.Find(pages, s.Page)
		if !ok {
			return "", fmt.Errorf("knowledge base: no page %s", s.Page)
		}
		md, err := page.Section(s.Heading...)
		if err != nil {
			return "", fmt.Errorf("knowledge base: %w", err)
		}
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(md)
	}
	b.WriteString("\nThe same steps with Python (boto3) and the Go SDK, and why: vigil explain root-access-key\n")
	return b.String(), nil
}
