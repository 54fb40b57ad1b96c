package awsemu

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestDetailsSnapshotKeptUntilAMutation: the pages of
// GetAccountAuthorizationDetails come from one list built once, and a
// mutating call (any, failed or not) makes the next page build it again.
func TestDetailsSnapshotKeptUntilAMutation(t *testing.T) {
	a := &Account{ID: "111122223333", Users: []User{{Name: "admin", AccessKeys: []AccessKey{{ID: "AKIAADMIN00000000001"}}}}}
	for i := range 30 {
		a.Users = append(a.Users, User{Name: fmt.Sprintf("user-%02d", i)})
		a.Roles = append(a.Roles, Role{Name: fmt.Sprintf("role-%02d", i)})
	}
	s := newServer(&World{Accounts: []*Account{a}})
	call := func(form url.Values) string {
		t.Helper()
		form.Set("Version", "2010-05-08")
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAADMIN00000000001/20261101/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", form.Get("Action"), rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	page := func(marker string) string {
		return call(url.Values{"Action": {"GetAccountAuthorizationDetails"}, "MaxItems": {"10"}, "Marker": {marker}})
	}
	snapshotOf := func(filter string) *detailsSnapshot {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.details[a.ID+"|"+filter]
	}
	snapshot := func() *detailsSnapshot { return snapshotOf("") }
	body := page("")
	first := snapshot()
	if first == nil || len(first.all) != 61 {
		t.Fatalf("snapshot %+v, want 61 entities", first)
	}
	marker := between(body, "<Marker>", "</Marker>")
	page(marker)
	call(url.Values{"Action": {"ListUsers"}})
	page("")
	if snapshot() != first {
		t.Error("reads rebuilt the snapshot")
	}
	call(url.Values{"Action": {"CreateAccessKey"}})
	page(marker)
	if snapshot() == first {
		t.Error("a mutating call kept the snapshot")
	}
	// Another filter is another list, kept beside the first: a scanner
	// pages through several filters at once.
	unfiltered := snapshot()
	call(url.Values{"Action": {"GetAccountAuthorizationDetails"}, "Filter.member.1": {"Role"}})
	if got := snapshotOf("Role"); got == nil || len(got.all) != 30 || got.filter != "Role" {
		t.Errorf("filtered snapshot %+v", got)
	}
	if snapshot() != unfiltered {
		t.Error("a filtered listing replaced the unfiltered one")
	}
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(after, to)
	return v
}
