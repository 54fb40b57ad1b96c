package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/store"
)

// The overview reads counts, a page of critical findings, the trend and
// the latest scans and deliveries: each a query the store answers from
// an index, so that it stays fast at 5,000 accounts and 90 days of
// hourly history.

const (
	// trendDays is how far back the overview's chart goes, a point a day.
	trendDays = 30
	// overviewRows caps the overview's tables; the full lists are a click
	// away.
	overviewRows = 15
)

// criticalRead is how many critical findings the overview reads to
// group them.
const criticalRead = 200

// criticalGroup is a rule failing critically in an account: one row of
// the overview, however many resources (regions, users) fail it.
type criticalGroup struct {
	First     store.Finding
	Resources int
}

type sevCount struct {
	Severity   string
	Open       int
	Suppressed int
}

// Trend is the chart of open findings, drawn as inline SVG (no script).
type Trend struct {
	// Points are the counts, oldest first, with their time.
	Points []TrendPoint
	// Line is the polyline's points attribute; the rest place the axes.
	Line, Area     string
	Width, Height  int
	Max            int
	YTicks, XTicks []tick
}

// TrendPoint is one point of the trend.
type TrendPoint struct {
	At   time.Time
	Open int
	X, Y float64
}

type tick struct {
	Pos    float64
	Label  string
	Anchor string
}

const (
	chartW, chartH = 720, 180
	padL, padR     = 44, 12
	padT, padB     = 10, 24
)

// trendChart lays the counts out on the chart.
func trendChart(from time.Time, step time.Duration, counts []int) Trend {
	t := Trend{Width: chartW, Height: chartH}
	for _, n := range counts {
		t.Max = max(t.Max, n)
	}
	top := niceCeil(t.Max)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	y := func(n int) float64 { return float64(padT) + plotH - plotH*float64(n)/float64(top) }
	for i, n := range counts {
		x := float64(padL)
		if len(counts) > 1 {
			x += plotW * float64(i) / float64(len(counts)-1)
		}
		t.Points = append(t.Points, TrendPoint{At: from.Add(time.Duration(i) * step), Open: n, X: round1(x), Y: round1(y(n))})
	}
	for i, p := range t.Points {
		if i > 0 {
			t.Line += " "
		}
		t.Line += fmt.Sprintf("%g,%g", p.X, p.Y)
	}
	if len(t.Points) > 0 {
		base := round1(y(0))
		t.Area = fmt.Sprintf("%g,%g %s %g,%g", t.Points[0].X, base, t.Line, t.Points[len(t.Points)-1].X, base)
	}
	for _, v := range []int{0, top / 2, top} {
		t.YTicks = append(t.YTicks, tick{Pos: round1(y(v)), Label: strconv.Itoa(v)})
	}
	for i := 0; i < len(t.Points); i += 7 {
		p := t.Points[len(t.Points)-1-i]
		anchor := "middle"
		if i == 0 {
			// The latest day sits at the right edge: its label ends there.
			anchor = "end"
		}
		t.XTicks = append(t.XTicks, tick{Pos: p.X, Label: p.At.UTC().Format("Jan 2"), Anchor: anchor})
	}
	return t
}

// niceCeil is the chart's top: the smallest of 2, 4, 5 or 10 times a
// power of ten at or above the highest count.
func niceCeil(n int) int {
	best := 0
	for p := 1; p <= 1_000_000_000; p *= 10 {
		for _, m := range []int{2, 4, 5, 10} {
			if c := m * p; c >= n && (best == 0 || c < best) {
				best = c
			}
		}
	}
	return best
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// aggregates are the overview's reads over every open finding and the
// last 30 days of transitions: the counts behind the tiles and the
// accounts' ranking, and the trend. At 5,000 accounts with 90 days of
// hourly history they are most of the page's time (tens of thousands of
// index entries each), and they change only when a scan records a
// transition or a suppression changes: they are kept while the store's
// view stamp is unchanged, for at most aggregatesTTL (which bounds how
// far the chart's last point lags the clock, and any change the stamp
// does not see, such as an open finding's severity changing in place).
type aggregates struct {
	stamp string
	at    time.Time
	// summary is the tiles' counts and the first accounts ranked,
	// from the counts the store keeps as it records.
	summary store.OpenSummary
	from    time.Time
	trend   []int
}

const aggregatesTTL = time.Minute

func (d *dash) aggregates(ctx context.Context, now time.Time) (*aggregates, error) {
	stamp, err := d.cfg.Store.ViewStamp(ctx, now)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	kept := d.agg
	d.mu.Unlock()
	if kept != nil && kept.stamp == stamp && !now.Before(kept.at) && now.Sub(kept.at) < aggregatesTTL {
		return kept, nil
	}
	a := &aggregates{stamp: stamp, at: now, from: now.Add(-trendDays * 24 * time.Hour)}
	if a.summary, err = d.cfg.Store.OpenSummary(ctx, now, overviewRows); err != nil {
		return nil, err
	}
	if a.trend, err = d.cfg.Store.OpenTrend(ctx, a.from, 24*time.Hour, trendDays+1); err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.agg = a
	d.mu.Unlock()
	return a, nil
}

func (d *dash) overview(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	now := d.cfg.Clock.Now()
	st := d.cfg.Store
	agg, err := d.aggregates(ctx, now)
	if err != nil {
		d.fail(w, err)
		return
	}
	summary, from, trend := agg.summary, agg.from, agg.trend
	// The first critical findings by account, read from the severity
	// index (critical rows come first in it: no scan past the others).
	// Enough of them to fill the table's rows once grouped by account
	// and rule (a regional rule fails once per region).
	critical, err := st.Findings(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, MinSeverity: int(rule.Critical), Now: now, Limit: criticalRead, BySeverity: true})
	if err != nil {
		d.fail(w, err)
		return
	}
	scans, err := st.Scans(ctx, 5)
	if err != nil {
		d.fail(w, err)
		return
	}
	failing, err := st.Deliveries(ctx, true, 5)
	if err != nil {
		d.fail(w, err)
		return
	}
	var schedules []api.ScheduleInfo
	if d.cfg.Scheduler != nil {
		if schedules, err = d.cfg.Scheduler.Schedules(ctx); err != nil {
			d.fail(w, err)
			return
		}
	}

	bySev := map[int]*sevCount{}
	var sevs []*sevCount
	for _, sv := range rule.Severities {
		c := &sevCount{Severity: sv.String()}
		bySev[int(sv)] = c
		sevs = append(sevs, c)
	}
	for sev := range store.Severities {
		if x := bySev[sev]; x != nil {
			x.Open, x.Suppressed = summary.Open[sev], summary.Suppressed[sev]
		}
	}
	// The store ranks the accounts with open findings; only the rows
	// shown are read from the accounts table.
	failingAccts := make([]api.Account, 0, len(summary.Top))
	for _, t := range summary.Top {
		a := api.Account{AccountID: t.AccountID}
		for sev, n := range t.Open {
			a.Open.Add(sev, n)
		}
		failingAccts = append(failingAccts, a)
	}
	moreAccounts := summary.Accounts - len(failingAccts)
	if err := fillAccounts(ctx, st, failingAccts); err != nil {
		d.fail(w, err)
		return
	}
	var groups []*criticalGroup
	byKey := map[string]*criticalGroup{}
	for _, f := range critical {
		if f.Suppression != nil {
			continue
		}
		k := f.AccountID + "\x00" + f.RuleID
		g := byKey[k]
		if g == nil {
			g = &criticalGroup{First: f}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.Resources++
	}
	moreCritical := len(critical) == criticalRead || len(groups) > overviewRows
	if len(groups) > overviewRows {
		groups = groups[:overviewRows]
	}
	var last *store.Scan
	if len(scans) > 0 {
		last = &scans[0]
	}
	var next *time.Time
	for _, sc := range schedules {
		if sc.Next != nil && (next == nil || sc.Next.Before(*next)) {
			next = sc.Next
		}
	}
	d.render(w, "overview", s, "Overview", map[string]any{"Severities": sevs, "Accounts": failingAccts, "MoreAccounts": max(moreAccounts, 0),
		"Critical": groups, "MoreCritical": moreCritical, "Scans": scans, "Last": last, "Next": next, "Schedules": schedules,
		"Trend": trendChart(from, 24*time.Hour, trend), "Failing": failing, "Now": now})
}

// fillAccounts reads the name, OU and last scan of the accounts shown.
func fillAccounts(ctx context.Context, st api.Store, as []api.Account) error {
	if len(as) == 0 {
		return nil
	}
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.AccountID
	}
	rec, err := st.AccountPage(ctx, store.AccountFilter{IDs: ids})
	if err != nil {
		return err
	}
	byID := map[string]store.Account{}
	for _, r := range rec {
		byID[r.AccountID] = r
	}
	for i := range as {
		if r, ok := byID[as[i].AccountID]; ok {
			t := r.LastRecorded
			as[i].Name, as[i].OU, as[i].LastScanID, as[i].LastScanned = r.AccountName, r.OU, r.LastScanID, &t
		}
	}
	return nil
}

// accountsPageSize is how many accounts a page of the accounts list
// shows.
const accountsPageSize = 200

// accountsPage lists the accounts by OU, a page at a time, with their
// open findings and last scan.
func (d *dash) accountsPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	q := r.URL.Query()
	ou := strings.TrimSpace(q.Get("ou"))
	f := store.AccountFilter{Limit: accountsPageSize + 1}
	if ou != "" {
		f.OUs = []string{ou}
	}
	msg := ""
	if v := q.Get("after"); v != "" {
		var k store.AccountKey
		if err := decodeLink(v, &k); err != nil {
			msg = err.Error()
		} else {
			f.After = &k
		}
	}
	type group struct {
		OU       string
		Accounts []api.Account
		Open     api.BySeverity
	}
	var groups []*group
	next := ""
	if msg == "" {
		page, after, err := api.AccountPage(ctx, d.cfg.Store, f, d.cfg.Clock.Now())
		if err != nil {
			d.fail(w, err)
			return
		}
		for _, a := range page {
			if len(groups) == 0 || groups[len(groups)-1].OU != a.OU {
				groups = append(groups, &group{OU: a.OU})
			}
			g := groups[len(groups)-1]
			g.Accounts = append(g.Accounts, a)
			for i, n := range a.Open.List() {
				g.Open.Add(int(rule.Severities[i]), n)
			}
		}
		if after != nil {
			nq := url.Values{"after": {encodeLink(*after)}}
			if ou != "" {
				nq.Set("ou", ou)
			}
			next = "/accounts?" + nq.Encode()
		}
	}
	first := ""
	if q.Get("after") != "" {
		first = "/accounts"
		if ou != "" {
			first += "?" + url.Values{"ou": {ou}}.Encode()
		}
	}
	d.render(w, "accounts", s, "Accounts", map[string]any{"Groups": groups, "OU": ou, "Error": msg, "Next": next, "First": first})
}

// deliveriesPage lists the latest alert deliveries, failing ones first
// in their own table.
func (d *dash) deliveriesPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	failing, err := d.cfg.Store.Deliveries(ctx, true, 100)
	if err != nil {
		d.fail(w, err)
		return
	}
	// The latest deliveries a page at a time, newest first; ?after= is
	// the last delivery of the page before (its time and ID, as the
	// API's cursor).
	var after *store.DeliveryKey
	if v := r.URL.Query().Get("after"); v != "" {
		var k store.DeliveryKey
		if err := decodeLink(v, &k); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		after = &k
	}
	all, err := d.cfg.Store.DeliveryPage(ctx, false, after, deliveriesPageSize+1)
	if err != nil {
		d.fail(w, err)
		return
	}
	next := ""
	if len(all) > deliveriesPageSize {
		all = all[:deliveriesPageSize]
		last := all[len(all)-1]
		next = "/deliveries?after=" + encodeLink(store.DeliveryKey{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	conv := func(ds []store.Delivery) []api.Delivery {
		out := make([]api.Delivery, 0, len(ds))
		for _, x := range ds {
			out = append(out, api.ToDelivery(x))
		}
		return out
	}
	d.render(w, "deliveries", s, "Alert deliveries", map[string]any{"Failing": conv(failing), "All": conv(all), "Next": next, "Paged": after != nil})
}

// deliveriesPageSize is how many deliveries a page lists.
const deliveriesPageSize = 100
