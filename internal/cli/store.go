package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/record"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/scan"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/store/postgres"
	"github.com/vigil-sec/vigil/internal/store/sqlite"
)

// storeFlags name the store a command reads or writes: --db (or its
// synonym --database) directly, or the database key of --config.
type storeFlags struct {
	config string
	db     string
}

// defaultDB is the store's file when nothing names one.
const defaultDB = "vigil.db"

func addStoreFlags(f *pflag.FlagSet, s *storeFlags, dbUsage string) {
	f.StringVar(&s.config, "config", "", "the vigil serve configuration file whose database to use")
	f.StringVar(&s.db, "db", "", dbUsage)
	f.StringVar(&s.db, "database", "", "same as --db")
}

// envDatabaseURL names the store when no flag does: team mode's
// replicas take the URL, password included, from their environment.
const envDatabaseURL = "VIGIL_DATABASE_URL"

// location is the store named by the flags: --db, else
// VIGIL_DATABASE_URL, else the config's database, else vigil.db.
func (s *storeFlags) location() (string, error) {
	if s.db != "" {
		return s.db, nil
	}
	if env := os.Getenv(envDatabaseURL); env != "" {
		return env, nil
	}
	if s.config != "" {
		return configDatabase(s.config)
	}
	return defaultDB, nil
}

// configDatabase reads the database key of a serve configuration, with
// the file and line of a mistake.
func configDatabase(path string) (string, error) {
	data, err := readLimited(path)
	if err != nil {
		return "", usagef("--config: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", usagef("--config %s: %v", path, err)
	}
	if len(doc.Content) == 0 {
		return defaultDB, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return "", usagef("%s:%d: want a mapping of settings", path, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		// Team mode's URL, password included, comes from the environment
		// or a file, as vigil serve reads it.
		switch key, v := root.Content[i].Value, root.Content[i+1]; key {
		case "database_env":
			if url := os.Getenv(v.Value); url != "" {
				return url, nil
			}
			return "", usagef("%s:%d: database_env: environment variable %s is not set or empty", path, v.Line, v.Value)
		case "database_file":
			f := v.Value
			if !filepath.IsAbs(f) {
				f = filepath.Join(filepath.Dir(path), f)
			}
			data, err := readLimited(f)
			if err != nil || strings.TrimSpace(string(data)) == "" {
				return "", usagef("%s:%d: database_file: %s holds no database URL", path, v.Line, f)
			}
			return strings.TrimSpace(string(data)), nil
		}
		if root.Content[i].Value == "database" {
			v := root.Content[i+1]
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return "", usagef("%s:%d: database: want a file name or a postgres:// URL", path, v.Line)
			}
			// Relative to the config file, as vigil serve reads it.
			if !strings.Contains(v.Value, "://") && !filepath.IsAbs(v.Value) {
				return filepath.Join(filepath.Dir(path), v.Value), nil
			}
			return v.Value, nil
		}
	}
	return defaultDB, nil
}

// openedStore is a store of either engine; Path names it for messages (a
// PostgreSQL URL without its password).
type openedStore interface {
	store.Store
	Path() string
}

// openStore opens the store the flags name: a postgres:// URL is team
// mode's PostgreSQL, anything else a SQLite file. exclusive takes the
// SQLite file's service lock (vigil serve); replicas on PostgreSQL share
// their database by design.
func openStore(ctx context.Context, s *storeFlags, exclusive bool) (openedStore, error) {
	loc, err := s.location()
	if err != nil {
		return nil, err
	}
	if postgres.IsURL(loc) {
		db, err := postgres.Open(ctx, loc)
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, loc, sqlite.Options{Exclusive: exclusive})
	if err != nil {
		return nil, err
	}
	return db, nil
}

// openExisting opens a store that must exist already: a command that only
// reads should not create an empty file under a mistyped name.
func openExisting(ctx context.Context, s *storeFlags) (openedStore, error) {
	loc, err := s.location()
	if err != nil {
		return nil, err
	}
	if !strings.Contains(loc, "://") {
		if _, err := os.Stat(loc); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no Vigil database at %s (record scans with 'vigil scan --db %s' or 'vigil serve', or name it with --db)", loc, loc)
		}
	}
	return openStore(ctx, s, false)
}

type findingsOptions struct {
	store    storeFlags
	status   []string
	severity string
	rules    []string
	accounts []string
	ous      []string
	format   string
}

func newFindingsCommand(app *App) *cobra.Command {
	o := findingsOptions{format: "text"}
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "List the findings recorded by vigil serve or vigil scan --db",
		Long: `List the findings of the store: one per account, rule and resource that
ever failed, with its state (open, resolved, gone), when it was first and
last seen, and whether a suppression mutes it. Open findings by default.`,
		Example: `  vigil findings --db vigil.db
  vigil findings --status all --severity high --format json
  vigil findings --ou Root/Workloads --rule root-access-key
  vigil findings show f-3a9c0e1d2b4f5a6c`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runFindings(cmd.Context(), app, o) },
	}
	f := cmd.Flags()
	addStoreFlags(f, &o.store, "the store to read (default vigil.db)")
	f.StringSliceVar(&o.status, "status", []string{"open"}, "states to list: open, resolved, gone or all")
	f.StringVar(&o.severity, "severity", "", "only findings at or above this severity")
	f.StringSliceVar(&o.rules, "rule", nil, "only these rules")
	f.StringSliceVar(&o.accounts, "account", nil, "only these account IDs")
	f.StringSliceVar(&o.ous, "ou", nil, "only accounts in these OU paths (Root/Workloads) or below")
	f.StringVar(&o.format, "format", o.format, "text or json")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one finding and its history",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s takes one finding ID", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runFindingShow(cmd.Context(), app, o, args[0]) },
	}
	addStoreFlags(show.Flags(), &o.store, "the store to read (default vigil.db)")
	show.Flags().StringVar(&o.format, "format", o.format, "text or json")
	stats := &cobra.Command{
		Use:   "stats",
		Short: "Open and resolved findings, regressions and mean time to resolve, per rule and per account",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runFindingStats(cmd.Context(), app, o) },
	}
	addStoreFlags(stats.Flags(), &o.store, "the store to read (default vigil.db)")
	stats.Flags().StringVar(&o.format, "format", o.format, "text or json")
	cmd.AddCommand(show, stats)
	return cmd
}

func (o *findingsOptions) filter(now time.Time) (store.Filter, error) {
	if o.format != "text" && o.format != "json" {
		return store.Filter{}, usagef("--format %q: want text or json", o.format)
	}
	f := store.Filter{Rules: o.rules, Accounts: o.accounts, OUs: o.ous, Now: now}
	for _, s := range o.status {
		switch lifecycle.State(s) {
		case lifecycle.Open, lifecycle.Resolved, lifecycle.Gone:
			f.States = append(f.States, lifecycle.State(s))
		case "all":
			f.States = nil
			return o.withSeverity(f)
		default:
			return f, usagef("--status %q: want open, resolved, gone or all", s)
		}
	}
	return o.withSeverity(f)
}

func (o *findingsOptions) withSeverity(f store.Filter) (store.Filter, error) {
	if o.severity != "" {
		s, err := rule.ParseSeverity(o.severity)
		if err != nil {
			return f, usagef("--severity: %v", err)
		}
		f.MinSeverity = int(s)
	}
	return f, nil
}

func runFindings(ctx context.Context, app *App, o findingsOptions) error {
	now := app.now()
	f, err := o.filter(now)
	if err != nil {
		return err
	}
	st, err := openExisting(ctx, &o.store)
	if err != nil {
		return err
	}
	defer st.Close()
	fs, err := st.Findings(ctx, f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if o.format == "json" {
		out := findingsJSON{Schema: "vigil.findings", Version: 1, GeneratedAt: now, Findings: make([]findingJSON, 0, len(fs))}
		for _, fd := range fs {
			out.Findings = append(out.Findings, toFindingJSON(fd, now))
		}
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		writeFindingsText(&buf, fs, now)
	}
	_, err = app.Stdout.Write(buf.Bytes())
	return err
}

type findingsJSON struct {
	Schema      string        `json:"schema"`
	Version     int           `json:"version"`
	GeneratedAt time.Time     `json:"generated_at"`
	Findings    []findingJSON `json:"findings"`
}

type findingJSON struct {
	ID           string           `json:"id"`
	AccountID    string           `json:"account_id"`
	AccountName  string           `json:"account_name,omitempty"`
	OU           string           `json:"ou,omitempty"`
	RuleID       string           `json:"rule_id"`
	Title        string           `json:"title,omitempty"`
	Resource     string           `json:"resource"`
	State        lifecycle.State  `json:"state"`
	Status       string           `json:"status"`
	Severity     rule.Severity    `json:"severity"`
	Message      string           `json:"message"`
	Evidence     json.RawMessage  `json:"evidence,omitempty"`
	FirstSeen    time.Time        `json:"first_seen"`
	LastSeen     time.Time        `json:"last_seen"`
	ResolvedAt   *time.Time       `json:"resolved_at,omitempty"`
	Regressions  int              `json:"regressions"`
	MTTRSeconds  int64            `json:"mttr_seconds,omitempty"`
	UnknownSince *time.Time       `json:"unknown_since,omitempty"`
	UnknownFor   string           `json:"unknown_for,omitempty"`
	Gap          string           `json:"gap,omitempty"`
	Suppression  *suppressionJSON `json:"suppression,omitempty"`
	History      []transitionJSON `json:"history,omitempty"`
}

type suppressionJSON struct {
	ID      int64      `json:"id"`
	Rule    string     `json:"rule"`
	Account string     `json:"account"`
	Resrc   string     `json:"resource,omitempty"`
	Reason  string     `json:"reason"`
	Owner   string     `json:"owner"`
	Ticket  string     `json:"ticket,omitempty"`
	Expires *time.Time `json:"expires,omitempty"`
	Created time.Time  `json:"created_at"`
}

type transitionJSON struct {
	Transition lifecycle.Kind `json:"transition"`
	At         time.Time      `json:"at"`
	ScanID     int64          `json:"scan_id,omitempty"`
	Status     string         `json:"status"`
	Severity   rule.Severity  `json:"severity"`
	Message    string         `json:"message,omitempty"`
	Detail     string         `json:"detail,omitempty"`
	Suppressed bool           `json:"suppressed,omitempty"`
}

func toSuppressionJSON(s store.Suppression) *suppressionJSON {
	return &suppressionJSON{ID: s.ID, Rule: s.RuleID, Account: s.AccountID, Resrc: s.Resource, Reason: s.Reason, Owner: s.Owner, Ticket: s.Ticket, Expires: s.Expires, Created: s.CreatedAt}
}

func toFindingJSON(f store.Finding, now time.Time) findingJSON {
	j := findingJSON{
		ID: f.ID, AccountID: f.AccountID, AccountName: f.AccountName, OU: f.OU, RuleID: f.RuleID, Title: f.Title, Resource: f.Resource,
		State: f.State, Status: f.Status, Severity: rule.Severity(f.Severity), Message: f.Message, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen,
		ResolvedAt: f.ResolvedAt, Regressions: f.Regressions, MTTRSeconds: int64(f.MTTR() / time.Second), UnknownSince: f.UnknownSince, Gap: f.Gap,
	}
	if len(f.Evidence) > 0 && json.Valid(f.Evidence) {
		j.Evidence = f.Evidence
	}
	if f.UnknownSince != nil {
		j.UnknownFor = rule.Age(now.Sub(*f.UnknownSince))
	}
	if f.Suppression != nil {
		j.Suppression = toSuppressionJSON(*f.Suppression)
	}
	return j
}

// stateText is a finding's state as the text lists show it.
func stateText(f store.Finding, now time.Time) string {
	s := string(f.State)
	if f.Suppression != nil {
		s += " (suppressed)"
	}
	if f.UnknownSince != nil {
		s += ", UNKNOWN for " + rule.Age(now.Sub(*f.UnknownSince))
	}
	return s
}

func writeFindingsText(w io.Writer, fs []store.Finding, now time.Time) {
	if len(fs) == 0 {
		fmt.Fprintln(w, "No findings.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSEVERITY\tACCOUNT\tRULE\tFIRST SEEN\tLAST SEEN")
	for _, f := range fs {
		acct := f.AccountID
		if f.AccountName != "" {
			acct += " (" + cleanText(f.AccountName) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, stateText(f, now), rule.Severity(f.Severity), acct, f.RuleID,
			f.FirstSeen.Format(time.RFC3339), f.LastSeen.Format(time.RFC3339))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d finding(s). 'vigil findings show ID' gives one's history.\n", len(fs))
}

func runFindingShow(ctx context.Context, app *App, o findingsOptions, id string) error {
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	st, err := openExisting(ctx, &o.store)
	if err != nil {
		return err
	}
	defer st.Close()
	now := app.now()
	f, hist, err := st.Finding(ctx, id, now)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no finding %s in this store ('vigil findings --status all' lists them)", input.Quote(id))
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if o.format == "json" {
		j := toFindingJSON(f, now)
		for _, t := range hist {
			j.History = append(j.History, transitionJSON{Transition: t.Kind, At: t.At, ScanID: t.ScanID, Status: t.Status, Severity: rule.Severity(t.Severity), Message: t.Message, Detail: t.Detail, Suppressed: t.Suppressed})
		}
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(j); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(&buf, "Finding %s\n", f.ID)
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(&buf, "  %-14s %s\n", k+":", v)
			}
		}
		acct := f.AccountID
		if f.AccountName != "" {
			acct += " (" + cleanText(f.AccountName) + ")"
		}
		row("Account", acct)
		row("OU", f.OU)
		row("Rule", f.RuleID+" "+f.Title)
		row("Resource", f.Resource)
		row("State", stateText(f, now))
		row("Severity", rule.Severity(f.Severity).String())
		row("Last result", f.Status+": "+cleanText(f.Message))
		row("First seen", f.FirstSeen.Format(time.RFC3339))
		row("Last seen", f.LastSeen.Format(time.RFC3339))
		if f.ResolvedAt != nil {
			row("Resolved at", f.ResolvedAt.Format(time.RFC3339))
		}
		row("Regressions", fmt.Sprint(f.Regressions))
		if f.Resolutions > 0 {
			row("Time to resolve", fmt.Sprintf("%s on average over %d resolution(s)", rule.Age(f.MTTR()), f.Resolutions))
		}
		if f.UnknownSince != nil {
			row("Unknown since", f.UnknownSince.Format(time.RFC3339)+" ("+cleanText(f.Gap)+")")
		}
		if s := f.Suppression; s != nil {
			until := "no expiry"
			if s.Expires != nil {
				until = "until " + s.Expires.Format(time.RFC3339)
			}
			row("Suppressed", fmt.Sprintf("by %s, %s: %s (suppression %d)", cleanText(s.Owner), until, cleanText(s.Reason), s.ID))
		}
		fmt.Fprintln(&buf, "\nHistory:")
		for _, t := range hist {
			line := fmt.Sprintf("  %s  %-20s %s", t.At.Format(time.RFC3339), t.Kind, t.Status)
			if t.Detail != "" {
				line += "  " + cleanText(t.Detail)
			}
			if t.Suppressed {
				line += "  (suppressed: not alerted)"
			}
			fmt.Fprintln(&buf, line)
		}
	}
	_, err = app.Stdout.Write(buf.Bytes())
	return err
}

type scansOptions struct {
	store  storeFlags
	limit  int
	format string
}

func newScansCommand(app *App) *cobra.Command {
	o := scansOptions{limit: 20, format: "text"}
	cmd := &cobra.Command{
		Use:     "scans",
		Short:   "List the scans recorded in the store, newest first",
		Example: "  vigil scans --db vigil.db --limit 5",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.format != "text" && o.format != "json" {
				return usagef("--format %q: want text or json", o.format)
			}
			if o.limit <= 0 {
				return usagef("--limit must be at least 1")
			}
			st, err := openExisting(cmd.Context(), &o.store)
			if err != nil {
				return err
			}
			defer st.Close()
			scans, err := st.Scans(cmd.Context(), o.limit)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if o.format == "json" {
				type scanJSON struct {
					ID         int64         `json:"id"`
					Schedule   string        `json:"schedule,omitempty"`
					Target     string        `json:"target"`
					StartedAt  time.Time     `json:"started_at"`
					FinishedAt *time.Time    `json:"finished_at,omitempty"`
					Outcome    store.Outcome `json:"outcome"`
					Message    string        `json:"message,omitempty"`
					Accounts   int           `json:"accounts"`
					Results    int           `json:"results"`
					Calls      int           `json:"calls"`
				}
				out := []scanJSON{}
				for _, s := range scans {
					out = append(out, scanJSON{s.ID, s.Schedule, s.Target, s.StartedAt, s.FinishedAt, s.Outcome, s.Message, s.Accounts, s.Results, s.Calls})
				}
				enc := json.NewEncoder(&buf)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"schema": "vigil.scans", "version": 1, "scans": out}); err != nil {
					return err
				}
			} else if len(scans) == 0 {
				fmt.Fprintln(&buf, "No scans recorded.")
			} else {
				tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTARTED\tDURATION\tOUTCOME\tSCHEDULE\tACCOUNTS\tRESULTS\tCALLS\tTARGET")
				for _, s := range scans {
					dur := "-"
					if s.FinishedAt != nil {
						dur = s.FinishedAt.Sub(s.StartedAt).Round(time.Millisecond).String()
					}
					sched := s.Schedule
					if sched == "" {
						sched = "(one-shot)"
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", s.ID, s.StartedAt.Format(time.RFC3339), dur, s.Outcome, sched, s.Accounts, s.Results, s.Calls, s.Target)
				}
				tw.Flush()
			}
			_, err = app.Stdout.Write(buf.Bytes())
			return err
		},
	}
	addStoreFlags(cmd.Flags(), &o.store, "the store to read (default vigil.db)")
	cmd.Flags().IntVar(&o.limit, "limit", o.limit, "how many scans to list")
	cmd.Flags().StringVar(&o.format, "format", o.format, "text or json")
	return cmd
}

// readLimited reads a small file a user names, within Vigil's input size
// limit.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return input.ReadAll(f, path, input.DefaultMaxSize)
}

// cleanText keeps stored text that came from outside (account names,
// reasons) from driving the terminal: control characters become U+FFFD.
func cleanText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// recordScan records a one-shot scan into the store, says on stderr
// what changed, and, with alerts (a --config that has some), delivers
// them.
func recordScan(ctx context.Context, app *App, o scanOptions, res *scan.Result, calls int, alerts *scanAlerts) error {
	st, err := openStore(ctx, &o.store, false)
	if err != nil {
		return err
	}
	defer st.Close()
	now := app.now()
	whole := o.scope.org && len(o.scope.ous) == 0 && len(o.scope.accounts) == 0 && len(o.scope.exclude) == 0
	sum, err := record.Scan(ctx, st, record.Request{
		Scan:   store.Scan{Target: record.Describe(res.Snapshot), StartedAt: res.Report.CollectedAt},
		Report: res.Report, Snapshot: res.Snapshot, WholeOrganization: whole, Calls: calls, Now: now, Finish: true,
	})
	if err != nil {
		return fmt.Errorf("record the scan: %w", err)
	}
	count := map[lifecycle.Kind]int{}
	for _, t := range sum.Transitions {
		count[t.Kind]++
	}
	var parts []string
	for _, k := range lifecycle.Kinds {
		if count[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
		}
	}
	changes := "no finding changed"
	if len(parts) > 0 {
		changes = strings.Join(parts, ", ")
	}
	loc, _ := o.store.location()
	fmt.Fprintf(app.Stderr, "vigil: recorded scan %d of %d account(s) in %s: %s\n", sum.Scan.ID, sum.Accounts, loc, changes)
	if alerts != nil {
		return alerts.deliver(ctx, app, st)
	}
	return nil
}

func runFindingStats(ctx context.Context, app *App, o findingsOptions) error {
	if o.format != "text" && o.format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	st, err := openExisting(ctx, &o.store)
	if err != nil {
		return err
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if o.format == "json" {
		type statJSON struct {
			By          string `json:"by"`
			Key         string `json:"key"`
			Open        int    `json:"open"`
			Resolved    int    `json:"resolved"`
			Regressions int    `json:"regressions"`
			MTTRSeconds int64  `json:"mttr_seconds"`
		}
		out := []statJSON{}
		for _, s := range stats {
			out = append(out, statJSON{s.By, s.Key, s.Open, s.Resolved, s.Regressions, int64(s.MTTR / time.Second)})
		}
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"schema": "vigil.finding-stats", "version": 1, "stats": out}); err != nil {
			return err
		}
	} else {
		for _, by := range []string{"rule", "account"} {
			tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "%s\tOPEN\tRESOLVED\tREGRESSIONS\tMEAN TIME TO RESOLVE\n", strings.ToUpper(by))
			for _, s := range stats {
				if s.By != by {
					continue
				}
				mttr := "-"
				if s.MTTR > 0 {
					mttr = rule.Age(s.MTTR)
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", s.Key, s.Open, s.Resolved, s.Regressions, mttr)
			}
			tw.Flush()
			fmt.Fprintln(&buf)
		}
	}
	_, err = app.Stdout.Write(buf.Bytes())
	return err
}
