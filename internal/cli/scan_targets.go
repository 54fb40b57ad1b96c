package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/orgscan"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/targets"
)

// collectTargets scans several profiles (--profile repeated) or the
// profiles and roles of a targets file, each account once.
func collectTargets(ctx context.Context, app *App, o scanOptions) (*snapshot.Document, error) {
	var list []targets.Target
	src := snapshot.Source{Kind: snapshot.SourceAWS}
	if o.multi.targets != "" {
		f, err := targets.Load(o.multi.targets)
		if err != nil {
			return nil, err
		}
		list = f.Targets
		src.Detail = fmt.Sprintf("targets file %s (%d targets)", o.multi.targets, len(list))
	} else {
		for _, p := range o.profiles {
			list = append(list, targets.Target{Profile: p})
		}
		src.Detail = "profiles " + strings.Join(o.profiles, ", ")
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
			region = o.region
		}
		key := profile + "\x00" + region
		if l, ok := configs[key]; ok {
			return l.cfg, l.err
		}
		cfg, err := collect.LoadConfig(ctx, collect.ConfigOptions{Profile: profile, Region: region, RetryMode: o.retryMode, MaxAttempts: o.maxAttempts})
		configs[key] = loaded{cfg, err}
		return cfg, err
	}
	var run []orgscan.Target
	for _, t := range list {
		ot := orgscan.Target{Label: t.Label(), Name: t.Name, RoleARN: t.RoleARN,
			Role: orgscan.Role{ExternalID: t.ExternalID, SessionName: t.SessionName}}
		profile := t.Profile
		if t.RoleARN != "" {
			profile = t.SourceProfile
			ot.Profile = t.SourceProfile
		} else {
			ot.Profile = t.Profile
		}
		ot.Config, ot.ConfigErr = load(profile, t.Region)
		if ot.ConfigErr != nil && o.multi.targets != "" {
			ot.ConfigErr = fmt.Errorf("%s:%d: %w", o.multi.targets, t.Line, ot.ConfigErr)
		}
		run = append(run, ot)
	}

	opts := orgscan.TargetOptions{Parallel: o.multi.parallel, AccountTimeout: o.multi.accountTimeout, Now: app.now}
	opts.Collect = collect.DefaultOptions()
	opts.Collect.Now = app.now
	opts.Collect.ReportWait = o.reportTimeout
	if !o.multi.quiet && app.IsTerminal(app.Stderr) {
		bar := newProgress(app.Stderr)
		app.logs.attach(bar)
		defer func() { app.logs.attach(nil); bar.stop() }()
		opts.Progress = bar
	}
	doc := orgscan.RunTargets(ctx, run, opts)
	doc.ToolVersion, doc.Source = app.Version, src
	return doc, nil
}
