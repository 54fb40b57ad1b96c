package sns_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/notify"
	vsns "github.com/vigil-sec/vigil/internal/notify/sns"
	"github.com/vigil-sec/vigil/internal/notify/webhook"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/testclock"
)

const alertsKey = "AKIAVIGILALERTS00001"

func setup(t *testing.T) (*awsemu.Server, *awssns.Client) {
	t.Helper()
	srv := awsemutest.Start(t, &awsemu.World{Accounts: []*awsemu.Account{
		{ID: "111122223333", Users: []awsemu.User{{Name: "vigil", AccessKeys: []awsemu.AccessKey{{ID: alertsKey}}}}},
	}})
	cfg := awsemutest.ConfigFor(t, srv, alertsKey, config.WithRegion("eu-west-1"), config.WithRetryMaxAttempts(1))
	return srv, awssns.NewFromConfig(cfg)
}

func topic(t *testing.T, c *awssns.Client, name string) string {
	t.Helper()
	out, err := c.CreateTopic(t.Context(), &awssns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TopicArn)
}

func delivery(n int) notify.Delivery {
	at := testclock.Ref()
	d := notify.Delivery{ID: "dlv-9", Channel: "pager", At: at}
	for i := range n {
		acct := fmt.Sprintf("%012d", 200000000000+i)
		d.Events = append(d.Events, notify.Event{Transition: notify.New, At: at, Finding: notify.Finding{
			ID: "f-" + acct, AccountID: acct, AccountName: "prod", RuleID: "root-access-key", Resource: "arn:aws:iam::" + acct + ":root",
			Severity: rule.Critical, Status: rule.Fail, Message: "The root user has an active access key.",
		}})
	}
	return d
}

func TestPublish(t *testing.T) {
	srv, client := setup(t)
	arn := topic(t, client, "vigil-alerts")
	s, err := vsns.New(vsns.Config{TopicARN: arn, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	d := delivery(2)
	if err := s.Send(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	msgs := srv.SNSMessages(arn)
	if len(msgs) != 1 {
		t.Fatalf("%d messages published", len(msgs))
	}
	m := msgs[0]
	var body webhook.Body
	if err := json.Unmarshal([]byte(m.Message), &body); err != nil {
		t.Fatal(err)
	}
	if body.Schema != "vigil.alert" || body.DeliveryID != "dlv-9" || len(body.Transitions) != 2 || body.Transitions[0].Finding.AccountID != "200000000000" {
		t.Errorf("message %s", m.Message)
	}
	if m.Subject != "Vigil: 2 changes (2 new)" || m.Attributes["vigil_delivery_id"] != "dlv-9" || m.Attributes["vigil_schema"] != "vigil.alert" {
		t.Errorf("subject %q, attributes %v", m.Subject, m.Attributes)
	}
}

// TestFIFO: on a FIFO topic the delivery ID deduplicates, so a retry of a
// delivery that did go through is published once.
func TestFIFO(t *testing.T) {
	srv, client := setup(t)
	arn := topic(t, client, "vigil.fifo")
	s, _ := vsns.New(vsns.Config{TopicARN: arn, Client: client})
	for range 2 {
		if err := s.Send(t.Context(), delivery(1)); err != nil {
			t.Fatal(err)
		}
	}
	if msgs := srv.SNSMessages(arn); len(msgs) != 1 || msgs[0].GroupID != "vigil" || msgs[0].DeduplicationID != "dlv-9" {
		t.Errorf("FIFO messages %+v", msgs)
	}
}

func TestFailures(t *testing.T) {
	srv, client := setup(t)
	arn := topic(t, client, "vigil-alerts")
	for _, tc := range []struct {
		name      string
		arn       string
		fault     *awsemu.Fault
		retryable bool
		want      string
	}{
		{name: "no such topic", arn: "arn:aws:sns:eu-west-1:111122223333:gone", want: "NotFound"},
		{name: "another account's topic", arn: "arn:aws:sns:eu-west-1:999988887777:t", want: "AuthorizationError"},
		{name: "throttled", arn: arn, fault: &awsemu.Fault{Service: "sns", Action: "Publish", Code: "Throttling"}, retryable: true, want: "Throttling"},
		{name: "server error", arn: arn, fault: &awsemu.Fault{Service: "sns", Action: "Publish", Code: "InternalError"}, retryable: true, want: "InternalError"},
		{name: "denied", arn: arn, fault: &awsemu.Fault{Service: "sns", Action: "Publish", Code: "AuthorizationError", Status: 403}, want: "AuthorizationError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.ClearFaults()
			if tc.fault != nil {
				srv.AddFault(*tc.fault)
			}
			s, _ := vsns.New(vsns.Config{TopicARN: tc.arn, Client: client})
			err := s.Send(t.Context(), delivery(1))
			if err == nil || notify.Retryable(err) != tc.retryable || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v (retryable %v), want %s, retryable %v", err, notify.Retryable(err), tc.want, tc.retryable)
			}
			for _, raw := range []string{"operation error", "https response error", "StatusCode:"} {
				if err != nil && strings.Contains(err.Error(), raw) {
					t.Errorf("error %q holds the SDK's wrapping %q", err, raw)
				}
			}
		})
	}
}

// TestDeadline: an endpoint that never answers is given up on when the
// context ends, retryably.
func TestDeadline(t *testing.T) {
	srv, client := setup(t)
	arn := topic(t, client, "vigil-alerts")
	srv.AddFault(awsemu.Fault{Service: "sns", Action: "Publish", Hang: true})
	clk := testclock.Manual()
	ctx, cancel := clk.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, _ := vsns.New(vsns.Config{TopicARN: arn, Client: client})
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, delivery(1)) }()
	waitCtx, stop := context.WithTimeout(t.Context(), time.Minute)
	defer stop()
	for len(srv.Held()) == 0 {
		select {
		case err := <-done:
			t.Fatalf("Send returned before the emulator held the call: %v", err)
		case <-waitCtx.Done():
			t.Fatal("the call never reached the emulator")
		case <-time.After(5 * time.Millisecond):
		}
	}
	clk.Advance(time.Minute)
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) || !notify.Retryable(err) {
		t.Errorf("Send = %v, want a retryable deadline error", err)
	}
}

// TestTooLarge: a delivery beyond SNS's 256 KiB keeps what fits and says
// how much was left out.
func TestTooLarge(t *testing.T) {
	msg, err := vsns.Message(delivery(2000))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) > vsns.MaxMessage {
		t.Fatalf("%d bytes", len(msg))
	}
	var body webhook.Body
	if err := json.Unmarshal([]byte(msg), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Transitions) == 0 || !strings.HasPrefix(body.Summary, "2000 new (") || !strings.Contains(body.Summary, fmt.Sprintf("%d of 2000 listed", len(body.Transitions))) {
		t.Errorf("summary %q with %d transitions", body.Summary, len(body.Transitions))
	}
}

func TestSubject(t *testing.T) {
	d := delivery(1)
	d.Events[0].Finding.AccountName = "prüd\nname " + strings.Repeat("x", 200)
	s := vsns.Subject(d)
	if len(s) > 100 || strings.ContainsAny(s, "\n\r") || strings.ContainsFunc(s, func(r rune) bool { return r > 0x7e }) {
		t.Errorf("subject %q breaks SNS's rules", s)
	}
}
