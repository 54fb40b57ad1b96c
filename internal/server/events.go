package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/riverqueue/river"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/events"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/store"
)

// The root-events consumer. EventBridge forwards CloudTrail's root events
// of every account to an SQS queue; pollers long-poll it in batches of
// ten, record each event in the store and only then delete it, so a
// crash between the two hands the message back and the store's unique
// event ID drops the second copy. A recorded root event queues its
// alerts (River jobs, one per channel, unique per event and channel) and
// a debounced re-scan of its account, unless the call was made in an
// sts:AssumeRoot session Vigil opened itself. A message that is not an
// event is recorded as malformed and never deleted: the queue's redrive
// policy moves it to the dead-letter queue after its receive count.

// SQSClient is what the consumer needs of SQS.
type SQSClient interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Events configures the consumer.
type Events struct {
	QueueURL string
	Client   SQSClient
	// Pollers is how many long polls run at once.
	Pollers int
	// Visibility is how long a received message stays hidden; messages
	// still being handled are extended every third of it.
	Visibility time.Duration
	// Wait is the long poll's wait (at most SQS's 20 s).
	Wait time.Duration
	// Rescan is the debounce of the targeted re-scan after a root event:
	// events of one account within it make one scan.
	Rescan time.Duration
}

func (e *Events) defaults() {
	if e.Pollers <= 0 {
		e.Pollers = 4
	}
	if e.Visibility <= 0 {
		e.Visibility = time.Minute
	}
	if e.Wait <= 0 || e.Wait > 20*time.Second {
		e.Wait = 20 * time.Second
	}
}

type consumer struct {
	s  *Server
	ev *Events
	// maxReceive is the queue's maxReceiveCount; 0 when it has no
	// dead-letter queue, and a malformed message is then retried ever
	// more slowly rather than in a loop.
	maxReceive int
}

// startEvents starts the pollers; the returned function stops them and
// waits until each has finished the batch in its hands.
func (s *Server) startEvents(ctx context.Context) (stop func()) {
	ev := s.cfg.Events
	if ev == nil {
		return func() {}
	}
	ev.defaults()
	ctx, cancel := context.WithCancel(ctx)
	c := &consumer{s: s, ev: ev}
	c.readQueue(ctx)
	var wg sync.WaitGroup
	for i := range ev.Pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.poll(ctx, i)
		}()
	}
	s.cfg.Logger.Info("consuming root events", "queue", ev.QueueURL, "pollers", ev.Pollers, "dead_letter_after", c.maxReceive)
	return func() {
		cancel()
		wg.Wait()
	}
}

// readQueue learns the queue's redrive policy.
func (c *consumer) readQueue(ctx context.Context) {
	out, err := c.ev.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(c.ev.QueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy}})
	if err != nil {
		c.s.cfg.Logger.Warn("cannot read the events queue's attributes; malformed messages will be retried with backoff", "queue", c.ev.QueueURL, "error", err)
		return
	}
	if n := redriveCount(out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)]); n > 0 {
		c.maxReceive = n
		return
	}
	c.s.cfg.Logger.Warn("the events queue has no dead-letter queue: a malformed message stays on it, retried ever more slowly (vigil prevent makes the queue with one)", "queue", c.ev.QueueURL)
}

func redriveCount(policy string) int {
	if policy == "" {
		return 0
	}
	var p struct {
		MaxReceiveCount any `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(policy), &p); err != nil {
		return 0
	}
	n, _ := strconv.Atoi(fmt.Sprint(p.MaxReceiveCount))
	return n
}

func (c *consumer) poll(ctx context.Context, n int) {
	log := c.s.cfg.Logger.With("poller", n)
	backoff := time.Second
	for ctx.Err() == nil {
		// The long poll is bounded here, not by the per-call limit (which
		// would warn of a stall every poll).
		pctx, cancel := context.WithTimeout(ctx, c.ev.Wait+30*time.Second)
		out, err := c.ev.Client.ReceiveMessage(pctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(c.ev.QueueURL),
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             int32(c.ev.Wait / time.Second),
			VisibilityTimeout:           int32(c.ev.Visibility / time.Second),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
		}, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, collect.WithoutCallLimits) })
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("cannot receive from the events queue; retrying", "queue", c.ev.QueueURL, "error", err, "in", backoff)
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		if len(out.Messages) == 0 {
			continue
		}
		// A batch in hand is finished even when the service is stopping:
		// what is recorded is deleted, and what is not comes back.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.ev.Visibility)
		c.batch(hctx, out.Messages)
		cancel()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// batch handles received messages one by one, extending the visibility
// of those not yet done, and deletes the ones recorded.
func (c *consumer) batch(ctx context.Context, msgs []sqstypes.Message) {
	var mu sync.Mutex
	pending := map[int]sqstypes.Message{}
	for i, m := range msgs {
		pending[i] = m
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		// SQS's visibility runs on real time, so this ticker does too.
		t := time.NewTicker(c.ev.Visibility / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			mu.Lock()
			var entries []sqstypes.ChangeMessageVisibilityBatchRequestEntry
			for i, m := range pending {
				entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
					ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: int32(c.ev.Visibility / time.Second)})
			}
			mu.Unlock()
			if len(entries) == 0 {
				continue
			}
			if _, err := c.ev.Client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(c.ev.QueueURL), Entries: entries}); err != nil {
				c.s.cfg.Logger.Warn("cannot extend the visibility of root events still being handled", "error", err)
			}
		}
	}()

	var del []sqstypes.DeleteMessageBatchRequestEntry
	var later []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	// Alerts of the batch are queued together, before any of its
	// messages is deleted: one job insert and one store write a batch.
	var alerts []store.RootEvent
	var alertMsgs []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		act, retryIn, alert := c.message(ctx, m)
		entry := sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		switch {
		case act == actDelete && alert != nil:
			alerts = append(alerts, *alert)
			alertMsgs = append(alertMsgs, entry)
		case act == actDelete:
			del = append(del, entry)
			mu.Lock()
			delete(pending, i)
			mu.Unlock()
		case act == actRetry:
			later = append(later, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
				ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: int32(retryIn / time.Second)})
			mu.Lock()
			delete(pending, i)
			mu.Unlock()
		default:
			mu.Lock()
			delete(pending, i)
			mu.Unlock()
		}
	}
	if len(alerts) > 0 {
		// Recorded but not queued: the messages come back, find their
		// events pending and queue them then.
		if err := c.s.queueRootAlerts(ctx, alerts); err != nil {
			c.s.cfg.Logger.Error("cannot queue the alerts of root events; they stay on the queue", "events", len(alerts), "error", err)
		} else {
			del = append(del, alertMsgs...)
		}
	}
	close(stop)
	<-done
	if len(later) > 0 {
		if _, err := c.ev.Client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(c.ev.QueueURL), Entries: later}); err != nil {
			c.s.cfg.Logger.Warn("cannot hand malformed messages back to the events queue", "error", err)
		}
	}
	if len(del) == 0 {
		return
	}
	out, err := c.ev.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(c.ev.QueueURL), Entries: del})
	if err != nil {
		// Recorded already: the messages come back and are dropped as
		// duplicates.
		c.s.cfg.Logger.Warn("cannot delete handled root events; they will be received again and dropped as duplicates", "error", err)
		return
	}
	for _, f := range out.Failed {
		c.s.cfg.Logger.Warn("a handled root event was not deleted; it will be received again and dropped as a duplicate",
			"code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
	}
}

type action int

const (
	actDelete action = iota // recorded: delete the message
	actKeep                 // not recorded (the store failed): let it come back after its visibility
	actRetry                // malformed: hand it back after the given delay
)

// message handles one message and says what becomes of it, and returns
// the recorded event when its alert is still to be queued.
func (c *consumer) message(ctx context.Context, m sqstypes.Message) (action, time.Duration, *store.RootEvent) {
	s := c.s
	log := s.cfg.Logger
	now := s.cfg.Clock.Now()
	body := aws.ToString(m.Body)
	id := aws.ToString(m.MessageId)
	e, err := events.Parse([]byte(body))
	if err != nil {
		rec, rerr := s.st.RecordMalformed(ctx, id, err.Error(), body, now)
		if rerr != nil {
			log.Error("cannot record a malformed message of the events queue", "message", id, "error", rerr)
			return actKeep, 0, nil
		}
		receives, _ := strconv.Atoi(m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
		log.Warn("malformed message on the events queue; recorded and left for the dead-letter queue", "message", id, "receives", receives,
			"dead_letter_after", c.maxReceive, "problem", rec.Problem)
		return actRetry, c.malformedDelay(receives), nil
	}
	switch {
	case e.Kind == events.NotRoot:
		log.Debug("an event of the events queue is not root activity; dropped", "event", e.ID, "name", e.Name, "account", e.Account)
		return actDelete, 0, nil
	case e.Kind == events.AssumeRoot:
		if _, _, err := s.st.RecordRootEvent(ctx, toStoreEvent(e, now, "", m)); err != nil {
			log.Error("cannot record an AssumeRoot event", "event", e.ID, "error", err)
			return actKeep, 0, nil
		}
		if ss := e.Session; ss != nil && ss.AccessKeyID != "" && ss.TargetAccount != "" {
			n, err := s.st.RecordRootSession(ctx, store.RootSession{AccessKeyID: ss.AccessKeyID, Account: ss.TargetAccount,
				Principal: ss.Principal, TaskPolicy: ss.TaskPolicy, OpenedAt: e.Time})
			if err != nil {
				log.Error("cannot record an AssumeRoot session", "event", e.ID, "error", err)
				return actKeep, 0, nil
			}
			log.Info("AssumeRoot session seen", "principal", ss.Principal, "account", ss.TargetAccount, "labelled", n)
		}
		return actDelete, 0, nil
	}
	alert := store.AlertNone
	if e.Kind.Root() {
		alert = store.AlertPending
	}
	rec, inserted, err := s.st.RecordRootEvent(ctx, toStoreEvent(e, now, alert, m))
	if err != nil {
		log.Error("cannot record a root event; it stays on the queue", "event", e.ID, "error", err)
		return actKeep, 0, nil
	}
	if !inserted {
		log.Info("duplicate root event dropped", "event", e.ID, "account", e.Account)
	}
	if inserted {
		log.Info("root event recorded", "event", e.ID, "kind", e.Kind, "account", e.Account, "name", e.Name, "source_ip", e.SourceIP, "own", rec.Own)
	}
	if rec.Alert == store.AlertPending {
		// Queued after the event is recorded (with the rest of the
		// batch); a crash in between leaves it pending, and the message,
		// not deleted, comes back here.
		return actDelete, 0, &rec
	}
	return actDelete, 0, nil
}

// malformedDelay is when a malformed message comes back: soon when the
// queue has a dead-letter queue (it gets there after maxReceiveCount
// receives), ever later when it has none.
func (c *consumer) malformedDelay(receives int) time.Duration {
	if c.maxReceive > 0 {
		return time.Second
	}
	return min(time.Duration(max(receives, 1))*time.Minute, 12*time.Hour)
}

func toStoreEvent(e events.Event, now time.Time, alert string, m sqstypes.Message) store.RootEvent {
	r := store.RootEvent{EventID: e.ID, Kind: string(e.Kind), Account: e.Account, Region: e.Region, Time: e.Time, Source: e.Source,
		Name: e.Name, IdentityARN: e.IdentityARN, SourceIP: e.SourceIP, UserAgent: e.UserAgent, AccessKeyID: e.AccessKeyID, MFA: e.MFA,
		ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, NewAccessKeyID: e.NewAccessKeyID, ReceivedAt: now,
		MessageID: aws.ToString(m.MessageId), Alert: alert}
	if e.Kind.Root() || e.Kind == events.RootServiceCall {
		r.Summary = e.Summary()
	} else if ss := e.Session; ss != nil {
		r.Summary = fmt.Sprintf("%s opened a root session in %s with %s", ss.Principal, ss.TargetAccount, ss.TaskPolicy)
	}
	return r
}

// queueRootAlerts queues the alerts of recorded root events to every
// channel that wants them, and one re-scan of each account, then marks
// them queued. Jobs are unique per event and channel, so queueing again
// after a crash adds nothing.
func (s *Server) queueRootAlerts(ctx context.Context, es []store.RootEvent) error {
	var params []river.InsertManyParams
	var ids []string
	accounts := map[string]bool{}
	for _, e := range es {
		sev := rootSeverity(e.Kind)
		for _, name := range s.channelNames() {
			ch := s.cfg.Channels[name]
			if !ch.RootActivity || int(sev) < ch.Route.MinSeverity {
				continue
			}
			params = append(params, river.InsertManyParams{Args: rootAlertArgs{EventID: e.EventID, Channel: name},
				InsertOpts: &river.InsertOpts{MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true}}})
		}
		ids = append(ids, e.EventID)
		accounts[e.Account] = true
	}
	if len(params) > 0 {
		if _, err := s.client.InsertMany(ctx, params); err != nil {
			return err
		}
	}
	for a := range accounts {
		if err := s.queueRescan(ctx, a); err != nil {
			return err
		}
	}
	return s.st.SetRootAlert(ctx, store.AlertQueued, ids...)
}

func (s *Server) channelNames() []string {
	out := make([]string, 0, len(s.routes))
	for _, r := range s.routes {
		out = append(out, r.Channel)
	}
	return out
}

func rootSeverity(kind string) rule.Severity {
	sev, err := rule.ParseSeverity(events.Kind(kind).Severity())
	if err != nil {
		return rule.High
	}
	return sev
}

// requeueRootAlerts queues the alerts of events recorded before a crash
// whose alerts were not queued yet (their messages were deleted, or will
// come back and find them pending).
func (s *Server) requeueRootAlerts(ctx context.Context) error {
	pending, err := s.st.PendingRootAlerts(ctx)
	if err != nil {
		return err
	}
	for len(pending) > 0 {
		n := min(len(pending), 100)
		if err := s.queueRootAlerts(ctx, pending[:n]); err != nil {
			return err
		}
		pending = pending[n:]
	}
	return nil
}

// rootAlertArgs is one root event's alert to one channel.
type rootAlertArgs struct {
	EventID string `json:"event_id" river:"unique"`
	Channel string `json:"channel" river:"unique"`
}

func (rootAlertArgs) Kind() string { return "vigil_root_alert" }

type rootAlertWorker struct {
	river.WorkerDefaults[rootAlertArgs]
	s *Server
}

// NextRetry backs off as deliveries do.
func (w *rootAlertWorker) NextRetry(job *river.Job[rootAlertArgs]) time.Time {
	d := 2 * time.Second << min(job.Attempt, 9)
	return time.Now().Add(min(d, 10*time.Minute))
}

func (w *rootAlertWorker) Work(ctx context.Context, job *river.Job[rootAlertArgs]) error {
	s := w.s
	found, err := s.st.RootEvents(ctx, store.RootEventFilter{EventID: job.Args.EventID})
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return river.JobCancel(fmt.Errorf("root event %s: %w", job.Args.EventID, store.ErrNotFound))
	}
	e := found[0]
	if e.Own {
		return nil // learned to be Vigil's own since it was queued
	}
	ch, ok := s.cfg.Channels[job.Args.Channel]
	if !ok {
		return river.JobCancel(fmt.Errorf("alert channel %q is no longer configured", job.Args.Channel))
	}
	d := rootDelivery(e, job.Args.Channel, s.cfg.Clock.Now())
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := ch.Sender.Send(sctx, d); err != nil {
		if !notify.Retryable(err) {
			s.cfg.Logger.Error("root activity alert not delivered; the channel refused it for good", "channel", job.Args.Channel, "event", e.EventID, "error", err)
			return river.JobCancel(err)
		}
		s.cfg.Logger.Warn("root activity alert not delivered; will retry", "channel", job.Args.Channel, "event", e.EventID, "attempt", job.Attempt, "error", err)
		if after := notify.RetryAfter(err); after > 0 {
			return river.JobSnooze(after)
		}
		return err
	}
	s.cfg.Logger.Info("root activity alert delivered", "channel", job.Args.Channel, "event", e.EventID, "account", e.Account, "name", e.Name)
	return nil
}

// rootDelivery is a root event as the channels take it: one root_activity
// event whose finding names the account, the root user and the summary.
func rootDelivery(e store.RootEvent, channel string, now time.Time) notify.Delivery {
	root := "arn:aws:iam::" + e.Account + ":root"
	if e.IdentityARN != "" {
		root = e.IdentityARN
	}
	ev := notify.Event{
		Transition: notify.RootActivity, At: e.Time,
		Finding: notify.Finding{ID: "root-event:" + e.EventID, AccountID: e.Account, RuleID: e.Name, Title: "Root activity: " + e.Name,
			Resource: root, Severity: rootSeverity(e.Kind), Status: rule.Fail, Message: e.Summary},
		Activity: &notify.Activity{EventID: e.EventID, Kind: e.Kind, EventName: e.Name, Source: e.Source, Region: e.Region, Time: e.Time,
			SourceIP: e.SourceIP, UserAgent: e.UserAgent, AccessKeyID: e.AccessKeyID, MFA: e.MFA, ErrorCode: e.ErrorCode,
			NewAccessKeyID: e.NewAccessKeyID, SessionPrincipal: e.SessionPrincipal},
	}
	if e.SessionPrincipal != "" {
		ev.Detail = "in an sts:AssumeRoot session opened by " + e.SessionPrincipal
	}
	return notify.Delivery{ID: notify.DeliveryID(channel, "root-event", e.EventID), Channel: channel, At: now, Events: []notify.Event{ev}}
}

// ownSession records an AssumeRoot session Vigil opened, before it signs
// a call, so that its root events are known as Vigil's.
func (s *Server) ownSession(ctx context.Context, o fleet.OpenedRootSession) {
	_, err := s.st.RecordRootSession(ctx, store.RootSession{AccessKeyID: o.AccessKeyID, Account: o.AccountID,
		Principal: "vigil", TaskPolicy: o.TaskPolicy, OpenedAt: s.cfg.Clock.Now(), Vigil: true})
	if err != nil {
		s.cfg.Logger.Warn("cannot record Vigil's own AssumeRoot session; its root events will alert", "account", o.AccountID, "error", err)
	}
}

// The targeted re-scan.

// rescanArgs re-scans one account after root activity. Window is the
// debounce window the event fell in: unique per account and window, so
// the events of one burst make one scan, and one arriving during a scan
// makes another after it.
type rescanArgs struct {
	Account string `json:"account" river:"unique"`
	Window  int64  `json:"window" river:"unique"`
}

func (rescanArgs) Kind() string { return "vigil_rescan_account" }

func (s *Server) queueRescan(ctx context.Context, account string) error {
	now := s.cfg.Clock.Now()
	d := time.Duration(0)
	if s.cfg.Events != nil {
		d = s.cfg.Events.Rescan
	}
	args := rescanArgs{Account: account, Window: now.UnixNano()}
	at := now
	if d > 0 {
		w := now.UnixNano()/int64(d) + 1
		args.Window, at = w, time.Unix(0, w*int64(d))
	}
	_, err := s.client.Insert(ctx, args, &river.InsertOpts{MaxAttempts: 3, ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

type rescanWorker struct {
	river.WorkerDefaults[rescanArgs]
	s *Server
}

func (w *rescanWorker) Work(ctx context.Context, job *river.Job[rescanArgs]) error {
	s := w.s
	account := job.Args.Account
	sch := s.scheduleFor(account)
	if sch == nil {
		s.cfg.Logger.Warn("no organisation schedule covers the account of a root event; its findings follow at the next tick", "account", account)
		return nil
	}
	org, err := organizations.NewFromConfig(sch.Config).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return fmt.Errorf("re-scan %s: organizations:DescribeOrganization: %w", account, err)
	}
	now := s.cfg.Clock.Now()
	sc, err := s.st.StartScan(ctx, store.Scan{StartedAt: now, Target: fmt.Sprintf("account %s after root activity (schedule %s)", account, sch.Name)})
	if err != nil {
		return err
	}
	a := accountArgs{Schedule: sch.Name, ScanID: sc.ID, Account: account, Expected: 1,
		Management: aws.ToString(org.Organization.MasterAccountId) == account}
	if _, err := s.scanAccount(ctx, sch, a); err != nil {
		msg := err.Error()
		if ferr := s.st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Failed, Message: msg, At: s.cfg.Clock.Now()}); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	s.cfg.Logger.Info("account re-scanned after root activity", "account", account, "scan", sc.ID, "schedule", sch.Name)
	return s.st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Complete, At: s.cfg.Clock.Now()})
}

// scheduleFor is the first organisation schedule whose selection holds
// the account (an OU filter is applied by the scan itself).
func (s *Server) scheduleFor(account string) *Schedule {
	for i := range s.cfg.Schedules {
		sch := &s.cfg.Schedules[i]
		if !sch.Org {
			continue
		}
		excluded := false
		for _, x := range sch.Options.Exclude {
			excluded = excluded || x == account
		}
		listed := len(sch.Options.Accounts) == 0
		for _, x := range sch.Options.Accounts {
			listed = listed || x == account
		}
		if listed && !excluded {
			return sch
		}
	}
	return nil
}
