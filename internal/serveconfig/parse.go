package serveconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/rule"
)

// MaxSize bounds the config file; a config is a page or two of YAML.
const MaxSize = 1 << 20

// Env is what Parse reads secrets and files with.
type Env struct {
	// Getenv reads *_env references; os.Getenv in the product.
	Getenv func(string) string
	// ReadFile reads *_file references; os.ReadFile in the product.
	ReadFile func(string) ([]byte, error)
	// Stat, when set, lets Parse warn about a secret file other users
	// can read; os.Stat in the product.
	Stat func(string) (fs.FileInfo, error)
	// FixableRules, when not nil, are the rule IDs auto_fix may name
	// (the rules `vigil fix` can fix).
	FixableRules []string
}

// OSEnv reads the process environment and the file system.
func OSEnv() Env { return Env{Getenv: os.Getenv, ReadFile: os.ReadFile, Stat: os.Stat} }

// Load reads and parses the config file at path with env.
func Load(path string, env Env) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	return Parse(path, data, env)
}

// Parse parses data, the contents of the config file named file, checks
// it and resolves its secret references with env. Relative paths in it
// (database, targets_file, *_file) are relative to file's directory. The
// error is an Errors listing every mistake, each with its file, line and
// column; a secret's value never appears in it.
func Parse(file string, data []byte, env Env) (*Config, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a vigil serve config", file, MaxSize)
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.ReadFile == nil {
		env.ReadFile = func(name string) ([]byte, error) {
			return nil, fmt.Errorf("open %s: reading files is not allowed here", name)
		}
	}
	p := &parser{file: file, dir: filepath.Dir(file), env: env}
	cfg := &Config{File: file, Database: DefaultDatabase, Listen: DefaultListen, Retention: Retention{Results: DefaultRetention}}

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, p.syntaxError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, Errors{{Pos: Pos{file, 1, 1}, Msg: "empty config: start from `vigil serve --example-config`"}}
	}
	p.document(doc.Content[0], cfg)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, byPos)
		return nil, p.errs
	}
	slices.SortStableFunc(p.warns, byPos)
	cfg.Warnings = p.warns
	return cfg, nil
}

func byPos(a, b *Error) int {
	if a.Pos.Line != b.Pos.Line {
		return a.Pos.Line - b.Pos.Line
	}
	return a.Pos.Column - b.Pos.Column
}

var yamlLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// syntaxError gives a YAML syntax error the file name; yaml.v3 names the
// line but no column.
func (p *parser) syntaxError(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Errors{{Pos: Pos{p.file, line, 1}, Msg: "YAML: " + m[2]}}
	}
	return Errors{{Pos: Pos{p.file, 1, 1}, Msg: "YAML: " + strings.TrimPrefix(msg, "yaml: ")}}
}

type parser struct {
	file  string
	dir   string
	env   Env
	errs  Errors
	warns []*Error
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{p.file, n.Line, n.Column} }

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: p.pos(n), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) warnf(n *yaml.Node, path, format string, args ...any) {
	p.warns = append(p.warns, &Error{Pos: p.pos(n), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// deref follows aliases (bounded, since an alias can only point back).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// fields walks a mapping: fn gets each known key; an unknown or
// duplicate key is an error, with the nearest known key as a hint. It
// returns the key nodes by name, for checks of presence.
func (p *parser) fields(n *yaml.Node, path string, known []string, fn func(key string, k, v *yaml.Node)) map[string]*yaml.Node {
	n = deref(n)
	seen := map[string]*yaml.Node{}
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(orNode(n), path, "want a mapping (key: value lines), got %s", kindName(n))
		return seen
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		key := k.Value
		kp := join(path, key)
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, path, "a key must be a plain name")
			continue
		}
		if _, dup := seen[key]; dup {
			p.errorf(k, kp, "duplicate key (first at line %d)", seen[key].Line)
			continue
		}
		seen[key] = k
		if !slices.Contains(known, key) {
			if hint := nearest(key, known); hint != "" {
				p.errorf(k, kp, "unknown key; did you mean %q?", hint)
			} else {
				p.errorf(k, kp, "unknown key (known here: %s)", strings.Join(known, ", "))
			}
			continue
		}
		if v == nil {
			p.errorf(k, kp, "no value")
			continue
		}
		fn(key, k, v)
	}
	return seen
}

func orNode(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Line: 1, Column: 1}
	}
	return n
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return "null"
	case n.Kind == yaml.ScalarNode:
		return "a " + strings.TrimPrefix(n.Tag, "!!")
	}
	return "something else"
}

// str reads a scalar as text: strings, and numbers as written (account
// IDs are often left unquoted).
func (p *parser) str(v *yaml.Node, path string) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Tag == "!!bool" {
		p.errorf(v, path, "want a string, got %s", kindName(v))
		return "", false
	}
	return v.Value, true
}

func (p *parser) nonEmpty(v *yaml.Node, path string) (string, bool) {
	s, ok := p.str(v, path)
	if ok && strings.TrimSpace(s) == "" {
		p.errorf(v, path, "empty")
		return "", false
	}
	return s, ok
}

func (p *parser) boolean(v *yaml.Node, path string) bool {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		p.errorf(v, path, "want true or false, got %s", kindName(v))
		return false
	}
	b, _ := strconv.ParseBool(strings.ToLower(v.Value))
	return b
}

func (p *parser) integer(v *yaml.Node, path string, lo, hi int) int {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
		p.errorf(v, path, "want a whole number, got %s", kindName(v))
		return 0
	}
	i, err := strconv.Atoi(v.Value)
	if err != nil || i < lo || i > hi {
		p.errorf(v, path, "%s: want %d to %d", v.Value, lo, hi)
		return 0
	}
	return i
}

func (p *parser) list(v *yaml.Node, path string) []string {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, path, "want a list ([a, b] or one \"- item\" per line), got %s", kindName(v))
		return nil
	}
	var out []string
	for i, item := range v.Content {
		item = deref(item)
		if s, ok := p.nonEmpty(item, fmt.Sprintf("%s[%d]", path, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) duration(v *yaml.Node, path string, lo time.Duration) time.Duration {
	s, ok := p.str(v, path)
	if !ok {
		return 0
	}
	d, err := ParseDuration(s)
	if err != nil {
		p.errorf(v, path, "%v", err)
		return 0
	}
	if d < lo {
		p.errorf(v, path, "%s is shorter than the minimum, %s", s, FormatDuration(lo))
		return 0
	}
	return d
}

var durationPart = regexp.MustCompile(`^([0-9]+)([wd])`)

// ParseDuration reads a duration: Go's syntax (90s, 15m, 1h30m) with days
// (d) and weeks (w) in front, as in 30d or 1w2d12h.
func ParseDuration(s string) (time.Duration, error) {
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, errors.New("empty duration (write e.g. 15m, 1h or 30d)")
	}
	var d time.Duration
	for {
		m := durationPart.FindStringSubmatch(rest)
		if m == nil {
			break
		}
		n, err := strconv.ParseInt(m[1], 10, 32)
		if err != nil || n > 100*366 {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		unit := 24 * time.Hour
		if m[2] == "w" {
			unit *= 7
		}
		d += time.Duration(n) * unit
		rest = rest[len(m[0]):]
	}
	if rest != "" {
		g, err := time.ParseDuration(rest)
		if err != nil || g < 0 {
			return 0, fmt.Errorf("%q is not a duration (write e.g. 90s, 15m, 1h or 30d)", s)
		}
		d += g
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return d, nil
}

// FormatDuration writes d the way a config would: whole days as "30d".
func FormatDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func (p *parser) document(root *yaml.Node, cfg *Config) {
	root = deref(root)
	known := []string{"version", "database", "database_env", "database_file", "listen", "public_url", "schedules", "alerts", "auto_fix", "retention", "events"}
	seen := p.fields(root, "", known, func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
				p.errorf(v, key, "want 1, got %s", kindName(v))
			} else if v.Value != "1" {
				p.errorf(v, key, "version %s is not one this Vigil reads (it reads version 1); is the config from a newer Vigil?", v.Value)
			} else {
				cfg.Version = Version
			}
		case "database":
			if s, ok := p.nonEmpty(v, key); ok {
				cfg.Database = p.database(v, key, s)
			}
		case "database_env", "database_file":
			if s := p.reference(k, v, key); s.IsSet() {
				cfg.Database = p.database(v, key, s.Value())
			}
		case "listen":
			if s, ok := p.nonEmpty(v, key); ok {
				if _, port, err := net.SplitHostPort(s); err != nil {
					p.errorf(v, key, "%q is not host:port (write e.g. 127.0.0.1:8080)", s)
				} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
					p.errorf(v, key, "port %q is not a number from 0 to 65535", port)
				} else {
					if !LoopbackListen(s) {
						p.warnf(v, key, "%s", NonLoopbackListen("listen", s))
					}
					cfg.Listen = s
				}
			}
		case "public_url":
			if s, ok := p.nonEmpty(v, key); ok {
				if why := PublicURLProblem(s); why != "" {
					p.errorf(v, key, "%q %s", s, why)
				} else {
					cfg.PublicURL = strings.TrimRight(s, "/")
				}
			}
		case "schedules":
			cfg.Schedules = p.schedules(v, key)
		case "alerts":
			cfg.Alerts = p.alerts(v, key)
		case "auto_fix":
			cfg.AutoFix = p.autoFixes(v, key)
		case "events":
			cfg.Events = p.events(v, key)
		case "retention":
			p.fields(v, key, []string{"results"}, func(key2 string, _, v2 *yaml.Node) {
				if d := p.duration(v2, join(key, key2), 24*time.Hour); d > 0 {
					cfg.Retention.Results = d
				}
			})
		}
	})
	if root != nil && root.Kind == yaml.MappingNode {
		if seen["schedules"] == nil || len(cfg.Schedules) == 0 {
			p.warnf(root, "schedules", "none: vigil serve will scan nothing (add one with every: or cron:)")
		}
		if seen["version"] == nil {
			p.errorf(root, "version", "missing: the first line of a config is `version: 1`")
		}
		if seen["database"] == nil && seen["database_env"] == nil && seen["database_file"] == nil {
			cfg.Database = p.path(DefaultDatabase)
		}
		n := 0
		for _, k := range []string{"database", "database_env", "database_file"} {
			if seen[k] != nil {
				n++
			}
		}
		if n > 1 {
			p.errorf(root, "database", "give one of database, database_env and database_file")
		}
	}
}

// database checks the store's location: a file path (relative to the
// config's directory) or a PostgreSQL URL, which may hold a password only
// when it came from database_env or database_file.
func (p *parser) database(v *yaml.Node, key, s string) string {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		if key == "database" && hasPassword(s) {
			p.errorf(v, key, "the URL holds a password; a secret is never written in the config: put the URL in database_env or database_file, or the password in PGPASSWORD / ~/.pgpass")
			return ""
		}
		return s
	}
	if strings.Contains(s, "://") {
		if key == "database" {
			p.errorf(v, key, "want a file path (SQLite) or a postgres:// URL, got another URL")
		} else {
			p.errorf(v, key, "the value is neither a file path nor a postgres:// URL")
		}
		return ""
	}
	return p.path(s)
}

func hasPassword(raw string) bool {
	at := strings.LastIndex(raw, "@")
	scheme := strings.Index(raw, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return strings.Contains(strings.ToLower(raw), "password=")
	}
	return strings.Contains(raw[scheme+3:at], ":") || strings.Contains(strings.ToLower(raw), "password=")
}

func (p *parser) path(s string) string {
	if filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(p.dir, s)
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

func (p *parser) name(v *yaml.Node, path string, seen map[string]int) string {
	s, ok := p.nonEmpty(v, path)
	if !ok {
		return ""
	}
	if !namePattern.MatchString(s) {
		p.errorf(v, path, "%q: a name is letters, digits, '.', '_' and '-' (at most 63), starting with a letter or digit", s)
		return ""
	}
	if line, dup := seen[s]; dup {
		p.errorf(v, path, "%q is already the name of the entry at line %d", s, line)
		return ""
	}
	seen[s] = v.Line
	return s
}

func (p *parser) seq(v *yaml.Node, path string) []*yaml.Node {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, path, "want a list (one \"- name: ...\" entry per item), got %s", kindName(v))
		return nil
	}
	out := make([]*yaml.Node, len(v.Content))
	for i, n := range v.Content {
		out[i] = deref(n)
	}
	return out
}

func (p *parser) require(n *yaml.Node, path string, seen map[string]*yaml.Node, keys ...string) {
	for _, k := range keys {
		if seen[k] == nil {
			p.errorf(n, join(path, k), "missing")
		}
	}
}

// cronParser reads standard five-field expressions and the @ descriptors;
// @every is refused in favour of `every:`, which aligns its ticks.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (p *parser) schedules(v *yaml.Node, path string) []Schedule {
	var out []Schedule
	names := map[string]int{}
	for i, n := range p.seq(v, path) {
		ip := fmt.Sprintf("%s[%d]", path, i)
		s := Schedule{Pos: p.pos(n)}
		seen := p.fields(n, ip, []string{"name", "every", "cron", "scan"}, func(key string, _, v *yaml.Node) {
			kp := join(ip, key)
			switch key {
			case "name":
				s.Name = p.name(v, kp, names)
			case "every":
				if d := p.duration(v, kp, MinEvery); d > 0 {
					s.Every = d
					if d < WarnEvery {
						p.warnf(v, kp, "every %s is below one minute: each tick scans every account of the schedule again", d)
					}
				}
			case "cron":
				expr, ok := p.nonEmpty(v, kp)
				if !ok {
					return
				}
				if strings.HasPrefix(strings.TrimSpace(expr), "@every") {
					p.errorf(v, kp, "write `every: DURATION` instead of cron @every")
					return
				}
				sched, err := cronParser.Parse(expr)
				if err != nil {
					p.errorf(v, kp, "%q is not a cron expression (five fields: minute hour day-of-month month day-of-week, e.g. \"0 * * * *\"): %v", expr, err)
					return
				}
				if sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
					p.errorf(v, kp, "%q never fires (no such date)", expr)
					return
				}
				s.Cron, s.cron = expr, sched
			case "scan":
				s.Scan = p.scan(v, kp)
			}
		})
		if n.Kind == yaml.MappingNode {
			p.require(n, ip, seen, "name", "scan")
			switch {
			case seen["every"] == nil && seen["cron"] == nil:
				p.errorf(n, ip, "give `every: DURATION` (e.g. 1h) or `cron: EXPRESSION` (e.g. \"0 * * * *\")")
			case seen["every"] != nil && seen["cron"] != nil:
				p.errorf(seen["cron"], ip, "give every or cron, not both")
			}
		}
		out = append(out, s)
	}
	return out
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

func (p *parser) scan(v *yaml.Node, path string) Scan {
	var s Scan
	keys := []string{"org", "assume_root", "role", "ou", "accounts", "exclude", "profile", "profiles", "targets_file", "parallel", "account_timeout"}
	seen := p.fields(v, path, keys, func(key string, _, v *yaml.Node) {
		kp := join(path, key)
		switch key {
		case "org":
			s.Org = p.boolean(v, kp)
		case "assume_root":
			s.AssumeRoot = p.boolean(v, kp)
		case "role":
			s.Role, _ = p.nonEmpty(v, kp)
		case "ou":
			s.OUs = p.list(v, kp)
		case "accounts", "exclude":
			ids := p.list(v, kp)
			for i, id := range ids {
				if !accountID.MatchString(id) {
					p.errorf(v.Content[i], fmt.Sprintf("%s[%d]", kp, i), "%q is not an AWS account ID (12 digits; quote IDs that start with 0)", id)
				}
			}
			if key == "accounts" {
				s.Accounts = ids
			} else {
				s.Exclude = ids
			}
		case "profile":
			s.Profile, _ = p.nonEmpty(v, kp)
		case "profiles":
			s.Profiles = p.list(v, kp)
		case "targets_file":
			if f, ok := p.nonEmpty(v, kp); ok {
				s.TargetsFile = p.path(f)
			}
		case "parallel":
			s.Parallel = p.integer(v, kp, 1, 1024)
		case "account_timeout":
			s.AccountTimeout = p.duration(v, kp, time.Second)
		}
	})
	if v.Kind != yaml.MappingNode {
		return s
	}
	if !s.Org {
		// An empty list or assume_root: false asks for nothing: harmless.
		for k, set := range map[string]bool{"assume_root": s.AssumeRoot, "role": s.Role != "", "ou": len(s.OUs) > 0, "accounts": len(s.Accounts) > 0, "exclude": len(s.Exclude) > 0} {
			if seen[k] != nil && set {
				p.errorf(seen[k], join(path, k), "needs org: true")
			}
		}
	}
	several := s.Org || s.TargetsFile != "" || len(s.Profiles) > 0
	switch {
	case s.Org && s.TargetsFile != "":
		p.errorf(seen["targets_file"], path, "org and targets_file cannot be combined")
	case s.Org && len(s.Profiles) > 0:
		p.errorf(seen["profiles"], path, "org takes one profile (the management account's or the delegated administrator's): write profile:")
	case s.TargetsFile != "" && (s.Profile != "" || len(s.Profiles) > 0):
		p.errorf(seen["targets_file"], path, "targets_file and profile/profiles cannot be combined: list the profiles in the targets file")
	case s.Profile != "" && len(s.Profiles) > 0:
		p.errorf(seen["profiles"], path, "give profile or profiles, not both")
	case seen["parallel"] != nil && !several:
		p.errorf(seen["parallel"], join(path, "parallel"), "needs org, targets_file or profiles")
	}
	return s
}

// transitions the config names, for messages.
func transitionList() string { return strings.Join(notify.TransitionNames(), ", ") }

func (p *parser) alerts(v *yaml.Node, path string) []Alert {
	var out []Alert
	names := map[string]int{}
	common := []string{"name", "type", "on", "min_severity"}
	byType := map[string][]string{
		TypeWebhook: {"url", "url_env", "url_file", "secret_env", "secret_file"},
		TypeSlack:   {"url_env", "url_file"},
		TypeEmail:   {"host", "port", "username", "password_env", "password_file", "from", "to", "starttls"},
		TypeSNS:     {"topic_arn", "region", "profile"},
	}
	// Keys that would hold a secret inline: refused in every channel.
	inline := map[string]string{"secret": "secret", "password": "password", "token": "token", "api_key": "api_key", "hmac_key": "secret"}
	types := []string{TypeWebhook, TypeSlack, TypeEmail, TypeSNS}

	for i, n := range p.seq(v, path) {
		ip := fmt.Sprintf("%s[%d]", path, i)
		a := Alert{Pos: p.pos(n), Filter: notify.Filter{MinSeverity: rule.Info}}
		if n.Kind != yaml.MappingNode {
			p.errorf(n, ip, "want a mapping (name:, type:, ...), got %s", kindName(n))
			continue
		}
		// The type decides which keys are known: read it first.
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == "type" {
				t := deref(n.Content[j+1])
				if s, ok := p.nonEmpty(t, join(ip, "type")); ok {
					if !slices.Contains(types, s) {
						hint := ""
						if h := nearest(s, types); h != "" {
							hint = fmt.Sprintf("; did you mean %q?", h)
						}
						p.errorf(t, join(ip, "type"), "%q is not a channel type (webhook, slack, email or sns)%s", s, hint)
					} else {
						a.Type = s
					}
				}
			}
		}
		known := slices.Clone(common)
		if a.Type != "" {
			known = append(known, byType[a.Type]...)
			if a.Type == TypeSlack {
				known = append(known, "url")
			}
		} else {
			for _, t := range types {
				known = append(known, byType[t]...)
			}
			known = append(known, "url")
		}
		for k := range inline {
			known = append(known, k)
		}
		var urlNode *yaml.Node
		seen := p.fields(n, ip, known, func(key string, k, v *yaml.Node) {
			kp := join(ip, key)
			if ref, ok := inline[key]; ok {
				p.errorf(k, kp, "a secret is never written in the config: name an environment variable (%s_env: VIGIL_...) or a file (%s_file: /run/secrets/...) that holds it", ref, ref)
				return
			}
			switch key {
			case "name":
				a.Name = p.name(v, kp, names)
			case "type":
			case "on":
				a.Filter.On = nil
				for j, s := range p.list(v, kp) {
					t, err := notify.ParseTransition(s)
					if err != nil {
						p.errorf(v.Content[j], fmt.Sprintf("%s[%d]", kp, j), "%q is not a transition (want %s)", s, transitionList())
						continue
					}
					if !slices.Contains(a.Filter.On, t) {
						a.Filter.On = append(a.Filter.On, t)
					}
				}
				if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
					p.errorf(v, kp, "empty: this channel would never alert (leave `on` out for every transition: %s)", transitionList())
				}
			case "min_severity":
				if s, ok := p.nonEmpty(v, kp); ok {
					sev, err := rule.ParseSeverity(s)
					if err != nil {
						p.errorf(v, kp, "%q is not a severity (want %s)", s, strings.Join(severityNames(), ", "))
					} else {
						a.Filter.MinSeverity = sev
					}
				}
			case "url":
				if a.Type == TypeSlack {
					p.errorf(k, kp, "a Slack incoming-webhook URL is itself a credential: name an environment variable (url_env: VIGIL_SLACK_WEBHOOK_URL) or a file (url_file: ...) that holds it")
					return
				}
				if s, ok := p.nonEmpty(v, kp); ok {
					if why := urlSecret(s); why != "" {
						p.errorf(v, kp, "the URL %s; a secret is never written in the config: put the URL in url_env or url_file", why)
						return
					}
					urlNode = v
					a.URL = Secret{value: s, Source: "inline"}
				}
			case "url_env", "url_file":
				if s := p.reference(k, v, kp); s.IsSet() {
					urlNode = v
					a.URL = s
				}
			case "secret_env", "secret_file":
				a.Secret = p.reference(k, v, kp)
			case "host":
				a.SMTP.Host, _ = p.nonEmpty(v, kp)
			case "port":
				a.SMTP.Port = p.integer(v, kp, 1, 65535)
			case "username":
				a.SMTP.Username, _ = p.nonEmpty(v, kp)
			case "password_env", "password_file":
				a.SMTP.Password = p.reference(k, v, kp)
			case "from":
				if s, ok := p.nonEmpty(v, kp); ok {
					if !looksLikeAddress(s) {
						p.errorf(v, kp, "%q is not an email address", s)
					}
					a.SMTP.From = s
				}
			case "to":
				a.SMTP.To = p.list(v, kp)
				for j, s := range a.SMTP.To {
					if !looksLikeAddress(s) {
						p.errorf(v.Content[j], fmt.Sprintf("%s[%d]", kp, j), "%q is not an email address", s)
					}
				}
				if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
					p.errorf(v, kp, "empty: name at least one recipient")
				}
			case "starttls":
				if s, ok := p.nonEmpty(v, kp); ok {
					if s != StartTLSRequire && s != StartTLSNone {
						p.errorf(v, kp, "%q: want require (the default) or none", s)
					}
					a.SMTP.StartTLS = s
				}
			case "topic_arn":
				if s, ok := p.nonEmpty(v, kp); ok {
					parts := strings.Split(s, ":")
					if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || !accountID.MatchString(parts[4]) || parts[5] == "" {
						p.errorf(v, kp, "%q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", s)
					} else {
						a.TopicARN = s
						if a.Region == "" {
							a.Region = parts[3]
						}
					}
				}
			case "region":
				a.Region, _ = p.nonEmpty(v, kp)
			case "profile":
				a.Profile, _ = p.nonEmpty(v, kp)
			}
		})
		p.require(n, ip, seen, "name", "type")
		switch a.Type {
		case TypeWebhook:
			p.exactlyOne(n, ip, seen, "url", "url_env", "url_file")
			p.exactlyOne(n, ip, seen, "secret_env", "secret_file")
			if a.URL.IsSet() {
				p.checkURL(urlNode, ip+".url", a.URL)
			}
		case TypeSlack:
			if seen["url"] == nil {
				p.exactlyOne(n, ip, seen, "url_env", "url_file")
			}
			if a.URL.IsSet() {
				p.checkURL(urlNode, ip+".url", a.URL)
			}
		case TypeEmail:
			p.require(n, ip, seen, "host", "from", "to")
			if a.SMTP.Port == 0 {
				a.SMTP.Port = 587
			}
			if a.SMTP.StartTLS == "" {
				a.SMTP.StartTLS = StartTLSRequire
			}
			if seen["password_env"] != nil && seen["password_file"] != nil {
				p.errorf(seen["password_file"], ip, "give password_env or password_file, not both")
			}
			hasPass := seen["password_env"] != nil || seen["password_file"] != nil
			switch {
			case a.SMTP.Username != "" && !hasPass:
				p.errorf(seen["username"], ip, "username needs password_env or password_file")
			case a.SMTP.Username == "" && hasPass && seen["username"] == nil:
				p.errorf(n, ip, "a password needs a username")
			}
			if a.SMTP.StartTLS == StartTLSNone && a.SMTP.ImplicitTLS() {
				p.errorf(seen["starttls"], join(ip, "starttls"), "port 465 speaks TLS from the first byte: starttls: none does not apply")
			}
			if a.SMTP.StartTLS == StartTLSNone && hasPass {
				p.errorf(seen["starttls"], join(ip, "starttls"), "none would send the password in clear text: use require")
			}
		case TypeSNS:
			p.require(n, ip, seen, "topic_arn")
		}
		out = append(out, a)
	}
	return out
}

func (p *parser) exactlyOne(n *yaml.Node, path string, seen map[string]*yaml.Node, keys ...string) {
	var have []string
	for _, k := range keys {
		if seen[k] != nil {
			have = append(have, k)
		}
	}
	switch {
	case len(have) == 0:
		p.errorf(n, path, "missing: give one of %s", strings.Join(keys, ", "))
	case len(have) > 1:
		p.errorf(seen[have[1]], path, "give one of %s, not %s", strings.Join(keys, ", "), strings.Join(have, " and "))
	}
}

// checkURL checks an alert URL: http or https with a host. A URL from an
// environment variable or a file is a secret: the message never quotes it.
func (p *parser) checkURL(v *yaml.Node, path string, u Secret) {
	if v == nil {
		return
	}
	why := badURL(u.Value())
	if why == "" {
		if strings.HasPrefix(u.Value(), "http://") && !loopback(u.Value()) {
			p.warnf(v, path, "plain http: alerts (and, for Slack, the URL's token) cross the network unencrypted")
		}
		return
	}
	if u.Source == "inline" {
		p.errorf(v, path, "%q %s", u.Value(), why)
	} else {
		p.errorf(v, path, "the URL from %s %s", u.Source, why)
	}
}

func (p *parser) autoFixes(v *yaml.Node, path string) []AutoFix {
	var out []AutoFix
	for i, n := range p.seq(v, path) {
		ip := fmt.Sprintf("%s[%d]", path, i)
		f := AutoFix{Pos: p.pos(n), Mode: ModePlan}
		seen := p.fields(n, ip, []string{"rule", "accounts", "ous", "mode", "min_idle"}, func(key string, _, v *yaml.Node) {
			kp := join(ip, key)
			switch key {
			case "rule":
				s, ok := p.nonEmpty(v, kp)
				if !ok {
					return
				}
				if p.env.FixableRules != nil && !slices.Contains(p.env.FixableRules, s) {
					hint := ""
					if h := nearest(s, p.env.FixableRules); h != "" {
						hint = fmt.Sprintf("; did you mean %q?", h)
					}
					p.errorf(v, kp, "%q is not a rule vigil fix can fix (%s)%s", s, strings.Join(p.env.FixableRules, ", "), hint)
					return
				}
				f.Rule = s
			case "accounts":
				f.Accounts = p.list(v, kp)
				for j, id := range f.Accounts {
					if !accountID.MatchString(id) {
						p.errorf(v.Content[j], fmt.Sprintf("%s[%d]", kp, j), "%q is not an AWS account ID (12 digits; quote IDs that start with 0)", id)
					}
				}
			case "ous":
				f.OUs = p.list(v, kp)
			case "mode":
				if s, ok := p.nonEmpty(v, kp); ok {
					if s != ModePlan && s != ModeApply {
						p.errorf(v, kp, "%q: want plan (record and alert what vigil fix would do) or apply", s)
					}
					f.Mode = s
				}
			case "min_idle":
				f.MinIdle = p.duration(v, kp, 24*time.Hour)
			}
		})
		if n.Kind == yaml.MappingNode {
			p.require(n, ip, seen, "rule")
			if len(f.Accounts) > 0 && len(f.OUs) > 0 {
				p.errorf(seen["ous"], ip, "give accounts or ous, not both")
			}
			if seen["min_idle"] == nil {
				f.MinIdle = DefaultMinIdle
			}
		}
		out = append(out, f)
	}
	return out
}

// DefaultMinIdle is auto_fix's guard when min_idle is not given: the same
// thirty days as `vigil fix --min-idle`.
const DefaultMinIdle = 30 * 24 * time.Hour

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// reference resolves a *_env or *_file key. Its messages name the
// variable or file, never the value; a value that is not a variable name
// is not quoted either, since it may be the secret pasted in the wrong
// place.
func (p *parser) reference(k, v *yaml.Node, path string) Secret {
	s, ok := p.nonEmpty(v, path)
	if !ok {
		return Secret{}
	}
	if strings.HasSuffix(k.Value, "_env") {
		if !envName.MatchString(s) {
			p.errorf(v, path, "not an environment variable name (letters, digits and _); it is not quoted here in case it is the secret itself")
			return Secret{}
		}
		val := p.env.Getenv(s)
		if strings.TrimSpace(val) == "" {
			p.errorf(v, path, "environment variable %s is not set or empty", s)
			return Secret{}
		}
		return Secret{value: strings.TrimSpace(val), Source: "env " + s}
	}
	name := p.path(s)
	data, err := p.env.ReadFile(name)
	if err != nil {
		p.errorf(v, path, "reading the secret: %v", err)
		return Secret{}
	}
	val := strings.TrimRight(string(data), "\r\n")
	if strings.TrimSpace(val) == "" {
		p.errorf(v, path, "%s is empty", name)
		return Secret{}
	}
	if strings.ContainsAny(val, "\r\n") {
		p.errorf(v, path, "%s holds more than one line; a secret file holds the secret alone", name)
		return Secret{}
	}
	if p.env.Stat != nil {
		if fi, err := p.env.Stat(name); err == nil && fi.Mode().Perm()&0o004 != 0 {
			p.warnf(v, path, "%s is readable by every user of this machine (mode %04o): chmod 600 it, unless it is a container's mounted secret", name, fi.Mode().Perm())
		}
	}
	return Secret{value: val, Source: "file " + name}
}

func looksLikeAddress(s string) bool {
	at := strings.LastIndex(s, "@")
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n<>,")
}
