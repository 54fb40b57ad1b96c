package serveconfig

import (
	"strings"
	"testing"
	"time"
)

func TestEvents(t *testing.T) {
	const head = "version: 1\nschedules: [{name: a, every: 1h, scan: {}}]\n"
	cfg, err := Parse("c.yaml", []byte(head+"events:\n  sqs_queue_url: https://sqs.eu-west-1.amazonaws.com/111122223333/vigil-root-events\n"), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Events
	if e == nil || e.QueueURL != "https://sqs.eu-west-1.amazonaws.com/111122223333/vigil-root-events" || e.Region != "eu-west-1" ||
		e.Pollers != DefaultPollers || e.Visibility != DefaultVisibility || e.Rescan != DefaultRescanDebounce {
		t.Errorf("defaults: %+v", e)
	}
	cfg, err = Parse("c.yaml", []byte(head+"events: {sqs_queue_url: 'http://127.0.0.1:4566/111122223333/q', region: us-east-2, profile: mgmt, pollers: 8, visibility_timeout: 2m, rescan_after: 0s}\n"), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if e := cfg.Events; e.Region != "us-east-2" || e.Profile != "mgmt" || e.Pollers != 8 || e.Visibility != 2*time.Minute || e.Rescan != 0 {
		t.Errorf("given: %+v", e)
	}
	for name, tc := range map[string]struct{ yaml, want string }{
		"no URL":          {"events: {pollers: 2}", "c.yaml:3:9: events.sqs_queue_url: missing"},
		"not a URL":       {"events: {sqs_queue_url: vigil-root-events}", `events.sqs_queue_url: "vigil-root-events" is not a queue URL`},
		"no queue":        {"events: {sqs_queue_url: 'https://sqs.us-east-1.amazonaws.com/'}", "is not a queue URL"},
		"pollers":         {"events: {sqs_queue_url: 'https://sqs.us-east-1.amazonaws.com/1/q', pollers: 0}", "events.pollers: 0: want 1 to 64"},
		"visibility":      {"events: {sqs_queue_url: 'https://sqs.us-east-1.amazonaws.com/1/q', visibility_timeout: 1s}", "events.visibility_timeout: 1s is shorter than the minimum, 10s"},
		"visibility long": {"events: {sqs_queue_url: 'https://sqs.us-east-1.amazonaws.com/1/q', visibility_timeout: 13h}", "at most 12h"},
		"unknown key":     {"events: {sqs_queue_url: 'https://sqs.us-east-1.amazonaws.com/1/q', queue: x}", "events.queue: unknown key"},
	} {
		_, err := Parse("c.yaml", []byte(head+tc.yaml+"\n"), testEnv())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	for url, want := range map[string]string{
		"https://sqs.us-east-1.amazonaws.com/1/q":        "us-east-1",
		"https://eu-west-1.queue.amazonaws.com/1/q":      "eu-west-1",
		"https://sqs.cn-north-1.amazonaws.com.cn/1/q":    "cn-north-1",
		"http://localhost:4566/000000000000/q":           "",
		"https://sqs-fips.us-gov-west-1.amazonaws.com/q": "",
	} {
		if got := QueueRegion(url); got != want {
			t.Errorf("QueueRegion(%s) = %q, want %q", url, got, want)
		}
	}
}
