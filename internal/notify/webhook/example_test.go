package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/notify/webhook"
)

// A receiver checks the signature before it trusts the body.
func ExampleVerifyRequest() {
	secret := []byte("from VIGIL_WEBHOOK_SECRET")
	now := time.Unix(1795694400, 0) // the receiver's clock
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := webhook.VerifyRequest(r, secret, now, webhook.DefaultTolerance)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "delivery %s: %d bytes", r.Header.Get(webhook.DeliveryHeader), len(body))
	})

	body := `{"schema":"vigil.alert","version":1,"delivery_id":"dlv_1","transitions":[]}`
	for _, signedAt := range []time.Time{now.Add(-time.Minute), now.Add(-time.Hour)} {
		req := httptest.NewRequest(http.MethodPost, "/vigil", strings.NewReader(body))
		req.Header.Set(webhook.DeliveryHeader, "dlv_1")
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, signedAt, []byte(body)))
		rec := httptest.NewRecorder()
		receiver.ServeHTTP(rec, req)
		answer, _ := io.ReadAll(rec.Body)
		fmt.Println(rec.Code, strings.TrimSpace(string(answer)))
	}
	// Output:
	// 200 delivery dlv_1: 75 bytes
	// 401 signature timestamp outside the tolerance: signed at 2026-11-26T11:00:00Z, 1h0m0s from now
}
