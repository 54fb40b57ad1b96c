package channels_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/emersion/go-smtp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/notify/channels"
	"github.com/vigil-sec/vigil/internal/notify/webhook"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/serveconfig"
	"github.com/vigil-sec/vigil/internal/testclock"
)

const hookSecret = "whsec-channels-0123456789"

// mailbox is a local relay without TLS (starttls: none) recording
// message bodies.
type mailbox struct {
	mu   sync.Mutex
	msgs []string
}

type mailSession struct{ m *mailbox }

func (s mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, string(b))
	s.m.mu.Unlock()
	return err
}
func (s mailSession) Reset()        {}
func (s mailSession) Logout() error { return nil }

// TestEveryChannel: a config parsed by serveconfig gives senders that
// reach a webhook receiver verifying the signature, a Slack endpoint, an
// SMTP relay and an SNS topic in the emulator, each with only the events
// its filter takes.
func TestEveryChannel(t *testing.T) {
	clk := testclock.Manual()
	var mu sync.Mutex
	var hooks []webhook.Body
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := webhook.VerifyRequest(r, []byte(hookSecret), clk.Now(), 0)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var b webhook.Body
		json.Unmarshal(body, &b)
		mu.Lock()
		hooks = append(hooks, b)
		mu.Unlock()
	}))
	defer hook.Close()
	var slackBodies []string
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		slackBodies = append(slackBodies, string(b))
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer chat.Close()
	box := &mailbox{}
	relay := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return mailSession{box}, nil }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go relay.Serve(ln)
	defer relay.Close()
	emu := awsemutest.Start(t, &awsemu.World{Accounts: []*awsemu.Account{
		{ID: "111122223333", Users: []awsemu.User{{Name: "vigil", AccessKeys: []awsemu.AccessKey{{ID: "AKIAVIGILCHANNELS001"}}}}},
	}})
	awsCfg := func(ctx context.Context, region, profile string) (aws.Config, error) {
		return emu.ConfigAs(ctx, "AKIAVIGILCHANNELS001", config.WithRegion(region))
	}
	topic, err := awssns.NewFromConfig(awsemutest.ConfigFor(t, emu, "AKIAVIGILCHANNELS001", config.WithRegion("eu-west-1"))).
		CreateTopic(t.Context(), &awssns.CreateTopicInput{Name: aws.String("vigil")})
	if err != nil {
		t.Fatal(err)
	}

	yaml := fmt.Sprintf(`version: 1
alerts:
  - {name: hook, type: webhook, url_env: HOOK_URL, secret_env: HOOK_SECRET, on: [new], min_severity: high}
  - {name: chat, type: slack, url_env: SLACK_URL, on: [new, resolved]}
  - {name: mail, type: email, host: 127.0.0.1, port: %d, starttls: none, from: vigil@example.com, to: [secops@example.com]}
  - {name: pager, type: sns, topic_arn: %s, min_severity: critical}
`, ln.Addr().(*net.TCPAddr).Port, aws.ToString(topic.TopicArn))
	env := map[string]string{"HOOK_URL": hook.URL + "/vigil", "HOOK_SECRET": hookSecret, "SLACK_URL": chat.URL + "/services/T/B/X"}
	cfg, err := serveconfig.Parse("vigil.yaml", []byte(yaml), serveconfig.Env{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	chans, err := channels.Open(t.Context(), cfg, channels.Deps{Clock: clk, AWSConfig: awsCfg, UserAgent: "vigil/test"})
	if err != nil {
		t.Fatal(err)
	}

	at := testclock.Ref()
	ev := func(tr notify.Transition, sev rule.Severity, acct string) notify.Event {
		return notify.Event{Transition: tr, At: at, Finding: notify.Finding{ID: acct, AccountID: acct, RuleID: "root-access-key", Resource: "arn:aws:iam::" + acct + ":root", Severity: sev, Status: rule.Fail}}
	}
	events := []notify.Event{ev(notify.New, rule.Critical, "200000000001"), ev(notify.New, rule.Low, "200000000002"), ev(notify.Resolved, rule.High, "200000000003")}
	got := map[string]int{}
	for _, c := range chans {
		d := notify.Delivery{ID: "dlv-" + c.Name, Channel: c.Name, At: at, Events: c.Filter.Apply(events)}
		got[c.Name] = len(d.Events)
		if err := c.Sender.Send(t.Context(), d); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
	if want := map[string]int{"hook": 1, "chat": 3, "mail": 3, "pager": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events per channel %v, want %v", got, want)
	}
	if len(hooks) != 1 || hooks[0].Transitions[0].Finding.AccountID != "200000000001" {
		t.Errorf("webhook got %+v", hooks)
	}
	if len(slackBodies) != 1 || !strings.Contains(slackBodies[0], "200000000003") {
		t.Errorf("slack got %v", slackBodies)
	}
	if len(box.msgs) != 1 || !strings.Contains(box.msgs[0], "200000000002") {
		t.Errorf("mail got %v", box.msgs)
	}
	if msgs := emu.SNSMessages(aws.ToString(topic.TopicArn)); len(msgs) != 1 || !strings.Contains(msgs[0].Message, `"delivery_id":"dlv-pager"`) {
		t.Errorf("sns got %+v", msgs)
	}
}

func TestNoRedirects(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("the redirect was followed") }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	s, err := channels.New(t.Context(), serveconfig.Alert{Type: serveconfig.TypeWebhook, URL: serveconfig.NewSecret(redirect.URL, "inline"), Secret: serveconfig.NewSecret("k", "env K")}, channels.Deps{Clock: testclock.Manual()})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), notify.Delivery{ID: "d"})
	if err == nil || notify.Retryable(err) || !strings.Contains(err.Error(), "HTTP 307") {
		t.Errorf("redirect: %v", err)
	}
}
