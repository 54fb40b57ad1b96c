package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/store"
)

// The pages beside the overview and the findings: scans (with scan-now
// for admins), suppressions (with removal for admins), compliance per
// framework, the root-activity timeline, and one account.

// scanRow is a scan as its table shows it: a running one with its
// progress when the service knows how many accounts it expects.
type scanRow struct {
	api.Scan
	Running bool
	Percent int
}

func (d *dash) scanRows(ss []store.Scan) []scanRow {
	out := make([]scanRow, 0, len(ss))
	for _, s := range ss {
		r := scanRow{Scan: api.ToScan(s), Running: s.Outcome == store.Running}
		if r.Running && d.cfg.Scheduler != nil {
			r.Expected = d.cfg.Scheduler.Expected(s.ID)
			if r.Expected > 0 {
				r.Percent = min(100, 100*r.Accounts/r.Expected)
			}
		}
		out = append(out, r)
	}
	return out
}

// scansPage lists the schedules (with a scan-now button for admins)
// and the latest scans, running ones with their progress.
func (d *dash) scansPage(w http.ResponseWriter, r *http.Request, s *session) {
	// ?started= is where scan now lands: the scan it started.
	started := ""
	if id, err := strconv.ParseInt(r.URL.Query().Get("started"), 10, 64); err == nil && id > 0 {
		started = strconv.FormatInt(id, 10)
	}
	d.showScans(w, r, s, started, "", http.StatusOK)
}

func (d *dash) showScans(w http.ResponseWriter, r *http.Request, s *session, msg, formErr string, status int) {
	ctx := r.Context()
	var schedules []api.ScheduleInfo
	if d.cfg.Scheduler != nil {
		var err error
		if schedules, err = d.cfg.Scheduler.Schedules(ctx); err != nil {
			d.fail(w, err)
			return
		}
	}
	// A page of scans at a time, newest first; ?before= (a scan ID, as
	// the API's cursor) is where an older page starts.
	var before int64
	if v, err := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64); err == nil && v > 0 {
		before = v
	}
	ss, err := d.cfg.Store.ScanPage(ctx, before, scansPageSize+1)
	if err != nil {
		d.fail(w, err)
		return
	}
	next := ""
	if len(ss) > scansPageSize {
		ss = ss[:scansPageSize]
		next = "/scans?before=" + strconv.FormatInt(ss[len(ss)-1].ID, 10)
	}
	w.WriteHeader(status)
	d.render(w, "scans", s, "Scans", map[string]any{"Schedules": schedules, "Scans": d.scanRows(ss), "Started": msg, "FormError": formErr,
		"Service": d.cfg.Scheduler != nil, "Next": next, "Paged": before > 0})
}

// scansPageSize is how many scans a page of the scans page lists.
const scansPageSize = 50

// scanNow starts a schedule's scan from the scans page's form.
func (d *dash) scanNow(w http.ResponseWriter, r *http.Request, s *session) {
	name := strings.TrimSpace(r.PostFormValue("schedule"))
	if d.cfg.Scheduler == nil {
		d.showScans(w, r, s, "", "Scans start only under vigil serve.", http.StatusServiceUnavailable)
		return
	}
	sc, err := d.cfg.Scheduler.ScanNow(r.Context(), name)
	switch {
	case errors.Is(err, api.ErrNoSchedule):
		d.showScans(w, r, s, "", "No schedule "+strconv.Quote(name)+".", http.StatusNotFound)
		return
	case errors.Is(err, api.ErrScanRunning):
		d.showScans(w, r, s, "", "A scan of "+name+" is running already; wait for it to finish.", http.StatusConflict)
		return
	case err != nil:
		d.fail(w, err)
		return
	}
	d.cfg.Logger.Info("scan started from the dashboard", "scan", sc.ID, "schedule", sc.Schedule, "by_token", s.name)
	http.Redirect(w, r, "/scans?started="+strconv.FormatInt(sc.ID, 10), http.StatusSeeOther)
}

// suppressionsPage lists the suppressions, in force first, with a
// remove button for admins.
func (d *dash) suppressionsPage(w http.ResponseWriter, r *http.Request, s *session) {
	now := d.cfg.Clock.Now()
	// A page of suppressions at a time, by ID as the API pages them;
	// ?after= is the last ID of the page before.
	var after int64
	if v, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64); err == nil && v > 0 {
		after = v
	}
	sps, err := d.cfg.Store.SuppressionPage(r.Context(), after, suppressionsPageSize+1)
	if err != nil {
		d.fail(w, err)
		return
	}
	next := ""
	if len(sps) > suppressionsPageSize {
		sps = sps[:suppressionsPageSize]
		next = "/suppressions?after=" + strconv.FormatInt(sps[len(sps)-1].ID, 10)
	}
	var active, expired []api.Suppression
	for _, sp := range sps {
		if sp.Active(now) {
			active = append(active, api.ToSuppression(sp, now))
		} else {
			expired = append(expired, api.ToSuppression(sp, now))
		}
	}
	d.render(w, "suppressions", s, "Suppressions", map[string]any{"Active": active, "Expired": expired, "Next": next, "Paged": after > 0})
}

// suppressionsPageSize is how many suppressions a page lists.
const suppressionsPageSize = 100

// removeSuppression ends a suppression from the suppressions page.
func (d *dash) removeSuppression(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.Error(w, "no such suppression", http.StatusNotFound)
		return
	}
	if err := d.cfg.Store.RemoveSuppression(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			http.Error(w, "no such suppression", http.StatusNotFound)
			return
		}
		d.fail(w, err)
		return
	}
	d.cfg.Logger.Info("suppression removed from the dashboard", "id", id, "by_token", s.name)
	http.Redirect(w, r, "/suppressions", http.StatusSeeOther)
}

// frameworkRow is a framework with each version's coverage.
type frameworkRow struct {
	ID, Name, Publisher string
	Versions            []api.ComplianceVersion
}

// compliancePage lists every framework and version with how the estate
// stands against it, from the latest recorded results.
func (d *dash) compliancePage(w http.ResponseWriter, r *http.Request, s *session) {
	k, err := api.LoadKnowledge()
	if err != nil {
		d.fail(w, err)
		return
	}
	sas, err := d.cfg.Store.LatestResults(r.Context())
	if err != nil {
		d.fail(w, err)
		return
	}
	results, n, asOf := api.Results(sas)
	var rows []frameworkRow
	for _, f := range k.Catalog.Frameworks {
		row := frameworkRow{ID: f.ID, Name: f.Name, Publisher: f.Publisher}
		for _, v := range f.Versions {
			row.Versions = append(row.Versions, api.ComplianceVersion{Version: v.Version, Coverage: api.Assess(k.Catalog, v, results).Coverage})
		}
		rows = append(rows, row)
	}
	d.render(w, "compliance", s, "Compliance", map[string]any{"Frameworks": rows, "Accounts": n, "AsOf": asOf})
}

// controlRule is a mapped rule's part in a control on the framework
// page: the results behind it that failed or are unknown (at most
// maxListed of them; the rest are counted), and how many passed.
type controlRule struct {
	compliance.RuleAssessment
	Failing []compliance.Finding
	More    int
	Passed  int
}

type controlRow struct {
	compliance.ControlAssessment
	Rules []controlRule
}

// maxListed caps the results a control lists per rule: across 5,000
// accounts one rule can fail thousands of times, and the findings list
// (linked) pages them.
const maxListed = 10

// frameworkPage shows one framework version's controls: status,
// automation, the rules behind each and the findings that fail it.
func (d *dash) frameworkPage(w http.ResponseWriter, r *http.Request, s *session) {
	k, err := api.LoadKnowledge()
	if err != nil {
		d.fail(w, err)
		return
	}
	f, ok := k.Catalog.Framework(r.PathValue("framework"))
	if !ok {
		http.Error(w, "no such framework", http.StatusNotFound)
		return
	}
	v := f.Latest()
	if want := r.URL.Query().Get("version"); want != "" {
		if v, err = k.Catalog.Resolve(f.ID + ":" + want); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
	}
	sas, err := d.cfg.Store.LatestResults(r.Context())
	if err != nil {
		d.fail(w, err)
		return
	}
	results, n, asOf := api.Results(sas)
	as := api.Assess(k.Catalog, v, results)
	var controls []controlRow
	for _, c := range as.Controls {
		row := controlRow{ControlAssessment: c}
		for _, ra := range c.Rules {
			cr := controlRule{RuleAssessment: ra}
			for _, x := range ra.Results {
				switch {
				case x.Status != rule.Fail && x.Status != rule.Unknown:
					cr.Passed++
				case len(cr.Failing) < maxListed:
					cr.Failing = append(cr.Failing, x)
				default:
					cr.More++
				}
			}
			row.Rules = append(row.Rules, cr)
		}
		controls = append(controls, row)
	}
	var versions []string
	for _, x := range f.Versions {
		versions = append(versions, x.Version)
	}
	d.render(w, "framework", s, as.Name+" "+as.Version, map[string]any{"A": as, "Controls": controls, "Accounts": n, "AsOf": asOf,
		"Versions": versions, "ID": f.ID})
}

// eventsPageSize is how many root events a page of the timeline shows.
const eventsPageSize = 100

// eventsPage is the root-activity timeline: what root did in the
// accounts, newest first, a page at a time, for one account when asked.
func (d *dash) eventsPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	acct := strings.TrimSpace(q.Get("account"))
	f := store.RootEventFilter{Limit: eventsPageSize + 1}
	msg := ""
	if acct != "" {
		if !isAccountID(acct) {
			msg = "account: want a 12-digit account ID"
		}
		f.Accounts = []string{acct}
	}
	if v := q.Get("before"); v != "" && msg == "" {
		var k store.RootEventKey
		if err := decodeLink(v, &k); err != nil {
			msg = err.Error()
		} else {
			f.Before = &k
		}
	}
	var events []api.RootEvent
	next := ""
	if msg == "" {
		es, err := d.cfg.Store.RootEvents(r.Context(), f)
		if err != nil {
			d.fail(w, err)
			return
		}
		if len(es) > eventsPageSize {
			es = es[:eventsPageSize]
			last := es[len(es)-1]
			nq := url.Values{"before": {encodeLink(store.RootEventKey{Time: last.Time, ID: last.ID})}}
			if acct != "" {
				nq.Set("account", acct)
			}
			next = "/events?" + nq.Encode()
		}
		for _, e := range es {
			events = append(events, api.ToRootEvent(e))
		}
	}
	d.render(w, "events", s, "Root activity", map[string]any{"Events": events, "Account": acct, "Error": msg, "Next": next,
		"Paged": q.Get("before") != ""})
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// accountEvents is how much of an account's root activity its page
// shows; the events page has the rest.
const accountEvents = 20

// accountPage shows one account: where it sits, its last scan, its open
// findings by severity, and its root-activity timeline.
func (d *dash) accountPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("id")
	if !isAccountID(id) {
		http.Error(w, "no such account", http.StatusNotFound)
		return
	}
	now := d.cfg.Clock.Now()
	page, _, err := api.AccountPage(ctx, d.cfg.Store, store.AccountFilter{IDs: []string{id}}, now)
	if err != nil {
		d.fail(w, err)
		return
	}
	es, err := d.cfg.Store.RootEvents(ctx, store.RootEventFilter{Accounts: []string{id}, Limit: accountEvents + 1})
	if err != nil {
		d.fail(w, err)
		return
	}
	if len(page) == 0 && len(es) == 0 {
		http.Error(w, "no such account", http.StatusNotFound)
		return
	}
	a := api.Account{AccountID: id}
	if len(page) > 0 {
		a = page[0]
	}
	more := len(es) > accountEvents
	if more {
		es = es[:accountEvents]
	}
	var events []api.RootEvent
	for _, e := range es {
		events = append(events, api.ToRootEvent(e))
	}
	crit, err := d.cfg.Store.Findings(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, Accounts: []string{id}, Now: now,
		BySeverity: true, Limit: overviewRows})
	if err != nil {
		d.fail(w, err)
		return
	}
	title := "Account " + id
	if a.Name != "" {
		title += " (" + a.Name + ")"
	}
	d.render(w, "account", s, title, map[string]any{"A": a, "Events": events, "MoreEvents": more, "Findings": crit,
		"Severities": rule.Severities})
}
