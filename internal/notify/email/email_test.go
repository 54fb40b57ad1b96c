package email_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/notify/email"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/testclock"
)

const (
	user     = "vigil@example.com"
	password = "smtp-Pa55w0rd-zyxwvut"
)

// certificate is a self-signed certificate for 127.0.0.1, made for the
// test (its validity around the real clock: TLS verification uses it).
func certificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vigil test SMTP"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

type received struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

// server is a real SMTP server (go-smtp) that records what it accepts.
type server struct {
	mu       sync.Mutex
	messages []received
	rcptCode int           // when set, RCPT answers with this code
	hold     chan struct{} // when set, DATA waits on it
	dataSeen chan struct{}
}

type session struct {
	s    *server
	conn *smtp.Conn
	cur  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, pw string) error {
		if username != user || pw != password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.cur.user = username
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.cur.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.s.rcptCode != 0 {
		return &smtp.SMTPError{Code: s.s.rcptCode, Message: "recipient refused for the test"}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.s.hold != nil {
		close(s.s.dataSeen)
		<-s.s.hold
	}
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.cur.data = data
	s.s.mu.Lock()
	s.s.messages = append(s.s.messages, s.cur)
	s.s.mu.Unlock()
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func startServer(t *testing.T, cert *tls.Certificate) (*server, int) {
	return startServerMode(t, cert, false)
}

// startServerMode starts the server; implicit speaks TLS from the first
// byte (SMTPS).
func startServerMode(t *testing.T, cert *tls.Certificate, implicit bool) (*server, int) {
	t.Helper()
	rec := &server{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: rec, conn: c}, nil }))
	srv.Domain = "localhost"
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if implicit {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rec, port
}

func delivery() notify.Delivery {
	at := testclock.Ref()
	return notify.Delivery{ID: "dlv-42", Channel: "mail", At: at, Events: []notify.Event{
		{Transition: notify.New, At: at, Finding: notify.Finding{
			ID: "f-1", AccountID: "444455556666", AccountName: "prod <ops> & co", RuleID: "root-access-key",
			Resource: "arn:aws:iam::444455556666:root", Severity: rule.Critical, Status: rule.Fail,
			Message:  "The root user has an active access key.",
			Evidence: []rule.Evidence{{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"}},
			Link:     "https://vigil.example.com/findings/f-1",
		}},
		{Transition: notify.Resolved, At: at, Finding: notify.Finding{ID: "f-2", AccountID: "111122223333", RuleID: "root-mfa", Severity: rule.High, Status: rule.Pass}},
	}}
}

// TestEndToEnd: the message reaches a real SMTP server over STARTTLS,
// authenticated, with a text and an HTML part naming the findings.
func TestEndToEnd(t *testing.T) {
	cert, pool := certificate(t)
	rec, port := startServer(t, &cert)
	s, err := email.New(email.Config{
		Host: "127.0.0.1", Port: port, Username: user, Password: password,
		From: "vigil@example.com", To: []string{"secops@example.com", "oncall@example.com"},
		TLSConfig: &tls.Config{RootCAs: pool}, Clock: testclock.Manual(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), delivery()); err != nil {
		t.Fatal(err)
	}
	if len(rec.messages) != 1 {
		t.Fatalf("server got %d messages", len(rec.messages))
	}
	got := rec.messages[0]
	if !got.tls || got.user != user || got.from != "vigil@example.com" || strings.Join(got.to, ",") != "secops@example.com,oncall@example.com" {
		t.Errorf("envelope: tls %v, user %q, from %q, to %v", got.tls, got.user, got.from, got.to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(got.data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Vigil: 2 changes (1 new, 1 resolved)" || msg.Header.Get("Message-ID") != "<dlv-42@vigil>" {
		t.Errorf("headers: subject %q, Message-ID %q", subject, msg.Header.Get("Message-ID"))
	}
	if date, err := msg.Header.Date(); err != nil || !date.Equal(testclock.Ref()) {
		t.Errorf("Date %v (%v), want the injected clock's %v", date, err, testclock.Ref())
	}
	mediaType, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q", mediaType)
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
		body, _ := io.ReadAll(p) // multipart decodes quoted-printable
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[ct] = string(body)
	}
	for _, want := range []string{"NEW  critical  root-access-key  prod <ops> & co (444455556666)", "evidence: iam:GetAccountSummary AccountAccessKeysPresent=1", "link: https://vigil.example.com/findings/f-1", "RESOLVED  high  root-mfa  111122223333"} {
		if !strings.Contains(parts["text/plain"], want) {
			t.Errorf("text part lacks %q:\n%s", want, parts["text/plain"])
		}
	}
	for _, want := range []string{"<b>NEW</b>", "<b>RESOLVED</b>", "prod &lt;ops&gt; &amp; co (444455556666)", `<a href="https://vigil.example.com/findings/f-1">`, "<code>root-access-key</code>", "evidence: iam:GetAccountSummary AccountAccessKeysPresent=1"} {
		if !strings.Contains(parts["text/html"], want) {
			t.Errorf("HTML part lacks %q:\n%s", want, parts["text/html"])
		}
	}
	if strings.Contains(string(got.data), password) {
		t.Error("the message holds the password")
	}
}

func TestBuildDeterministic(t *testing.T) {
	a, err := email.Build(delivery(), "a@b.c", []string{"d@e.f"}, testclock.Ref())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := email.Build(delivery(), "a@b.c", []string{"d@e.f"}, testclock.Ref())
	if string(a) != string(b) {
		t.Error("the same delivery gives different bytes")
	}
	d := delivery()
	d.ID = "x\r\nBcc: evil@example.com"
	d.Events[0].Finding.AccountName = "a\r\nBcc: evil@example.com"
	m, _ := email.Build(d, "a@b.c", []string{"d@e.f"}, testclock.Ref())
	head := string(m[:strings.Index(string(m), "\r\n\r\n")])
	if strings.Contains(head, "\nBcc") {
		t.Errorf("header injection:\n%s", head)
	}
}

func TestFailures(t *testing.T) {
	cert, pool := certificate(t)
	otherCert, _ := certificate(t)
	for _, tc := range []struct {
		name      string
		cert      *tls.Certificate
		rcptCode  int
		password  string
		noTLS     bool
		retryable bool
		want      string
	}{
		{name: "no STARTTLS offered", cert: nil, want: "does not offer STARTTLS"},
		{name: "untrusted certificate", cert: &otherCert, want: "STARTTLS"},
		{name: "wrong password", cert: &cert, password: "wrong", want: "535"},
		{name: "mailbox full (4xx)", cert: &cert, rcptCode: 452, retryable: true, want: "452"},
		{name: "no such user (5xx)", cert: &cert, rcptCode: 550, want: "550"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, port := startServer(t, tc.cert)
			rec.rcptCode = tc.rcptCode
			pw := password
			if tc.password != "" {
				pw = tc.password
			}
			s, err := email.New(email.Config{Host: "127.0.0.1", Port: port, Username: user, Password: pw, From: "a@b.c", To: []string{"d@e.f"},
				TLSConfig: &tls.Config{RootCAs: pool}, Clock: testclock.Manual()})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), delivery())
			if err == nil || notify.Retryable(err) != tc.retryable || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v (retryable %v), want %q, retryable %v", err, notify.Retryable(err), tc.want, tc.retryable)
			}
			if err != nil && strings.Contains(err.Error(), pw) {
				t.Errorf("the error holds the password: %v", err)
			}
		})
	}
}

func TestServerDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s, _ := email.New(email.Config{Host: "127.0.0.1", Port: port, From: "a@b.c", To: []string{"d@e.f"}, Clock: testclock.Manual()})
	if err := s.Send(t.Context(), delivery()); err == nil || !notify.Retryable(err) {
		t.Errorf("server down: %v, want a retryable error", err)
	}
}

// TestDeadline: a server that stalls in DATA is given up on at the
// context's deadline (a manual clock), retryably.
func TestDeadline(t *testing.T) {
	cert, pool := certificate(t)
	rec, port := startServer(t, &cert)
	rec.hold, rec.dataSeen = make(chan struct{}), make(chan struct{})
	defer close(rec.hold)
	clk := testclock.Manual()
	s, _ := email.New(email.Config{Host: "127.0.0.1", Port: port, From: "a@b.c", To: []string{"d@e.f"}, TLSConfig: &tls.Config{RootCAs: pool}, Clock: clk})
	ctx, cancel := clk.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, delivery()) }()
	select {
	case <-rec.dataSeen:
	case err := <-done:
		t.Fatalf("Send returned early: %v", err)
	}
	clk.Advance(time.Minute)
	err := <-done
	if !errors.Is(err, context.DeadlineExceeded) || !notify.Retryable(err) {
		t.Errorf("Send = %v, want a retryable deadline error", err)
	}
}

func TestNewRefuses(t *testing.T) {
	clk := testclock.Manual()
	for _, c := range []email.Config{
		{From: "a@b.c", To: []string{"d@e.f"}, Clock: clk},
		{Host: "h", To: []string{"d@e.f"}, Clock: clk},
		{Host: "h", From: "a@b.c", Clock: clk},
		{Host: "h", From: "a@b.c", To: []string{"d@e.f"}, Username: "u", Clock: clk},
		{Host: "h", From: "a@b.c", To: []string{"d@e.f"}, Username: "u", Password: "p", NoStartTLS: true, Clock: clk},
		{Host: "h", From: "a@b.c", To: []string{"d@e.f\r\nBcc: x@y.z"}, Clock: clk},
	} {
		if _, err := email.New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

// TestImplicitTLS: SMTPS (port 465 style) speaks TLS from the first byte.
func TestImplicitTLS(t *testing.T) {
	cert, pool := certificate(t)
	rec, port := startServerMode(t, &cert, true)
	s, err := email.New(email.Config{Host: "127.0.0.1", Port: port, Username: user, Password: password, From: "a@b.c", To: []string{"d@e.f"},
		ImplicitTLS: true, TLSConfig: &tls.Config{RootCAs: pool}, Clock: testclock.Manual()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), delivery()); err != nil {
		t.Fatal(err)
	}
	if len(rec.messages) != 1 || !rec.messages[0].tls || rec.messages[0].user != user {
		t.Errorf("received %+v", rec.messages)
	}
}

func TestHTMLDigest(t *testing.T) {
	d := notify.Delivery{ID: "d", Channel: "mail"}
	n := notify.TextDetailed + 50
	for i := range n {
		acct := fmt.Sprintf("%012d", i)
		d.Events = append(d.Events, notify.Event{Transition: notify.New, Finding: notify.Finding{AccountID: acct, RuleID: "root-access-key", Severity: rule.Critical}})
	}
	html, err := email.HTML(d)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !strings.Contains(html, fmt.Sprintf("%012d", i)) {
			t.Fatalf("account %d is not listed", i)
		}
	}
	if !strings.Contains(html, "<p>And 50 more:</p>") || strings.Count(html, "<li>") != 50 {
		t.Errorf("the compact list is missing or wrong")
	}
}

// BenchmarkBuild5000: the email of 5,000 transitions, text and HTML.
func BenchmarkBuild5000(b *testing.B) {
	d := notify.Delivery{ID: "d", Channel: "mail"}
	for i := range 5000 {
		d.Events = append(d.Events, notify.Event{Transition: notify.New, Finding: notify.Finding{AccountID: fmt.Sprintf("%012d", i), RuleID: "root-access-key", Resource: "arn:aws:iam::000000000000:root", Severity: rule.Critical, Message: "The root user has an active access key."}})
	}
	for b.Loop() {
		if _, err := email.Build(d, "a@b.c", []string{"d@e.f"}, time.Unix(0, 0)); err != nil {
			b.Fatal(err)
		}
	}
}
