// Package server is `vigil serve`: schedules become periodic River jobs,
// an organisation scan fans out into one job per account (unique per
// account and tick, so a crash resumes with the accounts not done and no
// account is scanned twice in a tick), results go through package record
// into the store, transitions wait in the store's outbox and are
// delivered by jobs with retries and backoff, never blocking a scan. It
// also answers /healthz and /readyz on the listen address.
//
// The job queue is River on the same SQLite file as the store, through
// River's SQLite driver. That driver has no LISTEN/NOTIFY, so workers
// poll for jobs (FetchPollInterval); it cannot take part in the store's
// own transactions either (it holds its own single-connection pool, as
// River asks of SQLite), so the outbox is a table of the store written in
// the transaction of the transitions, and a housekeeping job turns it
// into delivery jobs.
package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/awsenv"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/dashboard"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/record"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/scan"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/store"
)

// Store is what the service needs of the store: all of it. The job
// queue shares its database: a store on SQLite also has QueuePool, one
// on PostgreSQL Pool (queue.go).
type Store interface {
	store.Store
}

// Channel is an alert channel: what it wants (the store's outbox routes
// by it) and how to reach it (package notify's channels).
type Channel struct {
	Route  store.Route
	Sender notify.Sender
	// RootActivity: the channel wants root_activity alerts (events.go).
	RootActivity bool
}

// Schedule is one scheduled scan.
type Schedule struct {
	Name string
	// Every or Cron (standard five fields) say when; When, if set,
	// decides instead (a serveconfig schedule, whose ticks are aligned).
	Every time.Duration
	Cron  string
	When  river.PeriodicSchedule
	// Org scans the organisation Config's caller administers, one job per
	// account; otherwise Config's own account, or Targets.
	Org     bool
	Config  aws.Config
	Targets []fleet.Target
	Source  snapshot.Source
	// Options select and reach the organisation's accounts.
	Options       fleet.Options
	TargetOptions fleet.TargetOptions
}

// whole reports whether the schedule covers every account of its
// organisation, so that one missing from it has left.
func (s *Schedule) whole() bool {
	return s.Org && len(s.Options.OUs) == 0 && len(s.Options.Accounts) == 0 && len(s.Options.Exclude) == 0
}

// Config is the service's configuration.
type Config struct {
	Listen    string
	Schedules []Schedule
	Channels  map[string]Channel
	// Retention is how long per-scan results are kept (findings and
	// transitions are kept for good).
	Retention time.Duration
	Rules     rule.Options
	Version   string
	Clock     clock.Clock
	Logger    *slog.Logger
	// Workers is how many jobs run at once.
	Workers int
	// RescueAfter is how long a job may run before River hands it to
	// another worker (a process killed mid-scan); a little more than an
	// account's deadline. Jobs are cancelled at four fifths of it.
	RescueAfter time.Duration
	// StopTimeout is how long a stop waits for running jobs before
	// cancelling them (they are handed back and resume on the next start).
	StopTimeout time.Duration
	// AutoFix are the automatic fix policies; Audit is the audit log
	// every applied change goes to (required with an apply policy).
	AutoFix []AutoFix
	Audit   *change.AuditLog
	// Ready, when set, is told the address the service listens on.
	Ready func(addr string)

	// Events, when set, is the root-events queue the service consumes
	// (events.go).
	Events *Events

	// TLSCert and TLSKey are PEM files: with them the listener speaks
	// TLS, reloading the pair when the files change (tls.go).
	TLSCert, TLSKey string

	// PublicURL is the dashboard's address as alert readers reach it;
	// each alerted finding links to its page there. Empty: no link.
	PublicURL string

	// Digest is how long a running scan's transitions wait in the
	// outbox for the rest of the scan's, so that one scan's findings
	// reach a channel as one digest rather than split across the
	// housekeeping flushes (every second) its accounts' recordings span.
	// Zero: DefaultDigest.
	Digest store.Hold
}

// DefaultDigest holds a running scan's transitions for at most a minute
// (a scan that stalls or a replica that died mid-tick delays no alert for
// longer) and at most 1,000 of them (a digest is read by a person).
var DefaultDigest = store.Hold{MaxWait: time.Minute, Cap: 1000}

// Server is a running service.
type Server struct {
	cfg    Config
	st     Store
	client jobQueue
	ready  atomic.Bool
	byName map[string]*Schedule
	routes []store.Route
	// orgs are the organisation readings the account jobs of a tick share.
	orgs readings
	// blind are the accounts not scanned before each tick (notscanned.go).
	blind blindAccounts

	lastPrune time.Time
	metrics   *metrics
	// expected is how many accounts each running organisation scan
	// listed (scan ID → int), for its progress in the API.
	expected sync.Map
	// rootAlerts wakes the alert queuer of root events (events.go).
	rootAlerts chan struct{}
	// rescans are the accounts with a re-scan after root activity
	// queued and not started.
	rescans rescans
}

// Run serves until ctx ends, then stops gracefully: running jobs are
// given StopTimeout to finish, then cancelled and handed back.
func Run(ctx context.Context, st Store, cfg Config) error {
	if cfg.Clock == nil {
		cfg.Clock = clock.Wall{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = fleet.DefaultAccountTimeout + 2*time.Minute
	}
	if cfg.Digest.MaxWait <= 0 {
		cfg.Digest = DefaultDigest
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 30 * time.Second
	}
	s := &Server{cfg: cfg, st: st, byName: map[string]*Schedule{}, rootAlerts: make(chan struct{}, 1)}
	s.metrics = newMetrics(s)
	for i := range cfg.Schedules {
		sc := &cfg.Schedules[i]
		shareHTTP(&sc.Config, cfg.Workers)
		awsenv.ObserveInto(&sc.Config, s.metrics.observeAWS)
		for j := range sc.Targets {
			shareHTTP(&sc.Targets[j].Config, cfg.Workers)
			awsenv.ObserveInto(&sc.Targets[j].Config, s.metrics.observeAWS)
		}
		if _, dup := s.byName[sc.Name]; dup {
			return fmt.Errorf("schedule %q is named twice", sc.Name)
		}
		s.byName[sc.Name] = sc
	}
	names := make([]string, 0, len(cfg.Channels))
	for n := range cfg.Channels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := cfg.Channels[n].Route
		r.Channel = n
		s.routes = append(s.routes, r)
	}

	return withQueue(st, func(open func(river.Config) (jobQueue, error), mig queueMigrator) error {
		if err := mig.migrate(ctx, cfg.Logger); err != nil {
			return err
		}
		return s.run(ctx, open)
	})
}

func (s *Server) run(ctx context.Context, open func(river.Config) (jobQueue, error)) error {
	cfg, st := s.cfg, s.st
	workers := river.NewWorkers()
	river.AddWorker(workers, &tickWorker{s: s})
	river.AddWorker(workers, &accountWorker{s: s})
	river.AddWorker(workers, &deliverWorker{s: s})
	river.AddWorker(workers, &houseWorker{s: s})
	river.AddWorker(workers, &fixWorker{s: s})
	river.AddWorker(workers, &rootAlertWorker{s: s})
	river.AddWorker(workers, &rescanWorker{s: s})
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Second), func() (river.JobArgs, *river.InsertOpts) {
			return houseArgs{}, &river.InsertOpts{MaxAttempts: 1}
		}, &river.PeriodicJobOpts{RunOnStart: true}),
	}
	for _, sc := range cfg.Schedules {
		when := sc.When
		switch {
		case when != nil:
		case sc.Cron != "":
			cs, err := cron.ParseStandard(sc.Cron)
			if err != nil {
				return fmt.Errorf("schedule %q: cron %q: %w", sc.Name, sc.Cron, err)
			}
			when = cs
		case sc.Every > 0:
			when = river.PeriodicInterval(sc.Every)
		default:
			return fmt.Errorf("schedule %q: no interval and no cron expression", sc.Name)
		}
		name := sc.Name
		periodic = append(periodic, river.NewPeriodicJob(when, func() (river.JobArgs, *river.InsertOpts) {
			// The tick is fixed in the job's arguments, as it is due now:
			// River moves a job's ScheduledAt when it retries or rescues
			// it, and a tick read from there made a tick job rescued after
			// a crash start a second scan (or skip itself as overlapping
			// the first), leaving the accounts it had not enqueued yet
			// unscanned and the tick running for good.
			t := time.Now().UTC().Truncate(time.Millisecond)
			return tickArgs{Schedule: name, Tick: &t}, &river.InsertOpts{MaxAttempts: 3, ScheduledAt: t}
		}, &river.PeriodicJobOpts{RunOnStart: true, ID: "schedule-" + name}))
	}
	client, err := open(river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		PeriodicJobs:         periodic,
		FetchPollInterval:    100 * time.Millisecond,
		FetchCooldown:        50 * time.Millisecond,
		RescueStuckJobsAfter: cfg.RescueAfter,
		// River rescues only jobs that can time out: a job's deadline is
		// a little less than the time after which it is handed back.
		JobTimeout: cfg.RescueAfter * 4 / 5,
		Logger:     quiet(cfg.Logger),
	})
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	s.client = client

	ln, err := s.listen()
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.routesHTTP(), ReadHeaderTimeout: 10 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()

	// Deliveries flushed before a crash and not yet sent get their job
	// again (unique per delivery, so never twice at once).
	if err := s.requeueDeliveries(ctx); err != nil {
		cfg.Logger.Warn("cannot requeue pending deliveries", "error", err)
	}
	// Root events recorded before a stop whose alerts were not queued.
	if _, err := s.queueRootAlerts(ctx); err != nil {
		cfg.Logger.Warn("cannot requeue pending root activity alerts", "error", err)
	}
	// Every job learns of the AssumeRoot sessions Vigil opens, so that
	// their root events are known as its own (events.go).
	if err := client.Start(fleet.WithRootSessionObserver(ctx, s.ownSession)); err != nil {
		srv.Close()
		return fmt.Errorf("job queue: %w", err)
	}
	waitEvents := s.startEvents(ctx)
	s.ready.Store(true)
	cfg.Logger.Info("vigil serve started", "listen", ln.Addr().String(), "db", dbName(st), "schedules", len(cfg.Schedules), "channels", len(cfg.Channels))
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr().String())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-httpDone:
		runErr = fmt.Errorf("listener: %w", err)
	}
	s.ready.Store(false)
	waitEvents()
	cfg.Logger.Info("stopping: letting running jobs finish", "timeout", cfg.StopTimeout)
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.StopTimeout)
	defer cancel()
	if err := client.Stop(stopCtx); err != nil {
		cfg.Logger.Warn("jobs still running at the stop timeout: cancelled, they resume on the next start", "error", err)
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		client.StopAndCancel(cctx)
		ccancel()
	}
	hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(hctx)
	hcancel()
	cfg.Logger.Info("vigil serve stopped")
	return runErr
}

func dbName(st Store) string {
	if p, ok := st.(interface{ Path() string }); ok {
		return p.Path()
	}
	return ""
}

// quiet is River's logger: its routine chatter at info is noise beside
// Vigil's own log, its warnings are not.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(levelFloor{l.Handler(), slog.LevelWarn})
}

type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(a), h.min}
}

func (h levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(n), h.min}
}

func (s *Server) routesHTTP() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "starting or stopping")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := s.st.Scans(ctx, 1); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "database unavailable")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	fixes := api.AutoFix{Baseline: baselinePolicies(s.cfg.AutoFix), CanApply: s.cfg.Audit != nil}
	api.Mount(mux, api.Config{Store: s.st, Clock: s.cfg.Clock, Logger: s.cfg.Logger, Scheduler: s, AutoFix: fixes})
	mux.Handle("GET /metrics", api.Protect(s.st, s.metrics.handler()))
	dashboard.Mount(mux, dashboard.Config{Store: s.st, Clock: s.cfg.Clock, Logger: s.cfg.Logger, TLS: s.cfg.TLSCert != "", Scheduler: s, AutoFix: fixes})
	return api.Secure(mux)
}

func (s *Server) requeueDeliveries(ctx context.Context) error {
	ds, err := s.st.PendingDeliveries(ctx)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if err := s.enqueueDelivery(ctx, d.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) enqueueDelivery(ctx context.Context, id string) error {
	_, err := s.client.Insert(ctx, deliverArgs{DeliveryID: id}, &river.InsertOpts{MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// tickArgs is one tick of a schedule.
type tickArgs struct {
	Schedule string `json:"schedule"`
	// Tick is the tick the job scans, the same on every attempt. A scan
	// started now (POST /api/v1/scans) is recorded already under it.
	// Jobs queued before it was always set have none: their
	// ScheduledAt is used.
	Tick *time.Time `json:"tick,omitempty"`
}

func (tickArgs) Kind() string { return "vigil_schedule_tick" }

type tickWorker struct {
	river.WorkerDefaults[tickArgs]
	s *Server
}

func (w *tickWorker) Work(ctx context.Context, job *river.Job[tickArgs]) error {
	s := w.s
	sch, ok := s.byName[job.Args.Schedule]
	if !ok {
		return river.JobCancel(fmt.Errorf("schedule %q is no longer configured", job.Args.Schedule))
	}
	log := s.cfg.Logger.With("schedule", sch.Name)
	tick := job.ScheduledAt.UTC()
	if job.Args.Tick != nil {
		tick = job.Args.Tick.UTC()
	}
	if busy, err := s.previousRunning(ctx, sch.Name, tick); err != nil {
		return err
	} else if busy {
		log.Warn("skipping a tick: the previous scan of this schedule is still running", "tick", tick)
		return s.skipStarted(ctx, job.Args, tick)
	}
	now := s.cfg.Clock.Now()
	sc, err := s.st.StartScan(ctx, store.Scan{Schedule: sch.Name, Tick: tick, StartedAt: now, Target: describe(sch)})
	if err != nil {
		return err
	}
	if sc.Outcome != store.Running {
		if sch.Org {
			return nil // each account's job requeues its own fixes
		}
		// The tick ran before and recorded its scan; its fixes may not
		// have been enqueued.
		accts, err := s.st.ScanAccountIDs(ctx, sc.ID)
		if err != nil {
			return err
		}
		for _, a := range accts {
			if err := s.requeueFixes(ctx, sch, sc.ID, a, false); err != nil {
				return err
			}
		}
		return nil
	}
	if !sch.Org {
		return s.scanWhole(ctx, sch, sc, job.Attempt, job.Attempt < job.MaxAttempts)
	}
	// The accounts' jobs are queued page by page as the organisation is
	// listed, so that the replicas start scanning after the first page
	// rather than after the last: at 50 ms a call, listing 2,000 accounts
	// (100 pages, one after another) took 5 s, in which a tick had
	// nothing to do. How many there were is known at the end and recorded
	// in the scan, which is what the account jobs finish the tick by.
	// Unique by account and scan, so a tick job run again adds only what
	// is missing.
	crashPoint("tick-before-enqueue")
	n, err := listAccounts(ctx, sch, func(accounts []string, mgmt string) error {
		ps := make([]river.InsertManyParams, 0, len(accounts))
		for _, a := range accounts {
			ps = append(ps, river.InsertManyParams{Args: accountArgs{Schedule: sch.Name, ScanID: sc.ID, Account: a, Management: a == mgmt},
				InsertOpts: &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}})
		}
		if _, err := s.client.InsertMany(ctx, ps); err != nil {
			return fmt.Errorf("queue the accounts of scan %d: %w", sc.ID, err)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if job.Attempt < job.MaxAttempts {
			// Listed again on the next attempt; the accounts queued so
			// far are not queued twice (unique jobs).
			return fmt.Errorf("schedule %s: %w", sch.Name, err)
		}
		log.Error("cannot list the organisation's accounts", "attempts", job.Attempt, "error", err)
		msg := err.Error()
		if n == 0 {
			// Nothing of the organisation is known this tick: every
			// account the last tick recorded is not scanned, and says so,
			// as when each account's job fails.
			missed, merr := s.missedAccounts(ctx, sch, sc.ID, nil, failedAttempts(job.Attempt, err))
			if merr != nil {
				return merr
			}
			if len(missed) > 0 {
				msg += "; " + partialMessage(missed, len(missed))
			}
		}
		// Accounts queued before the failure are scanned and recorded in
		// this failed scan; the next tick lists the organisation again.
		return s.st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Failed, Message: msg, At: s.cfg.Clock.Now()})
	}
	if n == 0 {
		// --accounts or --exclude left nothing to scan.
		log.Warn("no account of the organisation is selected", "scan", sc.ID)
		return s.st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Complete, Message: "no account selected", At: s.cfg.Clock.Now()})
	}
	s.expected.Store(sc.ID, n)
	if err := s.st.ExpectAccounts(ctx, sc.ID, n); err != nil {
		return err
	}
	log.Info("scan started", "scan", sc.ID, "accounts", n)
	// Every account may have been recorded before the number was known,
	// by jobs that could not tell they were the last.
	return s.maybeFinish(ctx, sch, sc.ID, n)
}

// previousRunning reports whether an earlier tick of the schedule is
// still being scanned: two scans of the same accounts at once would race
// to apply their results.
func (s *Server) previousRunning(ctx context.Context, name string, tick time.Time) (bool, error) {
	scans, err := s.st.Scans(ctx, 50)
	if err != nil {
		return false, err
	}
	// The latest earlier tick that was not itself skipped: a tick skipped
	// while one ran (a new leader's run-on-start tick) is recorded as
	// failed, and judging by it let the tick after it start a second
	// scan beside the running one, whose accounts were then read twice.
	for _, sc := range scans {
		if sc.Schedule == name && sc.Tick.Before(tick) && !(sc.Outcome == store.Failed && sc.Message == skippedMessage) {
			return sc.Outcome == store.Running, nil
		}
	}
	return false, nil
}

func describe(sch *Schedule) string {
	switch {
	case sch.Org:
		return "organisation (schedule " + sch.Name + ")"
	case len(sch.Targets) > 0:
		return fmt.Sprintf("%d targets (schedule %s)", len(sch.Targets), sch.Name)
	}
	return "the credentials' account (schedule " + sch.Name + ")"
}

// scanWhole scans a schedule that is not an organisation in one job.
// Accounts it could not scan get the not-scanned finding, as an
// organisation's accounts do: one it reached but could not read (a role
// that cannot be assumed), and, when the scan failed as a whole
// (credentials refused, the endpoint down) or a target named no account,
// each account the schedule recorded before and did not reach this time.
// A scan that failed as a whole is tried again first (retry), so that a
// passing fault alerts no one.
func (s *Server) scanWhole(ctx context.Context, sch *Schedule, sc store.Scan, attempt int, retry bool) error {
	var n atomic.Int64
	req := scan.Request{Rules: s.cfg.Rules, Clock: s.cfg.Clock, Version: s.cfg.Version, Logger: s.cfg.Logger}
	if len(sch.Targets) > 0 {
		targets := append([]fleet.Target(nil), sch.Targets...)
		for i := range targets {
			awsenv.CountInto(&targets[i].Config, &n)
		}
		req.Source = scan.Targets{Targets: targets, Source: sch.Source, Options: sch.TargetOptions}
	} else {
		cfg := sch.Config
		awsenv.CountInto(&cfg, &n)
		req.Source = scan.Account{Config: cfg, Source: sch.Source}
	}
	res, err := scan.Run(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if retry {
			return fmt.Errorf("schedule %s: %w", sch.Name, err)
		}
		s.cfg.Logger.Error("scan failed", "schedule", sch.Name, "scan", sc.ID, "attempts", attempt, "error", err)
		missed, merr := s.missedAccounts(ctx, sch, sc.ID, nil, failedAttempts(attempt, err))
		if merr != nil {
			return merr
		}
		msg := err.Error()
		if len(missed) > 0 {
			msg += "; " + partialMessage(missed, len(missed))
		}
		return s.st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Failed, Message: msg, Calls: int(n.Load()), At: s.cfg.Clock.Now()})
	}
	now := s.cfg.Clock.Now()
	blind := unreadable(res.Snapshot)
	rep := *res.Report
	rep.Results = slices.Clone(rep.Results)
	var failed, reached []string
	for _, a := range res.Snapshot.Accounts {
		reached = append(reached, a.ID)
		if why, ok := blind[a.ID]; ok {
			s.cfg.Logger.Error("account not scanned; its findings keep their state, marked UNKNOWN", "schedule", sch.Name, "account", a.ID, "error", why)
			rep.Results = append(rep.Results, notScannedResult(a.ID, rule.Fail, why))
			failed = append(failed, a.ID)
			continue
		}
		clear, err := s.clearNotScanned(ctx, sc.ID, a.ID, now)
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, clear...)
	}
	if len(res.Snapshot.Unreached) > 0 {
		// A target whose credentials failed names no account: the ones
		// the schedule saw before and not now are the ones it stands for.
		var why []string
		for _, u := range res.Snapshot.Unreached {
			why = append(why, u.Target+": "+u.Gap.Call+": "+u.Gap.Text())
		}
		slices.Sort(why)
		missed, err := s.missedAccounts(ctx, sch, sc.ID, reached, "the account's target could not be reached: "+notify.OneLine(strings.Join(why, "; ")))
		if err != nil {
			return err
		}
		failed = append(failed, missed...)
	}
	if len(reached) > 0 {
		if err := s.clearStandIn(ctx, sch, sc.ID, now); err != nil {
			return err
		}
	}
	r := record.Request{Scan: sc, Report: &rep, Snapshot: res.Snapshot, Calls: int(n.Load()), Now: now, Finish: true}
	if len(failed) > 0 {
		slices.Sort(failed)
		r.Incomplete = partialMessage(failed, len(reached)+len(failed)-len(blind))
	}
	sum, err := record.Scan(ctx, s.st, r)
	if err != nil {
		return err
	}
	s.scanEnded(ctx, sc.ID)
	if err := s.queueFixes(ctx, sch, &rep, res.Snapshot, sum.Transitions); err != nil {
		return err
	}
	s.cfg.Logger.Info("scan finished", "schedule", sch.Name, "scan", sc.ID, "accounts", sum.Accounts, "transitions", len(sum.Transitions))
	return nil
}

// listAccounts lists the active accounts of the organisation the
// schedule's caller administers, as --accounts and --exclude select them
// (--ou is applied by the account's own scan), handing them to page a
// page of ListAccounts at a time with the management account's ID, and
// returns how many it handed over.
func listAccounts(ctx context.Context, sch *Schedule, page func(accounts []string, mgmt string) error) (int, error) {
	c := organizations.NewFromConfig(sch.Config)
	org, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return 0, fmt.Errorf("organizations:DescribeOrganization: %w", err)
	}
	mgmt := aws.ToString(org.Organization.MasterAccountId)
	only := map[string]bool{}
	for _, a := range sch.Options.Accounts {
		only[a] = true
	}
	skip := map[string]bool{}
	for _, a := range sch.Options.Exclude {
		skip[a] = true
	}
	// An account listed twice (its page read again) is counted once.
	seen := map[string]bool{}
	// 20 a page, Organizations' largest, as fleet asks: the default is
	// the service's to choose.
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return len(seen), fmt.Errorf("organizations:ListAccounts: %w", err)
		}
		var ids []string
		for _, a := range out.Accounts {
			id := aws.ToString(a.Id)
			if string(a.State) != "" && string(a.State) != "ACTIVE" {
				continue
			}
			if skip[id] || (len(only) > 0 && !only[id]) || seen[id] {
				continue
			}
			seen[id] = true
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			continue
		}
		if err := page(ids, mgmt); err != nil {
			return len(seen), err
		}
	}
	return len(seen), nil
}

// accountArgs is one account of one tick of an organisation schedule;
// unique by all three, so re-inserting after a crash adds nothing.
type accountArgs struct {
	Schedule string `json:"schedule" river:"unique"`
	ScanID   int64  `json:"scan_id" river:"unique"`
	Account  string `json:"account" river:"unique"`
	// Expected is how many accounts the tick listed, set by ticks that
	// queued their jobs after listing; 0 in the jobs of a tick that
	// queues them while it lists, which records the number in its scan.
	Expected int `json:"expected,omitempty"`
	// Management: the organisation's management account, whose job also
	// judges the organisation-level rules (their results are its).
	Management bool `json:"management,omitempty"`
}

func (accountArgs) Kind() string { return "vigil_scan_account" }

type accountWorker struct {
	river.WorkerDefaults[accountArgs]
	s *Server
}

func (w *accountWorker) Work(ctx context.Context, job *river.Job[accountArgs]) error {
	s, a := w.s, job.Args
	sch, ok := s.byName[a.Schedule]
	if !ok {
		return river.JobCancel(fmt.Errorf("schedule %q is no longer configured", a.Schedule))
	}
	// Only a job tried before can find its account recorded: jobs are
	// unique per account and tick, and a job handed back (a replica
	// killed, a stop, an error after recording) runs again as a later
	// attempt. The first attempt saves the query, a round trip and a
	// PostgreSQL transaction per account; a recording that races anyway
	// is told apart inside its own transaction (store.Recorded.Already).
	done := false
	if job.Attempt > 1 {
		var err error
		if done, err = s.st.AccountRecorded(ctx, a.ScanID, a.Account); err != nil {
			return err
		}
	}
	if done {
		// Recorded by an attempt that stopped before it finished: the
		// fixes that recording opened may not have been enqueued.
		if err := s.requeueFixes(ctx, sch, a.ScanID, a.Account, a.Management); err != nil {
			return err
		}
	} else {
		p, err := s.scanAccount(ctx, sch, a)
		if err != nil {
			if job.Attempt < job.MaxAttempts || ctx.Err() != nil {
				return err
			}
			// The last attempt: the account is recorded as not scanned
			// (its findings UNKNOWN, keeping their state, and a finding
			// that says so, which alerts), so that the tick ends, marked
			// incomplete, and the next one runs, rather than one bad
			// account wedging the schedule for good.
			s.cfg.Logger.Error("account not scanned; its findings keep their state, marked UNKNOWN, until the next tick", "schedule", sch.Name, "account", a.Account, "attempts", job.Attempt, "error", err)
			if rerr := s.recordNotScanned(ctx, a.ScanID, []string{a.Account}, failedAttempts(job.Attempt, err)); rerr != nil {
				return rerr
			}
		} else if expected := cmp.Or(a.Expected, p.Expected); p.Accounts > 0 && (expected == 0 || p.Accounts < expected) {
			// The recording counted the tick's accounts: not the last one,
			// or the tick is still listing and finishes the scan itself.
			// Only the last account's job reads the scan again.
			return nil
		}
	}
	return s.maybeFinish(ctx, sch, a.ScanID, a.Expected)
}

// scanAccount scans and records one account of a tick, and returns the
// tick's progress as its recording left it (zero if it recorded nothing).
func (s *Server) scanAccount(ctx context.Context, sch *Schedule, a accountArgs) (store.Progress, error) {
	var n atomic.Int64
	cfg := sch.Config
	awsenv.CountInto(&cfg, &n)
	opts := sch.Options
	opts.Accounts, opts.Exclude, opts.Parallel = []string{a.Account}, nil, 1
	// The job reads its one account, never the whole organisation
	// (fleet describes a named account with a few calls, where listing
	// the organisation per job cost a tick O(accounts²) calls), except
	// for the management account's job: the organisation-level rules'
	// results are that account's, and they judge every account.
	opts.Structure = fleet.StructureNone
	if a.Management {
		opts.Structure = fleet.StructureWhole
	}
	// The jobs of a tick on this replica share one reading of the
	// organisation's accounts and OU tree, read by the first of them.
	opts.Shared = s.orgs.of(a.ScanID)
	began := time.Now()
	res, err := scan.Run(ctx, scan.Request{
		Source: scan.Organization{Config: cfg, Source: sch.Source, Options: opts},
		Rules:  s.cfg.Rules, Clock: s.cfg.Clock, Version: s.cfg.Version, Logger: s.cfg.Logger,
		// The organisation's own results are the management account's
		// job's to record; the others would judge them only to drop them.
		OrgRulesWithManagement: true,
	})
	if err != nil {
		return store.Progress{}, fmt.Errorf("scan account %s: %w", a.Account, err)
	}
	// Only this account's results: the organisation's own rules come
	// with the management account's job, so that every job records one
	// account.
	rep := *res.Report
	rep.Results = nil
	for _, r := range res.Report.Results {
		if r.AccountID == a.Account {
			rep.Results = append(rep.Results, r)
		}
	}
	if len(rep.Results) == 0 {
		if !skipped(res.Snapshot, a.Account) {
			// Neither scanned nor skipped: describing it failed. An error,
			// so that the job is tried again, and recorded as not
			// scanned after the last attempt.
			why := "the account was not reached"
			if res.Snapshot != nil && res.Snapshot.Incomplete != nil {
				why = res.Snapshot.Incomplete.Reason
			}
			return store.Progress{}, fmt.Errorf("scan account %s: %s", a.Account, why)
		}
		// Not selected (an --ou filter), suspended, or gone since the
		// tick listed it: record it as seen with nothing, so the tick can
		// finish.
		rep.Results = []rule.Result{}
	} else if why, blind := unreadable(res.Snapshot)[a.Account]; blind {
		// Reached a verdict: there is no way in (trying again would not
		// find one), so it is recorded now, every result UNKNOWN, with
		// the finding that says so.
		s.cfg.Logger.Error("account not scanned; its findings keep their state, marked UNKNOWN", "schedule", sch.Name, "account", a.Account, "error", why)
		rep.Results = append(rep.Results, notScannedResult(a.Account, rule.Fail, why))
	} else {
		clear, err := s.clearNotScanned(ctx, a.ScanID, a.Account, s.cfg.Clock.Now())
		if err != nil {
			return store.Progress{}, err
		}
		rep.Results = append(rep.Results, clear...)
	}
	recording := time.Now()
	s.metrics.accountPhase.WithLabelValues("scan").Observe(recording.Sub(began).Seconds())
	// The scan's ID is all the recording needs of it (no read).
	sum, err := record.Scan(ctx, s.st, record.Request{Scan: store.Scan{ID: a.ScanID}, Report: &rep, Snapshot: res.Snapshot, Calls: int(n.Load()), Now: s.cfg.Clock.Now()})
	if err != nil {
		return store.Progress{}, err
	}
	s.metrics.accountPhase.WithLabelValues("record").Observe(time.Since(recording).Seconds())
	if sum.Accounts == 0 {
		rec, err := s.st.RecordAccount(ctx, a.ScanID, store.AccountResults{AccountID: a.Account, Calls: int(n.Load())}, s.cfg.Clock.Now())
		if err != nil {
			return store.Progress{}, err
		}
		sum.Progress = rec.Progress
	}
	if err := s.queueFixes(ctx, sch, &rep, res.Snapshot, sum.Transitions); err != nil {
		return store.Progress{}, err
	}
	if len(sum.Transitions) > 0 {
		s.cfg.Logger.Info("findings changed", "schedule", sch.Name, "account", a.Account, "transitions", len(sum.Transitions))
	}
	return sum.Progress, nil
}

// maybeFinish ends the tick's scan once every account is recorded:
// expected of them, or, when 0, as many as the scan says its tick
// listed (none while it is still listing).
func (s *Server) maybeFinish(ctx context.Context, sch *Schedule, scanID int64, expected int) error {
	sc, err := s.st.Scan(ctx, scanID)
	if err != nil {
		return err
	}
	if expected == 0 {
		expected = sc.Expected
	}
	if sc.Outcome != store.Running || expected == 0 || sc.Accounts < expected {
		return nil
	}
	now := s.cfg.Clock.Now()
	// Before the accounts that left: the stand-in is recorded by this
	// scan, so not closed as gone.
	if err := s.clearStandIn(ctx, sch, scanID, now); err != nil {
		return err
	}
	if sch.whole() {
		// The IDs alone: every account's results decompressed cost the
		// tick's last job 0.6 s of CPU at 2,000 accounts.
		present, err := s.st.ScanAccountIDs(ctx, scanID)
		if err != nil {
			return err
		}
		if _, err := s.st.LeaveAccounts(ctx, scanID, present, now); err != nil {
			return err
		}
	}
	end := store.End{Outcome: store.Complete, At: now}
	failed, err := s.notScannedIn(ctx, sc)
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		end.Outcome, end.Message = store.Incomplete, partialMessage(failed, sc.Accounts)
	}
	ended, err := s.st.EndScan(ctx, scanID, end)
	if err != nil || !ended {
		// Not ended here: another job finished the tick at the same
		// moment, and counts and logs it.
		return err
	}
	s.scanEnded(ctx, scanID)
	if len(failed) > 0 {
		s.cfg.Logger.Warn("scan finished incomplete", "schedule", sch.Name, "scan", scanID, "accounts", sc.Accounts, "not_scanned", len(failed))
		return nil
	}
	s.cfg.Logger.Info("scan finished", "schedule", sch.Name, "scan", scanID, "accounts", sc.Accounts)
	return nil
}

// skipped reports whether an organisation scan skipped the account (not
// selected by --ou, not active, not a member), with a reason.
func skipped(doc *snapshot.Document, account string) bool {
	if doc == nil || doc.Organization == nil {
		return false
	}
	for _, sk := range doc.Organization.Skipped {
		if sk.AccountID == account {
			return true
		}
	}
	return false
}

// houseArgs is the service's housekeeping, every second: expired
// suppressions, the outbox, retention.
type houseArgs struct{}

func (houseArgs) Kind() string { return "vigil_housekeeping" }

type houseWorker struct {
	river.WorkerDefaults[houseArgs]
	s *Server
}

func (w *houseWorker) Work(ctx context.Context, _ *river.Job[houseArgs]) error {
	s := w.s
	now := s.cfg.Clock.Now()
	if _, err := s.st.ExpireSuppressions(ctx, now); err != nil {
		return err
	}
	ds, err := s.st.FlushOutboxHolding(ctx, s.routes, now, s.cfg.Digest)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if err := s.enqueueDelivery(ctx, d.ID); err != nil {
			return err
		}
	}
	if s.cfg.Retention > 0 && now.Sub(s.lastPrune) > time.Hour {
		n, err := s.st.Prune(ctx, now.Add(-s.cfg.Retention))
		if err != nil {
			return err
		}
		s.lastPrune = now
		if n > 0 {
			s.cfg.Logger.Info("pruned per-scan results past retention", "accounts", n)
		}
	}
	return nil
}

// deliverArgs is one delivery to send.
type deliverArgs struct {
	DeliveryID string `json:"delivery_id" river:"unique"`
}

func (deliverArgs) Kind() string { return "vigil_deliver" }

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	s *Server
}

// NextRetry backs off from 2 s, doubling, up to 10 minutes: a receiver
// that is down is not hammered, and one that comes back is reached soon.
func (w *deliverWorker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	d := 2 * time.Second << min(job.Attempt, 9)
	return time.Now().Add(min(d, 10*time.Minute))
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	s := w.s
	d, err := s.st.Delivery(ctx, job.Args.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if d.DeliveredAt != nil {
		return nil
	}
	ch, ok := s.cfg.Channels[d.Channel]
	if !ok {
		return river.JobCancel(fmt.Errorf("alert channel %q is no longer configured", d.Channel))
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = ch.Sender.Send(sctx, NotifyDelivery(d, s.cfg.PublicURL))
	s.metrics.delivery(d.Channel, err)
	if err != nil {
		if merr := s.st.MarkAttempt(ctx, d.ID, err.Error(), s.cfg.Clock.Now()); merr != nil {
			return merr
		}
		if !notify.Retryable(err) {
			s.cfg.Logger.Error("alert not delivered; the channel refused it for good", "channel", d.Channel, "delivery", d.ID, "error", err)
			return river.JobCancel(err)
		}
		s.cfg.Logger.Warn("alert not delivered; will retry", "channel", d.Channel, "delivery", d.ID, "attempt", job.Attempt, "error", err)
		if after := notify.RetryAfter(err); after > 0 {
			return river.JobSnooze(after)
		}
		return err
	}
	s.cfg.Logger.Info("alert delivered", "channel", d.Channel, "delivery", d.ID, "transitions", len(d.Transitions))
	return s.st.MarkDelivered(ctx, d.ID, s.cfg.Clock.Now())
}

// NotifyDelivery is a delivery of the outbox as the channels take it:
// every transition with its finding as it is now, linked to the
// finding's dashboard page under publicURL when it is set. vigil scan
// --db sends the same (cli).
func NotifyDelivery(d store.Delivery, publicURL string) notify.Delivery {
	out := notify.Delivery{ID: d.ID, Channel: d.Channel, At: d.CreatedAt}
	for _, t := range d.Transitions {
		e := notify.Event{Transition: notify.Transition(t.Kind), At: t.At, Detail: t.Detail}
		e.Finding = notify.Finding{ID: t.FindingID, Severity: rule.Severity(t.Severity), Status: rule.Status(t.Status), Message: t.Message}
		if publicURL != "" {
			e.Finding.Link = publicURL + "/findings/" + url.PathEscape(t.FindingID)
		}
		if f := t.Finding; f != nil {
			e.Finding.AccountID, e.Finding.AccountName, e.Finding.RuleID, e.Finding.Title, e.Finding.Resource = f.AccountID, f.AccountName, f.RuleID, f.Title, f.Resource
			e.Finding.State, e.Finding.FirstSeen, e.Finding.LastSeen, e.Finding.Regressions = string(f.State), f.FirstSeen, f.LastSeen, f.Regressions
			if f.Suppression != nil {
				e.Finding.State = "suppressed"
			}
			if len(f.Evidence) > 0 {
				var ev []rule.Evidence
				if json.Unmarshal(f.Evidence, &ev) == nil {
					e.Finding.Evidence = ev
				}
			}
		}
		out.Events = append(out.Events, e)
	}
	return out
}

// sharedClient is the one HTTP client of a schedule's jobs. Each scan
// would otherwise build a transport of its own (fleet.TuneHTTP sizes one
// per run), and thousands of account jobs would each leave a pool of idle
// connections behind until they time out. fleet leaves a client that is
// not the SDK's buildable one alone.
type sharedClient struct{ aws.HTTPClient }

func shareHTTP(cfg *aws.Config, workers int) {
	if _, ok := cfg.HTTPClient.(sharedClient); ok {
		return
	}
	fleet.TuneHTTP(cfg, workers)
	cfg.HTTPClient = sharedClient{cfg.HTTPClient}
}
