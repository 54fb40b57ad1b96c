// Package email is the email channel of Vigil's alerts: one message per
// delivery, text and HTML (multipart/alternative), submitted over SMTP
// with STARTTLS (net/smtp: the standard library speaks enough SMTP for a
// submission, and one dependency fewer is one less to trust with a
// password).
//
// STARTTLS is required unless the config says otherwise, and the password
// is only ever sent over TLS (net/smtp's PLAIN auth refuses otherwise,
// except to localhost). SMTP's own reply codes decide retries: 4xx replies
// are transient by definition (RFC 5321 §4.2.1), 5xx permanent.
package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/notify"
)

// Config configures an email Sender.
type Config struct {
	// Host and Port of the submission server (587 when zero).
	Host string
	Port int
	// Username and Password authenticate with PLAIN over TLS; no
	// authentication when Username is empty.
	Username string
	Password string
	From     string
	To       []string
	// NoStartTLS sends in clear text: only for a relay on localhost.
	// Without it a server that does not offer STARTTLS is refused.
	NoStartTLS bool
	// ImplicitTLS speaks TLS from the first byte (SMTPS, port 465, which
	// RFC 8314 prefers) instead of upgrading with STARTTLS.
	ImplicitTLS bool
	// TLSConfig verifies the server; nil means the system's roots and
	// Host as the server name.
	TLSConfig *tls.Config
	// HelloName is the name given in EHLO ("localhost" when empty).
	HelloName string
	// Clock dates the message.
	Clock clock.Clock
}

// Sender sends deliveries by email.
type Sender struct{ c Config }

// New returns a Sender.
func New(c Config) (*Sender, error) {
	switch {
	case c.Host == "" || c.From == "" || len(c.To) == 0 || c.Clock == nil:
		return nil, errors.New("email: host, from, to and clock are required")
	case c.Username != "" && c.Password == "":
		return nil, errors.New("email: a username needs a password")
	case c.NoStartTLS && c.Username != "":
		return nil, errors.New("email: refusing to send a password without STARTTLS")
	case c.NoStartTLS && c.ImplicitTLS:
		return nil, errors.New("email: implicit TLS and no STARTTLS contradict each other")
	}
	for _, a := range append([]string{c.From}, c.To...) {
		if strings.ContainsAny(a, "\r\n<>,") {
			return nil, fmt.Errorf("email: %q is not a plain address", a)
		}
	}
	if c.Port == 0 {
		c.Port = 587
	}
	if c.HelloName == "" {
		c.HelloName = "localhost"
	}
	return &Sender{c: c}, nil
}

// Send submits d as one message to every recipient.
func (s *Sender) Send(ctx context.Context, d notify.Delivery) error {
	msg, err := Build(d, s.c.From, s.c.To, s.c.Clock.Now())
	if err != nil {
		return notify.Permanent("email", err)
	}
	if err := s.submit(ctx, msg); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return notify.Temporary("email", fmt.Errorf("%v: %w", err, ctxErr))
		}
		return classify(err)
	}
	return nil
}

func (s *Sender) submit(ctx context.Context, msg []byte) error {
	addr := net.JoinHostPort(s.c.Host, strconv.Itoa(s.c.Port))
	var conn net.Conn
	var err error
	if s.c.ImplicitTLS {
		d := tls.Dialer{Config: s.tlsConfig()}
		conn, err = d.DialContext(ctx, "tcp", addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return err
	}
	// net/smtp knows no context: closing the connection when ctx ends
	// unblocks whatever exchange is under way.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, s.c.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.c.HelloName); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	switch ok, _ := c.Extension("STARTTLS"); {
	case s.c.ImplicitTLS, s.c.NoStartTLS:
	case ok:
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	default:
		return errNoStartTLS
	}
	if s.c.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.c.Username, s.c.Password, s.c.Host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(s.c.From); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, to := range s.c.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	return c.Quit()
}

func (s *Sender) tlsConfig() *tls.Config {
	cfg := s.c.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = s.c.Host
	}
	return cfg
}

var errNoStartTLS = errors.New("the server does not offer STARTTLS (set starttls: none only for a relay on localhost)")

// classify: SMTP 4xx replies and network failures are transient; 5xx
// replies, a server without STARTTLS, a certificate that does not verify
// and a refused authentication are not.
func classify(err error) error {
	var tp *textproto.Error
	var cert *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	switch {
	case errors.As(err, &tp):
		if tp.Code >= 400 && tp.Code < 500 {
			return notify.Temporary("email", err)
		}
		return notify.Permanent("email", err)
	case errors.Is(err, errNoStartTLS), errors.As(err, &cert), errors.As(err, &unknown), errors.As(err, &host):
		return notify.Permanent("email", err)
	case strings.HasPrefix(err.Error(), "AUTH: "):
		// net/smtp's own refusals (unencrypted connection, wrong host).
		return notify.Permanent("email", err)
	}
	return notify.Temporary("email", err)
}

// Build is the RFC 5322 message of d: headers, then a text and an HTML
// part. The boundary and Message-ID derive from the delivery ID, so the
// same delivery gives the same bytes, and a retry the same Message-ID.
func Build(d notify.Delivery, from string, to []string, now time.Time) ([]byte, error) {
	id := safeID(d.ID)
	sum := sha256.Sum256([]byte(d.ID))
	boundary := fmt.Sprintf("vigil-%x", sum[:12])
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", notify.Subject(d)))
	h("Date", now.UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+id+"@vigil>")
	h("X-Vigil-Delivery", id)
	h("Auto-Submitted", "auto-generated")
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")

	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	html, err := HTML(d)
	if err != nil {
		return nil, err
	}
	for _, part := range []struct{ typ, body string }{{"text/plain", notify.Text(d)}, {"text/html", html}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n"))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// safeID keeps the characters a Message-ID may hold.
func safeID(s string) string {
	out := strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_", r)) {
			return r
		}
		return '_'
	}, s)
	if out == "" {
		return "delivery"
	}
	return out
}

var page = template.Must(template.New("alert").Funcs(template.FuncMap{
	"account":  notify.AccountLabel,
	"evidence": notify.EvidenceLine,
	"compact":  notify.CompactLine,
	"safeLink": func(s string) string {
		if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
			return s
		}
		return ""
	},
}).Parse(`<!DOCTYPE html>
<html><body style="font-family:sans-serif">
<h2>Vigil: {{.Counts}}</h2>
{{range .Detailed}}<table style="border-left:4px solid {{if eq .Transition "resolved" "fixed"}}#2e7d32{{else}}#c62828{{end}};margin:0 0 12px;padding-left:8px">
<tr><td><b>{{.Transition.Label}}</b> &middot; {{.Finding.Severity}} &middot; <code>{{.Finding.RuleID}}</code> &middot; {{account .Finding}}</td></tr>
{{if .Finding.Title}}<tr><td><i>{{.Finding.Title}}</i></td></tr>{{end}}
{{if .Finding.Resource}}<tr><td><code>{{.Finding.Resource}}</code></td></tr>{{end}}
{{if .Detail}}<tr><td>{{.Detail}}</td></tr>{{end}}
{{if .Finding.Message}}<tr><td>{{.Finding.Message}}</td></tr>{{end}}
{{range .Finding.Evidence}}<tr><td style="color:#555">evidence: {{evidence .}}</td></tr>{{end}}
{{with safeLink .Finding.Link}}<tr><td><a href="{{.}}">Open the finding</a></td></tr>{{end}}
</table>
{{end}}{{with .Rest}}<p>And {{len .}} more:</p>
<ul>{{range .}}<li>{{compact .}}</li>{{end}}</ul>
{{end}}<p style="color:#777;font-size:small">Delivery {{.ID}} &middot; channel {{.Channel}}</p>
</body></html>
`))

// HTML is d as an HTML page; outside text is escaped by html/template.
func HTML(d notify.Delivery) (string, error) {
	events := notify.Ordered(d.Events)
	var b strings.Builder
	detailed, rest := events, []notify.Event(nil)
	if len(events) > notify.TextDetailed {
		detailed, rest = events[:notify.TextDetailed], events[notify.TextDetailed:]
	}
	err := page.Execute(&b, struct {
		Counts         string
		Detailed, Rest []notify.Event
		ID, Channel    string
	}{notify.Counts(events), detailed, rest, d.ID, d.Channel})
	return b.String(), err
}
