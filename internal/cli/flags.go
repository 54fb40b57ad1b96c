package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/internal/awsenv"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
)

// The flag groups several commands share: one definition each, so that a
// flag means the same in every command that has it, as gh's cmdutil does.

// awsFlags are how a run signs in to AWS (scan, fix, prevent).
type awsFlags struct {
	profiles    []string
	region      string
	retryMode   string
	maxAttempts int
	callTimeout time.Duration
	demo        string
}

// addAWSFlags adds the sign-in flags. several lets --profile be repeated
// (a run over several accounts); otherwise it names one profile.
func addAWSFlags(f *pflag.FlagSet, a *awsFlags, several bool) {
	if several {
		f.StringArrayVar(&a.profiles, "profile", nil, "AWS shared config profile (default: AWS_PROFILE or default); repeat for several accounts")
	} else {
		f.Var(&singleProfile{&a.profiles}, "profile", "AWS shared config profile (default: AWS_PROFILE or default)")
	}
	f.StringVar(&a.region, "region", "", "AWS region for STS and endpoint selection (default: AWS_REGION or the profile's)")
	f.StringVar(&a.retryMode, "retry-mode", "", "SDK retry mode: standard or adaptive (default: the SDK's, or AWS_RETRY_MODE)")
	f.IntVar(&a.maxAttempts, "max-attempts", 0, "maximum attempts per API call, retries included (default: the SDK's, 3; 10 for --org, --targets and several --profile)")
	a.callTimeout = collect.DefaultCallTimeout
	f.Var(newDuration(&a.callTimeout, rangeCallTimeout), "call-timeout", "give up on one attempt of an AWS call after this long ("+rangeCallTimeout.String()+"); the SDK then retries it (up to --max-attempts)")
	a.demo = "never"
	f.StringVar(&a.demo, "demo", a.demo, "use the built-in emulated organisation instead of AWS: always (--demo alone), never, or auto (only when no AWS credentials or region are configured)")
	f.Lookup("demo").NoOptDefVal = "always"
}

// singleProfile is --profile where only one makes sense.
type singleProfile struct{ p *[]string }

func (s *singleProfile) String() string {
	if s.p == nil || len(*s.p) == 0 {
		return ""
	}
	return (*s.p)[0]
}

func (s *singleProfile) Set(v string) error {
	*s.p = []string{v}
	return nil
}

func (s *singleProfile) Type() string { return "string" }

// profile is the one profile named, or "".
func (a *awsFlags) profile() string {
	if len(a.profiles) == 1 {
		return a.profiles[0]
	}
	return ""
}

// validate checks the values, and the demo against the flags it makes
// meaningless (the demo is one emulated organisation, signed in as its
// auditor).
func (a *awsFlags) validate(changed func(string) bool) (awsenv.Demo, error) {
	d, err := awsenv.ParseDemo(a.demo)
	if err != nil {
		return d, usagef("--demo %v", err)
	}
	switch a.retryMode {
	case "", "standard", "adaptive":
	default:
		return d, usagef("--retry-mode %q: want standard or adaptive", a.retryMode)
	}
	if a.maxAttempts < 0 {
		return d, usagef("--max-attempts %d: want 1 or more (0 keeps the SDK's)", a.maxAttempts)
	}
	return d, nil
}

// request is the awsenv request of the flags.
func (a *awsFlags) request(app *App, demo awsenv.Demo, targetsFile string, maxInput int64) awsenv.Request {
	return awsenv.Request{Profiles: a.profiles, TargetsFile: targetsFile, MaxInput: maxInput, Region: a.region,
		RetryMode: a.retryMode, MaxAttempts: a.maxAttempts, Demo: demo, CallTimeout: a.callTimeout, Clock: app.clock(), Getenv: app.Getenv}
}

// scopeFlags choose the accounts of a run beyond the credentials' own
// (scan, fix).
type scopeFlags struct {
	org            bool
	targets        string
	ous            []string
	accounts       []string
	exclude        []string
	parallel       int
	accountTimeout time.Duration
	quiet          bool
}

// addScopeFlags adds the scope flags; verb says what the command does to
// accounts, for the help texts ("scanned", "planned and changed").
func addScopeFlags(f *pflag.FlagSet, s *scopeFlags, verb string) {
	s.parallel, s.accountTimeout = fleet.DefaultParallel, fleet.DefaultAccountTimeout
	f.BoolVar(&s.org, "org", false, "every account of the AWS Organization (run from the management account or a delegated administrator)")
	f.StringVar(&s.targets, "targets", "", "the profiles and roles listed in this YAML (or JSON) file")
	f.StringArrayVar(&s.ous, "ou", nil, "with --org: only accounts in this OU and below, by ID (ou-…) or name path (Workloads/Prod); repeatable")
	f.StringSliceVar(&s.accounts, "accounts", nil, "with --org: only these account IDs (comma-separated or repeated)")
	f.StringSliceVar(&s.exclude, "exclude", nil, "with --org: leave these account IDs out (comma-separated or repeated)")
	f.IntVar(&s.parallel, "parallel", s.parallel, "accounts "+verb+" at once (--org, --targets, several --profile)")
	f.Var(newDuration(&s.accountTimeout, rangeAccountTimeout), "account-timeout", "give up on an account after this long ("+rangeAccountTimeout.String()+"), all its calls and retries included; it is reported with the calls that did not answer")
	f.BoolVarP(&s.quiet, "quiet", "q", false, "no progress bar (there is none when stderr is not a terminal)")
}

// several reports whether the run covers more than one account.
func (s *scopeFlags) several(profiles []string) bool {
	return s.org || s.targets != "" || len(profiles) > 1
}

// validate checks the scope flags against each other, alike for every
// command that takes them: --org, --targets and several --profile exclude
// one another, the organisation filters need --org, and --parallel needs
// several accounts. Mistakes are usage errors (exit code 2).
func (s *scopeFlags) validate(profiles []string, changed func(string) bool) error {
	for _, name := range []string{"ou", "accounts", "exclude"} {
		if changed(name) && !s.org {
			return usagef("--%s needs --org", name)
		}
	}
	if changed("parallel") && !s.several(profiles) {
		return usagef("--parallel needs --org, --targets or several --profile")
	}
	switch {
	case s.org && s.targets != "":
		return usagef("--org and --targets cannot be combined")
	case s.org && len(profiles) > 1:
		return usagef("--org takes one --profile: the management account's or the delegated administrator's")
	case s.targets != "" && len(profiles) > 0:
		return usagef("--targets and --profile cannot be combined: list the profiles in the targets file")
	case s.parallel < 1 || s.parallel > 1024:
		return usagef("--parallel %d: want 1 to 1024", s.parallel)
	}
	if s.org {
		o := fleet.Options{OUs: s.ous, Accounts: s.accounts, Exclude: s.exclude, Parallel: s.parallel, AccountTimeout: s.accountTimeout}
		if err := o.Validate(); err != nil {
			return usagef("%v", err)
		}
	}
	return nil
}

// fleetOptions are the organisation options the scope flags choose.
func (s *scopeFlags) fleetOptions() fleet.Options {
	return fleet.Options{OUs: s.ous, Accounts: s.accounts, Exclude: s.exclude, Parallel: s.parallel, AccountTimeout: s.accountTimeout}
}

// targetOptions are the targets options the scope flags choose.
func (s *scopeFlags) targetOptions() fleet.TargetOptions {
	return fleet.TargetOptions{Parallel: s.parallel, AccountTimeout: s.accountTimeout}
}

// changeFlags make and log changes (fix, prevent).
type changeFlags struct {
	apply    bool
	yes      bool
	auditLog string
}

const defaultAuditLog = "vigil-audit.jsonl"

// addChangeFlags adds --apply, --yes and --audit-log; what says what
// --apply does.
func addChangeFlags(f *pflag.FlagSet, c *changeFlags, what string) {
	c.auditLog = defaultAuditLog
	f.BoolVar(&c.apply, "apply", false, what)
	f.BoolVar(&c.yes, "yes", false, "with --apply: do not ask for confirmation")
	f.StringVar(&c.auditLog, "audit-log", defaultAuditLog, "with --apply: append one JSON line per change to this file (created when the first change is made; the default is in the current directory)")
}

// validate checks, before any AWS call, that a run that would change
// things can ask and log: confirm names what needs the confirmation.
func (c *changeFlags) validate(app *App, changed func(string) bool, confirm string) error {
	if !c.apply && (changed("yes") || changed("audit-log")) {
		return usagef("--yes and --audit-log only apply to --apply")
	}
	if c.apply && !c.yes && !app.interactive() {
		return usagef("%s", confirm)
	}
	return nil
}

// formatFlag is --format with the values a command writes.
type formatFlag struct {
	value string
	names []string
}

// addFormatFlag adds --format, its first name the default.
func addFormatFlag(f *pflag.FlagSet, ff *formatFlag, names ...string) {
	ff.names, ff.value = names, names[0]
	f.StringVar(&ff.value, "format", ff.value, "output format: "+orList(names))
}

// validate is the one --format check: an unknown value is a usage error
// that lists the valid ones.
func (ff *formatFlag) validate() error {
	if !slices.Contains(ff.names, ff.value) {
		return usagef("--format %q: want %s", ff.value, orList(ff.names))
	}
	return nil
}

// orList joins values as "a, b or c".
func orList(v []string) string {
	if len(v) < 2 {
		return strings.Join(v, "")
	}
	return fmt.Sprintf("%s or %s", strings.Join(v[:len(v)-1], ", "), v[len(v)-1])
}
