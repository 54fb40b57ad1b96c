package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// brokenStore signs tokens in but fails every other call, as a store
// whose database went away between two requests does.
type brokenStore struct {
	api.TokenStore
}

var errBroken = errors.New("database is gone")

func (brokenStore) Findings(context.Context, store.Filter) ([]store.Finding, error) {
	return nil, errBroken
}
func (brokenStore) Finding(context.Context, string, time.Time) (store.Finding, []store.Transition, error) {
	return store.Finding{}, nil, errBroken
}
func (brokenStore) Scans(context.Context, int) ([]store.Scan, error)           { return nil, errBroken }
func (brokenStore) ScanPage(context.Context, int64, int) ([]store.Scan, error) { return nil, errBroken }
func (brokenStore) Scan(context.Context, int64) (store.Scan, error)            { return store.Scan{}, errBroken }
func (brokenStore) Counts(context.Context, store.Filter) ([]store.Count, error) {
	return nil, errBroken
}
func (brokenStore) OpenTrend(context.Context, time.Time, time.Duration, int) ([]int, error) {
	return nil, errBroken
}
func (brokenStore) OpenSummary(context.Context, time.Time, int) (store.OpenSummary, error) {
	return store.OpenSummary{}, errBroken
}
func (brokenStore) ViewStamp(context.Context, time.Time) (string, error) { return "", errBroken }
func (brokenStore) AccountPage(context.Context, store.AccountFilter) ([]store.Account, error) {
	return nil, errBroken
}
func (brokenStore) LatestResults(context.Context) ([]store.ScanAccount, error) { return nil, errBroken }
func (brokenStore) Deliveries(context.Context, bool, int) ([]store.Delivery, error) {
	return nil, errBroken
}
func (brokenStore) DeliveryPage(context.Context, bool, *store.DeliveryKey, int) ([]store.Delivery, error) {
	return nil, errBroken
}
func (brokenStore) AddSuppression(context.Context, store.Suppression) (store.Suppression, error) {
	return store.Suppression{}, errBroken
}
func (brokenStore) Suppressions(context.Context) ([]store.Suppression, error) { return nil, errBroken }
func (brokenStore) SuppressionPage(context.Context, int64, int) ([]store.Suppression, error) {
	return nil, errBroken
}
func (brokenStore) RemoveSuppression(context.Context, int64) error { return errBroken }
func (brokenStore) SetAutoFix(context.Context, store.AutoFixChange) (store.AutoFixChange, error) {
	return store.AutoFixChange{}, errBroken
}
func (brokenStore) AutoFixChanges(context.Context) ([]store.AutoFixChange, error) {
	return nil, errBroken
}
func (brokenStore) AutoFixHistory(context.Context, int) ([]store.AutoFixChange, error) {
	return nil, errBroken
}
func (brokenStore) RootEvents(context.Context, store.RootEventFilter) ([]store.RootEvent, error) {
	return nil, errBroken
}

// With a store that fails, every route that reads or writes it answers
// a JSON 500 with the code "internal" (never an empty body, never the
// store's error), and the routes that need no store answer as usual.
func TestStoreFailure(t *testing.T) {
	f := start(t)
	mux := http.NewServeMux()
	api.Mount(mux, api.Config{Store: brokenStore{f.Store}, Clock: clock.Pinned{T: testclock.Ref()}, AutoFix: testAutoFix})
	srv := httptest.NewServer(api.Secure(mux))
	t.Cleanup(srv.Close)
	broken := fixture{Filled: f.Filled, url: srv.URL}
	// What answers without the store: the document, the rules (the
	// knowledge base is in the binary), the schedules and a scan's start
	// (no scheduler here).
	without := map[string]int{"GET /api/v1/openapi.json": 200, "GET /api/v1/rules": 200, "GET /api/v1/rules/{id}": 200,
		"GET /api/v1/schedules": 200, "POST /api/v1/scans": 503}
	for _, r := range api.Routes {
		path := strings.Replace(strings.Replace(concretePath(r.Path), "/findings/{id}", "/findings/f-1", 1), "/suppressions/{id}", "/suppressions/1", 1)
		want, ok := without[r.Method+" "+r.Path]
		if !ok {
			want = 500
		}
		code, raw := broken.do(t, r.Method, path, f.Admin, bodyFor(r.Method, r.Path), nil)
		if code != want {
			t.Errorf("%s %s: %d, want %d: %s", r.Method, path, code, want, raw)
		}
		if code == 500 && (!strings.Contains(string(raw), `"internal"`) || strings.Contains(string(raw), errBroken.Error())) {
			t.Errorf("%s %s: %s", r.Method, path, raw)
		}
	}
}
