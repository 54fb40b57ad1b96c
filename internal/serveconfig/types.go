package serveconfig

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/redact"
	"github.com/vigil-sec/vigil/internal/rule"
)

// Version is the only config version this Vigil reads.
const Version = 1

// Defaults applied where the file says nothing.
const (
	DefaultDatabase  = "vigil.db"
	DefaultListen    = "127.0.0.1:8080"
	DefaultRetention = 90 * 24 * time.Hour
	// MinEvery is the shortest interval a schedule may have; below
	// WarnEvery a schedule is accepted with a warning, since scanning an
	// organisation more often than once a minute mostly burns API quota.
	MinEvery  = time.Second
	WarnEvery = time.Minute
)

// Config is a parsed, validated `vigil serve` configuration with its
// secrets resolved.
type Config struct {
	// File is the name the config was read from, as given.
	File    string
	Version int
	// Database is a SQLite file path or a postgres:// URL. From
	// database_env or database_file the URL may hold a password: log
	// DatabaseLabel, never Database.
	Database string
	Listen   string
	// PublicURL is where readers of an alert reach the dashboard
	// (https://vigil.example.com, no trailing slash): each alerted
	// finding links to its page there. Empty: alerts carry no link.
	PublicURL string
	Schedules []Schedule
	Alerts    []Alert
	AutoFix   []AutoFix
	Retention Retention
	// Events, when set, is the root-events queue (events.go).
	Events *Events
	// Warnings are accepted oddities (a schedule below one minute, a
	// secret file others can read), each with its position.
	Warnings []*Error
}

// DatabaseLabel is Database fit for a log line: a URL's password (in
// its user information or a password= parameter) is replaced.
func (c *Config) DatabaseLabel() string {
	s := redact.Locator(c.Database)
	if i := strings.Index(strings.ToLower(s), "password="); i >= 0 {
		end := strings.IndexAny(s[i:], "& ")
		if end < 0 {
			end = len(s) - i
		}
		s = s[:i] + "password=" + redact.Marker + s[i+end:]
	}
	return s
}

// Pos is a place in the config file. Line and Column count from 1.
type Pos struct {
	File   string
	Line   int
	Column int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column) }

// Schedule is one periodic scan: an interval (Every) or a cron
// expression (Cron), never both.
type Schedule struct {
	Name  string
	Every time.Duration
	// Cron is the expression as written: five fields (minute, hour, day
	// of month, month, day of week) or a descriptor (@hourly, @daily...),
	// evaluated in the time zone of the time given to Next (UTC in Vigil)
	// unless it starts with CRON_TZ=.
	Cron string
	Scan Scan
	Pos  Pos

	cron cron.Schedule
}

// Next is the first tick of the schedule strictly after t. Interval ticks
// are aligned to multiples of Every since the zero time, so that a tick
// has the same time whenever the service was started, and a restarted
// service agrees with the one it replaced on which tick it is in (the
// uniqueness of per-account jobs rests on that). Next satisfies River's
// PeriodicSchedule.
func (s Schedule) Next(t time.Time) time.Time {
	if s.cron != nil {
		// In UTC whatever zone t is in (robfig/cron would use t's), so
		// that "0 9 * * *" means 09:00 UTC on every machine; CRON_TZ=
		// still picks a zone.
		return s.cron.Next(t.UTC())
	}
	if s.Every <= 0 {
		return time.Time{}
	}
	return t.Truncate(s.Every).Add(s.Every)
}

// Scan says what a schedule scans: the same choices as `vigil scan`.
// The zero Scan is the account of the service's own credentials.
type Scan struct {
	// Org scans every account of the organisation, filtered by OUs,
	// Accounts and Exclude, reached with Role or (AssumeRoot) with
	// sts:AssumeRoot.
	Org        bool
	AssumeRoot bool
	Role       string
	OUs        []string
	Accounts   []string
	Exclude    []string
	// Profile is one shared-config profile (with Org: the management
	// account's); Profiles several, scanned as targets.
	Profile  string
	Profiles []string
	// TargetsFile is a `--targets` file, resolved against the config
	// file's directory.
	TargetsFile string
	// Parallel and AccountTimeout override the fleet defaults when set.
	Parallel       int
	AccountTimeout time.Duration
}

// AllProfiles is Profile and Profiles together, the way awsenv.Request
// takes them.
func (s Scan) AllProfiles() []string {
	var out []string
	if s.Profile != "" {
		out = append(out, s.Profile)
	}
	return append(out, s.Profiles...)
}

// Channel types.
const (
	TypeWebhook = "webhook"
	TypeSlack   = "slack"
	TypeEmail   = "email"
	TypeSNS     = "sns"
)

// Alert is one alert channel: where alerts go, and which ones.
type Alert struct {
	Name string
	Type string // TypeWebhook, TypeSlack, TypeEmail or TypeSNS
	// Filter is the transitions the channel wants and its minimum
	// severity (default: every transition, info and above).
	Filter notify.Filter
	Pos    Pos

	// Webhook: URL (inline when it carries no credential, else from
	// url_env/url_file) and the HMAC key (secret_env/secret_file).
	// Slack: URL, always a reference.
	URL    Secret
	Secret Secret

	// Email.
	SMTP SMTP
	// SNS.
	TopicARN string
	Region   string
	Profile  string
}

// SMTP is where an email channel sends, and to whom.
type SMTP struct {
	// Host and Port of the submission server (default port 587; on 465
	// TLS starts with the connection, see ImplicitTLS).
	Host     string
	Port     int
	Username string
	Password Secret
	From     string
	To       []string
	// StartTLS is "require" (default: refuse a server without STARTTLS)
	// or "none" (plain SMTP, for a relay on localhost only).
	StartTLS string
}

// ImplicitTLS reports whether the server speaks TLS from the first byte:
// port 465 (SMTPS, RFC 8314), rather than upgrading with STARTTLS.
func (s SMTP) ImplicitTLS() bool { return s.Port == 465 }

// StartTLS modes.
const (
	StartTLSRequire = "require"
	StartTLSNone    = "none"
)

// Fix modes.
const (
	ModePlan  = "plan"
	ModeApply = "apply"
)

// AutoFix is one opt-in automatic fix policy.
type AutoFix struct {
	Rule     string
	Accounts []string
	OUs      []string
	Mode     string // ModePlan or ModeApply
	// MinIdle is the guard of `vigil fix`: a credential used more recently
	// is never removed.
	MinIdle time.Duration
	Pos     Pos
}

// Retention is how long the store keeps what.
type Retention struct {
	// Results is how long per-scan results are kept.
	Results time.Duration
}

// severityNames lists the severities a config may name.
func severityNames() []string {
	var out []string
	for _, s := range rule.Severities {
		out = append(out, s.String())
	}
	return out
}
