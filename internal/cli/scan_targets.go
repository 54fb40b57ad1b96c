package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/targets"
)

// collectTargets scans several profiles (--profile repeated) or the
// profiles and roles of a targets file, each account once.
func collectTargets(ctx context.Context, app *App, o scanOptions) (*snapshot.Document, error) {
	run, detail, err := loadTargets(ctx, targetSource{profiles: o.profiles, file: o.multi.targets, region: o.region, retryMode: o.retryMode, maxAttempts: o.maxAttempts, maxInput: o.maxInput,
		limit: func(cfg *aws.Config) { limitCalls(app, cfg, o.callTimeout) }})
	if err != nil {
		return nil, err
	}
	src := snapshot.Source{Kind: snapshot.SourceAWS, Detail: detail}

	opts := fleet.TargetOptions{Parallel: o.multi.parallel, AccountTimeout: o.multi.accountTimeout, Now: app.now, Clock: app.clock()}
	opts.Collect = collect.DefaultOptions()
	opts.Collect.Now = app.now
	opts.Collect.ReportWait = o.reportTimeout
	defer startProgress(app, o.multi.quiet, &opts.Progress)()
	doc := fleet.ScanTargets(ctx, run, opts)
	doc.ToolVersion, doc.Source = app.Version, src
	return doc, nil
}

// targetSource is where a multi-target run's targets come from: repeated
// --profile flags or a targets file, with the settings every profile is
// loaded with.
type targetSource struct {
	profiles    []string
	file        string
	region      string
	retryMode   string
	maxAttempts int
	maxInput    int64 // the size limit of the targets file
	// limit bounds the calls of each loaded configuration (limitCalls).
	limit func(*aws.Config)
}

// loadTargets turns the profiles or the targets file into targets, and
// says which for the report.
func loadTargets(ctx context.Context, ts targetSource) ([]fleet.Target, string, error) {
	var list []targets.Target
	var detail string
	if ts.file != "" {
		f, err := targets.LoadLimit(ts.file, ts.maxInput)
		if err != nil {
			return nil, "", err
		}
		list = f.Targets
		detail = fmt.Sprintf("targets file %s (%d targets)", ts.file, len(list))
	} else {
		for _, p := range ts.profiles {
			list = append(list, targets.Target{Profile: p})
		}
		detail = "profiles " + strings.Join(ts.profiles, ", ")
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
			region = ts.region
		}
		key := profile + "\x00" + region
		if l, ok := configs[key]; ok {
			return l.cfg, l.err
		}
		cfg, err := collect.LoadConfig(ctx, collect.ConfigOptions{Profile: profile, Region: region, RetryMode: ts.retryMode, MaxAttempts: ts.maxAttempts})
		if err == nil && ts.limit != nil {
			ts.limit(&cfg)
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
		if ot.ConfigErr != nil && ts.file != "" {
			ot.ConfigErr = fmt.Errorf("%s:%d: %w", ts.file, t.Line, ot.ConfigErr)
		}
		run = append(run, ot)
	}
	return run, detail, nil
}
