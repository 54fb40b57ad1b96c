package server

import (
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
)

// LoadCertificate reads a PEM certificate chain and its private key.
// Its errors name the file at fault, so that an operator who swapped the
// two, or pointed at a DER file, knows which to fix.
func LoadCertificate(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s: %w", certFile, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS key %s: %w", keyFile, err)
	}
	if !hasBlock(certPEM, func(t string) bool { return t == "CERTIFICATE" }) {
		return nil, fmt.Errorf("TLS certificate %s: no PEM CERTIFICATE block in it (a PEM certificate chain is expected, leaf first)", certFile)
	}
	if !hasBlock(keyPEM, func(t string) bool { return t == "PRIVATE KEY" || t == "RSA PRIVATE KEY" || t == "EC PRIVATE KEY" }) {
		return nil, fmt.Errorf("TLS key %s: no PEM private key block in it (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", keyFile)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &c, nil
}

func hasBlock(data []byte, want func(string) bool) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if want(b.Type) {
			return true
		}
	}
}

// certFiles serves the certificate of a pair of files and reloads it
// when either file changes (a renewal by certbot or cert-manager), with
// no restart. A renewal that leaves a broken pair is logged, naming the
// file, and the last good certificate stays in use.
type certFiles struct {
	cert, key string
	log       *slog.Logger

	mu      sync.Mutex
	cur     *tls.Certificate
	stamp   [2]fileStamp
	lastErr string
}

// fileStamp is what a stat says of a file. The file's identity counts
// as well as its time and size: a renewal moved over the old file within
// the file system's time granularity, with a key and certificate of the
// same length, changes only which file the name is.
type fileStamp struct{ fi os.FileInfo }

func stampOf(name string) fileStamp {
	fi, err := os.Stat(name)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{fi}
}

func (a fileStamp) same(b fileStamp) bool {
	if a.fi == nil || b.fi == nil {
		return a.fi == nil && b.fi == nil
	}
	return os.SameFile(a.fi, b.fi) && a.fi.ModTime().Equal(b.fi.ModTime()) && a.fi.Size() == b.fi.Size()
}

func newCertFiles(cert, key string, log *slog.Logger) (*certFiles, error) {
	c := &certFiles{cert: cert, key: key, log: log}
	c.stamp = [2]fileStamp{stampOf(cert), stampOf(key)}
	cur, err := LoadCertificate(cert, key)
	if err != nil {
		return nil, err
	}
	c.cur = cur
	return c, nil
}

// get is tls.Config.GetCertificate: two stats per handshake, and a
// reload when they moved.
func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := [2]fileStamp{stampOf(c.cert), stampOf(c.key)}
	if now[0].same(c.stamp[0]) && now[1].same(c.stamp[1]) {
		return c.cur, nil
	}
	cur, err := LoadCertificate(c.cert, c.key)
	if err != nil {
		// A renewal writes two files, not atomically together: the pair
		// may mismatch for a moment. Keep the old one and try again on
		// the next handshake; log each new problem once.
		if err.Error() != c.lastErr {
			c.log.Error("TLS certificate not reloaded; still serving the previous one", "error", err)
			c.lastErr = err.Error()
		}
		return c.cur, nil
	}
	c.cur, c.stamp, c.lastErr = cur, now, ""
	c.log.Info("TLS certificate reloaded", "cert", c.cert, "not_after", cur.Leaf.NotAfter)
	return c.cur, nil
}

// tlsConfig is the listener's TLS: 1.2 at least, Go's default suites.
func (c *certFiles) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.get}
}

// listen opens the listen address, under TLS when a certificate is
// configured.
func (s *Server) listen() (net.Listener, error) {
	var cf *certFiles
	if s.cfg.TLSCert != "" || s.cfg.TLSKey != "" {
		if s.cfg.TLSCert == "" || s.cfg.TLSKey == "" {
			return nil, errors.New("TLS needs both a certificate and its key")
		}
		var err error
		if cf, err = newCertFiles(s.cfg.TLSCert, s.cfg.TLSKey, s.cfg.Logger); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	if cf != nil {
		ln = tls.NewListener(ln, cf.tlsConfig())
	}
	return ln, nil
}
