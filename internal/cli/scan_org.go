package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/demo"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// multiOptions are the flags of scans that cover more than one account.
type multiOptions struct {
	org             bool
	assumeRoot      bool
	role            string
	roleSet         bool // --role given explicitly
	externalID      string
	sessionName     string
	sessionDuration time.Duration
	ous             []string
	accounts        []string
	exclude         []string
	parallel        int
	accountTimeout  time.Duration
	quiet           bool
	targets         string
}

func addMultiFlags(f *pflag.FlagSet, m *multiOptions) {
	m.role, m.sessionName = fleet.DefaultRoleName, fleet.DefaultSessionName
	m.sessionDuration, m.parallel, m.accountTimeout = fleet.DefaultRoleDuration, fleet.DefaultParallel, fleet.DefaultAccountTimeout
	f.BoolVar(&m.org, "org", false, "scan every account of the AWS Organization (run from the management account or a delegated administrator)")
	f.BoolVar(&m.assumeRoot, "assume-root", false, "with --org: reach member accounts through sts:AssumeRoot (IAMAuditRootUserCredentials), no role needed in them")
	f.StringVar(&m.role, "role", m.role, "with --org: the read-only role to assume in each account (name, or path/name); with --assume-root, used only for the management account")
	f.StringVar(&m.externalID, "external-id", "", "with --org: the external ID the role's trust policy requires")
	f.StringVar(&m.sessionName, "session-name", m.sessionName, "with --org: the role session name (shows in the accounts' CloudTrail)")
	f.Var(newDuration(&m.sessionDuration, rangeSessionDuration), "session-duration", "with --org: role session length, "+rangeSessionDuration.String()+" (sessions are renewed when an account takes longer)")
	f.StringArrayVar(&m.ous, "ou", nil, "with --org: only accounts in this OU and below, by ID (ou-…) or name path (Workloads/Prod); repeatable")
	f.StringSliceVar(&m.accounts, "accounts", nil, "with --org: only these account IDs (comma-separated or repeated)")
	f.StringSliceVar(&m.exclude, "exclude", nil, "with --org: leave these account IDs out (comma-separated or repeated)")
	f.IntVar(&m.parallel, "parallel", m.parallel, "accounts scanned at once (--org, --targets, several --profile)")
	f.Var(newDuration(&m.accountTimeout, rangeAccountTimeout), "account-timeout", "give up on an account after this long ("+rangeAccountTimeout.String()+"), all its calls and retries included; it is reported with the calls that did not answer")
	f.BoolVarP(&m.quiet, "quiet", "q", false, "no progress bar (there is none when stderr is not a terminal)")
	f.StringVar(&m.targets, "targets", "", "scan the profiles and roles listed in this YAML (or JSON) file")
}

// validateMulti checks the multi-account flags against each other and
// the rest of the command line. Mistakes are usage errors (exit code 2).
func (o *scanOptions) validateMulti(changed func(string) bool) error {
	m := &o.multi
	m.roleSet = changed("role")
	multi := m.org || m.targets != "" || len(o.profiles) > 1
	for _, name := range []string{"assume-root", "role", "external-id", "session-name", "session-duration", "ou", "accounts", "exclude"} {
		if changed(name) && !m.org {
			return usagef("--%s needs --org", name)
		}
	}
	if err := checkScope(m.org, m.targets, o.profiles, changed); err != nil {
		return err
	}
	if (m.targets != "" || len(o.profiles) > 1) && changed("demo") {
		return usagef("--demo scans the built-in organisation; use it with --org, not with --targets or several --profile")
	}
	if !multi {
		return nil
	}
	if m.parallel < 1 || m.parallel > 1024 {
		return usagef("--parallel %d: want 1 to 1024", m.parallel)
	}
	if m.org {
		opts := m.orgOptions()
		if err := opts.Validate(); err != nil {
			return usagef("%v", err)
		}
	}
	return nil
}

// checkScope checks the flags that choose the accounts of a run against
// each other, alike for every command that takes them: --org, --targets
// and several --profile exclude one another, and --parallel needs one of
// them.
func checkScope(org bool, targets string, profiles []string, changed func(string) bool) error {
	multi := org || targets != "" || len(profiles) > 1
	if changed("parallel") && !multi {
		return usagef("--parallel needs --org, --targets or several --profile")
	}
	switch {
	case org && targets != "":
		return usagef("--org and --targets cannot be combined")
	case org && len(profiles) > 1:
		return usagef("--org takes one --profile: the management account's or the delegated administrator's")
	case targets != "" && len(profiles) > 0:
		return usagef("--targets and --profile cannot be combined: list the profiles in the targets file")
	}
	return nil
}

// orgOptions turns the flags into fleet options (progress, logger and
// clock are added by collectOrg).
func (m *multiOptions) orgOptions() fleet.Options {
	mode := fleet.ModeRole
	if m.assumeRoot {
		mode = fleet.ModeRoot
	}
	return fleet.Options{
		Mode:              mode,
		Role:              fleet.Role{Name: m.role, ExternalID: m.externalID, SessionName: m.sessionName, Duration: m.sessionDuration},
		RoleForManagement: m.assumeRoot && m.roleSet,
		OUs:               m.ous,
		Accounts:          m.accounts,
		Exclude:           m.exclude,
		Parallel:          m.parallel,
		AccountTimeout:    m.accountTimeout,
	}
}

// liveConfig is the AWS configuration of a live scan: the user's, or the
// built-in demo's when asked for (or, with --demo=auto, when no
// credentials are configured). stop releases the demo.
func liveConfig(ctx context.Context, app *App, o scanOptions) (aws.Config, snapshot.Source, func(), error) {
	src := snapshot.Source{Kind: snapshot.SourceAWS, Detail: o.profile}
	if o.profile == "" {
		if p := app.Getenv("AWS_PROFILE"); p != "" {
			src.Detail = "profile " + p
		}
	} else {
		src.Detail = "profile " + o.profile
	}
	if o.demo != "always" {
		cfgOpts := collect.ConfigOptions{Profile: o.profile, Region: o.region, RetryMode: o.retryMode, MaxAttempts: o.maxAttempts}
		cfg, err := collect.LoadConfig(ctx, cfgOpts)
		var credErr error
		if err == nil {
			credErr = haveCredentials(ctx, app, cfg, o.callTimeout)
		}
		switch {
		case o.demo == "auto" && (credErr != nil || errors.Is(err, collect.ErrNoRegion)) && !explicitAWSChoice(app, o):
			slog.Info("no AWS credentials found; scanning the built-in demo", "reason", firstErr(err, credErr))
			fmt.Fprintln(app.Stderr, "vigil: no AWS credentials or region configured; scanning the built-in demo organisation instead")
		case err != nil:
			return aws.Config{}, src, nil, err
		case credErr != nil:
			return aws.Config{}, src, nil, credErr
		default:
			limitCalls(app, &cfg, o.callTimeout)
			return cfg, src, func() {}, nil
		}
	}
	env, err := demo.Start(app.now())
	if err != nil {
		return aws.Config{}, src, nil, fmt.Errorf("start the demo: %w", err)
	}
	cfg := env.Config
	limitCalls(app, &cfg, o.callTimeout)
	return cfg, snapshot.Source{Kind: snapshot.SourceDemo, Detail: env.Description}, env.Stop, nil
}

// collectOrg scans the organisation of the caller.
func collectOrg(ctx context.Context, app *App, o scanOptions) (*snapshot.Document, error) {
	cfg, src, stop, err := liveConfig(ctx, app, o)
	if err != nil {
		return nil, err
	}
	defer stop()
	if cfg.RetryMaxAttempts == 0 {
		cfg.RetryMaxAttempts = fleet.DefaultMaxAttempts
	}
	opts := o.multi.orgOptions()
	opts.Collect = collect.DefaultOptions()
	opts.Collect.Now = app.now
	opts.Collect.ReportWait = o.reportTimeout
	opts.Now = app.now
	opts.Clock = app.clock()
	defer startProgress(app, o.multi.quiet, &opts.Progress)()
	doc, err := fleet.Scan(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	doc.ToolVersion, doc.Source = app.Version, src
	return doc, nil
}
