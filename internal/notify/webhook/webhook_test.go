package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/notify/webhook"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/testclock"
)

var secret = []byte("whsec-test-0123456789")

func delivery() notify.Delivery {
	at := testclock.Ref()
	return notify.Delivery{ID: "dlv-7f3a", Channel: "secops", At: at, Events: []notify.Event{{
		Transition: notify.New, At: at,
		Finding: notify.Finding{
			ID: "f-1", AccountID: "444455556666", AccountName: "prod", RuleID: "root-access-key", Title: "Root user has access keys",
			Resource: "arn:aws:iam::444455556666:root", Severity: rule.Critical, Status: rule.Fail, State: "open",
			Message:  "The root user has an active access key.",
			Evidence: []rule.Evidence{{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"}},
			Link:     "https://vigil.example.com/findings/f-1",
		},
	}}}
}

func TestSignVerify(t *testing.T) {
	now := testclock.Ref()
	body := []byte(`{"schema":"vigil.alert"}`)
	good := webhook.Sign(secret, now, body)
	for _, tc := range []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, good, body, now, nil},
		{"valid within tolerance", secret, good, body, now.Add(4 * time.Minute), nil},
		{"replayed later", secret, good, body, now.Add(6 * time.Minute), webhook.ErrTimestamp},
		{"from the future", secret, good, body, now.Add(-6 * time.Minute), webhook.ErrTimestamp},
		{"wrong secret", []byte("other"), good, body, now, webhook.ErrBadSignature},
		{"tampered body", secret, good, []byte(`{"schema":"vigil.alert" }`), now, webhook.ErrBadSignature},
		{"tampered timestamp", secret, strings.Replace(good, "t=", "t=1", 1), body, now, webhook.ErrBadSignature},
		{"rotation: second v1 matches", secret, good[:strings.Index(good, ",")] + ",v1=00ff," + good[strings.Index(good, ",")+1:], body, now, nil},
		{"no header", secret, "", body, now, webhook.ErrNoSignature},
		{"no v1", secret, "t=1", body, now, webhook.ErrNoSignature},
		{"garbage", secret, "sha256=abc", body, now, webhook.ErrNoSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(tc.secret, tc.header, tc.body, tc.now, 5*time.Minute)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestSignatureKnownAnswer pins the signature to the documented
// construction, computed by another implementation:
// printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
func TestSignatureKnownAnswer(t *testing.T) {
	got := webhook.Sign([]byte("secret"), time.Unix(1700000000, 0), []byte("{}"))
	want := "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
	if got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestSend(t *testing.T) {
	clk := testclock.Manual()
	var mu sync.Mutex
	var got []webhook.Body
	var headers []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := webhook.VerifyRequest(r, secret, clk.Now(), 0)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var b webhook.Body
		if err := json.Unmarshal(body, &b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got, headers = append(got, b), append(headers, r.Header.Clone())
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	s, err := webhook.New(webhook.Config{URL: srv.URL + "/vigil", Secret: secret, Clock: clk, Client: srv.Client(), UserAgent: "vigil/test"})
	if err != nil {
		t.Fatal(err)
	}
	d := delivery()
	if err := s.Send(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("receiver got %d bodies", len(got))
	}
	want := webhook.Body{Schema: "vigil.alert", Version: 1, DeliveryID: "dlv-7f3a", Channel: "secops", CreatedAt: d.At, Summary: "1 new", Transitions: d.Events}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	h := headers[0]
	if h.Get("Vigil-Delivery") != "dlv-7f3a" || h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != "vigil/test" {
		t.Errorf("headers %v", h)
	}
	if !strings.HasPrefix(h.Get("Vigil-Signature"), "t="+testclock.Epoch()+",v1=") {
		t.Errorf("signature %q is not stamped with the injected clock (%s)", h.Get("Vigil-Signature"), testclock.Epoch())
	}

	// The same delivery retried carries the same ID; a receiver sees
	// the clock move and still accepts the fresh signature.
	clk.Advance(time.Hour)
	if err := s.Send(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if headers[1].Get("Vigil-Delivery") != headers[0].Get("Vigil-Delivery") {
		t.Error("a retry must carry the same delivery ID")
	}

	// A receiver with another secret refuses it: permanent.
	bad, _ := webhook.New(webhook.Config{URL: srv.URL, Secret: []byte("wrong"), Clock: clk})
	err = bad.Send(t.Context(), d)
	if err == nil || notify.Retryable(err) || !strings.Contains(err.Error(), "HTTP 401: signature does not match") {
		t.Errorf("wrong secret: %v", err)
	}
}

// TestBodyJSON pins the documented body: field names and encodings that
// receivers rely on (docs/webhook.md).
func TestBodyJSON(t *testing.T) {
	d := delivery()
	d.At = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	d.Events[0].At = d.At
	d.Events[0].Finding.FirstSeen = d.At
	d.Events[0].Finding.LastSeen = d.At
	b, err := webhook.Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schema":"vigil.alert","version":1,"delivery_id":"dlv-7f3a","channel":"secops","created_at":"2026-11-26T12:00:00Z","summary":"1 new","transitions":[{"transition":"new","at":"2026-11-26T12:00:00Z","finding":{"id":"f-1","account_id":"444455556666","account_name":"prod","rule_id":"root-access-key","title":"Root user has access keys","resource":"arn:aws:iam::444455556666:root","severity":"critical","status":"FAIL","state":"open","message":"The root user has an active access key.","evidence":[{"source":"iam:GetAccountSummary","key":"AccountAccessKeysPresent","value":"1"}],"first_seen":"2026-11-26T12:00:00Z","last_seen":"2026-11-26T12:00:00Z","link":"https://vigil.example.com/findings/f-1"}}]}`
	if string(b) != want {
		t.Errorf("body\n got %s\nwant %s", b, want)
	}
	empty, _ := webhook.Encode(notify.Delivery{ID: "x"})
	if !strings.Contains(string(empty), `"transitions":[]`) {
		t.Errorf("an empty delivery has an empty list, not null: %s", empty)
	}
}

func TestStatusClassification(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		retry      bool
	}{
		{200, "", false}, {202, "", false}, {400, "", false}, {403, "", false}, {404, "", false}, {413, "", false},
		{408, "", true}, {429, "30", true}, {500, "", true}, {502, "", true}, {503, "5", true},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			w.WriteHeader(tc.status)
			w.Write([]byte("nope AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
		}))
		s, _ := webhook.New(webhook.Config{URL: srv.URL + "/hook/tok3n-in-path", Secret: secret, Clock: testclock.Manual()})
		err := s.Send(t.Context(), delivery())
		srv.Close()
		if tc.status < 300 {
			if err != nil {
				t.Errorf("HTTP %d: %v", tc.status, err)
			}
			continue
		}
		if err == nil || notify.Retryable(err) != tc.retry {
			t.Errorf("HTTP %d: err %v, retryable %v, want %v", tc.status, err, notify.Retryable(err), tc.retry)
			continue
		}
		if strings.Contains(err.Error(), "tok3n-in-path") || strings.Contains(err.Error(), "wJalrXUtnFEMI") {
			t.Errorf("HTTP %d: the error leaks the URL or a secret from the answer: %v", tc.status, err)
		}
		if tc.retryAfter != "" && notify.RetryAfter(err).String() != tc.retryAfter+"s" {
			t.Errorf("HTTP %d: RetryAfter %v", tc.status, notify.RetryAfter(err))
		}
	}
}

// TestReceiverDown: a receiver that is not listening is a retryable
// failure, and the error names neither the URL's path nor its query.
func TestReceiverDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, _ := webhook.New(webhook.Config{URL: "http://" + addr + "/hooks/T0/B0/s3cretpath?sig=s3cretquery", Secret: secret, Clock: testclock.Manual()})
	err = s.Send(t.Context(), delivery())
	if err == nil || !notify.Retryable(err) {
		t.Fatalf("down receiver: %v (retryable %v)", err, notify.Retryable(err))
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the URL: %v", err)
	}
}

// TestDeadline: a receiver that never answers is given up on when the
// context's deadline passes (driven by a manual clock, not by waiting),
// and the failure is retryable.
func TestDeadline(t *testing.T) {
	clk := testclock.Manual()
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	s, _ := webhook.New(webhook.Config{URL: srv.URL, Secret: secret, Clock: clk})
	ctx, cancel := clk.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, delivery()) }()
	select {
	case <-arrived:
	case err := <-done:
		t.Fatalf("Send returned before the receiver got the request: %v", err)
	}
	clk.Advance(30 * time.Second)
	err := <-done
	if !errors.Is(err, context.DeadlineExceeded) || !notify.Retryable(err) {
		t.Errorf("Send after the deadline = %v (retryable %v), want a retryable deadline error", err, notify.Retryable(err))
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	for _, c := range []webhook.Config{
		{Secret: secret, Clock: testclock.Manual()},
		{URL: "https://h.example.com", Clock: testclock.Manual()},
		{URL: "https://h.example.com", Secret: secret},
	} {
		if _, err := webhook.New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}
