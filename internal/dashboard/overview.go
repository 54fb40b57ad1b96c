package dashboard

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
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

// accountRank sorts accounts failing critical rules first, then by the
// next severity down, then by ID: the order a CISO works down.
func accountRank(as []api.Account) {
	sort.Slice(as, func(i, j int) bool {
		a, b := as[i].Open, as[j].Open
		for _, d := range [...]int{a.Critical - b.Critical, a.High - b.High, a.Medium - b.Medium, a.Low - b.Low, a.Info - b.Info} {
			if d != 0 {
				return d > 0
			}
		}
		return as[i].AccountID < as[j].AccountID
	})
}

func (d *dash) overview(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	now := d.cfg.Clock.Now()
	st := d.cfg.Store
	counts, err := st.Counts(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, Now: now})
	if err != nil {
		d.fail(w, err)
		return
	}
	// The first critical findings by account, read from the severity
	// index (critical rows come first in it: no scan past the others).
	// Enough of them to fill the table's rows once grouped by account
	// and rule (a regional rule fails once per region).
	critical, err := st.Findings(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, MinSeverity: int(rule.Critical), Now: now, Limit: criticalRead, BySeverity: true})
	if err != nil {
		d.fail(w, err)
		return
	}
	accts, err := st.Accounts(ctx)
	if err != nil {
		d.fail(w, err)
		return
	}
	from := now.Add(-trendDays * 24 * time.Hour)
	trend, err := st.OpenTrend(ctx, from, 24*time.Hour, trendDays+1)
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
	for _, c := range counts {
		if x := bySev[c.Severity]; x != nil {
			if c.Suppressed {
				x.Suppressed += c.N
			} else {
				x.Open += c.N
			}
		}
	}
	rows := api.Accounts(accts, counts)
	var failingAccts []api.Account
	for _, a := range rows {
		if a.Open.Total() > 0 {
			failingAccts = append(failingAccts, a)
		}
	}
	accountRank(failingAccts)
	moreAccounts := len(failingAccts) - overviewRows
	if moreAccounts > 0 {
		failingAccts = failingAccts[:overviewRows]
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

// accountsPage lists every account by OU with its open findings and
// last scan.
func (d *dash) accountsPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	now := d.cfg.Clock.Now()
	ou := r.URL.Query().Get("ou")
	var ous []string
	if ou != "" {
		ous = []string{ou}
	}
	accts, err := d.cfg.Store.Accounts(ctx)
	if err != nil {
		d.fail(w, err)
		return
	}
	counts, err := d.cfg.Store.Counts(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, OUs: ous, Now: now})
	if err != nil {
		d.fail(w, err)
		return
	}
	type group struct {
		OU       string
		Accounts []api.Account
		Open     api.BySeverity
	}
	var groups []*group
	for _, a := range api.Accounts(accts, counts) {
		if ou != "" && a.OU != ou && !hasPrefixOU(a.OU, ou) {
			continue
		}
		if len(groups) == 0 || groups[len(groups)-1].OU != a.OU {
			groups = append(groups, &group{OU: a.OU})
		}
		g := groups[len(groups)-1]
		g.Accounts = append(g.Accounts, a)
		for i, n := range a.Open.List() {
			g.Open.Add(int(rule.Severities[i]), n)
		}
	}
	d.render(w, "accounts", s, "Accounts", map[string]any{"Groups": groups, "OU": ou})
}

func hasPrefixOU(ou, parent string) bool {
	p := parent
	if len(p) > 0 && p[len(p)-1] != '/' {
		p += "/"
	}
	return len(ou) > len(p) && ou[:len(p)] == p
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
	all, err := d.cfg.Store.Deliveries(ctx, false, 100)
	if err != nil {
		d.fail(w, err)
		return
	}
	conv := func(ds []store.Delivery) []api.Delivery {
		out := make([]api.Delivery, 0, len(ds))
		for _, x := range ds {
			out = append(out, api.ToDelivery(x))
		}
		return out
	}
	d.render(w, "deliveries", s, "Alert deliveries", map[string]any{"Failing": conv(failing), "All": conv(all)})
}
