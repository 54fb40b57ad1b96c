package serveconfig

// ExampleConfig is a complete, commented `vigil serve` config: what
// `vigil serve --example-config` prints and the README shows. A test
// parses it, so it never drifts from the grammar.
const ExampleConfig = `# vigil serve configuration (version 1).
# Durations: 90s, 15m, 1h, 30d, 1w. Relative paths are relative to this file.
version: 1

# Where findings, scans and transitions are kept: a SQLite file, or a
# postgres:// URL (team mode). A URL with a password goes in database_env
# or database_file, never here.
database: vigil.db

# The dashboard, the API (/api/v1), /healthz and /readyz listen here. An
# address that is not loopback needs --tls-cert/--tls-key or --insecure-http.
listen: 127.0.0.1:8080

# Where readers of an alert reach the dashboard (through your proxy, say):
# each alerted finding links to its page there. Leave it out and alerts
# carry no link.
public_url: https://vigil.example.com

# What to scan, and when: each schedule has either "every" (from 1s; below
# 1m warns) or "cron" (five fields, UTC: minute hour day-of-month month
# day-of-week), and a scan with the same choices as "vigil scan".
schedules:
  - name: org
    every: 1h
    scan:
      org: true              # every account of the organisation
      assume_root: false     # true: sts:AssumeRoot, no role needed in members
      role: VigilAudit       # the read-only role assumed in each member
      ou: []                 # only these OUs (ou-... or Workloads/Prod) and below
      accounts: []           # only these account IDs
      exclude: []            # never these account IDs
  - name: prod
    cron: "*/15 * * * *"
    scan: {profile: prod}    # or profiles: [a, b], targets_file: accounts.yaml,
                             # or {} for the account of the service's credentials

# Where alerts go. Each channel picks the transitions it wants (new,
# regressed, resolved, suppression_expired, fixed, gone; default all) and a
# minimum severity (info, low, medium, high, critical; default info).
# Secrets are never written here: *_env names an environment variable and
# *_file a file that holds the secret; vigil serve refuses an inline one.
alerts:
  - name: secops
    type: webhook            # JSON body signed with HMAC-SHA256 (docs/webhook.md)
    url: https://hooks.example.com/vigil
    secret_env: VIGIL_WEBHOOK_SECRET
    on: [new, regressed, resolved, suppression_expired, fixed]
    min_severity: high
  - name: slack
    type: slack              # an incoming webhook; its URL is a credential
    url_env: VIGIL_SLACK_WEBHOOK_URL
    on: [new, regressed, suppression_expired]
    min_severity: medium
  - name: mail
    type: email              # SMTP submission with STARTTLS, text and HTML
    host: smtp.example.com
    port: 587
    username: vigil@example.com
    password_file: /run/secrets/vigil-smtp-password
    from: vigil@example.com
    to: [secops@example.com]
    on: [new, regressed]
    min_severity: critical
  - name: pager
    type: sns                # sns:Publish with the service's AWS credentials
    topic_arn: arn:aws:sns:eu-west-1:111122223333:vigil-alerts
    on: [new, regressed]
    min_severity: critical

# Opt-in automatic fixes through the vigil fix engine and its guard.
# plan records and alerts what would be done; apply does it. The management
# account is never changed; every change is in the audit log.
auto_fix:
  - rule: root-access-key
    accounts: []             # or ous: [...]; both empty: every member account
    mode: plan
    min_idle: 30d            # a key used more recently is never removed

# How long per-scan results are kept (findings and transitions stay).
retention: {results: 90d}
`
