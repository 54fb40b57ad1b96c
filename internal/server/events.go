package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/events"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/store"
)

// The root-events consumer. EventBridge forwards CloudTrail's root events
// of every account to an SQS queue; pollers long-poll it in batches of
// ten and hand their batches to one recorder, which records everything
// the pollers hold in one store transaction (one commit for up to
// maxRecord events, instead of one per event meeting River's writes on
// the same file); only then does each poller delete its messages, in one
// DeleteMessageBatch, so a crash between the two hands the messages back
// and the store's unique event ID drops the second copies.
//
// Alerts go out in bursts: a recorded root event is pending, and the
// alert queuer groups the pending events of each account (at most
// maxBurst) into a burst that makes one root_activity alert per channel,
// naming every event, and one debounced re-scan of the account. The
// queuer runs as soon as something is recorded; in a flood it waits
// alertGap between passes, so a lone event alerts at once and a flood of
// them makes a few alerts a second rather than one each. The events of an
// sts:AssumeRoot session Vigil opened itself never alert. A message that
// is not an event is recorded as malformed and never deleted: the
// queue's redrive policy moves it to the dead-letter queue after its
// receive count.

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
	// received carries the pollers' batches to the recorder.
	received chan *received
}

// received is one poller's batch waiting to be recorded; done gets what
// becomes of each message.
type received struct {
	msgs []sqstypes.Message
	done chan []outcome
}

type outcome struct {
	act     action
	retryIn time.Duration
}

const (
	// maxRecord bounds the messages recorded in one transaction: what
	// the pollers hold at once (4 × 10 by default) fits.
	maxRecord = 100
	// maxBurst bounds the events one alert names: a message every
	// channel takes (the text shows 200 in full).
	maxBurst = 100
	// alertGap is the least time between two passes of the alert queuer
	// in a flood, a pass that found busyPass events or more.
	alertGap = 250 * time.Millisecond
	busyPass = 20
)

// startEvents starts the pollers, the recorder and the alert queuer; the
// returned function stops them, waiting until each poller has finished
// the batch in its hands and its alerts are queued.
func (s *Server) startEvents(ctx context.Context) (stop func()) {
	ev := s.cfg.Events
	if ev == nil {
		return func() {}
	}
	ev.defaults()
	ctx, cancel := context.WithCancel(ctx)
	c := &consumer{s: s, ev: ev, received: make(chan *received)}
	c.readQueue(ctx)
	var pollers sync.WaitGroup
	for i := range ev.Pollers {
		pollers.Add(1)
		go func() {
			defer pollers.Done()
			c.poll(ctx, i)
		}()
	}
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		c.record(context.WithoutCancel(ctx))
	}()
	// The queuer stops after the recorder, so its last pass queues what
	// the pollers' last batches recorded.
	qctx, stopQueuer := context.WithCancel(context.WithoutCancel(ctx))
	queued := make(chan struct{})
	go func() {
		defer close(queued)
		s.alertQueuer(qctx)
	}()
	s.cfg.Logger.Info("consuming root events", "queue", ev.QueueURL, "pollers", ev.Pollers, "dead_letter_after", c.maxReceive)
	return func() {
		cancel()
		pollers.Wait()
		close(c.received)
		<-recorded
		stopQueuer()
		<-queued
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

// batch has the recorder record msgs, extending their visibility
// meanwhile, then deletes the ones recorded and hands back the malformed
// ones.
func (c *consumer) batch(ctx context.Context, msgs []sqstypes.Message) {
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
			entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, len(msgs))
			for i, m := range msgs {
				entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
					ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: int32(c.ev.Visibility / time.Second)}
			}
			if _, err := c.ev.Client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(c.ev.QueueURL), Entries: entries}); err != nil {
				c.s.cfg.Logger.Warn("cannot extend the visibility of root events still being handled", "error", err)
			}
		}
	}()
	r := &received{msgs: msgs, done: make(chan []outcome, 1)}
	var outs []outcome
	select {
	case c.received <- r:
		select {
		case outs = <-r.done:
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	close(stop)
	<-done
	if outs == nil {
		// Not recorded in time: the messages come back after their
		// visibility, and what was recorded meanwhile is a duplicate.
		c.s.cfg.Logger.Warn("root events not recorded within their visibility timeout; they will be received again", "messages", len(msgs))
		return
	}

	var del []sqstypes.DeleteMessageBatchRequestEntry
	var later []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	for i, m := range msgs {
		id := aws.String(strconv.Itoa(i))
		switch outs[i].act {
		case actDelete:
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: id, ReceiptHandle: m.ReceiptHandle})
		case actRetry:
			later = append(later, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: id, ReceiptHandle: m.ReceiptHandle,
				VisibilityTimeout: int32(outs[i].retryIn / time.Second)})
		}
	}
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

// record records the pollers' batches until they stop: whatever batches
// are waiting when it is free are recorded together.
func (c *consumer) record(ctx context.Context) {
	for r := range c.received {
		group := []*received{r}
		n := len(r.msgs)
	more:
		for n < maxRecord {
			select {
			case r, ok := <-c.received:
				if !ok {
					break more
				}
				group, n = append(group, r), n+len(r.msgs)
			default:
				break more
			}
		}
		rctx, cancel := context.WithTimeout(ctx, c.ev.Visibility)
		c.recordGroup(rctx, group)
		cancel()
	}
}

// recordGroup records the events of several batches in one transaction
// and tells each poller what became of its messages.
func (c *consumer) recordGroup(ctx context.Context, group []*received) {
	s := c.s
	log := s.cfg.Logger
	now := s.cfg.Clock.Now()
	outs := make([][]outcome, len(group))
	type at struct{ batch, msg int }
	var evs []store.RootEvent
	var where []at
	for b, r := range group {
		outs[b] = make([]outcome, len(r.msgs))
		for i, m := range r.msgs {
			e, o, ok := c.message(ctx, m, now)
			outs[b][i] = o
			if ok {
				evs = append(evs, toStoreEvent(e, now, m))
				where = append(where, at{b, i})
			}
		}
	}
	if len(evs) > 0 {
		stored, fresh, err := s.st.RecordRootEvents(ctx, evs)
		pending := false
		for k, w := range where {
			if err != nil {
				outs[w.batch][w.msg] = outcome{act: actKeep}
				continue
			}
			e := stored[k]
			if fresh[k] {
				log.Info("root event recorded", "event", e.EventID, "kind", e.Kind, "account", e.Account, "name", e.Name, "source_ip", e.SourceIP, "own", e.Own)
			} else {
				log.Info("duplicate root event dropped", "event", e.EventID, "account", e.Account)
			}
			// A duplicate still pending was recorded before a stop
			// that came before its alert was queued.
			pending = pending || e.Alert == store.AlertPending
		}
		if err != nil {
			log.Error("cannot record root events; they stay on the queue", "events", len(evs), "error", err)
		}
		if pending {
			s.wakeAlerts()
		}
	}
	for b, r := range group {
		r.done <- outs[b]
	}
}

// message reads one message and handles what is not a root event to
// record with the others (malformed, not root, an AssumeRoot call); ok
// says the event is to be recorded.
func (c *consumer) message(ctx context.Context, m sqstypes.Message, now time.Time) (events.Event, outcome, bool) {
	s := c.s
	log := s.cfg.Logger
	body := aws.ToString(m.Body)
	id := aws.ToString(m.MessageId)
	e, err := events.Parse([]byte(body))
	if err != nil {
		rec, rerr := s.st.RecordMalformed(ctx, id, err.Error(), body, now)
		if rerr != nil {
			log.Error("cannot record a malformed message of the events queue", "message", id, "error", rerr)
			return e, outcome{act: actKeep}, false
		}
		receives, _ := strconv.Atoi(m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
		log.Warn("malformed message on the events queue; recorded and left for the dead-letter queue", "message", id, "receives", receives,
			"dead_letter_after", c.maxReceive, "problem", rec.Problem)
		return e, outcome{act: actRetry, retryIn: c.malformedDelay(receives)}, false
	}
	switch e.Kind {
	case events.NotRoot:
		log.Debug("an event of the events queue is not root activity; dropped", "event", e.ID, "name", e.Name, "account", e.Account)
		return e, outcome{act: actDelete}, false
	case events.AssumeRoot:
		// Recorded before the batch's other events, so that a call of
		// the session in the same batch is labelled with its principal.
		if _, _, err := s.st.RecordRootEvent(ctx, toStoreEvent(e, now, m)); err != nil {
			log.Error("cannot record an AssumeRoot event", "event", e.ID, "error", err)
			return e, outcome{act: actKeep}, false
		}
		if ss := e.Session; ss != nil && ss.AccessKeyID != "" && ss.TargetAccount != "" {
			n, err := s.st.RecordRootSession(ctx, store.RootSession{AccessKeyID: ss.AccessKeyID, Account: ss.TargetAccount,
				Principal: ss.Principal, TaskPolicy: ss.TaskPolicy, OpenedAt: e.Time})
			if err != nil {
				log.Error("cannot record an AssumeRoot session", "event", e.ID, "error", err)
				return e, outcome{act: actKeep}, false
			}
			log.Info("AssumeRoot session seen", "principal", ss.Principal, "account", ss.TargetAccount, "labelled", n)
		}
		return e, outcome{act: actDelete}, false
	}
	return e, outcome{act: actDelete}, true
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

// toStoreEvent is e as the store keeps it: pending its alert when it is
// root's own activity.
func toStoreEvent(e events.Event, now time.Time, m sqstypes.Message) store.RootEvent {
	r := store.RootEvent{EventID: e.ID, Kind: string(e.Kind), Account: e.Account, Region: e.Region, Time: e.Time, Source: e.Source,
		Name: e.Name, IdentityARN: e.IdentityARN, SourceIP: e.SourceIP, UserAgent: e.UserAgent, AccessKeyID: e.AccessKeyID, MFA: e.MFA,
		ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, NewAccessKeyID: e.NewAccessKeyID, ReceivedAt: now,
		MessageID: aws.ToString(m.MessageId), Alert: store.AlertNone}
	if e.Kind.Root() {
		r.Alert = store.AlertPending
	}
	if e.Kind.Root() || e.Kind == events.RootServiceCall {
		r.Summary = e.Summary()
	} else if ss := e.Session; ss != nil {
		r.Summary = fmt.Sprintf("%s opened a root session in %s with %s", ss.Principal, ss.TargetAccount, ss.TaskPolicy)
	}
	return r
}

// wakeAlerts tells the alert queuer there are pending alerts.
func (s *Server) wakeAlerts() {
	select {
	case s.rootAlerts <- struct{}{}:
	default: // already told
	}
}

// alertQueuer queues the alerts of recorded events as they come until
// ctx ends; then it queues what is left. After a pass that found a flood
// (busyPass events or more) the next waits until alertGap has passed, so
// that what arrives meanwhile joins the same bursts; a lone event is
// queued at once.
func (s *Server) alertQueuer(ctx context.Context) {
	var last time.Time
	busy := false
	for {
		select {
		case <-ctx.Done():
			// The pollers have stopped; the job queue runs until the
			// service stops, so what they recorded is queued now.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, err := s.queueRootAlerts(fctx); err != nil {
				s.cfg.Logger.Warn("cannot queue the alerts of root events at stop; they are queued at the next start", "error", err)
			}
			return
		case <-s.rootAlerts:
		}
		// Pacing on real time, like the queue's.
		if wait := alertGap - time.Since(last); busy && wait > 0 && !sleepCtx(ctx, wait) {
			continue // stopping: the final pass above
		}
		last = time.Now()
		n, err := s.queueRootAlerts(ctx)
		busy = n >= busyPass
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			s.cfg.Logger.Error("cannot queue the alerts of root events; retrying", "error", err)
			if sleepCtx(ctx, time.Second) {
				s.wakeAlerts()
			}
		}
	}
}

// queueRootAlerts groups the pending alerts of recorded root events into
// bursts and queues each burst's alert to every channel that wants it,
// and one re-scan of each account, then marks the bursts queued. Jobs
// are unique per burst and channel, so queueing again after a stop in
// between adds nothing; the bursts themselves are kept in the store.
func (s *Server) queueRootAlerts(ctx context.Context) (events int, err error) {
	for {
		bursts, err := s.st.GroupRootAlerts(ctx, maxBurst)
		if err != nil || len(bursts) == 0 {
			return events, err
		}
		var params []river.InsertManyParams
		ids := make([]int64, 0, len(bursts))
		rescan := map[string]bool{}
		now := s.cfg.Clock.Now()
		for _, b := range bursts {
			sev := rule.Info
			for _, k := range b.Kinds {
				sev = max(sev, rootSeverity(k))
			}
			for _, name := range s.channelNames() {
				ch := s.cfg.Channels[name]
				if !ch.RootActivity || int(sev) < ch.Route.MinSeverity {
					continue
				}
				params = append(params, river.InsertManyParams{Args: rootAlertArgs{Burst: b.ID, Account: b.Account, Channel: name},
					InsertOpts: &river.InsertOpts{MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true}}})
			}
			if !rescan[b.Account] {
				rescan[b.Account] = true
				if !s.rescanWaiting(ctx, b.Account) {
					params = append(params, s.rescanJob(b.Account, now))
				}
			}
			ids = append(ids, b.ID)
			events += b.Events
		}
		if len(params) > 0 {
			res, err := s.client.InsertMany(ctx, params)
			if err != nil {
				return events, err
			}
			// The results are matched by their arguments: River does not
			// promise their order.
			for _, r := range res {
				var a rescanArgs
				if r.Job != nil && r.Job.Kind == a.Kind() && json.Unmarshal(r.Job.EncodedArgs, &a) == nil {
					s.rescans.queued(a.Account, r.Job.ID)
				}
			}
		}
		if err := s.st.SetRootBurstsQueued(ctx, ids...); err != nil {
			return events, err
		}
		s.cfg.Logger.Debug("root activity alerts queued", "bursts", len(bursts))
	}
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

// rootAlertArgs is the alert of one burst of root events to one channel.
type rootAlertArgs struct {
	Burst   int64  `json:"burst" river:"unique"`
	Account string `json:"account"`
	Channel string `json:"channel" river:"unique"`
}

func (rootAlertArgs) Kind() string { return "vigil_root_alert_burst" }

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
	ch, ok := s.cfg.Channels[job.Args.Channel]
	if !ok {
		return river.JobCancel(fmt.Errorf("alert channel %q is no longer configured", job.Args.Channel))
	}
	found, err := s.st.RootEvents(ctx, store.RootEventFilter{Burst: job.Args.Burst, Limit: maxBurst})
	if err != nil {
		return err
	}
	var es []store.RootEvent
	for _, e := range found {
		// Learned to be Vigil's own since it was queued, or below what
		// the channel wants.
		if e.Own || e.Alert == store.AlertNone || int(rootSeverity(e.Kind)) < ch.Route.MinSeverity {
			continue
		}
		es = append(es, e)
	}
	if len(es) == 0 {
		return nil
	}
	d := rootDelivery(es, job.Args.Channel, job.Args.Burst, s.cfg.Clock.Now(), s.cfg.PublicURL)
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := ch.Sender.Send(sctx, d); err != nil {
		if !notify.Retryable(err) {
			s.cfg.Logger.Error("root activity alert not delivered; the channel refused it for good", "channel", job.Args.Channel,
				"account", job.Args.Account, "events", len(es), "error", err)
			return river.JobCancel(err)
		}
		s.cfg.Logger.Warn("root activity alert not delivered; will retry", "channel", job.Args.Channel, "account", job.Args.Account,
			"events", len(es), "attempt", job.Attempt, "error", err)
		if after := notify.RetryAfter(err); after > 0 {
			return river.JobSnooze(after)
		}
		return err
	}
	s.cfg.Logger.Info("root activity alert delivered", "channel", job.Args.Channel, "account", job.Args.Account, "events", len(es), "first", es[0].Name)
	return nil
}

// rootDelivery is a burst of root events as the channels take them: one
// root_activity event each, whose finding names the account, the root
// user and the summary, oldest first. With a public URL each links to the
// account's root-activity timeline on the dashboard: an event has no
// finding page of its own, and the reader's next question is what else
// root did in that account.
func rootDelivery(es []store.RootEvent, channel string, burst int64, now time.Time, publicURL string) notify.Delivery {
	es = slices.Clone(es)
	slices.SortStableFunc(es, func(a, b store.RootEvent) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	d := notify.Delivery{ID: notify.DeliveryID(channel, "root-burst", strconv.FormatInt(burst, 10)), Channel: channel, At: now}
	for _, e := range es {
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
		if publicURL != "" {
			ev.Finding.Link = publicURL + "/accounts/" + url.PathEscape(e.Account) + "#root-activity"
		}
		d.Events = append(d.Events, ev)
	}
	return d
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

// rescans are the re-scan jobs this replica queued, by account. A flood
// of root events in one account then keeps one scan waiting at a time,
// besides the one running: before, every debounce window of a flood
// queued a scan of its own, and at a few seconds a scan they piled up
// behind each other (a new key's finding waited minutes behind scans
// that could tell nothing new). Whether a job has started is asked of
// the job queue, so a scan another replica took, or one lost in a
// crash, never holds the next back.
type rescans struct {
	mu  sync.Mutex
	job map[string]int64 // account → its latest re-scan job
}

func (r *rescans) latest(account string) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.job[account]
	return id, ok
}

func (r *rescans) queued(account string, id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.job == nil {
		r.job = map[string]int64{}
	}
	r.job[account] = id
}

// rescanWaiting says whether a re-scan of account queued here has not
// started yet: the events recorded until it starts need no other.
func (s *Server) rescanWaiting(ctx context.Context, account string) bool {
	id, ok := s.rescans.latest(account)
	if !ok {
		return false
	}
	j, err := s.client.JobGet(ctx, id)
	if err != nil {
		return false // gone, or unknown: queue another
	}
	switch j.State {
	case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending, rivertype.JobStateRetryable:
		return true
	}
	return false
}

// rescanJob is the re-scan of an account after root activity, in the
// debounce window of now.
func (s *Server) rescanJob(account string, now time.Time) river.InsertManyParams {
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
	// River runs a job when its own clock passes ScheduledAt, so the
	// window's end goes in as a delay from now: an injected clock years
	// away from River's would otherwise park the re-scan for years.
	return river.InsertManyParams{Args: args, InsertOpts: &river.InsertOpts{MaxAttempts: 3, ScheduledAt: time.Now().Add(at.Sub(now)), UniqueOpts: river.UniqueOpts{ByArgs: true}}}
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
		return s.rescanWhole(ctx, account, job.Attempt, job.Attempt < job.MaxAttempts)
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

// rescanWhole re-scans a schedule that is not an organisation's (one
// account, or a targets file) whose latest complete scan recorded the
// account: a standalone account's root events move its findings as an
// organisation member's do.
func (s *Server) rescanWhole(ctx context.Context, account string, attempt int, retry bool) error {
	sch, err := s.wholeScheduleFor(ctx, account)
	if err != nil {
		return fmt.Errorf("re-scan %s: %w", account, err)
	}
	if sch == nil {
		s.cfg.Logger.Warn("no schedule has scanned the account of a root event; its findings follow at the next tick", "account", account)
		return nil
	}
	sc, err := s.st.StartScan(ctx, store.Scan{StartedAt: s.cfg.Clock.Now(), Target: fmt.Sprintf("%s after root activity in %s", describe(sch), account)})
	if err != nil {
		return err
	}
	if err := s.scanWhole(ctx, sch, sc, attempt, retry); err != nil {
		// Failed as a whole and to be tried again: the next attempt
		// records a scan of its own.
		msg := err.Error()
		if ferr := s.st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Failed, Message: msg, At: s.cfg.Clock.Now()}); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	s.cfg.Logger.Info("account re-scanned after root activity", "account", account, "scan", sc.ID, "schedule", sch.Name)
	return nil
}

// wholeScheduleFor is the first schedule that is not an organisation's
// whose latest complete scan recorded the account, or nil.
func (s *Server) wholeScheduleFor(ctx context.Context, account string) (*Schedule, error) {
	scans, err := s.st.Scans(ctx, 200)
	if err != nil {
		return nil, err
	}
	for i := range s.cfg.Schedules {
		sch := &s.cfg.Schedules[i]
		if sch.Org {
			continue
		}
		for _, sc := range scans { // newest first
			if sc.Schedule != sch.Name || sc.Outcome != store.Complete {
				continue
			}
			accts, err := s.st.ScanAccounts(ctx, sc.ID)
			if err != nil {
				return nil, err
			}
			for _, a := range accts {
				if a.AccountID == account {
					return sch, nil
				}
			}
			break
		}
	}
	return nil, nil
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
