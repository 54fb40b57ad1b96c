package storetest

import (
	"errors"
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

	pending, err := s.PendingRootAlerts(ctx)
	if err != nil || len(pending) != 3 || pending[0].EventID != "ev-1" {
		t.Fatalf("PendingRootAlerts: %v, %v", ids(pending), err)
	}
	if err := s.SetRootAlert(ctx, store.AlertQueued, "ev-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRootAlert(ctx, store.AlertQueued, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetRootAlert of nothing: %v", err)
	}
	if pending, _ := s.PendingRootAlerts(ctx); len(pending) != 2 {
		t.Errorf("pending after queueing one: %v", ids(pending))
	}
	if err := s.SetRootAlert(ctx, store.AlertQueued, "ev-2", "ev-3", "nope"); err != nil {
		t.Fatal(err)
	}
	if pending, _ := s.PendingRootAlerts(ctx); len(pending) != 0 {
		t.Errorf("pending after queueing all: %v", ids(pending))
	}
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
