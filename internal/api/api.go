// Package api is the JSON API of vigil serve under /api/v1/: findings
// with their history, suppressions, scans, and the OpenAPI document that
// describes them. Every route needs a token (Authorization: Bearer);
// viewers read, admins also write. Errors are JSON with a stable code.
package api

import (
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/store"
)

// Store is what the API needs of the store.
type Store interface {
	TokenStore
	Findings(ctx context.Context, f store.Filter) ([]store.Finding, error)
	Finding(ctx context.Context, id string, now time.Time) (store.Finding, []store.Transition, error)
	Scans(ctx context.Context, limit int) ([]store.Scan, error)
	ScanPage(ctx context.Context, before int64, limit int) ([]store.Scan, error)
	Scan(ctx context.Context, id int64) (store.Scan, error)
	Counts(ctx context.Context, f store.Filter) ([]store.Count, error)
	OpenTrend(ctx context.Context, from time.Time, step time.Duration, n int) ([]int, error)
	OpenSummary(ctx context.Context, now time.Time, top int) (store.OpenSummary, error)
	ViewStamp(ctx context.Context, now time.Time) (string, error)
	AccountPage(ctx context.Context, f store.AccountFilter) ([]store.Account, error)
	LatestResults(ctx context.Context) ([]store.ScanAccount, error)
	Deliveries(ctx context.Context, failed bool, limit int) ([]store.Delivery, error)
	DeliveryPage(ctx context.Context, failed bool, after *store.DeliveryKey, limit int) ([]store.Delivery, error)
	AddSuppression(ctx context.Context, s store.Suppression) (store.Suppression, error)
	Suppressions(ctx context.Context) ([]store.Suppression, error)
	SuppressionPage(ctx context.Context, after int64, limit int) ([]store.Suppression, error)
	RemoveSuppression(ctx context.Context, id int64) error
	SetAutoFix(ctx context.Context, c store.AutoFixChange) (store.AutoFixChange, error)
	AutoFixChanges(ctx context.Context) ([]store.AutoFixChange, error)
	AutoFixHistory(ctx context.Context, limit int) ([]store.AutoFixChange, error)
	RootEvents(ctx context.Context, f store.RootEventFilter) ([]store.RootEvent, error)
}

// Config is what the API is built from.
type Config struct {
	Store  Store
	Clock  clock.Clock
	Logger *slog.Logger
	// Scheduler is the running service's schedules; nil outside vigil
	// serve.
	Scheduler Scheduler
	// AutoFix is the serve config's automatic fixes, which admins may
	// change; empty outside vigil serve.
	AutoFix AutoFix
}

// Route is one route of the API: the OpenAPI test checks the document
// against this list and the list against the server.
type Route struct {
	Method, Path string
	Admin        bool
}

// Routes lists every route the API serves.
var Routes = []Route{
	{"GET", "/api/v1/openapi.json", false},
	{"GET", "/api/v1/findings", false},
	{"GET", "/api/v1/findings/{id}", false},
	{"GET", "/api/v1/suppressions", false},
	{"POST", "/api/v1/suppressions", true},
	{"DELETE", "/api/v1/suppressions/{id}", true},
	{"GET", "/api/v1/scans", false},
	{"POST", "/api/v1/scans", true},
	{"GET", "/api/v1/scans/{id}", false},
	{"GET", "/api/v1/schedules", false},
	{"GET", "/api/v1/rules", false},
	{"GET", "/api/v1/rules/{id}", false},
	{"GET", "/api/v1/accounts", false},
	{"GET", "/api/v1/compliance", false},
	{"GET", "/api/v1/compliance/{framework}", false},
	{"GET", "/api/v1/deliveries", false},
	{"GET", "/api/v1/events", false},
	{"GET", "/api/v1/autofix", false},
	{"PUT", "/api/v1/autofix/{rule}", true},
	{"DELETE", "/api/v1/autofix/{rule}", true},
}

//go:embed openapi.json
var openAPI []byte

type api struct {
	cfg Config
}

// Mount adds the API's routes to mux.
func Mount(mux *http.ServeMux, cfg Config) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Wall{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &api{cfg: cfg}
	handlers := map[string]http.HandlerFunc{
		"GET /api/v1/openapi.json":           a.openapi,
		"GET /api/v1/findings":               a.findings,
		"GET /api/v1/findings/{id}":          a.finding,
		"GET /api/v1/suppressions":           a.suppressions,
		"POST /api/v1/suppressions":          a.addSuppression,
		"DELETE /api/v1/suppressions/{id}":   a.removeSuppression,
		"GET /api/v1/scans":                  a.scans,
		"POST /api/v1/scans":                 a.startScan,
		"GET /api/v1/scans/{id}":             a.scan,
		"GET /api/v1/schedules":              a.schedules,
		"GET /api/v1/rules":                  a.rules,
		"GET /api/v1/rules/{id}":             a.rule,
		"GET /api/v1/accounts":               a.accounts,
		"GET /api/v1/compliance":             a.complianceList,
		"GET /api/v1/compliance/{framework}": a.compliance,
		"GET /api/v1/deliveries":             a.deliveries,
		"GET /api/v1/events":                 a.events,
		"GET /api/v1/autofix":                a.autoFix,
		"PUT /api/v1/autofix/{rule}":         a.setAutoFix,
		"DELETE /api/v1/autofix/{rule}":      a.resetAutoFix,
	}
	for _, r := range Routes {
		mux.Handle(r.Method+" "+r.Path, a.auth(r.Admin, handlers[r.Method+" "+r.Path]))
	}
	// Anything else under /api/ is a JSON 404, after authentication, so
	// that the API's shape is not told to strangers.
	mux.Handle("/api/", a.auth(false, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such API route")
	}))
}

type ctxKey struct{}

// auth lets a request through with a valid bearer token, and an admin
// one for admin routes. The token is never logged.
func (a *api) auth(admin bool, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		plain, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || plain == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "an API token is required: Authorization: Bearer <token> ('vigil token create' makes one)")
			return
		}
		t, err := Authenticate(r.Context(), a.cfg.Store, plain)
		if err != nil {
			if errors.Is(err, errBadToken) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="vigil", error="invalid_token"`)
				writeError(w, http.StatusUnauthorized, "unauthorized", "invalid or revoked token")
				return
			}
			a.internal(w, err)
			return
		}
		if admin && t.Role != store.Admin {
			writeError(w, http.StatusForbidden, "forbidden", "this needs an admin token; token "+strconv.Quote(t.Name)+" is a viewer")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, t)))
	})
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (a *api) internal(w http.ResponseWriter, err error) {
	a.cfg.Logger.Error("API request failed", "error", err)
	writeError(w, http.StatusInternalServerError, "internal", "the server could not answer; see its log")
}

func (a *api) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}

// Finding is a finding as the API shows it.
type Finding struct {
	ID           string          `json:"id"`
	AccountID    string          `json:"account_id"`
	AccountName  string          `json:"account_name,omitempty"`
	OU           string          `json:"ou,omitempty"`
	RuleID       string          `json:"rule_id"`
	Title        string          `json:"title,omitempty"`
	Resource     string          `json:"resource"`
	State        lifecycle.State `json:"state"`
	Suppressed   bool            `json:"suppressed"`
	Status       string          `json:"status"`
	Severity     rule.Severity   `json:"severity"`
	Message      string          `json:"message"`
	Evidence     json.RawMessage `json:"evidence,omitempty"`
	FirstSeen    time.Time       `json:"first_seen"`
	LastSeen     time.Time       `json:"last_seen"`
	ResolvedAt   *time.Time      `json:"resolved_at,omitempty"`
	Regressions  int             `json:"regressions"`
	MTTRSeconds  int64           `json:"mttr_seconds,omitempty"`
	UnknownSince *time.Time      `json:"unknown_since,omitempty"`
	Gap          string          `json:"gap,omitempty"`
	Suppression  *Suppression    `json:"suppression,omitempty"`
	History      []Transition    `json:"history,omitempty"`
}

// Transition is one move of a finding.
type Transition struct {
	Transition lifecycle.Kind `json:"transition"`
	At         time.Time      `json:"at"`
	ScanID     int64          `json:"scan_id,omitempty"`
	Status     string         `json:"status"`
	Severity   rule.Severity  `json:"severity"`
	Message    string         `json:"message,omitempty"`
	Detail     string         `json:"detail,omitempty"`
	Suppressed bool           `json:"suppressed,omitempty"`
}

// Suppression is a suppression as the API shows it and takes it.
type Suppression struct {
	ID        int64      `json:"id,omitempty"`
	RuleID    string     `json:"rule_id"`
	AccountID string     `json:"account_id"`
	Resource  string     `json:"resource,omitempty"`
	Reason    string     `json:"reason"`
	Owner     string     `json:"owner"`
	Expires   *time.Time `json:"expires,omitempty"`
	Ticket    string     `json:"ticket,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	Active    bool       `json:"active"`
}

// Scan is a scan as the API shows it.
type Scan struct {
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
	// Expected is how many accounts a running scan has to record, when
	// known: its progress is accounts of expected.
	Expected int `json:"expected,omitempty"`
}

// ToFinding is the API's view of a stored finding (the dashboard shows
// the same fields).
func ToFinding(f store.Finding, now time.Time) Finding {
	j := Finding{
		ID: f.ID, AccountID: f.AccountID, AccountName: f.AccountName, OU: f.OU, RuleID: f.RuleID, Title: f.Title, Resource: f.Resource,
		State: f.State, Suppressed: f.Suppression != nil, Status: f.Status, Severity: rule.Severity(f.Severity), Message: f.Message,
		FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, ResolvedAt: f.ResolvedAt, Regressions: f.Regressions,
		MTTRSeconds: int64(f.MTTR() / time.Second), UnknownSince: f.UnknownSince, Gap: f.Gap,
	}
	if len(f.Evidence) > 0 && json.Valid(f.Evidence) {
		j.Evidence = f.Evidence
	}
	if f.Suppression != nil {
		s := ToSuppression(*f.Suppression, now)
		j.Suppression = &s
	}
	return j
}

// ToSuppression is the API's view of a suppression (the dashboard
// shows the same fields).
func ToSuppression(s store.Suppression, now time.Time) Suppression {
	c := s.CreatedAt
	return Suppression{ID: s.ID, RuleID: s.RuleID, AccountID: s.AccountID, Resource: s.Resource, Reason: s.Reason, Owner: s.Owner,
		Expires: s.Expires, Ticket: s.Ticket, CreatedAt: &c, Active: s.Active(now)}
}

// Filter reads the filters of a findings query, the same as the flags of
// `vigil findings`: status (open, resolved, gone or all; open by
// default), severity (minimum), rule, account, ou; each list may repeat
// or be comma-separated.
func Filter(q map[string][]string, now time.Time) (store.Filter, error) {
	list := func(k string) []string {
		var out []string
		for _, v := range q[k] {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	f := store.Filter{Rules: list("rule"), Accounts: list("account"), OUs: list("ou"), Now: now}
	status := list("status")
	if len(status) == 0 {
		status = []string{"open"}
	}
	for _, s := range status {
		switch lifecycle.State(s) {
		case lifecycle.Open, lifecycle.Resolved, lifecycle.Gone:
			f.States = append(f.States, lifecycle.State(s))
		case "all":
		default:
			return f, errors.New("status " + strconv.Quote(s) + ": want open, resolved, gone or all")
		}
	}
	if contains(status, "all") {
		f.States = nil
	}
	if s := list("severity"); len(s) > 0 {
		sev, err := rule.ParseSeverity(s[0])
		if err != nil {
			return f, err
		}
		f.MinSeverity = int(sev)
	}
	return f, nil
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

const maxPage = 500

// cursor is the position after which the next page starts: the sort key
// (account, rule, resource) of the last finding of the page before.
type cursor struct {
	Account  string `json:"a"`
	Rule     string `json:"r"`
	Resource string `json:"s"`
}

func encodeCursor(f store.Finding) string {
	return encodeToken(cursor{f.AccountID, f.RuleID, f.Resource})
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	return c, decodeToken(s, &c)
}

// encodeToken and decodeToken carry a page's last key to the next
// page's cursor: JSON in URL-safe base64, opaque to clients.
func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string, into any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, into)
	}
	if err != nil {
		return errors.New("cursor: not one this API gave out")
	}
	return nil
}

// pageLimit reads a list's limit (1 to maxPage, 100 when absent),
// answering 400 itself when it is wrong.
func pageLimit(w http.ResponseWriter, v string) (int, bool) {
	if v == "" {
		return 100, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage {
		writeError(w, http.StatusBadRequest, "invalid_limit", "limit: want a number from 1 to "+strconv.Itoa(maxPage))
		return 0, false
	}
	return n, true
}

func (a *api) findings(w http.ResponseWriter, r *http.Request) {
	now := a.cfg.Clock.Now()
	q := r.URL.Query()
	f, err := Filter(q, now)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_filter", err.Error())
		return
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			writeError(w, http.StatusBadRequest, "invalid_limit", "limit: want a number from 1 to "+strconv.Itoa(maxPage))
			return
		}
		limit = n
	}
	var after *cursor
	if v := q.Get("cursor"); v != "" {
		c, err := decodeCursor(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_cursor", err.Error())
			return
		}
		after = &c
	}
	// The store reads the page after the cursor's key, and one more
	// finding to tell whether another page follows.
	f.Limit = limit + 1
	if after != nil {
		f.After = &store.Key{AccountID: after.Account, RuleID: after.Rule, Resource: after.Resource}
	}
	fs, err := a.cfg.Store.Findings(r.Context(), f)
	if err != nil {
		a.internal(w, err)
		return
	}
	more := len(fs) > limit
	if more {
		fs = fs[:limit]
	}
	out := struct {
		Findings   []Finding `json:"findings"`
		NextCursor string    `json:"next_cursor,omitempty"`
	}{Findings: make([]Finding, 0, len(fs))}
	for _, fd := range fs {
		out.Findings = append(out.Findings, ToFinding(fd, now))
	}
	if more {
		out.NextCursor = encodeCursor(fs[len(fs)-1])
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) finding(w http.ResponseWriter, r *http.Request) {
	now := a.cfg.Clock.Now()
	f, ts, err := a.cfg.Store.Finding(r.Context(), r.PathValue("id"), now)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no finding "+strconv.Quote(r.PathValue("id")))
		return
	}
	if err != nil {
		a.internal(w, err)
		return
	}
	j := ToFinding(f, now)
	for _, t := range ts {
		j.History = append(j.History, Transition{Transition: t.Kind, At: t.At, ScanID: t.ScanID, Status: t.Status, Severity: rule.Severity(t.Severity),
			Message: t.Message, Detail: t.Detail, Suppressed: t.Suppressed})
	}
	writeJSON(w, http.StatusOK, map[string]any{"finding": j})
}

func (a *api) suppressions(w http.ResponseWriter, r *http.Request) {
	now := a.cfg.Clock.Now()
	q := r.URL.Query()
	limit, ok := pageLimit(w, q.Get("limit"))
	if !ok {
		return
	}
	var after int64
	if v := q.Get("cursor"); v != "" {
		if err := decodeToken(v, &after); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_cursor", err.Error())
			return
		}
	}
	sps, err := a.cfg.Store.SuppressionPage(r.Context(), after, limit+1)
	if err != nil {
		a.internal(w, err)
		return
	}
	out := struct {
		Suppressions []Suppression `json:"suppressions"`
		NextCursor   string        `json:"next_cursor,omitempty"`
	}{Suppressions: make([]Suppression, 0, len(sps))}
	if len(sps) > limit {
		sps = sps[:limit]
		out.NextCursor = encodeToken(sps[len(sps)-1].ID)
	}
	for _, s := range sps {
		out.Suppressions = append(out.Suppressions, ToSuppression(s, now))
	}
	writeJSON(w, http.StatusOK, out)
}

// MaxSuppression is the longest a suppression may run: an accepted risk
// is reviewed at least once a year (as `vigil suppress add` enforces).
const MaxSuppression = 366 * 24 * time.Hour

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// NewSuppression checks a suppression as `vigil suppress add` does: a
// known rule, a 12-digit account, a reason, an owner and an expiry in the
// future at most a year out. expires is an RFC 3339 time or a date
// (midnight UTC).
func NewSuppression(ruleID, account, resource, reason, owner, expires, ticket string, now time.Time) (store.Suppression, error) {
	sp := store.Suppression{RuleID: ruleID, AccountID: account, Resource: strings.TrimSpace(resource), Reason: strings.TrimSpace(reason),
		Owner: strings.TrimSpace(owner), Ticket: strings.TrimSpace(ticket), CreatedAt: now}
	if _, ok := rules.ByID(ruleID); !ok {
		return sp, errors.New("rule_id " + strconv.Quote(ruleID) + ": no such rule")
	}
	if !accountID.MatchString(account) {
		return sp, errors.New("account_id " + strconv.Quote(account) + ": want a 12-digit account ID")
	}
	if sp.Reason == "" {
		return sp, errors.New("reason is required: say why the risk is accepted")
	}
	if sp.Owner == "" {
		return sp, errors.New("owner is required: say who accepted the risk")
	}
	if expires == "" {
		return sp, errors.New("expires is required, at most a year out")
	}
	t, err := time.Parse(time.RFC3339, expires)
	if err != nil {
		t, err = time.Parse(time.DateOnly, expires)
	}
	if err != nil {
		return sp, errors.New("expires " + strconv.Quote(expires) + ": want an RFC 3339 time or a date (2027-03-31)")
	}
	t = t.UTC()
	if !t.After(now) {
		return sp, errors.New("expires " + t.Format(time.RFC3339) + " is not in the future")
	}
	if t.Sub(now) > MaxSuppression {
		return sp, errors.New("expires " + t.Format(time.DateOnly) + " is more than a year out; review accepted risks at least yearly")
	}
	sp.Expires = &t
	return sp, nil
}

func (a *api) addSuppression(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RuleID    string `json:"rule_id"`
		AccountID string `json:"account_id"`
		Resource  string `json:"resource"`
		Reason    string `json:"reason"`
		Owner     string `json:"owner"`
		Expires   string `json:"expires"`
		Ticket    string `json:"ticket"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "body: "+err.Error())
		return
	}
	now := a.cfg.Clock.Now()
	sp, err := NewSuppression(in.RuleID, in.AccountID, in.Resource, in.Reason, in.Owner, in.Expires, in.Ticket, now)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_suppression", err.Error())
		return
	}
	sp, err = a.cfg.Store.AddSuppression(r.Context(), sp)
	if err != nil {
		a.internal(w, err)
		return
	}
	if t, ok := r.Context().Value(ctxKey{}).(store.Token); ok {
		a.cfg.Logger.Info("suppression added", "id", sp.ID, "rule", sp.RuleID, "account", sp.AccountID, "by_token", t.Name)
	}
	w.Header().Set("Location", "/api/v1/suppressions/"+strconv.FormatInt(sp.ID, 10))
	writeJSON(w, http.StatusCreated, map[string]any{"suppression": ToSuppression(sp, now)})
}

func (a *api) removeSuppression(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_id", "suppression ID: want a positive number")
		return
	}
	if err := a.cfg.Store.RemoveSuppression(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusNotFound, "not_found", "no suppression "+strconv.FormatInt(id, 10))
			return
		}
		a.internal(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) scans(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		var ok bool
		if limit, ok = pageLimit(w, v); !ok {
			return
		}
	}
	var before int64
	if v := q.Get("cursor"); v != "" {
		if err := decodeToken(v, &before); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_cursor", err.Error())
			return
		}
	}
	ss, err := a.cfg.Store.ScanPage(r.Context(), before, limit+1)
	if err != nil {
		a.internal(w, err)
		return
	}
	out := struct {
		Scans      []Scan `json:"scans"`
		NextCursor string `json:"next_cursor,omitempty"`
	}{Scans: make([]Scan, 0, len(ss))}
	if len(ss) > limit {
		ss = ss[:limit]
		out.NextCursor = encodeToken(ss[len(ss)-1].ID)
	}
	for _, s := range ss {
		out.Scans = append(out.Scans, a.toScan(s))
	}
	writeJSON(w, http.StatusOK, out)
}
