package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/testclock"
)

func TestRootEvents(t *testing.T) {
	f := start(t)
	ctx := t.Context()
	t0 := testclock.Ref()
	for i, e := range []store.RootEvent{
		{EventID: "ev-1", Kind: "root_console_login", Account: "333333333333", Region: "us-east-1", Time: t0, Source: "signin.amazonaws.com",
			Name: "ConsoleLogin", SourceIP: "203.0.113.7", MFA: "yes", Summary: "root console sign-in", ReceivedAt: t0, Alert: store.AlertQueued},
		{EventID: "ev-2", Kind: "root_access_key_created", Account: "333333333333", Region: "us-east-1", Time: t0.Add(time.Minute), Source: "iam.amazonaws.com",
			Name: "CreateAccessKey", AccessKeyID: "ASIAX", NewAccessKeyID: "AKIANEW", ReceivedAt: t0.Add(time.Minute), Alert: store.AlertQueued},
		{EventID: "ev-3", Kind: "root_api_call", Account: "222222222222", Region: "eu-west-1", Time: t0.Add(2 * time.Minute), Source: "ec2.amazonaws.com",
			Name: "RunInstances", Own: true, ReceivedAt: t0.Add(2 * time.Minute)},
	} {
		if _, _, err := f.Store.RecordRootEvent(ctx, e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	var out struct{ Events []api.RootEvent }
	if code, raw := f.do(t, http.MethodGet, "/api/v1/events?account=333333333333", f.Viewer, nil, &out); code != 200 {
		t.Fatalf("%d %s", code, raw)
	}
	if len(out.Events) != 2 || out.Events[0].EventID != "ev-2" || out.Events[0].NewAccessKeyID != "AKIANEW" || out.Events[1].MFA != "yes" {
		t.Errorf("account's timeline: %+v", out.Events)
	}
	f.do(t, http.MethodGet, "/api/v1/events?since="+t0.Add(90*time.Second).Format(time.RFC3339), f.Viewer, nil, &out)
	if len(out.Events) != 1 || out.Events[0].EventID != "ev-3" || !out.Events[0].VigilSession {
		t.Errorf("since: %+v", out.Events)
	}
	// Pages of one walk the timeline newest first, each event once.
	var walked []string
	cursor := ""
	for range 5 {
		var p struct {
			Events     []api.RootEvent
			NextCursor string `json:"next_cursor"`
		}
		if code, raw := f.do(t, http.MethodGet, "/api/v1/events?limit=1&cursor="+cursor, f.Viewer, nil, &p); code != 200 || len(p.Events) != 1 {
			t.Fatalf("%d %s", code, raw)
		}
		walked = append(walked, p.Events[0].EventID)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if strings.Join(walked, " ") != "ev-3 ev-2 ev-1" {
		t.Errorf("pages of one: %v", walked)
	}
	for _, q := range []string{"account=12", "since=yesterday", "limit=0", "limit=1001", "cursor=%21"} {
		if code, _ := f.do(t, http.MethodGet, "/api/v1/events?"+q, f.Viewer, nil, nil); code != http.StatusBadRequest {
			t.Errorf("?%s: %d", q, code)
		}
	}
	if code, _ := f.do(t, http.MethodGet, "/api/v1/events", "", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", code)
	}
}
