package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/awsenv"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/demo"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/notify/channels"
	"github.com/vigil-sec/vigil/internal/notify/webhook"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/serveconfig"
	"github.com/vigil-sec/vigil/internal/server"
	"github.com/vigil-sec/vigil/internal/store"
)

type serveOptions struct {
	store     storeFlags
	aws       awsFlags
	scope     scopeFlags
	org       orgFlags
	listen    string
	publicURL string
	demo      bool
	every     time.Duration
	cron      string
	retention time.Duration
	webhook   string
	secretEnv string
	evQueue   string
	alertOn   []string
	minSev    string
	workers   int
	rescue    time.Duration
	stopAfter time.Duration
	cpuProf   string
	heapProf  string
	rule      rule.Options
	example   bool
	fixRules  []string
	fixMode   string
	fixAccts  []string
	fixOUs    []string
	minIdle   time.Duration
	auditLog  string
	insecure  bool
	tlsCert   string
	tlsKey    string
}

func newServeCommand(app *App) *cobra.Command {
	o := serveOptions{listen: "127.0.0.1:8080", every: time.Hour, retention: 90 * 24 * time.Hour, rule: rule.DefaultOptions(),
		alertOn: []string{"new", "regressed", "resolved", "suppression_expired", "fixed", "root_activity"}, minSev: "info"}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Keep watching: scheduled scans, finding history, alerts",
		Long: `Run Vigil as a service: scan on a schedule (an interval or a cron expression),
keep every finding's history in the store (new, resolved, regressed, gone),
and alert on transitions. An organisation scan runs one job per account, so a
crash resumes with the accounts not done yet. /healthz and /readyz answer on
the listen address (loopback by default). SIGTERM stops it gracefully.

--demo watches the built-in demo organisation on a fast schedule.`,
		Example: `  vigil serve --demo
  vigil serve --org --assume-root --every 1h --db /var/lib/vigil/vigil.db \
      --webhook https://hooks.example.com/vigil --webhook-secret-env VIGIL_WEBHOOK_SECRET
  vigil serve --profile prod --cron "*/15 * * * *"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), app, o, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	addStoreFlags(f, &o.store, "the store (default vigil.db; vigil-demo.db with --demo)")
	addAWSFlags(f, &o.aws, true)
	f.Lookup("demo").Usage = "watch the built-in demo organisation, scanned every 10s (with --every, as often as it says)"
	f.Lookup("config").Usage = "the service's configuration file (vigil serve --example-config prints one); --db and --listen override it"
	addScopeFlags(f, &o.scope, "scanned")
	addOrgFlags(f, &o.org)
	f.StringVar(&o.listen, "listen", o.listen, "address of the dashboard, the API (/api/v1), /healthz and /readyz")
	f.StringVar(&o.publicURL, "public-url", "", "the dashboard's address as alert readers reach it (https://vigil.example.com): each alerted finding links to its page")
	f.BoolVar(&o.insecure, "insecure-http", false, "allow a --listen address that is not loopback without TLS (behind a TLS-terminating proxy)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate chain (reloaded when the file changes); needs --tls-key")
	f.StringVar(&o.tlsKey, "tls-key", "", "the PEM private key of --tls-cert")
	f.Var(newDuration(&o.every, bounds{min: time.Second, max: 366 * 24 * time.Hour}), "every", "scan this often (1s to 366d; below 1m warns)")
	f.StringVar(&o.cron, "cron", "", "scan on this cron schedule instead (five fields, UTC), e.g. \"0 * * * *\"")
	f.Var(newDuration(&o.retention, bounds{min: time.Hour, max: 10 * 366 * 24 * time.Hour}), "retention", "keep each scan's results this long (findings and their history are kept for good)")
	f.StringVar(&o.webhook, "webhook", "", "post alerts to this URL (the signed JSON body of docs/webhook.md)")
	f.StringVar(&o.secretEnv, "webhook-secret-env", "", "the environment variable holding the webhook's HMAC secret (never the secret itself)")
	f.StringSliceVar(&o.alertOn, "alert-on", o.alertOn, "transitions to alert on: new, regressed, resolved, gone, suppression_expired, fixed, root_activity (an event of --events-queue)")
	f.StringVar(&o.evQueue, "events-queue", "", "read the organisation's root events from this SQS queue (vigil prevent makes it; docs/events.md): root_activity alerts in seconds and a re-scan of the account")
	f.StringVar(&o.minSev, "alert-min-severity", o.minSev, "alert only on findings at or above this severity")
	f.IntVar(&o.workers, "workers", 8, "jobs run at once (accounts scanned, alerts sent)")
	f.Var(newDuration(&o.rescue, bounds{min: time.Second, max: 24 * time.Hour}), "rescue-after", "hand a job that has run this long to another worker (default: the account deadline plus 2m)")
	f.Lookup("rescue-after").Hidden = true
	f.StringVar(&o.cpuProf, "cpu-profile", "", "write a CPU profile of the service to this file until it stops (for the team benchmark)")
	f.Lookup("cpu-profile").Hidden = true
	f.StringVar(&o.heapProf, "heap-profile", "", "keep in this file the heap profile taken at the service's largest live heap (for the memory benchmark)")
	f.Lookup("heap-profile").Hidden = true
	f.StringSliceVar(&o.fixRules, "auto-fix", nil, "fix findings of these rules as soon as they open (root-access-key, root-signing-certificate), through vigil fix and its guard; never in the management account")
	f.StringVar(&o.fixMode, "auto-fix-mode", "plan", "plan (record and alert what vigil fix would do) or apply (make the change)")
	f.StringSliceVar(&o.fixAccts, "auto-fix-account", nil, "only in these accounts (default: every account the schedule scans)")
	f.StringSliceVar(&o.fixOUs, "auto-fix-ou", nil, "only in accounts under these OU paths")
	o.minIdle = 30 * 24 * time.Hour
	f.Var(newDuration(&o.minIdle, bounds{min: 0, max: 10 * 366 * 24 * time.Hour}), "min-idle", "the fix guard: refuse an access key used more recently than this (unknown use is always refused)")
	f.StringVar(&o.auditLog, "audit-log", "", "append every automatic change here (required with --auto-fix-mode apply)")
	f.BoolVar(&o.example, "example-config", false, "print a complete, commented configuration file and exit")
	o.stopAfter = 30 * time.Second
	f.Var(newDuration(&o.stopAfter, bounds{min: time.Second, max: time.Hour}), "stop-timeout", "on SIGTERM, how long running jobs may finish before they are handed back")
	return cmd
}

// serveClock is the service's clock: the wall clock, or, when
// SOURCE_DATE_EPOCH pins the time (tests), a clock that starts there and
// runs in real time, since a service whose time never moves cannot tell
// how long a finding stayed open.
func serveClock(app *App) clock.Clock {
	if app.Getenv(clock.SourceDateEpoch) == "" {
		return clock.Wall{}
	}
	start, began := app.now(), time.Now()
	return clock.Func(func() time.Time { return start.Add(time.Since(began)) })
}

// serveGCPercent is vigil serve's GOGC unless the environment sets one.
const serveGCPercent = 200

// serveMemoryLimit is vigil serve's soft memory limit unless GOMEMLIMIT is
// set: under it, GOGC 200 saves CPU; near it the collector runs as often
// as it must, so the higher GOGC never takes the service past the 200 MB
// resident it is sized for (5,000 accounts peak near 130 MiB at GOGC 100).
const serveMemoryLimit = 160 << 20

func runServe(ctx context.Context, app *App, o serveOptions, changed func(string) bool) error {
	if o.example {
		_, err := io.WriteString(app.Stdout, serveconfig.ExampleConfig)
		return err
	}
	// The runtime reads GOGC from the process's own environment.
	if os.Getenv("GOGC") == "" {
		// The service's live heap is small (13 MB in a team benchmark's
		// tick) and its account jobs allocate fast (the AWS SDK):
		// collecting at twice the live heap was 12% of a replica's CPU in
		// its profile, and at three times a replica spent a tenth less CPU
		// per account, for a peak heap one live heap larger. GOGC set in
		// the environment still decides.
		debug.SetGCPercent(serveGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
	if o.cpuProf != "" {
		stop, err := startCPUProfile(o.cpuProf)
		if err != nil {
			return err
		}
		defer stop()
	}
	if o.heapProf != "" {
		stop, err := startHeapProfile(ctx, o.heapProf)
		if err != nil {
			return err
		}
		defer stop()
	}
	o.demo = changed("demo") && o.aws.demo != "never"
	if o.demo {
		o.aws.demo = "never"
	}
	if _, err := o.aws.validate(func(n string) bool { return n != "demo" && changed(n) }); err != nil {
		return err
	}
	if err := o.org.validate(&o.scope, &o.aws, changed); err != nil {
		return err
	}
	if o.cron != "" && changed("every") {
		return usagef("--every and --cron cannot be combined")
	}
	if o.demo && !changed("every") && o.cron == "" {
		o.every = 10 * time.Second
	}
	minSev, err := rule.ParseSeverity(o.minSev)
	if err != nil {
		return usagef("--alert-min-severity: %v", err)
	}
	var kinds []lifecycle.Kind
	rootActivity := false
	for _, k := range o.alertOn {
		if k == string(notify.RootActivity) {
			rootActivity = true
			continue
		}
		if !validKind(lifecycle.Kind(k)) {
			return usagef("--alert-on %s: want some of %s", input.Quote(k), kindList())
		}
		kinds = append(kinds, lifecycle.Kind(k))
	}
	if o.secretEnv != "" && o.webhook == "" {
		return usagef("--webhook-secret-env signs --webhook's alerts; name the webhook")
	}
	if o.evQueue != "" {
		if err := serveconfig.CheckQueueURL(o.evQueue); err != nil {
			return usagef("--events-queue: %v", err)
		}
		if o.demo {
			return usagef("--events-queue: the demo organisation has no root events queue")
		}
	}
	var secret []byte
	if o.secretEnv != "" {
		v := app.Getenv(o.secretEnv)
		if v == "" {
			return usagef("--webhook-secret-env %s: the variable is empty or unset", o.secretEnv)
		}
		secret = []byte(v)
	}
	if o.demo && o.store.db == "" && o.store.config == "" {
		o.store.db = "vigil-demo.db"
	}
	clk := serveClock(app)
	var fc *fromConfig
	if o.store.config != "" {
		if o.demo {
			return usagef("--demo watches the built-in organisation; it takes no --config")
		}
		for _, name := range []string{"org", "every", "cron", "webhook", "webhook-secret-env", "events-queue", "alert-on", "alert-min-severity", "auto-fix", "auto-fix-mode", "auto-fix-account", "auto-fix-ou", "min-idle", "profile", "targets", "assume-root", "role", "ou", "accounts", "exclude", "retention"} {
			if changed(name) {
				return usagef("--%s: with --config the schedules, alerts and fixes come from the config file", name)
			}
		}
		var err error
		fc, err = loadServeConfig(ctx, app, &o, clk)
		if err != nil {
			return err
		}
		defer fc.close()
		if !changed("listen") && fc.listen != "" {
			o.listen = fc.listen
		}
		if !changed("public-url") {
			o.publicURL = fc.publicURL
		}
		if o.store.db == "" {
			o.store.db = databaseFromEnv()
		}
		if o.store.db == "" {
			o.store.db = fc.database
		}
		if o.store.db == "" {
			o.store.db = defaultDB
		}
		o.store.config = ""
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together: the certificate chain and its private key")
	}
	if o.tlsCert != "" {
		// Checked before any scan starts, naming the file at fault.
		if _, err := server.LoadCertificate(o.tlsCert, o.tlsKey); err != nil {
			return err
		}
	}
	if changed("public-url") {
		if why := serveconfig.PublicURLProblem(o.publicURL); why != "" {
			return usagef("--public-url %q %s", o.publicURL, why)
		}
	}
	if !o.example && !serveconfig.LoopbackListen(o.listen) && !o.insecure && o.tlsCert == "" {
		where := "--listen"
		if !changed("listen") && o.store.config != "" {
			where = "listen in " + o.store.config
		}
		return usagef("%s", serveconfig.NonLoopbackListen(where, o.listen))
	}
	logger := slog.Default()
	if o.every < time.Minute && o.cron == "" && !o.demo && o.store.config == "" {
		logger.Warn("scanning more often than once a minute", "every", o.every)
	}

	sch := server.Schedule{Name: "default", Every: o.every, Cron: o.cron}
	var env *awsenv.Env
	var demoURL string
	switch {
	case fc != nil:
	case o.demo:
		d, err := demo.Start(clk.Now())
		if err != nil {
			return fmt.Errorf("start the demo organisation: %w", err)
		}
		defer d.Stop()
		demoURL = d.Server.URL()
		sch.Name, sch.Org, sch.Config = "demo", true, d.Config
		sch.Options = fleet.Options{Mode: fleet.ModeRole, Role: fleet.Role{Name: fleet.DefaultRoleName, SessionName: fleet.DefaultSessionName, Duration: fleet.DefaultRoleDuration}}
		if err := sch.Options.Validate(); err != nil {
			return err
		}
	default:
		env, err = awsenv.Open(ctx, o.aws.request(app, awsenv.DemoNever, o.scope.targets, input.DefaultMaxSize))
		if err != nil {
			return inputError(err)
		}
		defer env.Close()
		sch.Config, sch.Targets, sch.Source = env.Config, env.Targets, env.Source
		if o.scope.org {
			sch.Org = true
			sch.Options = o.org.options(&o.scope)
			if err := sch.Options.Validate(); err != nil {
				return usagef("%v", err)
			}
		} else if env.Targets != nil {
			sch.TargetOptions = o.scope.targetOptions()
		}
	}

	st, err := openStore(ctx, &o.store, true)
	if err != nil {
		return err
	}
	defer st.Close()
	var policies []server.AutoFix
	for _, r := range o.fixRules {
		if r != "root-access-key" && r != "root-signing-certificate" {
			return usagef("--auto-fix %s: the fix engine removes root-access-key and root-signing-certificate findings", input.Quote(r))
		}
		policies = append(policies, server.AutoFix{Rule: r, Accounts: o.fixAccts, OUs: o.fixOUs, Apply: o.fixMode == "apply", MinIdle: o.minIdle})
	}
	if o.fixMode != "plan" && o.fixMode != "apply" {
		return usagef("--auto-fix-mode %s: want plan or apply", input.Quote(o.fixMode))
	}
	var audit *change.AuditLog
	if o.fixMode == "apply" && len(policies) > 0 {
		if o.auditLog == "" {
			return usagef("--auto-fix-mode apply needs --audit-log: every automatic change is recorded")
		}
		audit, err = change.OpenAuditLog(o.auditLog)
		if err != nil {
			return fmt.Errorf("--audit-log: %w", err)
		}
		defer audit.Close()
	}
	chans := map[string]server.Channel{}
	if o.webhook != "" {
		if secret == nil {
			return usagef("--webhook needs --webhook-secret-env: alerts are always signed")
		}
		wh, err := webhook.New(webhook.Config{URL: o.webhook, Secret: secret, Clock: clk, Client: channels.DefaultHTTPClient(), UserAgent: "vigil/" + app.Version})
		if err != nil {
			return usagef("--webhook: %v", err)
		}
		chans["webhook"] = server.Channel{Route: store.Route{Kinds: kinds, MinSeverity: int(minSev)}, Sender: wh, RootActivity: rootActivity}
	}
	schedules := []server.Schedule{sch}
	var evs *server.Events
	if o.evQueue != "" && env != nil {
		// The queue's own region, named by its URL, as the config's
		// sqs_queue_url does.
		qc := env.Config.Copy()
		if r := serveconfig.QueueRegion(o.evQueue); r != "" {
			qc.Region = r
		}
		evs = &server.Events{QueueURL: o.evQueue, Client: sqs.NewFromConfig(qc), Pollers: serveconfig.DefaultPollers,
			Visibility: serveconfig.DefaultVisibility, Rescan: serveconfig.DefaultRescanDebounce}
	}
	if fc != nil {
		schedules, chans, policies, o.retention, evs = fc.schedules, fc.channels, fc.autoFix, fc.retention, fc.events
		for _, p := range policies {
			if p.Apply && audit == nil {
				if o.auditLog == "" && isPostgresURL(st.Path()) {
					return usagef("auto_fix in apply mode on PostgreSQL needs --audit-log: each replica keeps its own audit log file")
				}
				if o.auditLog == "" {
					o.auditLog = st.Path() + ".audit.jsonl"
				}
				audit, err = change.OpenAuditLog(o.auditLog)
				if err != nil {
					return fmt.Errorf("--audit-log: %w", err)
				}
				defer audit.Close()
			}
		}
	}
	cfg := server.Config{
		Listen: o.listen, PublicURL: strings.TrimRight(o.publicURL, "/"), TLSCert: o.tlsCert, TLSKey: o.tlsKey, Schedules: schedules, Channels: chans, Retention: o.retention,
		AutoFix: policies, Audit: audit, Events: evs,
		Rules: o.rule, Version: app.Version, Clock: clk, Logger: logger, Workers: o.workers, RescueAfter: o.rescue, StopTimeout: o.stopAfter,
		Ready: func(addr string) {
			scheme := "http"
			if o.tlsCert != "" {
				scheme = "https"
			}
			fmt.Fprintf(app.Stderr, "vigil: serving on %s://%s (dashboard, /api/v1, healthz, readyz), store %s\n", scheme, addr, st.Path())
			if !o.demo {
				return
			}
			db := st.Path()
			fmt.Fprintf(app.Stdout, `Vigil is watching the demo organisation (emulated at %s), scanning every %s.

  Health:     http://%s/healthz   http://%s/readyz
  Dashboard:  http://%s/   API: http://%s/api/v1/openapi.json
              (sign in with a token: vigil token create --name me --role admin --db %s)
  Findings:   vigil findings --db %s
  History:    vigil findings show ID --db %s
  Scans:      vigil scans --db %s

Try it: delete the management account's root access key in the emulator,
and the next scan resolves its finding:

  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 \
    aws --endpoint-url %s iam delete-access-key --access-key-id %s

Stop with Ctrl-C.
`, demoURL, o.every, addr, addr, addr, addr, db, db, db, db, demo.ManagementRootKey, demoURL, demo.ManagementRootKey)
		},
	}
	return server.Run(ctx, st, cfg)
}

func validKind(k lifecycle.Kind) bool {
	for _, v := range lifecycle.Kinds {
		if v == k {
			return true
		}
	}
	return false
}

func kindList() string {
	var s []string
	for _, k := range lifecycle.Kinds {
		s = append(s, string(k))
	}
	s = append(s, string(notify.RootActivity))
	return strings.Join(s, ", ")
}
