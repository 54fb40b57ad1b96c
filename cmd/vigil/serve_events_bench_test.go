package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// arrivals is a webhook receiver that notes when each root event's alert
// and each new finding arrived.
type arrivals struct {
	mu    sync.Mutex
	event map[string]time.Time // event ID → root_activity arrival
	new   map[string]time.Time // account → first new root-access-key
	// alerts counts the deliveries that carried root_activity.
	alerts int
}

func (a *arrivals) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	now := time.Now()
	var doc struct {
		Transitions []struct {
			Transition string `json:"transition"`
			Finding    struct {
				AccountID string `json:"account_id"`
				RuleID    string `json:"rule_id"`
			} `json:"finding"`
			Activity *struct {
				EventID string `json:"event_id"`
			} `json:"activity"`
		} `json:"transitions"`
	}
	json.Unmarshal(b, &doc)
	a.mu.Lock()
	defer a.mu.Unlock()
	counted := false
	for _, tr := range doc.Transitions {
		switch {
		case tr.Activity != nil:
			if !counted {
				a.alerts, counted = a.alerts+1, true
			}
			if _, seen := a.event[tr.Activity.EventID]; !seen {
				a.event[tr.Activity.EventID] = now
			}
		case tr.Transition == "new" && tr.Finding.RuleID == "root-access-key":
			if _, seen := a.new[tr.Finding.AccountID]; !seen {
				a.new[tr.Finding.AccountID] = now
			}
		}
	}
}

func (a *arrivals) events() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.event)
}

// rusageCPU is the CPU this process has used so far.
func rusageCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// TestBenchRootEvents measures the root-events consumer of the built
// binary against the emulator: VIGIL_BENCH_EVENTS events queued before
// the service starts drained (recorded, alerts queued, deleted) and the
// service's peak memory; then events sent one at a time, each to its
// root_activity alert at the webhook (p50, p99); then root keys created
// in member accounts, each event to the new finding.
func TestBenchRootEvents(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_EVENTS"))
	if n == 0 {
		t.Skip("VIGIL_BENCH_EVENTS=N measures the root-events consumer")
	}
	members := []string{"222222222222", "444444444444", "555555555555"}
	w := awsemu.DemoWorld(testclock.Ref())
	for i, m := range members {
		w.Credentials = append(w.Credentials, awsemu.Credential{AccessKeyID: fmt.Sprintf("AKIABENCHROOT%07d", i), AccountID: m, Principal: "root"})
	}
	srv := awsemutest.Start(t, w)
	arr := &arrivals{event: map[string]time.Time{}, new: map[string]time.Time{}}
	hook := httptest.NewServer(http.HandlerFunc(arr.serve))
	defer hook.Close()
	q := sqs.NewFromConfig(awsemutest.ConfigFor(t, srv, awsemu.DemoManagementAdminKey))
	queue, _ := eventsQueue(t, q, 5)
	ctx := context.Background()

	// N events over the five accounts, queued before the service starts.
	accounts := []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}
	now := time.Now()
	for i := 0; i < n; i += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for j := i; j < min(i+10, n); j++ {
			body := rootEvent(t, "root-other-call.json", accounts[j%len(accounts)], fmt.Sprintf("bench-%06d", j), now)
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j - i)), MessageBody: aws.String(body)})
		}
		if _, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queue), Entries: entries}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(cfg, []byte(`version: 1
database: state.db
listen: 127.0.0.1:0
schedules:
  - name: org
    every: 24h
    scan: {org: true}
alerts:
  - name: secops
    type: webhook
    url: `+hook.URL+`
    secret_env: HOOK_SECRET
events:
  sqs_queue_url: `+queue+`
  rescan_after: 1s
`), 0o600)
	env := map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.DemoManagementAdminKey, "AWS_SECRET_ACCESS_KEY": "x",
		"AWS_REGION": "us-east-1", "HOOK_SECRET": "bench"}
	args := []string{"--config", cfg, "--log-level", "warn"}
	prof := os.Getenv("VIGIL_BENCH_PROFILE")
	if prof != "" {
		args = append(args, "--cpu-profile", prof)
	}
	selfCPU := rusageCPU(t)
	start := time.Now()
	s := startServe(t, env, args...)
	pid := s.cmd.Process.Pid
	peak := 0
	// A message seen with a second receive was handed out by an attempt
	// whose answer never reached the service (it waits out its visibility
	// timeout, 60 s, before it comes back).
	again := map[string]bool{}
	for {
		msgs, ok := srv.SQSMessages(queue)
		for _, m := range msgs {
			if m.ReceiveCount > 1 {
				again[m.MessageID] = true
			}
		}
		if ok && len(msgs) == 0 {
			break
		}
		if time.Since(start) > 10*time.Minute {
			t.Fatalf("not drained in 10 minutes\n%s", s.stderr)
		}
		rss, hwm := procMem(pid)
		peak = max(peak, rss, hwm)
		time.Sleep(20 * time.Millisecond)
	}
	drained := time.Since(start)
	for arr.events() < n && time.Since(start) < 10*time.Minute {
		rss, hwm := procMem(pid)
		peak = max(peak, rss, hwm)
		time.Sleep(50 * time.Millisecond)
	}
	alerted := time.Since(start)
	arr.mu.Lock()
	deliveries := arr.alerts
	arr.mu.Unlock()
	t.Logf("%d queued events drained in %s from the service's start (%.0f events/s), %d of them received more than once; all %d events alerted in %s, in %d deliveries; peak RSS %.1f MiB",
		n, drained.Round(time.Millisecond), float64(n)/drained.Seconds(), len(again), arr.events(), alerted.Round(time.Millisecond), deliveries, float64(peak)/1024)
	// The emulator and the webhook receiver run in this process: its CPU
	// is theirs (and the polling above), the service's is its own.
	t.Logf("CPU until every alert arrived: vigil serve %s (start-up and the first tick's scan included), emulator and receiver %s",
		procCPU(t, pid).Round(time.Millisecond), (rusageCPU(t) - selfCPU).Round(time.Millisecond))
	if prof != "" {
		// The profile covers the drain alone: stop the service.
		s.cmd.Process.Signal(syscall.SIGTERM)
		<-s.done
		return
	}

	// One at a time: event sent → root_activity at the webhook.
	const single = 200
	var lat []time.Duration
	for i := range single {
		id := fmt.Sprintf("single-%04d", i)
		sent := time.Now()
		send(t, q, queue, rootEvent(t, "root-console-login-success.json", accounts[i%len(accounts)], id, sent))
		for {
			arr.mu.Lock()
			got, ok := arr.event[id]
			arr.mu.Unlock()
			if ok {
				lat = append(lat, got.Sub(sent))
				break
			}
			if time.Since(sent) > time.Minute {
				t.Fatalf("event %s not alerted in a minute\n%s", id, s.stderr)
			}
			time.Sleep(time.Millisecond)
		}
	}
	t.Logf("event on the queue → root_activity delivered, %d events one at a time: p50 %s, p99 %s, max %s", single,
		percentile(lat, 0.5).Round(time.Millisecond), percentile(lat, 0.99).Round(time.Millisecond), percentile(lat, 1).Round(time.Millisecond))

	// A new root key → its event → the finding open.
	var open []time.Duration
	for i, m := range members {
		key, err := iam.NewFromConfig(awsemutest.ConfigFor(t, srv, fmt.Sprintf("AKIABENCHROOT%07d", i))).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		send(t, q, queue, rootEvent(t, "root-create-access-key.json", m, "open-"+m, sent, "AKIAQNEWROOTKEY00001", aws.ToString(key.AccessKey.AccessKeyId)))
		for {
			arr.mu.Lock()
			got, ok := arr.new[m]
			arr.mu.Unlock()
			if ok {
				open = append(open, got.Sub(sent))
				break
			}
			if time.Since(sent) > 5*time.Minute {
				t.Fatalf("no new finding for %s in 5 minutes\n%s", m, s.stderr)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("new root key's event → finding open (new delivered), %d accounts: %v", len(open), open)
}
