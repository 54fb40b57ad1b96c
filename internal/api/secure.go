package api

import "net/http"

// Secure sets the security headers on every response: a CSP that allows
// only the service's own styles and images and no script at all (the
// dashboard needs none), no framing, no MIME sniffing, no referrer to
// other sites (no-referrer would make browsers send "Origin: null" on
// the dashboard's own forms, which it refuses), and no caching.
func Secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
