package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/slowtest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

const (
	smtpUser     = "vigil@example.com"
	smtpPassword = "smtp-S3cret-qwertyuiop-4242"
)

// mailbox is a real SMTP server (go-smtp) offering STARTTLS and PLAIN
// authentication, recording every message it accepts.
type mailbox struct {
	mu   sync.Mutex
	msgs []mailed
}

type mailed struct {
	from string
	to   []string
	data string
	tls  bool
	user string
}

type mailSession struct {
	box  *mailbox
	conn *smtp.Conn
	cur  mailed
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, pw string) error {
		if username != smtpUser || pw != smtpPassword {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.cur.user = username
		return nil
	}), nil
}
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error { s.cur.from = from; return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.cur.data = string(b)
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, s.cur)
	s.box.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        { s.cur = mailed{user: s.cur.user} }
func (s *mailSession) Logout() error { return nil }

func (b *mailbox) messages() []mailed {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]mailed(nil), b.msgs...)
}

// startMailbox starts the SMTP server with a certificate made for the
// test, and writes that certificate where SSL_CERT_FILE can name it, so
// that the binary verifies the server as it would a real one.
func startMailbox(t *testing.T) (*mailbox, int, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now() // TLS verification runs on the real clock
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vigil test SMTP"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	box := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{box: box, conn: c}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return box, ln.Addr().(*net.TCPAddr).Port, ca
}

// TestServeEmail: vigil serve, run from a config file on the built binary,
// emails the new finding of a member's root key to a real SMTP server:
// over STARTTLS, authenticated with the password from the environment,
// one message with a text and an HTML part naming the account, the rule
// and the evidence. The password appears nowhere but in the AUTH
// exchange: not in the message, the log, the database or the config.
func TestServeEmail(t *testing.T) {
	slowtest.Skip(t, "email alerts end to end")
	srv := awsemutest.Start(t, awsemu.DemoWorld(testclock.Ref()))
	box, port, ca := startMailbox(t)
	dir := t.TempDir()
	db, cfg := filepath.Join(dir, "vigil.db"), filepath.Join(dir, "vigil.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 1
database: %s
listen: 127.0.0.1:0
schedules:
  - name: org
    every: 1h
    scan: {org: true}
alerts:
  - name: mail
    type: email
    host: 127.0.0.1
    port: %d
    username: %s
    password_env: VIGIL_SMTP_PASSWORD
    from: vigil@example.com
    to: [secops@example.com, oncall@example.com]
    on: [new]
    min_severity: high
`, db, port, smtpUser)), 0o600)
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.DemoManagementAdminKey, "AWS_SECRET_ACCESS_KEY": "x",
		"AWS_REGION": "us-east-1", "VIGIL_SMTP_PASSWORD": smtpPassword, "SSL_CERT_FILE": ca}
	s := startServe(t, env, "--config", cfg)
	const member = "333333333333"
	var got mailed
	waitFor(t, "the email naming the member's root key", s, func() bool {
		for _, m := range box.messages() {
			if strings.Contains(m.data, member) {
				got = m
				return true
			}
		}
		return false
	})
	waitFor(t, "the tick", s, func() bool { _, complete := recordedScans(t, db); return complete > 0 })
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done

	if !got.tls || got.user != smtpUser || got.from != "vigil@example.com" || strings.Join(got.to, ",") != "secops@example.com,oncall@example.com" {
		t.Errorf("envelope: tls %v, user %q, from %q, to %v", got.tls, got.user, got.from, got.to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(got.data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if !strings.Contains(subject, "new") || !strings.HasPrefix(subject, "Vigil") {
		t.Errorf("subject %q", subject)
	}
	if !strings.HasPrefix(msg.Header.Get("Message-ID"), "<") || !strings.HasSuffix(msg.Header.Get("Message-ID"), "@vigil>") {
		t.Errorf("Message-ID %q: want the delivery ID, so a resent delivery is the same message", msg.Header.Get("Message-ID"))
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[ct] = string(b)
	}
	for _, ct := range []string{"text/plain", "text/html"} {
		body := parts[ct]
		for _, want := range []string{member, "root-access-key", "AccountAccessKeysPresent"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s part does not name %s:\n%s", ct, want, body)
			}
		}
	}

	// The password reached the server in AUTH only.
	for what, text := range map[string]string{"the message": got.data, "the log": s.stderr.String(), "the config": readFile(t, cfg)} {
		if strings.Contains(text, smtpPassword) {
			t.Errorf("the SMTP password is in %s", what)
		}
	}
	for _, f := range []string{db, db + "-wal"} {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), smtpPassword) {
			t.Errorf("the SMTP password is in %s", f)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
