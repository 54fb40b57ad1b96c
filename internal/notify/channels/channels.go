// Package channels turns the alert channels of a `vigil serve` config
// into senders: the one switch over channel types, so that the service
// neither knows how each channel is built nor imports them one by one.
package channels

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/notify/email"
	"github.com/vigil-sec/vigil/internal/notify/slack"
	vsns "github.com/vigil-sec/vigil/internal/notify/sns"
	"github.com/vigil-sec/vigil/internal/notify/webhook"
	"github.com/vigil-sec/vigil/internal/serveconfig"
)

// Deps are what channels need from the service.
type Deps struct {
	Clock clock.Clock
	// HTTPClient posts webhooks and Slack messages; nil means
	// DefaultHTTPClient.
	HTTPClient *http.Client
	// UserAgent is sent by HTTP channels ("vigil/VERSION").
	UserAgent string
	// AWSConfig loads the SDK config an SNS channel publishes with, for
	// its region and (optional) profile. Required only when the config
	// has an SNS channel.
	AWSConfig func(ctx context.Context, region, profile string) (aws.Config, error)
	// SMTPTLS verifies SMTP servers; nil means the system's roots.
	SMTPTLS *tls.Config
	// SNSOptions adjust the SNS client (tests point it at the emulator
	// through AWSConfig instead; this is for retries and the like).
	SNSOptions []func(*awssns.Options)
}

// Channel is one alert channel, ready to send.
type Channel struct {
	Name   string
	Type   string
	Filter notify.Filter
	Sender notify.Sender
}

// DefaultHTTPClient bounds each POST and follows no redirect: a signed
// alert goes to the URL in the config or nowhere, and a 3xx answer is a
// permanent failure that names the status.
func DefaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Open builds a Channel for each alert of cfg, in config order.
func Open(ctx context.Context, cfg *serveconfig.Config, deps Deps) ([]Channel, error) {
	var out []Channel
	for _, a := range cfg.Alerts {
		s, err := New(ctx, a, deps)
		if err != nil {
			return nil, fmt.Errorf("%s: alert %q: %w", a.Pos, a.Name, err)
		}
		out = append(out, Channel{Name: a.Name, Type: a.Type, Filter: a.Filter, Sender: s})
	}
	return out, nil
}

// New builds the sender of one alert channel.
func New(ctx context.Context, a serveconfig.Alert, deps Deps) (notify.Sender, error) {
	if deps.Clock == nil {
		return nil, errors.New("channels: a clock is required")
	}
	client := deps.HTTPClient
	if client == nil {
		client = DefaultHTTPClient()
	}
	switch a.Type {
	case serveconfig.TypeWebhook:
		return webhook.New(webhook.Config{URL: a.URL.Value(), Secret: []byte(a.Secret.Value()), Client: client, Clock: deps.Clock, UserAgent: deps.UserAgent})
	case serveconfig.TypeSlack:
		return slack.New(slack.Config{URL: a.URL.Value(), Client: client, UserAgent: deps.UserAgent})
	case serveconfig.TypeEmail:
		return email.New(email.Config{
			Host: a.SMTP.Host, Port: a.SMTP.Port, Username: a.SMTP.Username, Password: a.SMTP.Password.Value(),
			From: a.SMTP.From, To: a.SMTP.To, NoStartTLS: a.SMTP.StartTLS == serveconfig.StartTLSNone,
			ImplicitTLS: a.SMTP.ImplicitTLS(),
			TLSConfig:   deps.SMTPTLS, Clock: deps.Clock,
		})
	case serveconfig.TypeSNS:
		if deps.AWSConfig == nil {
			return nil, errors.New("channels: an SNS channel needs AWS credentials (Deps.AWSConfig)")
		}
		awsCfg, err := deps.AWSConfig(ctx, a.Region, a.Profile)
		if err != nil {
			return nil, fmt.Errorf("loading AWS config for SNS: %w", err)
		}
		return vsns.New(vsns.Config{TopicARN: a.TopicARN, Client: awssns.NewFromConfig(awsCfg, deps.SNSOptions...)})
	}
	return nil, fmt.Errorf("unknown channel type %q", a.Type)
}
