// Package dashboard is the web dashboard of vigil serve: server-rendered
// pages (html/template, assets embedded, no script) for the overview, the
// findings and one finding with its timeline and a suppress form, the
// accounts by OU and one account with its root activity, compliance per
// framework, scans (scan now), suppressions, alert deliveries and the
// root-activity timeline. The
// browser signs in with an API token and gets a session cookie (HttpOnly,
// SameSite=Strict, Secure under TLS); every form carries the session's
// CSRF token and is refused from another origin; failed sign-ins are
// rate-limited per client address.
package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/store"
)

//go:embed assets templates
var files embed.FS

// Config is what the dashboard is built from.
type Config struct {
	Store  api.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// TLS marks the session cookie Secure.
	TLS bool
	// Scheduler is the running service's schedules (the next scan);
	// nil outside vigil serve.
	Scheduler api.Scheduler
	// AutoFix is the serve config's automatic fixes, which admins may
	// change on the auto-fix page; empty outside vigil serve.
	AutoFix api.AutoFix
}

const (
	cookieName = "vigil_session"
	sessionTTL = 12 * time.Hour
	// maxFailures failed sign-ins from one address within failWindow
	// lock that address out until the window passes.
	maxFailures = 10
	failWindow  = 5 * time.Minute
)

type session struct {
	tokenKey string
	name     string
	role     store.Role
	csrf     string
	expires  time.Time
}

type dash struct {
	cfg   Config
	pages map[string]*template.Template

	mu       sync.Mutex
	sessions map[string]*session
	failures map[string][]time.Time
	// agg is the overview's aggregates as last computed.
	agg *aggregates
}

// Mount adds the dashboard's routes to mux: / and the pages under it,
// beside the API's /api/ and the health checks.
func Mount(mux *http.ServeMux, cfg Config) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Wall{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &dash{cfg: cfg, pages: map[string]*template.Template{}, sessions: map[string]*session{}, failures: map[string][]time.Time{}}
	css, err := files.ReadFile("assets/style.css")
	if err != nil {
		panic("dashboard: the embedded stylesheet: " + err.Error())
	}
	// The stylesheet's address carries a hash of its content: it is
	// cached for an hour, and a browser that kept the last version's
	// laid the new pages out with the old rules after an upgrade.
	sum := sha256.Sum256(css)
	cssURL := "/static/style.css?v=" + hex.EncodeToString(sum[:6])
	funcs := template.FuncMap{
		"css": func() string { return cssURL },
		// A time is one unbroken <time>: a table's narrow column broke
		// "2026-12-02 17:50 UTC" over three or four lines.
		"when": when,
		"whenp": func(t *time.Time) template.HTML {
			if t == nil {
				return "—"
			}
			return when(*t)
		},
		"sev":   func(s int) string { return rule.Severity(s).String() },
		"sevAt": func(i int) string { return rule.Severities[i].String() },
		"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"join":  func(l []string) string { return strings.Join(l, ", ") },
	}
	for _, p := range []string{"signin", "overview", "findings", "finding", "accounts", "account", "deliveries", "scans", "suppressions",
		"compliance", "framework", "events", "autofix"} {
		d.pages[p] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/timeline.html",
			"templates/"+p+".html"))
	}
	mux.HandleFunc("GET /static/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(css)
	})
	mux.HandleFunc("GET /signin", d.signinPage)
	mux.HandleFunc("POST /signin", d.signin)
	mux.HandleFunc("POST /signout", d.page(false, d.signout))
	mux.HandleFunc("GET /{$}", d.page(false, d.overview))
	mux.HandleFunc("GET /findings", d.page(false, d.findings))
	mux.HandleFunc("GET /accounts", d.page(false, d.accountsPage))
	mux.HandleFunc("GET /accounts/{id}", d.page(false, d.accountPage))
	mux.HandleFunc("GET /deliveries", d.page(false, d.deliveriesPage))
	mux.HandleFunc("GET /scans", d.page(false, d.scansPage))
	mux.HandleFunc("POST /scans", d.page(true, d.scanNow))
	mux.HandleFunc("GET /suppressions", d.page(false, d.suppressionsPage))
	mux.HandleFunc("POST /suppressions/{id}/remove", d.page(true, d.removeSuppression))
	mux.HandleFunc("GET /compliance", d.page(false, d.compliancePage))
	mux.HandleFunc("GET /compliance/{framework}", d.page(false, d.frameworkPage))
	mux.HandleFunc("GET /events", d.page(false, d.eventsPage))
	mux.HandleFunc("GET /autofix", d.page(false, d.autoFixPage))
	mux.HandleFunc("POST /autofix/{rule}", d.page(true, d.setAutoFix))
	mux.HandleFunc("POST /autofix/{rule}/reset", d.page(true, d.resetAutoFix))
	mux.HandleFunc("GET /findings/{id}", d.page(false, d.finding))
	mux.HandleFunc("POST /findings/{id}/suppress", d.page(true, d.suppress))
	mux.HandleFunc("/", d.page(false, func(w http.ResponseWriter, r *http.Request, s *session) {
		http.Error(w, "not found", http.StatusNotFound)
	}))
}

// newID is 32 random bytes in hex: session IDs and CSRF tokens.
func newID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// sameOrigin refuses a form posted from another origin: the browser's
// Origin (or, lacking it, Referer) must name this host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		o = r.Header.Get("Referer")
	}
	if o == "" {
		return r.Header.Get("Origin") != "null"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func clientAddr(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// limited reports whether addr failed too often lately, forgetting
// failures older than the window.
func (d *dash) limited(addr string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	var keep []time.Time
	for _, t := range d.failures[addr] {
		if now.Sub(t) < failWindow {
			keep = append(keep, t)
		}
	}
	d.failures[addr] = keep
	return len(keep) >= maxFailures
}

func (d *dash) failed(addr string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failures[addr] = append(d.failures[addr], now)
}

// current is the request's session, checked against the store so that a
// revoked token ends its sessions at once.
func (d *dash) current(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	now := d.cfg.Clock.Now()
	d.mu.Lock()
	s := d.sessions[c.Value]
	if s != nil && !now.Before(s.expires) {
		delete(d.sessions, c.Value)
		s = nil
	}
	d.mu.Unlock()
	if s == nil {
		return nil
	}
	t, err := d.cfg.Store.TokenByKey(r.Context(), s.tokenKey)
	if err != nil || t.RevokedAt != nil {
		d.mu.Lock()
		delete(d.sessions, c.Value)
		d.mu.Unlock()
		return nil
	}
	return s
}

type handler func(w http.ResponseWriter, r *http.Request, s *session)

// page wraps a page: signed-in only (else to the sign-in form), and for
// a form, admin only, same origin and the session's CSRF token.
func (d *dash) page(form bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := d.current(r)
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			if !sameOrigin(r) {
				http.Error(w, "form posted from another origin", http.StatusForbidden)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) != 1 {
				http.Error(w, "the form is stale or forged (CSRF token mismatch); reload the page", http.StatusForbidden)
				return
			}
			if form && s.role != store.Admin {
				http.Error(w, "this needs an admin token", http.StatusForbidden)
				return
			}
		}
		h(w, r, s)
	}
}

func (d *dash) render(w http.ResponseWriter, name string, s *session, title string, data any) {
	v := struct {
		Title   string
		Session *session
		Name    string
		Admin   bool
		CSRF    string
		Data    any
	}{Title: title, Data: data}
	if s != nil {
		v.Session, v.Name, v.Admin, v.CSRF = s, s.name, s.role == store.Admin, s.csrf
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := d.pages[name].Execute(w, v); err != nil {
		d.cfg.Logger.Error("dashboard page failed", "page", name, "error", err)
	}
}

func (d *dash) fail(w http.ResponseWriter, err error) {
	d.cfg.Logger.Error("dashboard request failed", "error", err)
	http.Error(w, "the server could not answer; see its log", http.StatusInternalServerError)
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") {
		return "/"
	}
	return n
}

func (d *dash) signinPage(w http.ResponseWriter, r *http.Request) {
	d.render(w, "signin", nil, "Sign in", map[string]string{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (d *dash) signin(w http.ResponseWriter, r *http.Request) {
	now := d.cfg.Clock.Now()
	addr := clientAddr(r)
	if !sameOrigin(r) {
		http.Error(w, "form posted from another origin", http.StatusForbidden)
		return
	}
	if d.limited(addr, now) {
		w.Header().Set("Retry-After", "300")
		w.WriteHeader(http.StatusTooManyRequests)
		d.render(w, "signin", nil, "Sign in", map[string]string{"Error": "Too many failed sign-ins from this address; wait a few minutes.", "Next": "/"})
		return
	}
	t, err := api.Authenticate(r.Context(), d.cfg.Store, r.PostFormValue("token"))
	if err != nil {
		d.failed(addr, now)
		d.cfg.Logger.Warn("dashboard sign-in failed", "client", addr)
		w.WriteHeader(http.StatusUnauthorized)
		d.render(w, "signin", nil, "Sign in", map[string]string{"Error": "That token is not valid (or was revoked).", "Next": safeNext(r.PostFormValue("next"))})
		return
	}
	id := newID()
	s := &session{tokenKey: t.Key, name: t.Name, role: t.Role, csrf: newID(), expires: now.Add(sessionTTL)}
	d.mu.Lock()
	d.sessions[id] = s
	d.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: d.cfg.TLS, MaxAge: int(sessionTTL / time.Second)})
	d.cfg.Logger.Info("dashboard sign-in", "token_name", t.Name, "role", t.Role)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (d *dash) signout(w http.ResponseWriter, r *http.Request, _ *session) {
	if c, err := r.Cookie(cookieName); err == nil {
		d.mu.Lock()
		delete(d.sessions, c.Value)
		d.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: d.cfg.TLS, MaxAge: -1})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// findingsPageSize is how many findings a page of the list shows.
const findingsPageSize = 100

func (d *dash) findings(w http.ResponseWriter, r *http.Request, s *session) {
	now := d.cfg.Clock.Now()
	q := r.URL.Query()
	f, err := api.Filter(q, now)
	msg := ""
	var fs []store.Finding
	next := ""
	if err == nil && q.Get("after") != "" {
		f.After, err = decodeKey(q.Get("after"))
	}
	size := findingsPageSize
	if v := q.Get("limit"); err == nil && v != "" {
		if n, perr := strconv.Atoi(v); perr != nil || n < 1 || n > 500 {
			err = errors.New("limit: want a number from 1 to 500")
		} else {
			size = n
		}
	}
	if err != nil {
		msg = err.Error()
	} else {
		// Most severe first for reading, a page at a time: the store reads
		// the page and one more finding, to tell whether one follows.
		f.BySeverity, f.Limit = true, size+1
		if fs, err = d.cfg.Store.Findings(r.Context(), f); err != nil {
			d.fail(w, err)
			return
		}
		if len(fs) > size {
			fs = fs[:size]
			nq := url.Values{}
			for k, v := range q {
				nq[k] = v
			}
			nq.Set("after", encodeKey(store.KeyOf(fs[len(fs)-1])))
			next = "/findings?" + nq.Encode()
		}
	}
	d.render(w, "findings", s, "Findings", map[string]any{"Findings": fs, "Error": msg, "Next": next, "Paged": q.Get("after") != "",
		"Status": q.Get("status"), "Severity": q.Get("severity"), "Rule": q.Get("rule"), "Account": q.Get("account"), "OU": q.Get("ou"),
		"Severities": rule.Severities})
}

// encodeKey and decodeKey carry the last finding of a page to the next
// page's link.
func encodeKey(k store.Key) string { return encodeLink(k) }

func decodeKey(s string) (*store.Key, error) {
	var k store.Key
	if err := decodeLink(s, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// encodeLink and decodeLink carry the last key of a page in the next
// page's link: JSON in URL-safe base64.
func encodeLink(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeLink(s string, into any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, into)
	}
	if err != nil {
		return errors.New("the page link is damaged; start again from the first page")
	}
	return nil
}

type evidence struct{ Source, Key, Value string }

func (d *dash) finding(w http.ResponseWriter, r *http.Request, s *session) {
	d.showFinding(w, r, s, "", http.StatusOK)
}

func (d *dash) showFinding(w http.ResponseWriter, r *http.Request, s *session, formErr string, status int) {
	now := d.cfg.Clock.Now()
	f, ts, err := d.cfg.Store.Finding(r.Context(), r.PathValue("id"), now)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "no such finding", http.StatusNotFound)
		return
	}
	if err != nil {
		d.fail(w, err)
		return
	}
	var ev []evidence
	var raw []map[string]any
	if json.Unmarshal(f.Evidence, &raw) == nil {
		for _, e := range raw {
			ev = append(ev, evidence{str(e["source"]), str(e["key"]), str(e["value"])})
		}
	}
	w.WriteHeader(status)
	d.render(w, "finding", s, f.RuleID+" in "+f.AccountID, map[string]any{"F": f, "Evidence": ev, "History": ts, "FormError": formErr,
		"DefaultExpiry": now.Add(90 * 24 * time.Hour).Format(time.DateOnly), "Now": now, "RulePage": rulePage(f.RuleID)})
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func (d *dash) suppress(w http.ResponseWriter, r *http.Request, s *session) {
	now := d.cfg.Clock.Now()
	f, _, err := d.cfg.Store.Finding(r.Context(), r.PathValue("id"), now)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "no such finding", http.StatusNotFound)
		return
	}
	if err != nil {
		d.fail(w, err)
		return
	}
	resource := ""
	if r.PostFormValue("scope") == "resource" {
		resource = f.Resource
	}
	sp, err := api.NewSuppression(f.RuleID, f.AccountID, resource, r.PostFormValue("reason"), r.PostFormValue("owner"), r.PostFormValue("expires"), r.PostFormValue("ticket"), now)
	if err != nil {
		d.showFinding(w, r, s, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	if _, err := d.cfg.Store.AddSuppression(r.Context(), sp); err != nil {
		d.fail(w, err)
		return
	}
	d.cfg.Logger.Info("suppression added from the dashboard", "rule", sp.RuleID, "account", sp.AccountID, "by_token", s.name)
	http.Redirect(w, r, "/findings/"+url.PathEscape(f.ID), http.StatusSeeOther)
}

// when is a time as the pages show it, in a <time> element that carries
// it in RFC 3339 and is never wrapped (style.css).
func when(t time.Time) template.HTML {
	t = t.UTC()
	return template.HTML(`<time datetime="` + t.Format(time.RFC3339) + `">` + t.Format("2006-01-02 15:04 UTC") + `</time>`)
}
