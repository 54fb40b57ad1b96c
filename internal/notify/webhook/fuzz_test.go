package webhook_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/notify/webhook"
)

// FuzzVerify: Verify reads a header from the network. No header panics
// it, and none is accepted unless it carries the HMAC of the body at its
// timestamp: a forgery has to know the secret.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1795694400, 0)
	body := []byte(`{"schema":"vigil.alert"}`)
	f.Add(webhook.Sign(secret, now, body), body)
	f.Add("t=1795694400,v1=00,v1=", body)
	f.Add("t=-1,v1=zz", []byte{})
	f.Add(",,=,t==,v1", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := webhook.Verify(secret, header, body, now, time.Minute)
		if err != nil {
			return
		}
		// Accepted: one of its v1 values is the signature of this body at
		// its timestamp (the last t, as Verify reads it).
		var ts string
		for _, part := range strings.Split(header, ",") {
			if k, v, _ := strings.Cut(strings.TrimSpace(part), "="); k == "t" {
				ts = v
			}
		}
		want := webhook.Sign(secret, parseUnix(t, ts), body)
		if !strings.Contains(header, want[strings.Index(want, "v1="):]) {
			t.Fatalf("accepted %q for body %q without its signature", header, body)
		}
	})
}

func parseUnix(t *testing.T, s string) time.Time {
	var sec int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("accepted a non-numeric timestamp %q", s)
		}
		sec = sec*10 + int64(c-'0')
	}
	return time.Unix(sec, 0)
}
