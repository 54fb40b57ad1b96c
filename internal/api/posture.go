package api

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/store"
)

// BySeverity counts findings per severity.
type BySeverity struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// Add counts n findings of severity sev.
func (b *BySeverity) Add(sev, n int) {
	switch rule.Severity(sev) {
	case rule.Critical:
		b.Critical += n
	case rule.High:
		b.High += n
	case rule.Medium:
		b.Medium += n
	case rule.Low:
		b.Low += n
	default:
		b.Info += n
	}
}

// Total is the sum over severities.
func (b BySeverity) Total() int { return b.Critical + b.High + b.Medium + b.Low + b.Info }

// List is the counts most severe first, for a row of a table.
func (b BySeverity) List() []int { return []int{b.Critical, b.High, b.Medium, b.Low, b.Info} }

// Account is an account as the API shows it: where it sits, when it was
// last scanned, and its open findings.
type Account struct {
	AccountID string `json:"account_id"`
	Name      string `json:"name,omitempty"`
	OU        string `json:"ou,omitempty"`
	// LastScanID and LastScanned are the latest scan that recorded it.
	LastScanID  int64      `json:"last_scan_id,omitempty"`
	LastScanned *time.Time `json:"last_scanned,omitempty"`
	// Open counts its open findings that no suppression mutes;
	// Suppressed the open ones muted.
	Open       BySeverity `json:"open"`
	Suppressed int        `json:"suppressed"`
}

// Accounts joins the recorded accounts with the counts of their open
// findings (an account with findings but no record yet is listed too),
// sorted by OU and ID.
func Accounts(accts []store.Account, counts []store.Count) []Account {
	byID := map[string]*Account{}
	out := make([]*Account, 0, len(accts))
	for _, a := range accts {
		t := a.LastRecorded
		x := &Account{AccountID: a.AccountID, Name: a.AccountName, OU: a.OU, LastScanID: a.LastScanID, LastScanned: &t}
		byID[a.AccountID] = x
		out = append(out, x)
	}
	for _, c := range counts {
		if c.State != lifecycle.Open {
			continue
		}
		x := byID[c.AccountID]
		if x == nil {
			x = &Account{AccountID: c.AccountID, Name: c.AccountName, OU: c.OU}
			byID[c.AccountID] = x
			out = append(out, x)
		}
		if c.Suppressed {
			x.Suppressed += c.N
		} else {
			x.Open.Add(c.Severity, c.N)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].OU != out[j].OU {
			return out[i].OU < out[j].OU
		}
		return out[i].AccountID < out[j].AccountID
	})
	res := make([]Account, len(out))
	for i, x := range out {
		res[i] = *x
	}
	return res
}

func (a *api) accounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := pageLimit(w, q.Get("limit"))
	if !ok {
		return
	}
	f := store.AccountFilter{OUs: q["ou"], Limit: limit + 1}
	if v := q.Get("cursor"); v != "" {
		var k store.AccountKey
		if err := decodeToken(v, &k); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_cursor", err.Error())
			return
		}
		f.After = &k
	}
	page, next, err := AccountPage(r.Context(), a.cfg.Store, f, a.cfg.Clock.Now())
	if err != nil {
		a.internal(w, err)
		return
	}
	out := struct {
		Accounts   []Account `json:"accounts"`
		NextCursor string    `json:"next_cursor,omitempty"`
	}{Accounts: page}
	if next != nil {
		out.NextCursor = encodeToken(*next)
	}
	writeJSON(w, http.StatusOK, out)
}

// AccountPage reads a page of accounts (f.Limit is the page size plus
// one, to tell whether another follows) with the counts of their open
// findings: next is the key to start the next page after, nil on the
// last page. The counts are read for the page's accounts alone.
func AccountPage(ctx context.Context, st Store, f store.AccountFilter, now time.Time) (page []Account, next *store.AccountKey, err error) {
	size := f.Limit - 1
	accts, err := st.AccountPage(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	if size >= 0 && len(accts) > size {
		accts = accts[:size]
		last := accts[len(accts)-1]
		next = &store.AccountKey{OU: last.OU, AccountID: last.AccountID}
	}
	page = []Account{}
	if len(accts) == 0 {
		return page, next, nil
	}
	ids := make([]string, len(accts))
	for i, x := range accts {
		ids[i] = x.AccountID
	}
	counts, err := st.Counts(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, Accounts: ids, Now: now})
	if err != nil {
		return nil, nil, err
	}
	return append(page, Accounts(accts, counts)...), next, nil
}

// Results are the latest recorded results of every account, as rule
// results, for a compliance assessment; asOf is the latest of their
// times.
func Results(sas []store.ScanAccount) (results []rule.Result, accounts int, asOf time.Time) {
	for _, sa := range sas {
		if sa.Results == nil {
			continue
		}
		accounts++
		if sa.RecordedAt.After(asOf) {
			asOf = sa.RecordedAt
		}
		for _, o := range sa.Results {
			results = append(results, rule.Result{Meta: &rule.Meta{RuleID: o.RuleID, Title: o.Title, AccountID: sa.AccountID, AccountName: o.AccountName},
				Status: rule.Status(o.Status), Severity: rule.Severity(o.Severity), Resource: o.Resource, Message: o.Message})
		}
	}
	return results, accounts, asOf
}

// Assess judges a framework version from the latest recorded results. A
// mapped rule with no recorded result is UNKNOWN, never PASS.
func Assess(cat *compliance.Catalog, v *compliance.Version, results []rule.Result) compliance.Assessment {
	titles := map[string]string{}
	for _, r := range rules.All() {
		titles[r.ID] = r.Title
	}
	return cat.Assess(v, results, titles, func(string) (rule.Status, string) {
		return rule.Unknown, "no recorded result: no scan in retention ran this rule"
	})
}

// ComplianceVersion is one version of a framework and how the estate
// stands against it.
type ComplianceVersion struct {
	Version  string                        `json:"version"`
	Coverage compliance.AssessmentCoverage `json:"coverage"`
}

// ComplianceFramework is a framework with its versions.
type ComplianceFramework struct {
	ID        string              `json:"id"`
	Name      string              `json:"name"`
	Publisher string              `json:"publisher,omitempty"`
	URL       string              `json:"url,omitempty"`
	Versions  []ComplianceVersion `json:"versions"`
}

func (a *api) complianceList(w http.ResponseWriter, r *http.Request) {
	k, err := LoadKnowledge()
	if err != nil {
		a.internal(w, err)
		return
	}
	sas, err := a.cfg.Store.LatestResults(r.Context())
	if err != nil {
		a.internal(w, err)
		return
	}
	results, n, asOf := Results(sas)
	out := []ComplianceFramework{}
	for _, f := range k.Catalog.Frameworks {
		cf := ComplianceFramework{ID: f.ID, Name: f.Name, Publisher: f.Publisher, URL: f.URL}
		for _, v := range f.Versions {
			cf.Versions = append(cf.Versions, ComplianceVersion{Version: v.Version, Coverage: Assess(k.Catalog, v, results).Coverage})
		}
		out = append(out, cf)
	}
	body := map[string]any{"frameworks": out, "accounts": n}
	if n > 0 {
		body["as_of"] = asOf
	}
	writeJSON(w, http.StatusOK, body)
}

// ComplianceRule is a mapped rule's part in a control: its results
// that failed or are unknown (the findings behind the control), and how
// many passed or did not apply.
type ComplianceRule struct {
	compliance.RuleAssessment
	Passed int `json:"passed"`
}

// ComplianceControl is one control's status and the rules behind it.
type ComplianceControl struct {
	compliance.ControlAssessment
	Rules []ComplianceRule `json:"rules"`
}

func (a *api) compliance(w http.ResponseWriter, r *http.Request) {
	k, err := LoadKnowledge()
	if err != nil {
		a.internal(w, err)
		return
	}
	f, ok := k.Catalog.Framework(r.PathValue("framework"))
	if !ok {
		var ids []string
		for _, f := range k.Catalog.Frameworks {
			ids = append(ids, f.ID)
		}
		writeError(w, http.StatusNotFound, "not_found", "no framework "+strconv.Quote(r.PathValue("framework"))+"; known: "+strings.Join(ids, ", "))
		return
	}
	v := f.Latest()
	if want := r.URL.Query().Get("version"); want != "" {
		got, err := k.Catalog.Resolve(f.ID + ":" + want)
		if err != nil {
			writeError(w, http.StatusNotFound, "not_found", err.Error())
			return
		}
		v = got
	}
	sas, err := a.cfg.Store.LatestResults(r.Context())
	if err != nil {
		a.internal(w, err)
		return
	}
	results, n, asOf := Results(sas)
	as := Assess(k.Catalog, v, results)
	controls := make([]ComplianceControl, 0, len(as.Controls))
	for _, c := range as.Controls {
		cc := ComplianceControl{ControlAssessment: c, Rules: make([]ComplianceRule, 0, len(c.Rules))}
		for _, ra := range c.Rules {
			cr := ComplianceRule{RuleAssessment: ra}
			cr.Results = make([]compliance.Finding, 0)
			for _, x := range ra.Results {
				if x.Status == rule.Fail || x.Status == rule.Unknown {
					cr.Results = append(cr.Results, x)
				} else {
					cr.Passed++
				}
			}
			cc.Rules = append(cc.Rules, cr)
		}
		controls = append(controls, cc)
	}
	body := map[string]any{"framework": as.Framework, "name": as.Name, "version": as.Version, "scope": as.Scope,
		"coverage": as.Coverage, "controls": controls, "accounts": n}
	if n > 0 {
		body["as_of"] = asOf
	}
	writeJSON(w, http.StatusOK, body)
}

// Delivery is an alert delivery as the API shows it.
type Delivery struct {
	ID          string     `json:"id"`
	Channel     string     `json:"channel"`
	CreatedAt   time.Time  `json:"created_at"`
	Transitions int        `json:"transitions"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	// Status is delivered, failing (tried and not yet delivered; retried
	// with backoff) or pending (not tried yet).
	Status string `json:"status"`
}

// ToDelivery is the API's view of a delivery.
func ToDelivery(d store.Delivery) Delivery {
	st := "pending"
	switch {
	case d.DeliveredAt != nil:
		st = "delivered"
	case d.Attempts > 0:
		st = "failing"
	}
	return Delivery{ID: d.ID, Channel: d.Channel, CreatedAt: d.CreatedAt, Transitions: d.Items, Attempts: d.Attempts, LastError: d.LastError,
		DeliveredAt: d.DeliveredAt, Status: st}
}

func (a *api) deliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		var ok bool
		if limit, ok = pageLimit(w, v); !ok {
			return
		}
	}
	failed := false
	switch v := q.Get("status"); v {
	case "", "all":
	case "failing":
		failed = true
	default:
		writeError(w, http.StatusBadRequest, "invalid_filter", "status "+strconv.Quote(v)+": want all or failing")
		return
	}
	var after *store.DeliveryKey
	if v := q.Get("cursor"); v != "" {
		var k store.DeliveryKey
		if err := decodeToken(v, &k); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_cursor", err.Error())
			return
		}
		after = &k
	}
	ds, err := a.cfg.Store.DeliveryPage(r.Context(), failed, after, limit+1)
	if err != nil {
		a.internal(w, err)
		return
	}
	out := struct {
		Deliveries []Delivery `json:"deliveries"`
		NextCursor string     `json:"next_cursor,omitempty"`
	}{Deliveries: make([]Delivery, 0, len(ds))}
	if len(ds) > limit {
		ds = ds[:limit]
		last := ds[len(ds)-1]
		out.NextCursor = encodeToken(store.DeliveryKey{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, ToDelivery(d))
	}
	writeJSON(w, http.StatusOK, out)
}
