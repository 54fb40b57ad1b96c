package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/testclock"
)

// writePair writes a self-signed certificate for cn and its key as PEM
// files in dir, and returns their paths.
func writePair(t *testing.T, dir, cn string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := testclock.Ref()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, keyFile := filepath.Join(dir, cn+".crt"), filepath.Join(dir, cn+".key")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, keyFile
}

// Every way a pair can be wrong is told with the file at fault.
func TestLoadCertificateNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	cert, key := writePair(t, dir, "a.example")
	otherCert, otherKey := writePair(t, dir, "b.example")
	if _, err := LoadCertificate(cert, key); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not PEM at all"), 0o600)
	for _, c := range []struct {
		name, cert, key string
		want            []string
	}{
		{"missing cert", filepath.Join(dir, "nope.crt"), key, []string{"TLS certificate", "nope.crt", "no such file"}},
		{"missing key", cert, filepath.Join(dir, "nope.key"), []string{"TLS key", "nope.key"}},
		{"garbage cert", garbage, key, []string{"TLS certificate " + garbage, "no PEM CERTIFICATE"}},
		{"garbage key", cert, garbage, []string{"TLS key " + garbage, "no PEM private key"}},
		{"swapped", key, cert, []string{"TLS certificate " + key}},
		{"mismatched", cert, otherKey, []string{cert, otherKey, "match"}},
	} {
		_, err := LoadCertificate(c.cert, c.key)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
	}
	_ = otherCert
}

// A renewed pair is served from the next handshake on; a broken one is
// logged, naming the file, and the last good certificate stays.
func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	cert, key := writePair(t, dir, "a.example")
	var log bytes.Buffer
	cf, err := newCertFiles(cert, key, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cn := func() string {
		t.Helper()
		c, err := cf.get(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf.Subject.CommonName
	}
	if got := cn(); got != "a.example" {
		t.Fatalf("serving %s", got)
	}
	// Renewal: new files moved over the old ones.
	newCert, newKey := writePair(t, dir, "b.example")
	os.Rename(newCert, cert)
	os.Rename(newKey, key)
	if got := cn(); got != "b.example" {
		t.Fatalf("after renewal serving %s", got)
	}
	// A broken certificate file: the old pair is kept and the log names
	// the file.
	if err := os.WriteFile(cert, []byte("-----BEGIN GARBAGE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := cn(); got != "b.example" {
		t.Fatalf("after a broken renewal serving %s", got)
	}
	if !strings.Contains(log.String(), "not reloaded") || !strings.Contains(log.String(), cert) {
		t.Errorf("log: %s", log.String())
	}
	// Logged once, however many handshakes see it.
	cn()
	if n := strings.Count(log.String(), "not reloaded"); n != 1 {
		t.Errorf("logged %d times", n)
	}
}
