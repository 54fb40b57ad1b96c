package serveconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/rule"
)

// The secrets the tests' environment holds; no error may quote them.
const (
	webhookSecret = "whsec-0123456789abcdefghij"
	slackURL      = "https://hooks.slack.com/services/T0001/B0001/Zx9Qw8Er7Ty6Ui5Op4As3Df2"
	smtpPassword  = "smtp-Pa55w0rd-zyxwvut"
)

func testEnv() Env {
	vars := map[string]string{
		"VIGIL_WEBHOOK_SECRET":    webhookSecret,
		"VIGIL_SLACK_WEBHOOK_URL": slackURL,
		"EMPTY":                   "  ",
		"HTTP_URL":                "http://hooks.example.com/x",
		"NOT_A_URL":               "ftp://" + smtpPassword,
	}
	files := map[string]string{
		"/run/secrets/vigil-smtp-password": smtpPassword + "\n",
		"/cfg/secrets/webhook":             webhookSecret,
		"/cfg/empty":                       "\n",
		"/cfg/two-lines":                   "a\nb\n",
	}
	return Env{
		Getenv: func(k string) string { return vars[k] },
		ReadFile: func(name string) ([]byte, error) {
			if s, ok := files[name]; ok {
				return []byte(s), nil
			}
			return nil, fmt.Errorf("open %s: %w", name, os.ErrNotExist)
		},
		FixableRules: []string{"root-access-key", "root-signing-certificate"},
	}
}

// The config of the issue, exactly as written there.
const issueConfig = `version: 1
database: vigil.db                 # team mode: a postgres:// URL
listen: 127.0.0.1:8080
schedules:
  - name: org
    every: 1h                      # or cron: "0 * * * *"; any duration from 1s (below 1m warns)
    scan: {org: true, assume_root: false, role: VigilAudit, ou: [], accounts: [], exclude: []}
  - name: prod
    every: 15m
    scan: {profile: prod}          # or profiles: [...], targets_file: accounts.yaml, or {} for the credentials' own account
alerts:
  - name: secops
    type: webhook                  # webhook | slack | email | sns
    url: https://hooks.example.com/vigil   # slack: url_env
    secret_env: VIGIL_WEBHOOK_SECRET
    on: [new, regressed, resolved, suppression_expired, fixed]
    min_severity: high
auto_fix:
  - rule: root-access-key
    accounts: []                   # or ous: [...]
    mode: plan                     # or apply
    min_idle: 30d
retention: {results: 90d}
`

func TestIssueConfig(t *testing.T) {
	cfg, err := Parse("/cfg/vigil.yaml", []byte(issueConfig), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		File:     "/cfg/vigil.yaml",
		Version:  1,
		Database: "/cfg/vigil.db",
		Listen:   "127.0.0.1:8080",
		Schedules: []Schedule{
			{Name: "org", Every: time.Hour, Scan: Scan{Org: true, Role: "VigilAudit"}, Pos: Pos{"/cfg/vigil.yaml", 5, 5}},
			{Name: "prod", Every: 15 * time.Minute, Scan: Scan{Profile: "prod"}, Pos: Pos{"/cfg/vigil.yaml", 8, 5}},
		},
		Alerts: []Alert{{
			Name: "secops", Type: TypeWebhook, Pos: Pos{"/cfg/vigil.yaml", 12, 5},
			Filter: notify.Filter{On: []notify.Transition{notify.New, notify.Regressed, notify.Resolved, notify.SuppressionExpired, notify.Fixed}, MinSeverity: rule.High},
			URL:    NewSecret("https://hooks.example.com/vigil", "inline"),
			Secret: NewSecret(webhookSecret, "env VIGIL_WEBHOOK_SECRET"),
		}},
		AutoFix:   []AutoFix{{Rule: "root-access-key", Mode: ModePlan, MinIdle: 30 * 24 * time.Hour, Pos: Pos{"/cfg/vigil.yaml", 19, 5}}},
		Retention: Retention{Results: 90 * 24 * time.Hour},
	}
	opts := cmp.Options{cmp.AllowUnexported(Schedule{}, Secret{}), cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Schedule{}, "cron")}
	if d := cmp.Diff(want, cfg, opts); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
}

func TestExampleConfig(t *testing.T) {
	cfg, err := Parse("/etc/vigil/vigil.yaml", []byte(ExampleConfig), testEnv())
	if err != nil {
		t.Fatalf("the example config does not parse:\n%v", err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("the example config warns: %v", Errors(cfg.Warnings))
	}
	types := map[string]bool{}
	for _, a := range cfg.Alerts {
		types[a.Type] = true
	}
	for _, typ := range []string{TypeWebhook, TypeSlack, TypeEmail, TypeSNS} {
		if !types[typ] {
			t.Errorf("the example has no %s channel", typ)
		}
	}
	if len(cfg.Schedules) < 2 || cfg.Schedules[1].Cron == "" {
		t.Errorf("the example should show a cron schedule: %+v", cfg.Schedules)
	}
	mail := cfg.Alerts[2]
	if mail.SMTP.Password.Value() != smtpPassword || mail.SMTP.Port != 587 || mail.SMTP.StartTLS != StartTLSRequire {
		t.Errorf("email channel: %+v", mail.SMTP)
	}
	if sns := cfg.Alerts[3]; sns.Region != "eu-west-1" {
		t.Errorf("sns region from the ARN: %q", sns.Region)
	}
	// Every key of the grammar appears in the example (so it documents
	// them all), apart from the alternatives it names in comments.
	if cfg.PublicURL != "https://vigil.example.com" {
		t.Errorf("public_url: %q", cfg.PublicURL)
	}
	for _, key := range []string{"version", "database", "listen", "public_url", "schedules", "every", "cron", "scan", "org", "assume_root", "role", "ou", "accounts", "exclude", "profile", "alerts", "type", "url", "url_env", "secret_env", "on", "min_severity", "host", "port", "username", "password_file", "from", "to", "topic_arn", "auto_fix", "rule", "mode", "min_idle", "retention", "results"} {
		if !strings.Contains(ExampleConfig, key+":") {
			t.Errorf("the example does not show %s", key)
		}
	}
}

func TestScheduleNext(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(`version: 1
schedules:
  - {name: a, every: 15m, scan: {}}
  - {name: b, cron: "0 */6 * * *", scan: {}}
  - {name: c, cron: "@daily", scan: {}}
`), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 12, 7, 30, 0, time.UTC)
	for _, tc := range []struct {
		i    int
		want time.Time
	}{
		{0, time.Date(2026, 11, 26, 12, 15, 0, 0, time.UTC)},
		{1, time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)},
		{2, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
	} {
		if got := cfg.Schedules[tc.i].Next(at); !got.Equal(tc.want) {
			t.Errorf("%s: Next(%s) = %s, want %s", cfg.Schedules[tc.i].Name, at, got, tc.want)
		}
	}
	// Cron is UTC whatever the zone of the time asked about.
	if got := cfg.Schedules[1].Next(at.In(time.FixedZone("UTC+5", 5*3600))); !got.Equal(time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("cron in another zone: %s", got)
	}
	// A tick is the same whichever moment within the interval asks.
	s := cfg.Schedules[0]
	if a, b := s.Next(at), s.Next(at.Add(7*time.Minute)); !a.Equal(b) {
		t.Errorf("interval ticks are not aligned: %s vs %s", a, b)
	}
	if got := s.Next(s.Next(at)); !got.Equal(s.Next(at).Add(15 * time.Minute)) {
		t.Errorf("Next of a tick is the tick after: %s", got)
	}
}

func TestScans(t *testing.T) {
	cfg, err := Parse("/cfg/c.yaml", []byte(`version: 1
schedules:
  - {name: own, every: 1h, scan: {accounts: [], ou: [], assume_root: false}}
  - {name: several, every: 1h, scan: {profiles: [a, b], parallel: 4, account_timeout: 2m}}
  - {name: file, every: 1h, scan: {targets_file: accounts.yaml}}
  - {name: mgmt, every: 1h, scan: {org: true, profile: mgmt, assume_root: true, ou: [Workloads/Prod], accounts: [012345678901], exclude: ["111122223333"]}}
`), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	got := []Scan{}
	for _, s := range cfg.Schedules {
		got = append(got, s.Scan)
	}
	want := []Scan{
		{},
		{Profiles: []string{"a", "b"}, Parallel: 4, AccountTimeout: 2 * time.Minute},
		{TargetsFile: "/cfg/accounts.yaml"},
		{Org: true, Profile: "mgmt", AssumeRoot: true, OUs: []string{"Workloads/Prod"}, Accounts: []string{"012345678901"}, Exclude: []string{"111122223333"}},
	}
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("scans (-want +got):\n%s", d)
	}
	if p := cfg.Schedules[3].Scan.AllProfiles(); !cmp.Equal(p, []string{"mgmt"}) {
		t.Errorf("AllProfiles = %v", p)
	}
}

// TestErrors holds every mistake to a message at its line and column.
func TestErrors(t *testing.T) {
	const head = "version: 1\n"
	for _, tc := range []struct {
		name, yaml string
		want       []string // each a substring of one error, in order
	}{
		{"empty", "", []string{"c.yaml:1:1: empty config"}},
		{"syntax", "version: 1\nschedules: [\n", []string{"c.yaml:2:1: YAML:"}},
		{"not a mapping", "- a\n", []string{"c.yaml:1:1: want a mapping"}},
		{"no version", "listen: 127.0.0.1:1\n", []string{"c.yaml:1:1: version: missing"}},
		{"newer version", "version: 2\n", []string{"c.yaml:1:10: version: version 2 is not one this Vigil reads"}},
		{"unknown key with hint", head + "schedule: []\n", []string{`c.yaml:2:1: schedule: unknown key; did you mean "schedules"?`}},
		{"unknown key without hint", head + "frobnicate: 1\n", []string{"c.yaml:2:1: frobnicate: unknown key (known here: version,"}},
		{"duplicate key", head + "listen: a:1\nlisten: b:2\n", []string{"c.yaml:3:1: listen: duplicate key (first at line 2)"}},
		{"listen", head + "listen: 8080\n", []string{`c.yaml:2:9: listen: "8080" is not host:port`}},
		{"public_url not http", head + "public_url: vigil.example.com\n", []string{`c.yaml:2:13: public_url: "vigil.example.com" is not an http(s) URL`}},
		{"public_url with credentials", head + "public_url: https://u:p@vigil.example.com\n", []string{`c.yaml:2:13: public_url: "https://u:p@vigil.example.com" holds credentials`}},
		{"public_url with a query", head + "public_url: https://vigil.example.com/?x=1\n", []string{`c.yaml:2:13: public_url: "https://vigil.example.com/?x=1" has a query or a fragment`}},
		{"listen everywhere warns, not errs", head + "listen: \":8080\"\nschedules: [{name: a, every: 1h, scan: {}}, {name: a, every: 1h, scan: {}}]\n", []string{`c.yaml:3:52: schedules[1].name: "a" is already the name of the entry at line 3`}},
		{"schedule without timing", head + "schedules:\n  - name: a\n    scan: {}\n", []string{"c.yaml:3:5: schedules[0]: give `every: DURATION`"}},
		{"schedule with both", head + "schedules:\n  - {name: a, every: 1h, cron: '0 * * * *', scan: {}}\n", []string{"c.yaml:3:26: schedules[0]: give every or cron, not both"}},
		{"schedule without scan", head + "schedules:\n  - {name: a, every: 1h}\n", []string{"c.yaml:3:5: schedules[0].scan: missing"}},
		{"every too short", head + "schedules:\n  - {name: a, every: 500ms, scan: {}}\n", []string{"c.yaml:3:22: schedules[0].every: 500ms is shorter than the minimum, 1s"}},
		{"every not a duration", head + "schedules:\n  - {name: a, every: hourly, scan: {}}\n", []string{`c.yaml:3:22: schedules[0].every: "hourly" is not a duration`}},
		{"cron bad", head + "schedules:\n  - {name: a, cron: '61 * * * *', scan: {}}\n", []string{`c.yaml:3:21: schedules[0].cron: "61 * * * *" is not a cron expression`}},
		{"cron six fields", head + "schedules:\n  - {name: a, cron: '0 0 * * * *', scan: {}}\n", []string{`schedules[0].cron: "0 0 * * * *" is not a cron expression`}},
		{"cron @every", head + "schedules:\n  - {name: a, cron: '@every 1h', scan: {}}\n", []string{"schedules[0].cron: write `every: DURATION`"}},
		{"cron never", head + "schedules:\n  - {name: a, cron: '0 0 30 2 *', scan: {}}\n", []string{`never fires`}},
		{"bad name", head + "schedules:\n  - {name: 'a b', every: 1h, scan: {}}\n", []string{`c.yaml:3:12: schedules[0].name: "a b": a name is`}},
		{"org filter without org", head + "schedules:\n  - {name: a, every: 1h, scan: {ou: [x], role: R}}\n", []string{"c.yaml:3:33: schedules[0].scan.ou: needs org: true", "c.yaml:3:42: schedules[0].scan.role: needs org: true"}},
		{"org and targets", head + "schedules:\n  - {name: a, every: 1h, scan: {org: true, targets_file: t.yaml}}\n", []string{"schedules[0].scan: org and targets_file cannot be combined"}},
		{"org and profiles", head + "schedules:\n  - {name: a, every: 1h, scan: {org: true, profiles: [a, b]}}\n", []string{"org takes one profile"}},
		{"profile and profiles", head + "schedules:\n  - {name: a, every: 1h, scan: {profile: a, profiles: [b]}}\n", []string{"give profile or profiles, not both"}},
		{"parallel alone", head + "schedules:\n  - {name: a, every: 1h, scan: {parallel: 3}}\n", []string{"scan.parallel: needs org, targets_file or profiles"}},
		{"account id", head + "schedules:\n  - {name: a, every: 1h, scan: {org: true, accounts: [1234]}}\n", []string{`c.yaml:3:55: schedules[0].scan.accounts[0]: "1234" is not an AWS account ID`}},
		{"org not bool", head + "schedules:\n  - {name: a, every: 1h, scan: {org: yes please}}\n", []string{"schedules[0].scan.org: want true or false, got a str"}},
		{"scan key typo", head + "schedules:\n  - {name: a, every: 1h, scan: {acounts: []}}\n", []string{`schedules[0].scan.acounts: unknown key; did you mean "accounts"?`}},
		{"alert type", head + "alerts:\n  - {name: a, type: slak}\n", []string{`c.yaml:3:21: alerts[0].type: "slak" is not a channel type (webhook, slack, email or sns); did you mean "slack"?`}},
		{"alert no type", head + "alerts:\n  - {name: a}\n", []string{"c.yaml:3:5: alerts[0].type: missing"}},
		{"alert key of another type", head + "alerts:\n  - {name: a, type: sns, topic_arn: 'arn:aws:sns:us-east-1:111122223333:t', host: x}\n", []string{"alerts[0].host: unknown key"}},
		{"transition", head + "alerts:\n  - {name: a, type: sns, topic_arn: 'arn:aws:sns:us-east-1:111122223333:t', on: [new, fixd]}\n", []string{`alerts[0].on[1]: "fixd" is not a transition (want new, regressed`}},
		{"no transitions", head + "alerts:\n  - {name: a, type: sns, topic_arn: 'arn:aws:sns:us-east-1:111122223333:t', on: []}\n", []string{"alerts[0].on: empty: this channel would never alert"}},
		{"severity", head + "alerts:\n  - {name: a, type: sns, topic_arn: 'arn:aws:sns:us-east-1:111122223333:t', min_severity: severe}\n", []string{`alerts[0].min_severity: "severe" is not a severity (want critical, high, medium, low, info)`}},
		{"topic arn", head + "alerts:\n  - {name: a, type: sns, topic_arn: my-topic}\n", []string{`alerts[0].topic_arn: "my-topic" is not an SNS topic ARN`}},
		{"sns without topic", head + "alerts:\n  - {name: a, type: sns}\n", []string{"alerts[0].topic_arn: missing"}},
		{"webhook without secret", head + "alerts:\n  - {name: a, type: webhook, url: 'https://h.example.com/x'}\n", []string{"alerts[0]: missing: give one of secret_env, secret_file"}},
		{"webhook two urls", head + "alerts:\n  - {name: a, type: webhook, url: 'https://h.example.com/x', url_env: HTTP_URL, secret_env: VIGIL_WEBHOOK_SECRET}\n", []string{"give one of url, url_env, url_file, not url and url_env"}},
		{"webhook not http", head + "alerts:\n  - {name: a, type: webhook, url: 'ftp://h.example.com/x', secret_env: VIGIL_WEBHOOK_SECRET}\n", []string{`alerts[0].url: "ftp://h.example.com/x" is not an http(s) URL`}},
		{"env url not http, not quoted", head + "alerts:\n  - {name: a, type: webhook, url_env: NOT_A_URL, secret_env: VIGIL_WEBHOOK_SECRET}\n", []string{"alerts[0].url: the URL from env NOT_A_URL is not an http(s) URL"}},
		{"env unset", head + "alerts:\n  - {name: a, type: slack, url_env: NOPE}\n", []string{"c.yaml:3:37: alerts[0].url_env: environment variable NOPE is not set or empty"}},
		{"env empty", head + "alerts:\n  - {name: a, type: slack, url_env: EMPTY}\n", []string{"environment variable EMPTY is not set or empty"}},
		{"secret file missing", head + "alerts:\n  - {name: a, type: webhook, url: 'https://h.example.com/', secret_file: secrets/none}\n", []string{"alerts[0].secret_file: reading the secret: open /cfg/secrets/none:"}},
		{"secret file empty", head + "alerts:\n  - {name: a, type: webhook, url: 'https://h.example.com/', secret_file: /cfg/empty}\n", []string{"/cfg/empty is empty"}},
		{"secret file two lines", head + "alerts:\n  - {name: a, type: webhook, url: 'https://h.example.com/', secret_file: /cfg/two-lines}\n", []string{"holds more than one line"}},
		{"email", head + "alerts:\n  - {name: a, type: email, host: smtp.example.com, from: 'not an address', to: []}\n", []string{`alerts[0].from: "not an address" is not an email address`, "alerts[0].to: empty"}},
		{"email user without password", head + "alerts:\n  - {name: a, type: email, host: h, username: u, from: a@b.c, to: [d@e.f]}\n", []string{"c.yaml:3:37: alerts[0]: username needs password_env or password_file"}},
		{"email password in clear", head + "alerts:\n  - {name: a, type: email, host: h, username: u, password_file: /run/secrets/vigil-smtp-password, starttls: none, from: a@b.c, to: [d@e.f]}\n", []string{"alerts[0].starttls: none would send the password in clear text"}},
		{"email 465 without TLS", head + "alerts:\n  - {name: a, type: email, host: h, port: 465, starttls: none, from: a@b.c, to: [d@e.f]}\n", []string{"alerts[0].starttls: port 465 speaks TLS from the first byte"}},
		{"auto_fix", head + "auto_fix:\n  - {rule: root-acess-key, mode: fix, min_idle: 1h, accounts: [1], ous: [x]}\n", []string{
			`auto_fix[0].rule: "root-acess-key" is not a rule vigil fix can fix (root-access-key, root-signing-certificate); did you mean "root-access-key"?`,
			`auto_fix[0].mode: "fix": want plan`,
			"auto_fix[0].min_idle: 1h is shorter than the minimum, 1d",
			`auto_fix[0].accounts[0]: "1" is not an AWS account ID`,
			"auto_fix[0]: give accounts or ous, not both"}},
		{"auto_fix without rule", head + "auto_fix: [{mode: plan}]\n", []string{"auto_fix[0].rule: missing"}},
		{"retention", head + "retention: {results: 1h, scans: 1d}\n", []string{"retention.results: 1h is shorter than the minimum, 1d", `retention.scans: unknown key`}},
		{"database url with password", head + "database: postgres://vigil:hunter2@db/vigil\n", []string{"c.yaml:2:11: database: the URL holds a password"}},
		{"database other url", head + "database: mysql://db/vigil\n", []string{"database: want a file path (SQLite) or a postgres:// URL"}},
		{"two databases", head + "database: a.db\ndatabase_env: HTTP_URL\n", []string{"c.yaml:1:1: database: give one of database", "database_env: the value is neither a file path nor a postgres:// URL"}},
		{"list expected", head + "schedules: {name: a}\n", []string{"c.yaml:2:12: schedules: want a list"}},
		{"string expected", head + "listen: [a]\n", []string{"listen: want a string, got a list"}},
		{"alias followed", head + "x: &a 1\n", []string{"x: unknown key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("/cfg/c.yaml", []byte(tc.yaml), testEnv())
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want Errors: %v", err, err)
			}
			msg := strings.ReplaceAll(err.Error(), "/cfg/c.yaml", "c.yaml")
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error does not contain %q (in order):\n%s", w, msg)
				}
				rest = rest[i+len(w):]
			}
			for _, s := range []string{webhookSecret, slackURL, smtpPassword, "hunter2"} {
				if strings.Contains(msg, s) {
					t.Errorf("error quotes a secret:\n%s", msg)
				}
			}
		})
	}
}

// TestInlineSecretsRefused: a secret written in the file is an error
// that says where it belongs, and never repeats it.
func TestInlineSecretsRefused(t *testing.T) {
	const head = "version: 1\nalerts:\n"
	for _, tc := range []struct{ name, alert, want string }{
		{"webhook secret", "{name: a, type: webhook, url: 'https://h.example.com/', secret: SECRETVALUE}", "alerts[0].secret: a secret is never written in the config: name an environment variable (secret_env"},
		{"hmac key", "{name: a, type: webhook, url: 'https://h.example.com/', hmac_key: SECRETVALUE, secret_env: VIGIL_WEBHOOK_SECRET}", "alerts[0].hmac_key: a secret is never written"},
		{"smtp password", "{name: a, type: email, host: h, username: u, password: SECRETVALUE, from: a@b.c, to: [d@e.f]}", "alerts[0].password: a secret is never written in the config: name an environment variable (password_env"},
		{"token", "{name: a, type: slack, url_env: VIGIL_SLACK_WEBHOOK_URL, token: SECRETVALUE}", "alerts[0].token: a secret is never written"},
		{"slack url", "{name: a, type: slack, url: 'https://hooks.slack.com/services/T0/B0/SECRETVALUE'}", "alerts[0].url: a Slack incoming-webhook URL is itself a credential"},
		{"url with user info", "{name: a, type: webhook, url: 'https://vigil:SECRETVALUE@h.example.com/', secret_env: VIGIL_WEBHOOK_SECRET}", "alerts[0].url: the URL holds credentials (user:password@)"},
		{"url with token parameter", "{name: a, type: webhook, url: 'https://h.example.com/hook?token=SECRETVALUE', secret_env: VIGIL_WEBHOOK_SECRET}", "alerts[0].url: the URL has a query parameter token that carries a credential"},
		{"url with api key parameter", "{name: a, type: webhook, url: 'https://h.example.com/hook?x_api_key=SECRETVALUE', secret_env: VIGIL_WEBHOOK_SECRET}", "has a query parameter x_api_key that carries a credential"},
		{"url with token-shaped value", "{name: a, type: webhook, url: 'https://h.example.com/hook?v=SECRETVALUE0123456789abcdefXYZ', secret_env: VIGIL_WEBHOOK_SECRET}", "has a query parameter v whose value looks like a token"},
		{"url with token in path", "{name: a, type: webhook, url: 'https://discord.example.com/api/webhooks/123/SECRETVALUE0123456789abcdefXYZ', secret_env: VIGIL_WEBHOOK_SECRET}", "has a path segment that looks like a token"},
		{"secret pasted into _env", "{name: a, type: webhook, url: 'https://h.example.com/', secret_env: 'SECRETVALUE/+=='}", "alerts[0].secret_env: not an environment variable name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(head+"  - "+tc.alert+"\n"), testEnv())
			if err == nil {
				t.Fatal("an inline secret was accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRETVALUE") {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(`version: 1
listen: 0.0.0.0:8080
schedules:
  - {name: fast, every: 5s, scan: {}}
alerts:
  - {name: a, type: webhook, url_env: HTTP_URL, secret_env: VIGIL_WEBHOOK_SECRET}
  - {name: b, type: webhook, url: 'http://127.0.0.1:9/x', secret_env: VIGIL_WEBHOOK_SECRET}
`), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	got := Errors(cfg.Warnings).Error()
	for _, w := range []string{
		"c.yaml:2:9: listen: listen 0.0.0.0:8080 is not a loopback address: API tokens and session cookies would cross the network in clear, so vigil serve refuses it unless it serves HTTPS itself (--tls-cert and --tls-key) or --insecure-http",
		"c.yaml:4:25: schedules[0].every: every 5s is below one minute",
		"c.yaml:6:39: alerts[0].url: plain http",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("warnings lack %q:\n%s", w, got)
		}
	}
	if n := len(cfg.Warnings); n != 3 {
		t.Errorf("%d warnings, want 3 (none for http on loopback):\n%s", n, got)
	}
}

// TestSecretNeverPrinted: however a Config is printed or encoded, the
// resolved secrets stay out.
func TestSecretNeverPrinted(t *testing.T) {
	cfg, err := Parse("/etc/vigil/vigil.yaml", []byte(ExampleConfig), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", *cfg), fmt.Sprintf("%#v", *cfg), fmt.Sprintf("%s %q %x", cfg.Alerts[0].Secret, cfg.Alerts[1].URL, cfg.Alerts[2].SMTP.Password), string(j)}
	for _, out := range outs {
		for _, s := range []string{webhookSecret, slackURL, smtpPassword} {
			if strings.Contains(out, s) {
				t.Errorf("a secret is printed: %s", out)
			}
		}
	}
	if !strings.Contains(string(j), "secret from env VIGIL_WEBHOOK_SECRET") {
		t.Errorf("JSON should say where the secret comes from: %s", j)
	}
	if cfg.Alerts[1].URL.Value() != slackURL {
		t.Error("Value does not give the secret")
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1s": time.Second, "90s": 90 * time.Second, "15m": 15 * time.Minute, "1h30m": 90 * time.Minute,
		"30d": 30 * 24 * time.Hour, "1w": 7 * 24 * time.Hour, "1w2d12h": 9*24*time.Hour + 12*time.Hour,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "1x", "-5m", "1d-1h", "99999999d"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
	if got := FormatDuration(90 * 24 * time.Hour); got != "90d" {
		t.Errorf("FormatDuration = %q", got)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(path, []byte("version: 1\nretention: {results: 30d}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, OSEnv())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != filepath.Join(dir, "vigil.db") || cfg.Retention.Results != 30*24*time.Hour {
		t.Errorf("defaults and relative paths: %+v", cfg)
	}
	if _, err := Load(filepath.Join(dir, "none.yaml"), OSEnv()); err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("version: 1\n"+strings.Repeat("#", MaxSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, OSEnv()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
}

// TestREADME: the config the README shows is ExampleConfig, and the
// mistakes it shows give exactly the errors it prints.
func TestREADME(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	start := strings.Index(readme, "### Configuring `vigil serve`")
	end := strings.Index(readme, "### Alerts")
	if start < 0 || end < start {
		t.Fatal("README lacks the sections Configuring `vigil serve` and Alerts")
	}
	section := readme[start:end]
	alerts := readme[end:]
	if i := strings.Index(alerts, "\n## "); i >= 0 {
		alerts = alerts[:i]
	}
	for _, tr := range notify.TransitionNames() {
		if !strings.Contains(alerts, "| `"+tr+"` |") {
			t.Errorf("the README's Alerts section does not explain the transition %s", tr)
		}
	}
	for _, typ := range []string{TypeWebhook, TypeSlack, TypeEmail, TypeSNS} {
		if !strings.Contains(alerts, "| `"+typ+"` |") {
			t.Errorf("the README's Alerts section does not explain the channel type %s", typ)
		}
	}
	blocks := func(lang string) []string {
		var out []string
		for _, part := range strings.Split(section, "```"+lang+"\n")[1:] {
			out = append(out, part[:strings.Index(part, "```")])
		}
		return out
	}
	yamls, texts := blocks("yaml"), blocks("text")
	if len(yamls) != 2 || len(texts) != 1 {
		t.Fatalf("want 2 yaml blocks and 1 text block in the section, got %d and %d", len(yamls), len(texts))
	}
	if yamls[0] != ExampleConfig {
		t.Errorf("the README's config is not ExampleConfig:\n%s", cmp.Diff(ExampleConfig, yamls[0]))
	}
	_, err = Parse("vigil.yaml", []byte(yamls[1]), Env{Getenv: func(string) string { return "" }})
	if err == nil {
		t.Fatal("the README's config with mistakes parses")
	}
	if d := cmp.Diff(strings.TrimSpace(texts[0]), err.Error()); d != "" {
		t.Errorf("the README's errors (-README +actual):\n%s", d)
	}
}

func TestCronTimeZone(t *testing.T) {
	if _, err := time.LoadLocation("Europe/Paris"); err != nil {
		t.Skip("no time zone database")
	}
	cfg, err := Parse("c.yaml", []byte("version: 1\nschedules: [{name: a, cron: 'CRON_TZ=Europe/Paris 0 9 * * *', scan: {}}]\n"), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Schedules[0].Next(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next = %s, want %s (09:00 in Paris)", got.UTC(), want)
	}
}

func TestMoreWarnings(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"open": 0o644, "closed": 0o600} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(webhookSecret+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(dir, name), mode)
	}
	cfg, err := Parse(filepath.Join(dir, "vigil.yaml"), []byte(`version: 1
alerts:
  - {name: a, type: webhook, url: 'https://h.example.com/', secret_file: open}
  - {name: b, type: webhook, url: 'https://h.example.com/', secret_file: closed}
`), OSEnv())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(Errors(cfg.Warnings).Error(), dir, "DIR")
	want := "DIR/vigil.yaml:1:1: schedules: none: vigil serve will scan nothing (add one with every: or cron:)\n" +
		"DIR/vigil.yaml:3:74: alerts[0].secret_file: DIR/open is readable by every user of this machine (mode 0644): chmod 600 it, unless it is a container's mounted secret"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
	if cfg.Alerts[0].Secret.Value() != webhookSecret {
		t.Error("the secret file's trailing newline is not trimmed")
	}
}

func TestDatabaseLabel(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/vigil/vigil.db":                         "/var/lib/vigil/vigil.db",
		"postgres://vigil:hunter2@db:5432/vigil":          "postgres://[REDACTED]@db:5432/vigil",
		"postgres://db/vigil?user=v&password=hunter2&x=1": "postgres://db/vigil?user=v&password=[REDACTED]&x=1",
		"postgresql://db/vigil?sslmode=require":           "postgresql://db/vigil?sslmode=require",
	} {
		c := &Config{Database: in}
		if got := c.DatabaseLabel(); got != want {
			t.Errorf("DatabaseLabel(%q) = %q, want %q", in, got, want)
		}
	}
	env := testEnv()
	env.Getenv = func(string) string { return "postgres://vigil:hunter2@db/vigil" }
	cfg, err := Parse("c.yaml", []byte("version: 1\ndatabase_env: VIGIL_DATABASE_URL\n"), env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "postgres://vigil:hunter2@db/vigil" || strings.Contains(cfg.DatabaseLabel(), "hunter2") {
		t.Errorf("Database %q, label %q", cfg.Database, cfg.DatabaseLabel())
	}
}

func BenchmarkParseExample(b *testing.B) {
	env := testEnv()
	for b.Loop() {
		if _, err := Parse("vigil.yaml", []byte(ExampleConfig), env); err != nil {
			b.Fatal(err)
		}
	}
}
