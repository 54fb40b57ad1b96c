package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

func rootEvent(id, account, key string, at time.Time) store.RootEvent {
	return store.RootEvent{EventID: id, Kind: "root_access_key_created", Account: account, Region: "us-east-1", Time: at,
		Source: "iam.amazonaws.com", Name: "CreateAccessKey", IdentityARN: "arn:aws:iam::" + account + ":root",
		SourceIP: "203.0.113.7", UserAgent: "aws-cli/2", AccessKeyID: key, MFA: "no", NewAccessKeyID: "AKIANEW",
		Summary: "root CreateAccessKey", ReceivedAt: at.Add(time.Second), MessageID: "m-" + id, Alert: store.AlertPending}
}

func testRootEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := rootEvent("ev-1", "444455556666", "ASIAONE", T0)
	got, inserted, err := s.RecordRootEvent(ctx, e)
	if err != nil || !inserted || got.ID == 0 {
		t.Fatalf("RecordRootEvent: %+v, %v, %v", got, inserted, err)
	}
	// The same event again is not stored twice.
	again, inserted, err := s.RecordRootEvent(ctx, rootEvent("ev-1", "444455556666", "ASIAONE", T0.Add(time.Hour)))
	if err != nil || inserted || again.ID != got.ID || !again.Time.Equal(T0) {
		t.Fatalf("duplicate: %+v, %v, %v", again, inserted, err)
	}
	if _, _, err := s.RecordRootEvent(ctx, rootEvent("ev-2", "111122223333", "AKIAROOT", T0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordRootEvent(ctx, rootEvent("ev-3", "444455556666", "AKIAROOT2", T0.Add(2*time.Minute))); err != nil {
		t.Fatal(err)
	}

	all, err := s.RootEvents(ctx, store.RootEventFilter{})
	if err != nil || len(all) != 3 || all[0].EventID != "ev-3" || all[2].EventID != "ev-1" {
		t.Fatalf("RootEvents newest first: %+v, %v", ids(all), err)
	}
	e1 := all[2]
	want := e
	want.ID, want.Receives = e1.ID, 1
	if !e1.Time.Equal(want.Time) || !e1.ReceivedAt.Equal(want.ReceivedAt) {
		t.Errorf("times: %v %v", e1.Time, e1.ReceivedAt)
	}
	e1.Time, e1.ReceivedAt, want.Time, want.ReceivedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if e1 != want {
		t.Errorf("stored\n%+v\nwant\n%+v", e1, want)
	}
	for _, tc := range []struct {
		f    store.RootEventFilter
		want []string
	}{
		{store.RootEventFilter{Accounts: []string{"444455556666"}}, []string{"ev-3", "ev-1"}},
		{store.RootEventFilter{Since: T0.Add(time.Minute)}, []string{"ev-3", "ev-2"}},
		{store.RootEventFilter{Until: T0.Add(time.Minute)}, []string{"ev-1"}},
		{store.RootEventFilter{Limit: 1}, []string{"ev-3"}},
		{store.RootEventFilter{Malformed: true}, nil},
		{store.RootEventFilter{EventID: "ev-2"}, []string{"ev-2"}},
	} {
		got, err := s.RootEvents(ctx, tc.f)
		if err != nil || !equalStrings(ids(got), tc.want) {
			t.Errorf("RootEvents(%+v) = %v, %v; want %v", tc.f, ids(got), err, tc.want)
		}
	}

	// A batch in one transaction: new events, one stored already, and
	// one event twice.
	batch := []store.RootEvent{rootEvent("ev-4", "111122223333", "AKIAROOT", T0.Add(3*time.Minute)), rootEvent("ev-1", "444455556666", "ASIAONE", T0),
		rootEvent("ev-5", "999988887777", "AKIAROOT3", T0.Add(4*time.Minute)), rootEvent("ev-4", "111122223333", "AKIAROOT", T0.Add(3*time.Minute))}
	stored, fresh, err := s.RecordRootEvents(ctx, batch)
	if err != nil || len(stored) != 4 || !equalBools(fresh, []bool{true, false, true, false}) {
		t.Fatalf("RecordRootEvents: %v, %v, %v", ids(stored), fresh, err)
	}
	if stored[1].ID != got.ID || stored[3].ID != stored[0].ID || stored[0].ID == 0 || stored[2].ID == 0 {
		t.Errorf("RecordRootEvents IDs: %+v", stored)
	}
	if _, _, err := s.RecordRootEvents(ctx, []store.RootEvent{{Account: "111122223333"}}); err == nil {
		t.Error("an event without an ID was recorded")
	}
}

// testRootAlertBursts: pending alerts are grouped per account, at most
// max to a burst; bursts grouped and not yet queued come back unchanged
// (a stop in between), and a queued burst is done.
func testRootAlertBursts(t *testing.T, s store.Store) {
	ctx := t.Context()
	record := func(id, account string, alert string) store.RootEvent {
		t.Helper()
		e := rootEvent(id, account, "AKIA"+id, T0)
		e.Alert = alert
		got, _, err := s.RecordRootEvent(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a1 := record("a1", "111122223333", store.AlertPending)
	b1 := record("b1", "444455556666", store.AlertPending)
	record("none", "111122223333", store.AlertNone)
	record("a2", "111122223333", store.AlertPending)
	a3 := record("a3", "111122223333", store.AlertPending)
	if _, err := s.GroupRootAlerts(ctx, 0); err == nil {
		t.Error("a burst of at most 0 events")
	}
	want := []store.RootAlertBurst{
		{ID: a1.ID, Account: "111122223333", Events: 2, Kinds: []string{"root_access_key_created"}},
		{ID: b1.ID, Account: "444455556666", Events: 1, Kinds: []string{"root_access_key_created"}},
		{ID: a3.ID, Account: "111122223333", Events: 1, Kinds: []string{"root_access_key_created"}},
	}
	for range 2 { // grouped, then the same again before they are queued
		got, err := s.GroupRootAlerts(ctx, 2)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("GroupRootAlerts = %+v, %v; want %+v", got, err, want)
		}
	}
	if got, err := s.RootEvents(ctx, store.RootEventFilter{Burst: a1.ID}); err != nil || !equalStrings(ids(got), []string{"a2", "a1"}) || got[0].Burst != a1.ID {
		t.Errorf("the events of burst %d: %v, %v", a1.ID, ids(got), err)
	}
	if err := s.SetRootBurstsQueued(ctx, a1.ID, b1.ID); err != nil {
		t.Fatal(err)
	}
	// A new event of an account with a burst queued starts a burst.
	a4 := record("a4", "111122223333", store.AlertPending)
	got, err := s.GroupRootAlerts(ctx, 2)
	want = []store.RootAlertBurst{
		{ID: a3.ID, Account: "111122223333", Events: 1, Kinds: []string{"root_access_key_created"}},
		{ID: a4.ID, Account: "111122223333", Events: 1, Kinds: []string{"root_access_key_created"}},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after queueing two: %+v, %v; want %+v", got, err, want)
	}
	if got, _ := s.RootEvents(ctx, store.RootEventFilter{EventID: "a1"}); len(got) != 1 || got[0].Alert != store.AlertQueued {
		t.Errorf("a queued burst's event: %+v", got)
	}
	if err := s.SetRootBurstsQueued(ctx, a3.ID, a4.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GroupRootAlerts(ctx, 2); err != nil || len(got) != 0 {
		t.Errorf("nothing pending: %+v, %v", got, err)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testRootSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Vigil's own session, known before its calls arrive: they are Vigil's
	// and do not alert.
	if _, err := s.RecordRootSession(ctx, store.RootSession{AccessKeyID: "ASIAVIGIL", Account: "444455556666",
		Principal: "arn:aws:sts::111122223333:assumed-role/Vigil/vigil", TaskPolicy: "IAMAuditRootUserCredentials", OpenedAt: T0, Vigil: true}); err != nil {
		t.Fatal(err)
	}
	own, _, err := s.RecordRootEvent(ctx, rootEvent("own-1", "444455556666", "ASIAVIGIL", T0.Add(time.Second)))
	if err != nil || !own.Own || own.Alert != store.AlertNone || own.SessionPrincipal != "arn:aws:sts::111122223333:assumed-role/Vigil/vigil" {
		t.Fatalf("event of Vigil's session: %+v, %v", own, err)
	}
	// The same key in another account is not that session.
	other, _, _ := s.RecordRootEvent(ctx, rootEvent("own-2", "999988887777", "ASIAVIGIL", T0.Add(time.Second)))
	if other.Own || other.Alert != store.AlertPending {
		t.Errorf("same key, other account: %+v", other)
	}

	// Someone else's session, learned after its call: the call is
	// labelled with who opened it, and still alerts.
	late, _, _ := s.RecordRootEvent(ctx, rootEvent("late-1", "444455556666", "ASIAJANE", T0.Add(time.Minute)))
	if late.SessionPrincipal != "" || late.Own {
		t.Fatalf("before the session is known: %+v", late)
	}
	n, err := s.RecordRootSession(ctx, store.RootSession{AccessKeyID: "ASIAJANE", Account: "444455556666",
		Principal: "arn:aws:sts::111122223333:assumed-role/SecOps/jane", TaskPolicy: "IAMDeleteRootUserCredentials", OpenedAt: T0})
	if err != nil || n != 1 {
		t.Fatalf("RecordRootSession labelled %d: %v", n, err)
	}
	got, _ := s.RootEvents(ctx, store.RootEventFilter{Accounts: []string{"444455556666"}})
	for _, e := range got {
		if e.EventID == "late-1" && (e.SessionPrincipal != "arn:aws:sts::111122223333:assumed-role/SecOps/jane" || e.Own || e.Alert != store.AlertPending) {
			t.Errorf("labelled late: %+v", e)
		}
	}
	rs, err := s.RootSession(ctx, "ASIAJANE")
	if err != nil || rs.Vigil || rs.TaskPolicy != "IAMDeleteRootUserCredentials" || !rs.OpenedAt.Equal(T0) {
		t.Errorf("RootSession: %+v, %v", rs, err)
	}
	if _, err := s.RootSession(ctx, "ASIANONE"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RootSession of an unknown key: %v", err)
	}

	// The management account's event of Vigil's own session does not
	// take Vigil's mark away.
	if _, err := s.RecordRootSession(ctx, store.RootSession{AccessKeyID: "ASIAVIGIL", Account: "444455556666",
		Principal: "arn:aws:sts::111122223333:assumed-role/Vigil/vigil", OpenedAt: T0}); err != nil {
		t.Fatal(err)
	}
	if rs, _ := s.RootSession(ctx, "ASIAVIGIL"); !rs.Vigil {
		t.Error("Vigil's session lost its mark")
	}

	// Vigil's session recorded after its call (a race): the call's alert,
	// not yet queued, is dropped.
	early, _, _ := s.RecordRootEvent(ctx, rootEvent("early-1", "444455556666", "ASIAVIGIL2", T0.Add(time.Minute)))
	if early.Alert != store.AlertPending {
		t.Fatalf("before: %+v", early)
	}
	if _, err := s.RecordRootSession(ctx, store.RootSession{AccessKeyID: "ASIAVIGIL2", Account: "444455556666", Principal: "p", OpenedAt: T0, Vigil: true}); err != nil {
		t.Fatal(err)
	}
	for _, e := range mustEvents(t, s) {
		if e.EventID == "early-1" && (!e.Own || e.Alert != store.AlertNone) {
			t.Errorf("early: %+v", e)
		}
	}
}

func testMalformed(t *testing.T, s store.Store) {
	ctx := t.Context()
	body := "not json \x00 \xff" + string(make([]byte, 10000))
	m, err := s.RecordMalformed(ctx, "msg-1", "malformed event: not JSON", body, T0)
	if err != nil || m.Kind != store.KindMalformed || m.Receives != 1 || len(m.Body) > store.MaxMalformedBody || m.MessageID != "msg-1" {
		t.Fatalf("RecordMalformed: %+v, %v", m, err)
	}
	m, err = s.RecordMalformed(ctx, "msg-1", "malformed event: not JSON", body, T0.Add(time.Minute))
	if err != nil || m.Receives != 2 || !m.ReceivedAt.Equal(T0.Add(time.Minute)) {
		t.Fatalf("second receive: %+v, %v", m, err)
	}
	if got, _ := s.RootEvents(ctx, store.RootEventFilter{}); len(got) != 0 {
		t.Errorf("malformed listed with events: %v", ids(got))
	}
	got, err := s.RootEvents(ctx, store.RootEventFilter{Malformed: true})
	if err != nil || len(got) != 1 || got[0].Problem != "malformed event: not JSON" {
		t.Errorf("malformed list: %+v, %v", got, err)
	}
}

func mustEvents(t *testing.T, s store.Store) []store.RootEvent {
	t.Helper()
	out, err := s.RootEvents(t.Context(), store.RootEventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(es []store.RootEvent) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.EventID)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
