// Package awsenv decides which identities a run signs in with: the AWS
// credential chain (a profile, the environment, SSO, instance and
// container roles), several profiles, the profiles and roles of a targets
// file, or the built-in demo organisation. Every command that calls AWS
// (scan, fix, prevent, and the server's schedules) gets its
// configurations here, so that --profile, --region, --targets and --demo
// mean the same thing everywhere and every configuration is bounded in
// time the same way.
package awsenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/demo"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/redact"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/targets"
)

// Demo says when the built-in demo organisation stands in for AWS.
type Demo int

const (
	// DemoNever: always AWS, through the credential chain.
	DemoNever Demo = iota
	// DemoAlways: the demo, whatever credentials are configured.
	DemoAlways
	// DemoAuto: the demo only when no credentials or region are
	// configured and no profile was named (a named profile that fails is
	// an error, never quietly the demo).
	DemoAuto
)

// ParseDemo reads a --demo value: always, never or auto.
func ParseDemo(s string) (Demo, error) {
	switch s {
	case "always":
		return DemoAlways, nil
	case "never":
		return DemoNever, nil
	case "auto":
		return DemoAuto, nil
	}
	return DemoNever, fmt.Errorf("%q: want always, never or auto", s)
}

func (d Demo) String() string {
	switch d {
	case DemoAlways:
		return "always"
	case DemoAuto:
		return "auto"
	}
	return "never"
}

// Request says how a run signs in.
type Request struct {
	// Profiles are the shared-config profiles named on the command line;
	// several make a run over targets.
	Profiles []string
	// TargetsFile lists profiles and roles (package targets); MaxInput
	// bounds its size.
	TargetsFile string
	MaxInput    int64
	// Region, RetryMode and MaxAttempts override the SDK's settings.
	Region      string
	RetryMode   string
	MaxAttempts int
	Demo        Demo
	// CallTimeout bounds each attempt of every AWS call
	// (collect.LimitCalls), on Clock.
	CallTimeout time.Duration
	Clock       clock.Clock
	// Getenv reads the environment (AWS_PROFILE); os.Getenv in the
	// product.
	Getenv func(string) string
}

// Env is what a run signs in with. Close it when the run is over (it
// stops the demo's emulator).
type Env struct {
	// Config signs as one identity: the credential chain's, a profile's
	// or the demo's auditor. Unset when Targets is set.
	Config aws.Config
	// Targets are the accounts of several profiles or of a targets file.
	Targets []fleet.Target
	// Source describes the identities for a report's header.
	Source snapshot.Source
	// Demo is set when the built-in demo stands in for AWS; FellBack,
	// with --demo=auto, says why (no credentials or no region).
	Demo     bool
	FellBack error
	close    func()
}

// Close releases what the environment holds.
func (e *Env) Close() {
	if e != nil && e.close != nil {
		e.close()
	}
}

// Several reports whether the run is over targets rather than one
// identity.
func (r Request) Several() bool { return r.TargetsFile != "" || len(r.Profiles) > 1 }

// Open resolves the request: the targets of several profiles or a file,
// or one configuration, which must hold credentials (the demo's, with
// DemoAlways, or when DemoAuto finds none).
func Open(ctx context.Context, r Request) (*Env, error) {
	if r.Clock == nil {
		r.Clock = clock.Wall{}
	}
	if r.Getenv == nil {
		r.Getenv = func(string) string { return "" }
	}
	if r.Several() {
		if r.Demo == DemoAlways {
			return nil, errors.New("the built-in demo is one organisation; it cannot be combined with --targets or several --profile")
		}
		list, detail, err := loadTargets(ctx, r)
		if err != nil {
			return nil, err
		}
		return &Env{Targets: list, Source: snapshot.Source{Kind: snapshot.SourceAWS, Detail: detail}}, nil
	}
	profile := ""
	if len(r.Profiles) == 1 {
		profile = r.Profiles[0]
	}
	src := snapshot.Source{Kind: snapshot.SourceAWS}
	switch {
	case profile != "":
		src.Detail = "profile " + profile
	case r.Getenv("AWS_PROFILE") != "":
		src.Detail = "profile " + r.Getenv("AWS_PROFILE")
	}
	if r.Demo != DemoAlways {
		cfg, err := LoadConfig(ctx, ConfigOptions{Profile: profile, Region: r.Region, RetryMode: r.RetryMode, MaxAttempts: r.MaxAttempts})
		var credErr error
		if err == nil {
			credErr = haveCredentials(ctx, r, cfg)
		}
		// A named profile is a clear choice of a real account: it never
		// falls back to the demo.
		named := profile != "" || r.Getenv("AWS_PROFILE") != ""
		switch {
		case r.Demo == DemoAuto && (credErr != nil || errors.Is(err, ErrNoRegion)) && !named:
			env, derr := startDemo(r)
			if derr != nil {
				return nil, derr
			}
			env.FellBack = errors.Join(err, credErr)
			slog.Info("no AWS credentials found; using the built-in demo", "reason", redact.Text(env.FellBack.Error()))
			return env, nil
		case err != nil:
			return nil, err
		case credErr != nil:
			return nil, credErr
		}
		r.limit(&cfg)
		return &Env{Config: cfg, Source: src}, nil
	}
	return startDemo(r)
}

// startDemo starts the built-in demo organisation, dated at the run's
// clock.
func startDemo(r Request) (*Env, error) {
	d, err := demo.Start(r.Clock.Now())
	if err != nil {
		return nil, fmt.Errorf("start the demo: %w", err)
	}
	cfg := d.Config
	r.limit(&cfg)
	return &Env{Config: cfg, Demo: true, Source: snapshot.Source{Kind: snapshot.SourceDemo, Detail: d.Description}, close: d.Stop}, nil
}

// limit bounds every call made with cfg: each attempt by the call
// timeout, on the run's clock, with a warning naming a call that stalls.
func (r Request) limit(cfg *aws.Config) {
	collect.LimitCalls(cfg, collect.CallLimits{Timeout: r.CallTimeout, StallWarning: collect.DefaultStallWarning, Clock: r.Clock})
}

// haveCredentials checks the credential chain within the call timeout:
// an SSO or container endpoint that never answers must not hang the run
// before its first call either.
func haveCredentials(ctx context.Context, r Request, cfg aws.Config) error {
	ctx, cancel := clock.Within(r.Clock, ctx, r.CallTimeout)
	defer cancel()
	return HaveCredentials(ctx, cfg)
}

// loadTargets turns several profiles or a targets file into targets, and
// says which for the report.
func loadTargets(ctx context.Context, r Request) ([]fleet.Target, string, error) {
	var list []targets.Target
	var detail string
	if r.TargetsFile != "" {
		f, err := targets.LoadLimit(r.TargetsFile, r.MaxInput)
		if err != nil {
			return nil, "", err
		}
		list = f.Targets
		detail = fmt.Sprintf("targets file %s (%d targets)", r.TargetsFile, len(list))
	} else {
		for _, p := range r.Profiles {
			list = append(list, targets.Target{Profile: p})
		}
		detail = "profiles " + strings.Join(r.Profiles, ", ")
	}

	// Each profile is loaded once, whether it is a target or the source
	// of a role; a profile that cannot be loaded fails its targets only.
	type loaded struct {
		cfg aws.Config
		err error
	}
	configs := map[string]loaded{}
	load := func(profile, region string) (aws.Config, error) {
		if region == "" {
			region = r.Region
		}
		key := profile + "\x00" + region
		if l, ok := configs[key]; ok {
			return l.cfg, l.err
		}
		cfg, err := LoadConfig(ctx, ConfigOptions{Profile: profile, Region: region, RetryMode: r.RetryMode, MaxAttempts: r.MaxAttempts})
		if err == nil {
			r.limit(&cfg)
		}
		configs[key] = loaded{cfg, err}
		return cfg, err
	}
	var run []fleet.Target
	for _, t := range list {
		ot := fleet.Target{Label: t.Label(), Name: t.Name, RoleARN: t.RoleARN,
			Role: fleet.Role{ExternalID: t.ExternalID, SessionName: t.SessionName}}
		profile := t.Profile
		if t.RoleARN != "" {
			profile = t.SourceProfile
			ot.Profile = t.SourceProfile
		} else {
			ot.Profile = t.Profile
		}
		ot.Config, ot.ConfigErr = load(profile, t.Region)
		if ot.ConfigErr != nil && r.TargetsFile != "" {
			ot.ConfigErr = fmt.Errorf("%s:%d: %w", r.TargetsFile, t.Line, ot.ConfigErr)
		}
		run = append(run, ot)
	}
	return run, detail, nil
}
