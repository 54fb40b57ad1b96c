// Package sns is the Amazon SNS channel of Vigil's alerts: sns:Publish of
// the webhook's JSON body (schema vigil.alert), so that a Lambda, an SQS
// queue or an email subscription of the topic gets the same document a
// webhook does, with the summary as the subject and the delivery ID as a
// message attribute (and, on a FIFO topic, as the deduplication ID, so a
// retried delivery is published once).
package sns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/notify/webhook"
)

// Publisher is the one SNS call the channel makes; *sns.Client has it.
type Publisher interface {
	Publish(ctx context.Context, in *awssns.PublishInput, optFns ...func(*awssns.Options)) (*awssns.PublishOutput, error)
}

// MaxMessage is SNS's limit on a message, in bytes.
const MaxMessage = 256 * 1024

// Config configures an SNS Sender.
type Config struct {
	TopicARN string
	Client   Publisher
}

// Sender publishes deliveries to a topic.
type Sender struct{ c Config }

// New returns a Sender.
func New(c Config) (*Sender, error) {
	if c.TopicARN == "" || c.Client == nil {
		return nil, errors.New("sns: topic ARN and client are required")
	}
	return &Sender{c: c}, nil
}

// Send publishes d. A body larger than SNS takes keeps the first events
// that fit and says how many were left out (summary and counts stay
// whole), rather than failing the delivery for good.
func (s *Sender) Send(ctx context.Context, d notify.Delivery) error {
	msg, err := Message(d)
	if err != nil {
		return notify.Permanent("sns", err)
	}
	in := &awssns.PublishInput{
		TopicArn: aws.String(s.c.TopicARN),
		Message:  aws.String(msg),
		Subject:  aws.String(Subject(d)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"vigil_delivery_id": {DataType: aws.String("String"), StringValue: aws.String(d.ID)},
			"vigil_schema":      {DataType: aws.String("String"), StringValue: aws.String(webhook.Schema)},
		},
	}
	if strings.HasSuffix(s.c.TopicARN, ".fifo") {
		in.MessageGroupId = aws.String("vigil")
		in.MessageDeduplicationId = aws.String(dedupID(d.ID))
	}
	if _, err := s.c.Client.Publish(ctx, in); err != nil {
		return classify(ctx, err)
	}
	return nil
}

// Message is the published JSON: the webhook body, trimmed to fit.
func Message(d notify.Delivery) (string, error) {
	body, err := webhook.Encode(d)
	if err != nil {
		return "", err
	}
	if len(body) <= MaxMessage {
		return string(body), nil
	}
	// Halve the events until it fits; the summary keeps the full counts.
	full := webhook.NewBody(d)
	events := full.Transitions
	for n := len(events) / 2; n >= 0; n /= 2 {
		b := full
		b.Transitions = events[:n]
		b.Summary = fmt.Sprintf("%s (%d of %d listed; the rest did not fit in an SNS message)", full.Summary, n, len(events))
		out, err := json.Marshal(b)
		if err != nil {
			return "", err
		}
		if len(out) <= MaxMessage {
			return string(out), nil
		}
		if n == 0 {
			break
		}
	}
	return "", errors.New("the delivery does not fit in an SNS message")
}

// Subject is notify.Subject within SNS's rules: at most 100 ASCII
// characters, no line breaks.
func Subject(d notify.Delivery) string {
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, notify.Subject(d))
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

// dedupID fits a delivery ID in SNS's deduplication ID (1-128 of
// alphanumerics and punctuation).
func dedupID(id string) string {
	out := strings.Map(func(r rune) rune {
		if r > 0x20 && r < 0x7f {
			return r
		}
		return '_'
	}, id)
	if len(out) > 128 {
		out = out[:128]
	}
	if out == "" {
		out = "delivery"
	}
	return out
}

// classify: throttling and server faults are retryable (the SDK has
// retried already); an unknown topic, a denied publish or a bad parameter
// are not; a failure with no API answer (network, deadline) is.
func classify(ctx context.Context, err error) error {
	// collect.Explain is Vigil's one description of an AWS error: the
	// call, the code and the message, without the SDK's wrapping.
	clean := collect.Explain("sns:Publish", err)
	if ctx.Err() != nil {
		return notify.Temporary("sns", clean)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "Throttling", "ThrottlingException", "ThrottledException", "KMSThrottling", "InternalError", "InternalFailure", "ServiceUnavailable":
			return notify.Temporary("sns", clean)
		}
		if ae.ErrorFault() == smithy.FaultServer {
			return notify.Temporary("sns", clean)
		}
		return notify.Permanent("sns", clean)
	}
	return notify.Temporary("sns", clean)
}
