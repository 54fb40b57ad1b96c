package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/store"
)

// Webhook posts a delivery as the versioned JSON body (docs/alerts.md),
// signed with HMAC-SHA256 over "t.body": any receiver can check that
// Vigil sent it and when, and drop a replay by its delivery ID.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client
	Clock  clock.Clock
}

// AlertBody is the webhook's body, version 1.
type AlertBody struct {
	Schema      string            `json:"schema"`
	Version     int               `json:"version"`
	DeliveryID  string            `json:"delivery_id"`
	Channel     string            `json:"channel"`
	Transitions []AlertTransition `json:"transitions"`
}

// AlertTransition is one transition of the body.
type AlertTransition struct {
	Transition string       `json:"transition"`
	At         time.Time    `json:"at"`
	Detail     string       `json:"detail,omitempty"`
	Finding    AlertFinding `json:"finding"`
}

// AlertFinding is the finding a transition moved.
type AlertFinding struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name,omitempty"`
	RuleID      string    `json:"rule_id"`
	Title       string    `json:"title,omitempty"`
	Resource    string    `json:"resource"`
	Severity    string    `json:"severity"`
	Status      string    `json:"status"`
	State       string    `json:"state"`
	Message     string    `json:"message"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Regressions int       `json:"regressions"`
}

// Body builds the version 1 body of a delivery.
func Body(d store.Delivery) AlertBody {
	b := AlertBody{Schema: "vigil.alert", Version: 1, DeliveryID: d.ID, Channel: d.Channel, Transitions: []AlertTransition{}}
	for _, t := range d.Transitions {
		at := AlertTransition{Transition: string(t.Kind), At: t.At, Detail: t.Detail}
		if f := t.Finding; f != nil {
			at.Finding = AlertFinding{ID: f.ID, AccountID: f.AccountID, AccountName: f.AccountName, RuleID: f.RuleID, Title: f.Title, Resource: f.Resource,
				Severity: rule.Severity(t.Severity).String(), Status: t.Status, State: string(f.State), Message: t.Message,
				FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, Regressions: f.Regressions}
		}
		b.Transitions = append(b.Transitions, at)
	}
	return b
}

// Sign is the Vigil-Signature header of body sent at t.
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Send implements Sender.
func (w Webhook) Send(ctx context.Context, d store.Delivery) error {
	body, err := json.Marshal(Body(d))
	if err != nil {
		return err
	}
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	clk := w.Clock
	if clk == nil {
		clk = clock.Wall{}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigil")
	req.Header.Set("Vigil-Delivery", d.ID)
	if len(w.Secret) > 0 {
		req.Header.Set("Vigil-Signature", Sign(w.Secret, body, clk.Now()))
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: the receiver answered %s", resp.Status)
	}
	return nil
}
