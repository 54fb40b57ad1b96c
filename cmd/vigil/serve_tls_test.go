package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/slowtest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and
// returns their paths and a pool trusting the certificate.
func selfSigned(t *testing.T) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := testclock.Ref()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "vigil test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	cert, keyFile := filepath.Join(dir, "vigil.crt"), filepath.Join(dir, "vigil.key")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	parsed, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	return cert, keyFile, pool
}

// With --tls-cert and --tls-key, vigil serve listens on every interface
// over HTTPS and the session cookie is Secure; without them such an
// address is refused, in the words the config file's warning uses; a
// bad file is named.
func TestServeTLS(t *testing.T) {
	slowtest.Skip(t, "the service over TLS")
	db := filepath.Join(t.TempDir(), "vigil.db")
	r := vigil(t, nil, "serve", "--demo", "--db", db, "--listen", "0.0.0.0:0").want(t, 2)
	if !strings.Contains(r.stderr, "0.0.0.0:0 is not a loopback address") || !strings.Contains(r.stderr, "--tls-cert and --tls-key") {
		t.Errorf("refusal: %s", r.stderr)
	}
	cert, key, pool := selfSigned(t)
	vigil(t, nil, "serve", "--demo", "--db", db, "--listen", "0.0.0.0:0", "--tls-cert", cert).want(t, 2)
	r = vigil(t, nil, "serve", "--demo", "--db", db, "--listen", "0.0.0.0:0", "--tls-cert", key, "--tls-key", key).want(t, 1)
	if !strings.Contains(r.stderr, "TLS certificate "+key) {
		t.Errorf("a key given as the certificate: %s", r.stderr)
	}

	tok := newToken(t, db, "ops", "viewer")
	s := startServe(t, nil, "--demo", "--db", db, "--listen", "0.0.0.0:0", "--tls-cert", cert, "--tls-key", key)
	_, port, _ := net.SplitHostPort(s.addr)
	base := "https://127.0.0.1:" + port
	// The certificate is valid at the tests' reference time.
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Time: testclock.Ref}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	waitFor(t, "readyz over TLS", s, func() bool {
		resp, err := client.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	// Go's TLS server answers plain HTTP with a 400, never a page.
	if resp, err := http.Get("http://127.0.0.1:" + port + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP is served beside TLS")
		}
	}
	resp, err := client.PostForm(base+"/signin", url.Values{"token": {tok}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var secure bool
	for _, c := range resp.Cookies() {
		secure = secure || (c.Name == "vigil_session" && c.Secure && c.HttpOnly)
	}
	if resp.StatusCode != 303 || !secure {
		t.Errorf("sign-in over TLS: %d, cookies %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
}
