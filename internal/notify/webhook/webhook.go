// Package webhook is the generic webhook channel of Vigil's alerts: a
// versioned JSON body (Body) POSTed to a URL, signed with HMAC-SHA256 so
// that any receiver can check it came from Vigil and was not replayed.
//
// The signature header is
//
//	Vigil-Signature: t=UNIX_SECONDS,v1=HEX
//
// where HEX is the lowercase hex HMAC-SHA256, keyed with the channel's
// secret, of the timestamp, a dot and the raw body (t + "." + body).
// Vigil-Delivery carries the delivery ID, the same on every retry of one
// delivery, for the receiver to drop duplicates. Verify (or VerifyRequest)
// is the receiver's side; docs/webhook.md documents the body and shows
// verification in a few languages.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/redact"
)

// Schema and Version name the body's format; Version changes only when a
// field changes meaning or goes away (new fields may appear in any
// version, and receivers ignore what they do not know).
const (
	Schema  = "vigil.alert"
	Version = 1
)

// Header names.
const (
	SignatureHeader = "Vigil-Signature"
	DeliveryHeader  = "Vigil-Delivery"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock before Verify refuses it as a possible replay.
const DefaultTolerance = 5 * time.Minute

// Body is the JSON a webhook receives.
type Body struct {
	Schema     string `json:"schema"`
	Version    int    `json:"version"`
	DeliveryID string `json:"delivery_id"`
	// Channel is the alert channel's name in the config.
	Channel   string    `json:"channel"`
	CreatedAt time.Time `json:"created_at"`
	// Summary counts the transitions: "3 new, 1 resolved".
	Summary     string         `json:"summary"`
	Transitions []notify.Event `json:"transitions"`
}

// NewBody is the body of d, events in notify.Ordered order.
func NewBody(d notify.Delivery) Body {
	events := notify.Ordered(d.Events)
	if events == nil {
		events = []notify.Event{}
	}
	return Body{
		Schema: Schema, Version: Version, DeliveryID: d.ID, Channel: d.Channel,
		CreatedAt: d.At.UTC(), Summary: notify.Counts(events), Transitions: events,
	}
}

// Encode is the JSON of d's body, as sent.
func Encode(d notify.Delivery) ([]byte, error) { return json.Marshal(NewBody(d)) }

// Sign is the Vigil-Signature header value for body at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verification failures.
var (
	ErrNoSignature  = errors.New("no valid Vigil-Signature header")
	ErrBadSignature = errors.New("signature does not match")
	ErrTimestamp    = errors.New("signature timestamp outside the tolerance")
)

// Verify checks a Vigil-Signature header against body with secret: one of
// its v1 values (there may be several while a secret is rotated) must be
// the HMAC of t + "." + body, compared in constant time, and t must be
// within tolerance of now (a zero tolerance means DefaultTolerance), so
// that a captured request cannot be replayed later.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := []byte(mac(secret, ts, body))
	match := false
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			match = true
		}
	}
	if !match {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now", ErrTimestamp, time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	return nil
}

// MaxBody bounds what VerifyRequest reads.
const MaxBody = 8 << 20

// VerifyRequest reads r's body (at most MaxBody bytes) and verifies its
// signature; it returns the body for the receiver to decode.
func VerifyRequest(r *http.Request, secret []byte, now time.Time, tolerance time.Duration) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("body larger than %d bytes", MaxBody)
	}
	if err := Verify(secret, r.Header.Get(SignatureHeader), body, now, tolerance); err != nil {
		return nil, err
	}
	return body, nil
}

// Config configures a webhook Sender.
type Config struct {
	// URL receives the POST. It may itself be a credential: it never
	// appears in an error.
	URL    string
	Secret []byte
	// Client sends the request; http.DefaultClient when nil. Its timeout
	// and the context's deadline both bound a send.
	Client *http.Client
	// Clock stamps the signature.
	Clock clock.Clock
	// UserAgent is sent as User-Agent ("vigil/VERSION").
	UserAgent string
}

// Sender posts deliveries to a webhook.
type Sender struct{ c Config }

// New returns a Sender; it refuses a config without URL, secret or clock.
func New(c Config) (*Sender, error) {
	if c.URL == "" || len(c.Secret) == 0 || c.Clock == nil {
		return nil, errors.New("webhook: URL, secret and clock are required")
	}
	if c.Client == nil {
		c.Client = http.DefaultClient
	}
	if c.UserAgent == "" {
		c.UserAgent = "vigil"
	}
	return &Sender{c: c}, nil
}

// Send posts d and classifies the outcome: 2xx is success; 408, 425, 429,
// 5xx and network errors are retryable; other statuses are permanent.
func (s *Sender) Send(ctx context.Context, d notify.Delivery) error {
	body, err := Encode(d)
	if err != nil {
		return notify.Permanent("webhook", fmt.Errorf("encoding the body: %w", err))
	}
	return Post(ctx, s.c.Client, "webhook", s.c.URL, body, map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    s.c.UserAgent,
		DeliveryHeader:  d.ID,
		SignatureHeader: Sign(s.c.Secret, s.c.Clock.Now(), body),
	})
}

// Post sends body to target with headers and classifies the answer (see
// Send). Its errors never hold the URL, which may be a credential (a
// Slack webhook's); the receiver's answer is quoted only in part, with
// anything secret-shaped redacted. Channels that POST share it.
func Post(ctx context.Context, client *http.Client, channel, target string, body []byte, headers map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(channel, errors.New("the URL is not valid"))
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		// url.Error quotes the URL: keep only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return notify.Temporary(channel, fmt.Errorf("POST: %w", ctxErr))
		}
		return notify.Temporary(channel, fmt.Errorf("POST: %w", err))
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	text := ""
	if resp.StatusCode >= 300 {
		text = notify.OneLine(redact.Text(strings.TrimSpace(string(excerpt))))
		if len(text) > 200 {
			text = strings.ToValidUTF8(text[:200], "") + "…"
		}
	}
	return notify.HTTPStatus(channel, resp.StatusCode, resp.Header.Get("Retry-After"), text)
}
