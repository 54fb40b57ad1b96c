package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/vigil-sec/vigil/internal/awsenv"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/notify/channels"
	"github.com/vigil-sec/vigil/internal/serveconfig"
	"github.com/vigil-sec/vigil/internal/server"
	"github.com/vigil-sec/vigil/internal/store"
)

// fromConfig is what a serve config gives the service.
type fromConfig struct {
	schedules []server.Schedule
	channels  map[string]server.Channel
	autoFix   []server.AutoFix
	retention time.Duration
	events    *server.Events
	listen    string
	publicURL string
	database  string
	closers   []func()
}

func (f *fromConfig) close() {
	for _, c := range f.closers {
		c()
	}
}

// readServeConfig reads the serve configuration at path with the app's
// environment; its mistakes are usage errors with file, line and column.
func readServeConfig(app *App, path string) (*serveconfig.Config, error) {
	env := serveconfig.OSEnv()
	env.Getenv = app.Getenv
	cfg, err := serveconfig.Load(path, env)
	if err != nil {
		var es serveconfig.Errors
		if errors.As(err, &es) {
			return nil, usageError{err}
		}
		return nil, usagef("--config: %v", err)
	}
	return cfg, nil
}

// loadServeConfig reads --config and opens what it names: the sign-in of
// each schedule and each alert channel. Mistakes are usage errors with
// the file, line and column.
func loadServeConfig(ctx context.Context, app *App, o *serveOptions, clk clock.Clock) (*fromConfig, error) {
	cfg, err := readServeConfig(app, o.store.config)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		slog.Warn(w.Error())
	}
	out := &fromConfig{retention: cfg.Retention.Results, listen: cfg.Listen, publicURL: cfg.PublicURL, database: cfg.Database}
	for _, sc := range cfg.Schedules {
		req := o.aws.request(app, awsenv.DemoNever, sc.Scan.TargetsFile, input.DefaultMaxSize)
		req.Profiles = sc.Scan.AllProfiles()
		e, err := awsenv.Open(ctx, req)
		if err != nil {
			out.close()
			return nil, fmt.Errorf("%s: schedule %q: %w", sc.Pos, sc.Name, err)
		}
		out.closers = append(out.closers, e.Close)
		s := server.Schedule{Name: sc.Name, Every: sc.Every, Cron: sc.Cron, When: sc, Org: sc.Scan.Org, Config: e.Config, Targets: e.Targets, Source: e.Source}
		if sc.Scan.Org {
			s.Options = fleet.Options{Mode: fleet.ModeRole, OUs: sc.Scan.OUs, Accounts: sc.Scan.Accounts, Exclude: sc.Scan.Exclude,
				Parallel: sc.Scan.Parallel, AccountTimeout: sc.Scan.AccountTimeout,
				Role: fleet.Role{Name: fleet.DefaultRoleName, SessionName: fleet.DefaultSessionName, Duration: fleet.DefaultRoleDuration}}
			if sc.Scan.Role != "" {
				s.Options.Role.Name = sc.Scan.Role
			}
			if sc.Scan.AssumeRoot {
				s.Options.Mode = fleet.ModeRoot
				s.Options.RoleForManagement = sc.Scan.Role != ""
			}
			if err := s.Options.Validate(); err != nil {
				out.close()
				return nil, usagef("%s: schedule %q: %v", sc.Pos, sc.Name, err)
			}
		} else if e.Targets != nil {
			s.TargetOptions = fleet.TargetOptions{Parallel: sc.Scan.Parallel, AccountTimeout: sc.Scan.AccountTimeout}
		}
		out.schedules = append(out.schedules, s)
	}
	chans, err := openAlertChannels(ctx, app, cfg, &o.aws, clk, &out.closers)
	if err != nil {
		out.close()
		return nil, err
	}
	out.channels = chans
	if ev := cfg.Events; ev != nil {
		req := o.aws.request(app, awsenv.DemoNever, "", input.DefaultMaxSize)
		req.Profiles = nil
		if ev.Profile != "" {
			req.Profiles = []string{ev.Profile}
		}
		if ev.Region != "" {
			req.Region = ev.Region
		}
		e, err := awsenv.Open(ctx, req)
		if err != nil {
			out.close()
			return nil, fmt.Errorf("%s: events: %w", ev.Pos, err)
		}
		out.closers = append(out.closers, e.Close)
		out.events = &server.Events{QueueURL: ev.QueueURL, Client: sqs.NewFromConfig(e.Config), Pollers: ev.Pollers,
			Visibility: ev.Visibility, Rescan: ev.Rescan}
	}
	for _, a := range cfg.AutoFix {
		out.autoFix = append(out.autoFix, server.AutoFix{Rule: a.Rule, Accounts: a.Accounts, OUs: a.OUs, Apply: a.Mode == serveconfig.ModeApply, MinIdle: a.MinIdle})
	}
	return out, nil
}

// openAlertChannels opens the alert channels of a configuration, each
// with the route the store's outbox sends it by. SNS channels sign in
// as the AWS flags say; what they open is closed by the closers added.
func openAlertChannels(ctx context.Context, app *App, cfg *serveconfig.Config, af *awsFlags, clk clock.Clock, closers *[]func()) (map[string]server.Channel, error) {
	chans, err := channels.Open(ctx, cfg, channels.Deps{
		Clock: clk, UserAgent: "vigil/" + app.Version,
		AWSConfig: func(ctx context.Context, region, profile string) (aws.Config, error) {
			req := af.request(app, awsenv.DemoNever, "", input.DefaultMaxSize)
			req.Profiles = nil
			if profile != "" {
				req.Profiles = []string{profile}
			}
			if region != "" {
				req.Region = region
			}
			e, err := awsenv.Open(ctx, req)
			if err != nil {
				return aws.Config{}, err
			}
			*closers = append(*closers, e.Close)
			return e.Config, nil
		},
	})
	if err != nil {
		return nil, err
	}
	out := map[string]server.Channel{}
	for _, c := range chans {
		r := store.Route{Channel: c.Name, MinSeverity: int(c.Filter.MinSeverity)}
		for _, t := range c.Filter.On {
			r.Kinds = append(r.Kinds, lifecycle.Kind(t))
		}
		if len(r.Kinds) == 0 {
			r.Kinds = lifecycle.Kinds
		}
		out[c.Name] = server.Channel{Route: r, Sender: c.Sender,
			RootActivity: len(c.Filter.On) == 0 || slices.Contains(c.Filter.On, notify.RootActivity)}
	}
	return out, nil
}
