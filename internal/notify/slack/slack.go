// Package slack is the Slack channel of Vigil's alerts: one message per
// delivery, posted to an incoming webhook, that names every finding —
// account, rule, resource, evidence and link — instead of totals.
//
// A message is built from Block Kit blocks within Slack's limits (50
// blocks, 3,000 characters a section): the first DetailedEvents events get
// a section each; the rest are listed one line each in compact sections,
// so that a digest of hundreds of transitions is still one message that
// lists them. Outside text (account names, messages, evidence) is escaped
// for mrkdwn, so an account named "<!channel>" cannot ping a channel.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/notify/webhook"
)

// Slack's limits, and how many events get a section of their own.
const (
	maxBlocks      = 50
	maxSectionText = 3000
	maxHeaderText  = 150
	DetailedEvents = 40
)

// Message is the JSON an incoming webhook receives.
type Message struct {
	// Text is the notification's fallback (and the whole message for
	// clients that show no blocks).
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// Block is one Block Kit block: a header, a section or a context.
type Block struct {
	Type     string       `json:"type"`
	Text     *TextObject  `json:"text,omitempty"`
	Elements []TextObject `json:"elements,omitempty"`
}

// TextObject is Block Kit text.
type TextObject struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

// Build is the message for d.
func Build(d notify.Delivery) Message {
	events := notify.Ordered(d.Events)
	header := "Vigil: " + notify.Counts(events)
	if len(events) == 0 {
		header = "Vigil: no changes"
	}
	m := Message{Text: notify.Subject(d)}
	m.Blocks = append(m.Blocks, Block{Type: "header", Text: &TextObject{Type: "plain_text", Text: truncate(header, maxHeaderText)}})

	// Blocks left for events: one is kept for the closing context.
	budget := maxBlocks - 2
	i := 0
	for ; i < len(events) && i < DetailedEvents && budget > 1; i++ {
		m.Blocks = append(m.Blocks, Block{Type: "section", Text: &TextObject{Type: "mrkdwn", Text: truncate(detail(events[i]), maxSectionText)}})
		budget--
	}
	// The rest, one line each, packed into sections.
	var b strings.Builder
	for ; i < len(events) && budget > 0; i++ {
		line := compact(events[i])
		if b.Len()+len(line)+1 > maxSectionText {
			if budget == 1 {
				break
			}
			m.Blocks = append(m.Blocks, Block{Type: "section", Text: &TextObject{Type: "mrkdwn", Text: b.String()}})
			budget--
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
	}
	if b.Len() > 0 {
		m.Blocks = append(m.Blocks, Block{Type: "section", Text: &TextObject{Type: "mrkdwn", Text: b.String()}})
	}
	foot := fmt.Sprintf("Delivery %s · channel %s", escape(d.ID), escape(d.Channel))
	if left := len(events) - i; left > 0 {
		foot = fmt.Sprintf("…and %d more not listed here: run `vigil findings`. ", left) + foot
	}
	m.Blocks = append(m.Blocks, Block{Type: "context", Elements: []TextObject{{Type: "mrkdwn", Text: foot}}})
	return m
}

// detail is one event's section: what changed, where, and why Vigil
// thinks so.
func detail(e notify.Event) string {
	f := e.Finding
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* · %s · `%s` · %s", e.Transition.Label(), f.Severity, code(f.RuleID), escape(notify.AccountLabel(f)))
	if f.Title != "" {
		fmt.Fprintf(&b, "\n_%s_", strings.ReplaceAll(escape(f.Title), "_", " "))
	}
	if f.Resource != "" {
		fmt.Fprintf(&b, "\n`%s`", code(f.Resource))
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, "\n%s", escape(e.Detail))
	}
	if f.Message != "" {
		fmt.Fprintf(&b, "\n%s", escape(notify.OneLine(f.Message)))
	}
	for _, ev := range f.Evidence {
		fmt.Fprintf(&b, "\n> %s", escape(notify.EvidenceLine(ev)))
	}
	if l := link(f.Link, "Open the finding"); l != "" {
		fmt.Fprintf(&b, "\n%s", l)
	}
	return b.String()
}

// compact is one event on one line.
func compact(e notify.Event) string {
	f := e.Finding
	s := fmt.Sprintf("• *%s* %s `%s` %s", strings.ReplaceAll(string(e.Transition), "_", " "), f.Severity, code(f.RuleID), escape(notify.AccountLabel(f)))
	if f.Resource != "" {
		s += " `" + code(f.Resource) + "`"
	}
	if l := link(f.Link, "open"); l != "" {
		s += " " + l
	}
	return s
}

// escape makes outside text literal in mrkdwn: Slack reads &, < and > as
// markup (links, mentions, <!channel>).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(notify.OneLine(s))
}

// code is text for inside backticks: escaped, and without backticks that
// would end the code span.
func code(s string) string { return strings.ReplaceAll(escape(s), "`", "'") }

// link is a mrkdwn link to an http(s) URL, or "" for anything else.
func link(url, label string) string {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return ""
	}
	if strings.ContainsAny(url, "|<> \t\r\n") {
		return ""
	}
	return "<" + strings.ReplaceAll(url, "&", "&amp;") + "|" + label + ">"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-len("…")], "") + "…"
}

// Config configures a Slack Sender.
type Config struct {
	// URL is the incoming webhook's URL, a credential: it never appears
	// in an error.
	URL string
	// Client sends the request; http.DefaultClient when nil.
	Client    *http.Client
	UserAgent string
}

// Sender posts deliveries to a Slack incoming webhook.
type Sender struct{ c Config }

// New returns a Sender.
func New(c Config) (*Sender, error) {
	if c.URL == "" {
		return nil, errors.New("slack: the webhook URL is required")
	}
	if c.Client == nil {
		c.Client = http.DefaultClient
	}
	if c.UserAgent == "" {
		c.UserAgent = "vigil"
	}
	return &Sender{c: c}, nil
}

// Send posts d as one message. Slack answers 200 "ok"; 4xx answers
// (invalid_payload, no_service, channel_is_archived...) are permanent,
// 429 and 5xx retryable.
func (s *Sender) Send(ctx context.Context, d notify.Delivery) error {
	body, err := json.Marshal(Build(d))
	if err != nil {
		return notify.Permanent("slack", fmt.Errorf("encoding the message: %w", err))
	}
	return webhook.Post(ctx, s.c.Client, "slack", s.c.URL, body, map[string]string{
		"Content-Type": "application/json",
		"User-Agent":   s.c.UserAgent,
	})
}
