package awsemu

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SQS over the JSON protocol aws-sdk-go-v2 speaks (awsJson1_0, X-Amz-Target
// AmazonSQS.<Operation>, and the x-amzn-query-error header that carries the
// legacy error code), so that Vigil's root-event consumer is tested
// through the real SDK: queues with their attributes (visibility timeout,
// long-poll wait, retention, delay, redrive to a dead-letter queue,
// encryption settings, a resource policy), messages with receipt handles,
// visibility, receive counts and the move to the dead-letter queue after
// maxReceiveCount receives.
//
// Only standard queues are emulated; FIFO queues are refused. A queue is
// named by its account and name (its URL is <server>/<account>/<name>);
// the region a queue was created in appears in its ARN only.
//
// Long polls do not hold the server lock while they wait: a receive that
// finds nothing returns an sqsPoll, and serveHTTP waits (sqsLongPoll) until
// a message is sent, one becomes visible again, the server clock moves (a
// ManualClock given with WithManualClock wakes the poll when advanced) or
// the wait time ends by the server clock.

const sqsTargetPrefix = "AmazonSQS."

// sqsHandlers lists the SQS operations the emulator implements.
var sqsHandlers = map[string]handlerFunc{
	"CreateQueue":                  (*Server).sqsCreateQueue,
	"GetQueueUrl":                  (*Server).sqsGetQueueURL,
	"GetQueueAttributes":           (*Server).sqsGetQueueAttributes,
	"SetQueueAttributes":           (*Server).sqsSetQueueAttributes,
	"DeleteQueue":                  (*Server).sqsDeleteQueue,
	"ListQueues":                   (*Server).sqsListQueues,
	"PurgeQueue":                   (*Server).sqsPurgeQueue,
	"SendMessage":                  (*Server).sqsSendMessage,
	"SendMessageBatch":             (*Server).sqsSendMessageBatch,
	"ReceiveMessage":               (*Server).sqsReceiveMessage,
	"DeleteMessage":                (*Server).sqsDeleteMessage,
	"DeleteMessageBatch":           (*Server).sqsDeleteMessageBatch,
	"ChangeMessageVisibility":      (*Server).sqsChangeMessageVisibility,
	"ChangeMessageVisibilityBatch": (*Server).sqsChangeMessageVisibilityBatch,
	"ListDeadLetterSourceQueues":   (*Server).sqsListDeadLetterSourceQueues,
}

// Limits from the SQS developer guide's quotas page.
const (
	sqsMaxBatch          = 10
	sqsMaxWait           = 20    // seconds, ReceiveMessage WaitTimeSeconds
	sqsMaxVisibility     = 43200 // seconds (12 hours)
	sqsMaxDelay          = 900   // seconds
	sqsMinRetention      = 60
	sqsMaxRetention      = 1209600 // 14 days
	sqsDefaultRetention  = 345600  // 4 days
	sqsDefaultVisibility = 30
	sqsDefaultMaxSize    = 262144
	sqsMaxMaxSize        = 1048576 // the 1 MiB payload limit of August 2025
	sqsMinMaxSize        = 1024
	sqsMaxReceiveCount   = 1000
	sqsDeletedRecently   = 60 * time.Second
)

// sqsState is the SQS part of the world, made on first use.
type sqsState struct {
	queues  map[string]*sqsQueue // account/name
	deleted map[string]time.Time // account/name → when deleted (QueueDeletedRecently)
	seq     int                  // message and receipt numbering
	// polls counts receives waiting now; pollsChanged is closed and
	// replaced when it changes (WaitSQSPolls).
	polls        int
	pollsChanged chan struct{}
}

// WaitSQSPolls waits until at least n receives are waiting in a long
// poll, or ctx ends, and returns how many are. Tests use it to know a
// consumer is parked before they send or move the clock.
func (s *Server) WaitSQSPolls(ctx context.Context, n int) (int, error) {
	for {
		s.mu.Lock()
		st := s.sqsWorld()
		polls, changed := st.polls, st.pollsChanged
		s.mu.Unlock()
		if polls >= n {
			return polls, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return polls, ctx.Err()
		}
	}
}

func (st *sqsState) pollsMoved(d int) {
	st.polls += d
	close(st.pollsChanged)
	st.pollsChanged = make(chan struct{})
}

type sqsQueue struct {
	account, name, region string
	attrs                 map[string]string // settable attributes, as AWS returns them
	created, modified     time.Time
	messages              []*sqsMessage // oldest first
	// wake is closed and replaced whenever a waiting receive might now
	// find a message (send, visibility change) or the queue goes.
	wake    chan struct{}
	deleted bool
}

type sqsMessage struct {
	id, body, md5Body string
	attrs             map[string]SQSAttributeValue
	md5Attrs          string
	sent              time.Time
	visibleAt         time.Time // the message is hidden (delayed or in flight) until then
	receiveCount      int
	firstReceive      time.Time
	handle            string // the latest receipt handle; empty before the first receive
	senderID          string
	traceHeader       string
	dlqSource         string // the ARN of the queue it was moved from
}

// SQSAttributeValue is a message attribute (MessageAttributes).
type SQSAttributeValue struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

// SQSMessage is a message held by a queue, as a test sees it.
type SQSMessage struct {
	MessageID    string
	Body         string
	Attributes   map[string]SQSAttributeValue
	Sent         time.Time
	ReceiveCount int
	// InFlight is true while the message is received and not yet visible
	// again; Delayed while a send delay hides it.
	InFlight, Delayed bool
	// DeadLetterSourceARN is the queue the message was moved from, for a
	// message in a dead-letter queue.
	DeadLetterSourceARN string
}

// WithManualClock sets the server clock to c, and lets long polls wake
// when c is advanced rather than only when real time passes.
func WithManualClock(c *ManualClock) Option {
	return func(s *Server) { s.clock, s.clockChanged = c.Now, c.Changed }
}

func (s *Server) sqsWorld() *sqsState {
	if s.sqs == nil {
		s.sqs = &sqsState{queues: map[string]*sqsQueue{}, deleted: map[string]time.Time{}, pollsChanged: make(chan struct{})}
	}
	return s.sqs
}

// SQSQueueURL is the URL of a queue of this server.
func (s *Server) SQSQueueURL(account, name string) string { return s.url + "/" + account + "/" + name }

// SQSMessages returns the messages a queue holds, oldest first, or false
// when the queue does not exist. Retention is applied first.
func (s *Server) SQSMessages(queueURL string) ([]SQSMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.sqsQueueByURL(queueURL)
	if q == nil {
		return nil, false
	}
	now := s.clock().UTC()
	q.expire(now)
	out := make([]SQSMessage, 0, len(q.messages))
	for _, m := range q.messages {
		hidden := m.visibleAt.After(now)
		out = append(out, SQSMessage{
			MessageID: m.id, Body: m.body, Attributes: m.attrs, Sent: m.sent, ReceiveCount: m.receiveCount,
			InFlight: hidden && m.receiveCount > 0, Delayed: hidden && m.receiveCount == 0, DeadLetterSourceARN: m.dlqSource,
		})
	}
	return out, true
}

// SendSQSAsService delivers body to the queue as a service principal
// (events.amazonaws.com for an EventBridge target) acting for sourceARN
// in sourceAccount, as AWS does: the queue's policy must allow the
// principal sqs:SendMessage, its conditions on aws:SourceArn and
// aws:SourceAccount decide. It returns the message ID.
func (s *Server) SendSQSAsService(queueURL, servicePrincipal, sourceARN, sourceAccount, body string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.sqsQueueByURL(queueURL)
	if q == nil {
		return "", errQueueDoesNotExist()
	}
	ctx := sqsPolicyContext{service: servicePrincipal, sourceARN: sourceARN, sourceAccount: sourceAccount}
	if !s.sqsPolicyAllows(q, "sqs:SendMessage", ctx) {
		return "", errSQSAccessDenied(queueURL)
	}
	now := s.clock().UTC()
	m, err := s.sqsNewMessage(q, now, body, nil, 0, servicePrincipal, "")
	if err != nil {
		return "", err
	}
	q.messages = append(q.messages, m)
	q.notify()
	return m.id, nil
}

func (q *sqsQueue) key() string { return q.account + "/" + q.name }

func (q *sqsQueue) arn(partition string) string {
	return "arn:" + partition + ":sqs:" + q.region + ":" + q.account + ":" + q.name
}

func (q *sqsQueue) notify() {
	close(q.wake)
	q.wake = make(chan struct{})
}

func (q *sqsQueue) intAttr(name string) int {
	n, _ := strconv.Atoi(q.attrs[name])
	return n
}

// expire drops messages past the retention period, counted from when
// they were first sent (for a dead-letter queue too, as for AWS's
// standard queues).
func (q *sqsQueue) expire(now time.Time) {
	keep := time.Duration(q.intAttr("MessageRetentionPeriod")) * time.Second
	q.messages = slices.DeleteFunc(q.messages, func(m *sqsMessage) bool { return !now.Before(m.sent.Add(keep)) })
}

// sqsQueueByURL finds a queue from its URL: the last two path segments
// are account and name, whatever the host (so AWS-shaped URLs work too).
func (s *Server) sqsQueueByURL(raw string) *sqsQueue {
	if s.sqs == nil {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 {
		return nil
	}
	return s.sqs.queues[parts[len(parts)-2]+"/"+parts[len(parts)-1]]
}

// sqsQueueByARN finds a queue by ARN (a dead-letter target).
func (s *Server) sqsQueueByARN(arn string) *sqsQueue {
	parts := strings.Split(arn, ":")
	if s.sqs == nil || len(parts) != 6 || parts[2] != "sqs" {
		return nil
	}
	q := s.sqs.queues[parts[4]+"/"+parts[5]]
	if q == nil || q.arn(s.world.Partition) != arn {
		return nil
	}
	return q
}

// Errors, by the shape names of the SQS model. The x-amzn-query-error
// header carries the legacy (awsQuery) codes the SDK reports as ErrorCode.

func errQueueDoesNotExist() *apiError {
	return &apiError{status: 400, code: "QueueDoesNotExist", message: "The specified queue does not exist."}
}

func errSQSAccessDenied(queueURL string) *apiError {
	return &apiError{status: 403, code: "AccessDenied", message: "Access to the resource " + queueURL + " is denied."}
}

func errInvalidParameterValue(format string, args ...any) *apiError {
	return &apiError{status: 400, code: "InvalidParameterValue", message: fmt.Sprintf(format, args...)}
}

func errSQSMissing(name string) *apiError {
	return &apiError{status: 400, code: "MissingParameter", message: "The request must contain the parameter " + name + "."}
}

// sqsQueryCodes maps the model's error shapes to their awsQuery codes
// (the model's @awsQueryError traits).
var sqsQueryCodes = map[string]string{
	"BatchEntryIdsNotDistinct":     "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
	"BatchRequestTooLong":          "AWS.SimpleQueueService.BatchRequestTooLong",
	"EmptyBatchRequest":            "AWS.SimpleQueueService.EmptyBatchRequest",
	"InvalidBatchEntryId":          "AWS.SimpleQueueService.InvalidBatchEntryId",
	"MessageNotInflight":           "AWS.SimpleQueueService.MessageNotInflight",
	"PurgeQueueInProgress":         "AWS.SimpleQueueService.PurgeQueueInProgress",
	"QueueDeletedRecently":         "AWS.SimpleQueueService.QueueDeletedRecently",
	"QueueDoesNotExist":            "AWS.SimpleQueueService.NonExistentQueue",
	"QueueNameExists":              "QueueAlreadyExists",
	"ReceiptHandleIsInvalid":       "ReceiptHandleIsInvalid",
	"TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
	"UnsupportedOperation":         "AWS.SimpleQueueService.UnsupportedOperation",
	"InvalidAddress":               "InvalidAddress",
	"InvalidSecurity":              "InvalidSecurity",
	"OverLimit":                    "OverLimit",
	"RequestThrottled":             "RequestThrottled",
}

// sqsModelled are the error shapes the SQS model declares (namespace
// com.amazonaws.sqs); anything else is a common error.
var sqsModelled = map[string]bool{
	"InvalidAttributeName": true, "InvalidAttributeValue": true, "InvalidMessageContents": true,
	"KmsAccessDenied": true, "KmsDisabled": true, "KmsInvalidKeyUsage": true, "KmsInvalidState": true,
	"KmsNotFound": true, "KmsOptInRequired": true, "KmsThrottled": true, "ResourceNotFoundException": true,
}

// writeSQSResult writes an awsJson1_0 response.
func writeSQSResult(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	writeJSON10(w, http.StatusOK, v)
}

func writeJSON10(w http.ResponseWriter, status int, v any) {
	if v == nil {
		v = struct{}{}
	}
	body, err := json.Marshal(v)
	if err != nil {
		status = 500
		body = []byte(`{"__type":"com.amazonaws.sqs#InternalError","message":"awsemu: encode response"}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// writeSQSError writes an error as SQS does over JSON: a namespaced
// __type, a lower-case message, and the legacy code in x-amzn-query-error.
func writeSQSError(w http.ResponseWriter, e *apiError) {
	typ := e.code
	query, modelled := sqsQueryCodes[e.code]
	switch {
	case modelled || sqsModelled[e.code]:
		typ = "com.amazonaws.sqs#" + e.code
	case e.code == "AccessDenied":
		typ, query = "com.amazon.coral.service#AccessDeniedException", "AccessDenied"
	default:
		query = e.code
	}
	if query != "" {
		fault := "Sender"
		if e.status >= 500 {
			fault = "Receiver"
		}
		w.Header().Set("x-amzn-query-error", query+";"+fault)
	}
	writeJSON10(w, e.status, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{typ, e.message})
}

// The queue's attributes: which can be set, their defaults and checks.

var sqsSettable = map[string]bool{
	"DelaySeconds": true, "MaximumMessageSize": true, "MessageRetentionPeriod": true, "Policy": true,
	"ReceiveMessageWaitTimeSeconds": true, "VisibilityTimeout": true, "RedrivePolicy": true,
	"RedriveAllowPolicy": true, "KmsMasterKeyId": true, "KmsDataKeyReusePeriodSeconds": true,
	"SqsManagedSseEnabled": true, "FifoQueue": true, "ContentBasedDeduplication": true,
	"DeduplicationScope": true, "FifoThroughputLimit": true,
}

var sqsReadOnly = []string{
	"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible",
	"CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
}

var sqsIntRanges = map[string][2]int{
	"DelaySeconds":                  {0, sqsMaxDelay},
	"MaximumMessageSize":            {sqsMinMaxSize, sqsMaxMaxSize},
	"MessageRetentionPeriod":        {sqsMinRetention, sqsMaxRetention},
	"ReceiveMessageWaitTimeSeconds": {0, sqsMaxWait},
	"VisibilityTimeout":             {0, sqsMaxVisibility},
	"KmsDataKeyReusePeriodSeconds":  {60, 86400},
}

func sqsDefaults() map[string]string {
	return map[string]string{
		"DelaySeconds":                  "0",
		"MaximumMessageSize":            strconv.Itoa(sqsDefaultMaxSize),
		"MessageRetentionPeriod":        strconv.Itoa(sqsDefaultRetention),
		"ReceiveMessageWaitTimeSeconds": "0",
		"VisibilityTimeout":             strconv.Itoa(sqsDefaultVisibility),
		// New queues are encrypted with SSE-SQS by default (since 2022).
		"SqsManagedSseEnabled": "true",
	}
}

func errBadAttr(name string) *apiError {
	return &apiError{status: 400, code: "InvalidAttributeValue", message: "Invalid value for the parameter " + name + "."}
}

// applyAttrs checks attrs and applies them to into (a queue's attributes
// or a candidate copy). self is the queue being changed, if it exists.
func (s *Server) sqsApplyAttrs(into map[string]string, attrs map[string]string, account string, creating bool) *apiError {
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := attrs[name]
		if !sqsSettable[name] {
			return &apiError{status: 400, code: "InvalidAttributeName", message: "Unknown Attribute " + name + "."}
		}
		if rng, ok := sqsIntRanges[name]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < rng[0] || n > rng[1] {
				return errBadAttr(name)
			}
			into[name] = strconv.Itoa(n)
			continue
		}
		switch name {
		case "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit":
			if name == "FifoQueue" && v == "false" {
				continue
			}
			return &apiError{status: 400, code: "InvalidAttributeName", message: "awsemu emulates standard queues only; " + name + " is for FIFO queues."}
		case "SqsManagedSseEnabled":
			if v != "true" && v != "false" {
				return errBadAttr(name)
			}
			if v == "true" && attrs["KmsMasterKeyId"] != "" {
				return &apiError{status: 400, code: "InvalidAttributeName", message: "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE."}
			}
			into[name] = v
			if v == "true" {
				delete(into, "KmsMasterKeyId")
				delete(into, "KmsDataKeyReusePeriodSeconds")
			}
		case "KmsMasterKeyId":
			if v == "" {
				delete(into, name)
				continue
			}
			into[name] = v
			into["SqsManagedSseEnabled"] = "false"
			if into["KmsDataKeyReusePeriodSeconds"] == "" {
				into["KmsDataKeyReusePeriodSeconds"] = "300"
			}
		case "Policy":
			if v == "" {
				delete(into, name)
				continue
			}
			if _, err := parseSQSPolicy(v); err != nil {
				return errBadAttr(name)
			}
			into[name] = v
		case "RedriveAllowPolicy":
			if v == "" {
				delete(into, name)
				continue
			}
			var p struct {
				RedrivePermission string `json:"redrivePermission"`
			}
			if json.Unmarshal([]byte(v), &p) != nil || !slices.Contains([]string{"allowAll", "denyAll", "byQueue"}, p.RedrivePermission) {
				return errBadAttr(name)
			}
			into[name] = v
		case "RedrivePolicy":
			if v == "" {
				delete(into, name)
				continue
			}
			rp, err := parseRedrivePolicy(v)
			if err != nil {
				return errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. Reason: %s", v, err.Error())
			}
			dlq := s.sqsQueueByARN(rp.target)
			if dlq == nil || dlq.account != account {
				return errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.", v)
			}
			// AWS returns the policy re-encoded with a numeric count.
			into[name] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, rp.target, rp.maxReceive)
		}
	}
	return nil
}

type redrivePolicy struct {
	target     string
	maxReceive int
}

// parseRedrivePolicy reads {"deadLetterTargetArn":…,"maxReceiveCount":N};
// the count may be a number or a string, as AWS accepts both.
func parseRedrivePolicy(v string) (redrivePolicy, error) {
	var raw struct {
		Target     string          `json:"deadLetterTargetArn"`
		MaxReceive json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return redrivePolicy{}, fmt.Errorf("Invalid JSON.")
	}
	if raw.Target == "" {
		return redrivePolicy{}, fmt.Errorf("Redrive policy does not contain deadLetterTargetArn.")
	}
	s := strings.Trim(string(raw.MaxReceive), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > sqsMaxReceiveCount {
		return redrivePolicy{}, fmt.Errorf("Invalid value for maxReceiveCount: %s, valid values are from 1 to %d both inclusive.", s, sqsMaxReceiveCount)
	}
	return redrivePolicy{target: raw.Target, maxReceive: n}, nil
}

var sqsQueueName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

type sqsQueueInput struct {
	QueueURL string `json:"QueueUrl"`
}

// sqsQueue finds the request's queue and checks the caller may act on it.
func (s *Server) sqsQueue(r *request, queueURL string) (*sqsQueue, *apiError) {
	if queueURL == "" {
		return nil, errSQSMissing("QueueUrl")
	}
	q := s.sqsQueueByURL(queueURL)
	if q == nil {
		return nil, errQueueDoesNotExist()
	}
	if q.account != r.caller.account.ID {
		ctx := sqsPolicyContext{principalAccount: r.caller.account.ID, principalARN: r.caller.arn(s.world.Partition)}
		if !s.sqsPolicyAllows(q, "sqs:"+r.action, ctx) {
			return nil, errSQSAccessDenied(queueURL)
		}
	}
	q.expire(r.now)
	return q, nil
}

func (s *Server) sqsCreateQueue(r *request) (any, *apiError) {
	var in struct {
		QueueName  string            `json:"QueueName"`
		Attributes map[string]string `json:"Attributes"`
		Tags       map[string]string `json:"tags"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, errSQSMissing("QueueName")
	}
	if strings.HasSuffix(in.QueueName, ".fifo") || !sqsQueueName.MatchString(in.QueueName) {
		if strings.HasSuffix(in.QueueName, ".fifo") {
			return nil, &apiError{status: 400, code: "InvalidAttributeName", message: "awsemu emulates standard queues only."}
		}
		return nil, errInvalidParameterValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	st := s.sqsWorld()
	account := r.caller.account.ID
	key := account + "/" + in.QueueName
	attrs := sqsDefaults()
	if err := s.sqsApplyAttrs(attrs, in.Attributes, account, true); err != nil {
		return nil, err
	}
	if q := st.queues[key]; q != nil {
		// Creating an existing queue returns it when every given
		// attribute matches, and fails otherwise.
		for k := range in.Attributes {
			if q.attrs[k] != attrs[k] {
				return nil, &apiError{status: 400, code: "QueueNameExists", message: fmt.Sprintf("A queue already exists with the same name and a different value for attribute %s", k)}
			}
		}
		return struct {
			QueueURL string `json:"QueueUrl"`
		}{s.SQSQueueURL(account, in.QueueName)}, nil
	}
	if at, ok := st.deleted[key]; ok && r.now.Sub(at) < sqsDeletedRecently {
		return nil, &apiError{status: 400, code: "QueueDeletedRecently", message: "You must wait 60 seconds after deleting a queue before you can create another with the same name."}
	}
	region := r.region
	if region == "" {
		region = partitionRegion[s.world.Partition]
	}
	st.queues[key] = &sqsQueue{account: account, name: in.QueueName, region: region, attrs: attrs,
		created: r.now, modified: r.now, wake: make(chan struct{})}
	return struct {
		QueueURL string `json:"QueueUrl"`
	}{s.SQSQueueURL(account, in.QueueName)}, nil
}

func (s *Server) sqsGetQueueURL(r *request) (any, *apiError) {
	var in struct {
		QueueName string `json:"QueueName"`
		Owner     string `json:"QueueOwnerAWSAccountId"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, errSQSMissing("QueueName")
	}
	owner := in.Owner
	if owner == "" {
		owner = r.caller.account.ID
	}
	u := s.SQSQueueURL(owner, in.QueueName)
	if _, err := s.sqsQueue(r, u); err != nil {
		return nil, err
	}
	return struct {
		QueueURL string `json:"QueueUrl"`
	}{u}, nil
}

func (s *Server) sqsGetQueueAttributes(r *request) (any, *apiError) {
	var in struct {
		sqsQueueInput
		AttributeNames []string `json:"AttributeNames"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	all := q.allAttrs(r.now, s.world.Partition)
	out := map[string]string{}
	for _, name := range in.AttributeNames {
		if name == "All" {
			out = all
			break
		}
		if !sqsSettable[name] && !slices.Contains(sqsReadOnly, name) {
			return nil, &apiError{status: 400, code: "InvalidAttributeName", message: "Unknown Attribute " + name + "."}
		}
		if v, ok := all[name]; ok {
			out[name] = v
		}
	}
	return struct {
		Attributes map[string]string `json:"Attributes,omitempty"`
	}{out}, nil
}

func (q *sqsQueue) allAttrs(now time.Time, partition string) map[string]string {
	out := map[string]string{}
	for k, v := range q.attrs {
		out[k] = v
	}
	var visible, hidden, delayed int
	for _, m := range q.messages {
		switch {
		case !m.visibleAt.After(now):
			visible++
		case m.receiveCount == 0:
			delayed++
		default:
			hidden++
		}
	}
	out["ApproximateNumberOfMessages"] = strconv.Itoa(visible)
	out["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(hidden)
	out["ApproximateNumberOfMessagesDelayed"] = strconv.Itoa(delayed)
	out["CreatedTimestamp"] = strconv.FormatInt(q.created.Unix(), 10)
	out["LastModifiedTimestamp"] = strconv.FormatInt(q.modified.Unix(), 10)
	out["QueueArn"] = q.arn(partition)
	return out
}

func (s *Server) sqsSetQueueAttributes(r *request) (any, *apiError) {
	var in struct {
		sqsQueueInput
		Attributes map[string]string `json:"Attributes"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	if in.Attributes == nil {
		return nil, errSQSMissing("Attributes")
	}
	next := map[string]string{}
	for k, v := range q.attrs {
		next[k] = v
	}
	if err := s.sqsApplyAttrs(next, in.Attributes, q.account, false); err != nil {
		return nil, err
	}
	if rp, ok := next["RedrivePolicy"]; ok {
		p, _ := parseRedrivePolicy(rp)
		if p.target == q.arn(s.world.Partition) {
			return nil, errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter target can not be the source queue.", rp)
		}
	}
	q.attrs = next
	q.modified = r.now
	q.notify() // a shorter wait or visibility may end a poll sooner
	return nil, nil
}

func (s *Server) sqsDeleteQueue(r *request) (any, *apiError) {
	var in sqsQueueInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	delete(s.sqs.queues, q.key())
	s.sqs.deleted[q.key()] = r.now
	q.deleted = true
	q.notify()
	return nil, nil
}

func (s *Server) sqsPurgeQueue(r *request) (any, *apiError) {
	var in sqsQueueInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	q.messages = nil
	return nil, nil
}

func (s *Server) sqsListQueues(r *request) (any, *apiError) {
	var in struct {
		Prefix     string `json:"QueueNamePrefix"`
		MaxResults *int   `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 1000) {
		return nil, errInvalidParameterValue("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", *in.MaxResults)
	}
	if in.NextToken != "" && in.MaxResults == nil {
		return nil, errInvalidParameterValue("MaxResults is a mandatory parameter when you provide a value for NextToken.")
	}
	var names []string
	if s.sqs != nil {
		for _, q := range s.sqs.queues {
			if q.account == r.caller.account.ID && strings.HasPrefix(q.name, in.Prefix) {
				names = append(names, q.name)
			}
		}
	}
	sort.Strings(names)
	start := 0
	if in.NextToken != "" {
		after, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil {
			return nil, errInvalidParameterValue("Invalid NextToken value.")
		}
		start = sort.SearchStrings(names, string(after)+"\x00")
	}
	limit := 1000
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	out := struct {
		QueueURLs []string `json:"QueueUrls,omitempty"`
		NextToken string   `json:"NextToken,omitempty"`
	}{}
	for i := start; i < len(names) && len(out.QueueURLs) < limit; i++ {
		out.QueueURLs = append(out.QueueURLs, s.SQSQueueURL(r.caller.account.ID, names[i]))
		if len(out.QueueURLs) == limit && i+1 < len(names) && in.MaxResults != nil {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(names[i]))
		}
	}
	return out, nil
}

func (s *Server) sqsListDeadLetterSourceQueues(r *request) (any, *apiError) {
	var in sqsQueueInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	arn := q.arn(s.world.Partition)
	var urls []string
	for _, src := range s.sqs.queues {
		if p, perr := parseRedrivePolicy(src.attrs["RedrivePolicy"]); perr == nil && p.target == arn {
			urls = append(urls, s.SQSQueueURL(src.account, src.name))
		}
	}
	sort.Strings(urls)
	return struct {
		QueueURLs []string `json:"queueUrls"`
	}{urls}, nil
}

// Messages.

type sqsSendEntry struct {
	ID                      string                       `json:"Id"`
	MessageBody             *string                      `json:"MessageBody"`
	DelaySeconds            *int                         `json:"DelaySeconds"`
	MessageAttributes       map[string]SQSAttributeValue `json:"MessageAttributes"`
	MessageSystemAttributes map[string]SQSAttributeValue `json:"MessageSystemAttributes"`
	MessageDeduplicationID  string                       `json:"MessageDeduplicationId"`
	MessageGroupID          string                       `json:"MessageGroupId"`
}

type sqsSendResult struct {
	ID               string `json:"Id,omitempty"`
	MessageID        string `json:"MessageId"`
	MD5OfMessageBody string `json:"MD5OfMessageBody"`
	MD5OfAttrs       string `json:"MD5OfMessageAttributes,omitempty"`
}

// validSQSBody holds to the characters SQS allows: #x9 | #xA | #xD |
// #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func validSQSBody(b string) bool {
	if !utf8.ValidString(b) {
		return false
	}
	for _, c := range b {
		switch {
		case c == 0x9, c == 0xA, c == 0xD, c >= 0x20 && c <= 0xD7FF, c >= 0xE000 && c <= 0xFFFD, c >= 0x10000 && c <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

// sqsNewMessage checks one message and makes it; the caller appends it.
func (s *Server) sqsNewMessage(q *sqsQueue, now time.Time, body string, attrs map[string]SQSAttributeValue, delay int, sender, trace string) (*sqsMessage, *apiError) {
	if body == "" {
		return nil, errSQSMissing("MessageBody")
	}
	if !validSQSBody(body) {
		return nil, &apiError{status: 400, code: "InvalidMessageContents", message: "Invalid binary character in the message body."}
	}
	size := len(body)
	for name, v := range attrs {
		if name == "" || len(name) > 256 || v.DataType == "" || (v.StringValue == "" && len(v.BinaryValue) == 0) {
			return nil, errInvalidParameterValue("The message attribute '%s' is invalid.", name)
		}
		t := v.DataType
		if i := strings.IndexByte(t, '.'); i >= 0 {
			t = t[:i]
		}
		if t != "String" && t != "Number" && t != "Binary" {
			return nil, errInvalidParameterValue("The message attribute '%s' has an invalid message attribute type.", name)
		}
		size += len(name) + len(v.DataType) + len(v.StringValue) + len(v.BinaryValue)
	}
	if len(attrs) > 10 {
		return nil, errInvalidParameterValue("Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	if max := q.intAttr("MaximumMessageSize"); size > max {
		return nil, errInvalidParameterValue("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", max)
	}
	if delay < 0 || delay > sqsMaxDelay {
		return nil, errInvalidParameterValue("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= %d.", delay, sqsMaxDelay)
	}
	s.sqs.seq++
	sum := md5.Sum([]byte(body))
	m := &sqsMessage{
		id:          derivedUUID(fmt.Sprintf("sqs-message-%d-%d", s.sqs.seq, s.seq)),
		body:        body,
		md5Body:     hex.EncodeToString(sum[:]),
		attrs:       attrs,
		sent:        now,
		visibleAt:   now.Add(time.Duration(delay) * time.Second),
		senderID:    sender,
		traceHeader: trace,
	}
	if len(attrs) > 0 {
		m.md5Attrs = md5OfAttributes(attrs)
	}
	return m, nil
}

// md5OfAttributes is SQS's digest of message attributes: for each name in
// order, the name, the data type and the value, each with a 4-byte
// big-endian length, and a transport byte (1 string, 2 binary) before the
// value.
func md5OfAttributes(attrs map[string]SQSAttributeValue) string {
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	h := md5.New()
	put := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, name := range names {
		v := attrs[name]
		put([]byte(name))
		put([]byte(v.DataType))
		if strings.HasPrefix(v.DataType, "Binary") {
			h.Write([]byte{2})
			put(v.BinaryValue)
		} else {
			h.Write([]byte{1})
			put([]byte(v.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) sqsSendEntry(r *request, q *sqsQueue, e sqsSendEntry) (*sqsMessage, *apiError) {
	if e.MessageDeduplicationID != "" {
		return nil, errInvalidParameterValue("The request includes parameter MessageDeduplicationId that is not valid for this queue type.")
	}
	body := ""
	if e.MessageBody != nil {
		body = *e.MessageBody
	}
	delay := q.intAttr("DelaySeconds")
	if e.DelaySeconds != nil {
		delay = *e.DelaySeconds
	}
	trace := ""
	for k, v := range e.MessageSystemAttributes {
		if k != "AWSTraceHeader" || v.DataType != "String" {
			return nil, errInvalidParameterValue("Message system attribute name '%s' is invalid.", k)
		}
		trace = v.StringValue
	}
	return s.sqsNewMessage(q, r.now, body, e.MessageAttributes, delay, r.caller.userID(), trace)
}

func (s *Server) sqsSendMessage(r *request) (any, *apiError) {
	var in struct {
		sqsQueueInput
		sqsSendEntry
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	m, err := s.sqsSendEntry(r, q, in.sqsSendEntry)
	if err != nil {
		return nil, err
	}
	q.messages = append(q.messages, m)
	q.notify()
	return sqsSendResult{MessageID: m.id, MD5OfMessageBody: m.md5Body, MD5OfAttrs: m.md5Attrs}, nil
}

var sqsBatchID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

type sqsBatchError struct {
	ID          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

// checkBatch applies the rules every batch request shares.
func checkBatch(ids []string) *apiError {
	if len(ids) == 0 {
		return &apiError{status: 400, code: "EmptyBatchRequest", message: "There should be at least one SendMessageBatchRequestEntry in the request."}
	}
	if len(ids) > sqsMaxBatch {
		return &apiError{status: 400, code: "TooManyEntriesInBatchRequest", message: fmt.Sprintf("Maximum number of entries per request are %d. You have sent %d.", sqsMaxBatch, len(ids))}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !sqsBatchID.MatchString(id) {
			return &apiError{status: 400, code: "InvalidBatchEntryId", message: "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."}
		}
		if seen[id] {
			return &apiError{status: 400, code: "BatchEntryIdsNotDistinct", message: "Id " + id + " repeated."}
		}
		seen[id] = true
	}
	return nil
}

func (s *Server) sqsSendMessageBatch(r *request) (any, *apiError) {
	var in struct {
		sqsQueueInput
		Entries []sqsSendEntry `json:"Entries"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		ids[i] = e.ID
		if e.MessageBody != nil {
			total += len(*e.MessageBody)
		}
	}
	if err := checkBatch(ids); err != nil {
		return nil, err
	}
	if max := q.intAttr("MaximumMessageSize"); total > max {
		return nil, &apiError{status: 400, code: "BatchRequestTooLong", message: fmt.Sprintf("Batch requests cannot be longer than %d bytes. You have sent %d bytes.", max, total)}
	}
	out := struct {
		Successful []sqsSendResult `json:"Successful"`
		Failed     []sqsBatchError `json:"Failed"`
	}{Successful: []sqsSendResult{}, Failed: []sqsBatchError{}}
	for _, e := range in.Entries {
		m, err := s.sqsSendEntry(r, q, e)
		if err != nil {
			out.Failed = append(out.Failed, sqsBatchError{ID: e.ID, SenderFault: true, Code: sqsEntryCode(err), Message: err.message})
			continue
		}
		q.messages = append(q.messages, m)
		out.Successful = append(out.Successful, sqsSendResult{ID: e.ID, MessageID: m.id, MD5OfMessageBody: m.md5Body, MD5OfAttrs: m.md5Attrs})
	}
	q.notify()
	return out, nil
}

// sqsEntryCode is the code a batch result entry carries: the legacy one.
func sqsEntryCode(e *apiError) string {
	if c, ok := sqsQueryCodes[e.code]; ok {
		return c
	}
	return e.code
}

// Receiving.

// sqsPoll is what a receive that found nothing returns while its wait
// lasts; serveHTTP waits (sqsLongPoll) and runs the receive again.
type sqsPoll struct {
	wake     chan struct{}
	deadline time.Time // server clock
	next     time.Time // server clock: the next hidden message to become visible, or zero
	now      time.Time
}

type sqsReceived struct {
	MessageID         string                       `json:"MessageId"`
	ReceiptHandle     string                       `json:"ReceiptHandle"`
	MD5OfBody         string                       `json:"MD5OfBody"`
	Body              string                       `json:"Body"`
	Attributes        map[string]string            `json:"Attributes,omitempty"`
	MD5OfAttrs        string                       `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes map[string]SQSAttributeValue `json:"MessageAttributes,omitempty"`
}

var sqsSystemAttrs = []string{
	"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
	"AWSTraceHeader", "DeadLetterQueueSourceArn",
}

func (s *Server) sqsReceiveMessage(r *request) (any, *apiError) {
	var in struct {
		sqsQueueInput
		MaxNumberOfMessages         *int     `json:"MaxNumberOfMessages"`
		VisibilityTimeout           *int     `json:"VisibilityTimeout"`
		WaitTimeSeconds             *int     `json:"WaitTimeSeconds"`
		AttributeNames              []string `json:"AttributeNames"`
		MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
		MessageAttributeNames       []string `json:"MessageAttributeNames"`
		ReceiveRequestAttemptID     string   `json:"ReceiveRequestAttemptId"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
		if max < 1 || max > sqsMaxBatch {
			return nil, errInvalidParameterValue("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
		}
	}
	visibility := q.intAttr("VisibilityTimeout")
	if in.VisibilityTimeout != nil {
		visibility = *in.VisibilityTimeout
		if visibility < 0 || visibility > sqsMaxVisibility {
			return nil, errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= %d, if provided.", visibility, sqsMaxVisibility)
		}
	}
	wait := q.intAttr("ReceiveMessageWaitTimeSeconds")
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
		if wait < 0 || wait > sqsMaxWait {
			return nil, errInvalidParameterValue("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= %d, if provided.", wait, sqsMaxWait)
		}
	}
	if r.sqsDeadline.IsZero() {
		r.sqsDeadline = r.now.Add(time.Duration(wait) * time.Second)
	}
	wantSys := map[string]bool{}
	for _, n := range append(in.AttributeNames, in.MessageSystemAttributeNames...) {
		if n == "All" {
			for _, a := range sqsSystemAttrs {
				wantSys[a] = true
			}
		}
		wantSys[n] = true
	}

	var dlq *sqsQueue
	rp, rperr := parseRedrivePolicy(q.attrs["RedrivePolicy"])
	if rperr == nil {
		dlq = s.sqsQueueByARN(rp.target)
	}
	got := []sqsReceived{}
	var next time.Time
	moved := false
	for i := 0; i < len(q.messages) && len(got) < max; i++ {
		m := q.messages[i]
		if m.visibleAt.After(r.now) {
			if next.IsZero() || m.visibleAt.Before(next) {
				next = m.visibleAt
			}
			continue
		}
		if dlq != nil && m.receiveCount >= rp.maxReceive {
			// Received maxReceiveCount times and not deleted: the next
			// receive moves it to the dead-letter queue instead.
			q.messages = slices.Delete(q.messages, i, i+1)
			i--
			m.dlqSource, m.receiveCount, m.handle, m.visibleAt, m.firstReceive = q.arn(s.world.Partition), 0, "", time.Time{}, time.Time{}
			dlq.messages = append(dlq.messages, m)
			moved = true
			continue
		}
		s.sqs.seq++
		m.receiveCount++
		if m.firstReceive.IsZero() {
			m.firstReceive = r.now
		}
		m.visibleAt = r.now.Add(time.Duration(visibility) * time.Second)
		m.handle = receiptHandle(q.key(), m.id, s.sqs.seq)
		got = append(got, m.received(wantSys, in.MessageAttributeNames))
	}
	if moved {
		dlq.notify()
	}
	if len(got) == 0 && r.now.Before(r.sqsDeadline) {
		return &sqsPoll{wake: q.wake, deadline: r.sqsDeadline, next: next, now: r.now}, nil
	}
	return struct {
		Messages []sqsReceived `json:"Messages,omitempty"`
	}{got}, nil
}

func (m *sqsMessage) received(sys map[string]bool, attrNames []string) sqsReceived {
	out := sqsReceived{MessageID: m.id, ReceiptHandle: m.handle, MD5OfBody: m.md5Body, Body: m.body}
	attrs := map[string]string{}
	add := func(name, v string) {
		if sys[name] && v != "" {
			attrs[name] = v
		}
	}
	add("SenderId", m.senderID)
	add("SentTimestamp", strconv.FormatInt(m.sent.UnixMilli(), 10))
	add("ApproximateReceiveCount", strconv.Itoa(m.receiveCount))
	add("ApproximateFirstReceiveTimestamp", strconv.FormatInt(m.firstReceive.UnixMilli(), 10))
	add("AWSTraceHeader", m.traceHeader)
	add("DeadLetterQueueSourceArn", m.dlqSource)
	if len(attrs) > 0 {
		out.Attributes = attrs
	}
	// MessageAttributeNames selects by name, "All"/".*", or "prefix.*".
	sel := map[string]SQSAttributeValue{}
	for name, v := range m.attrs {
		for _, want := range attrNames {
			if want == "All" || want == ".*" || want == name ||
				(strings.HasSuffix(want, ".*") && strings.HasPrefix(name, strings.TrimSuffix(want, "*"))) {
				sel[name] = v
				break
			}
		}
	}
	if len(sel) > 0 {
		out.MessageAttributes = sel
		out.MD5OfAttrs = md5OfAttributes(sel)
	}
	return out
}

// receiptHandle encodes queue, message and which receive it was; only
// the latest receive's handle may change a message's visibility.
func receiptHandle(queueKey, msgID string, seq int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("awsemu1\x00" + queueKey + "\x00" + msgID + "\x00" + strconv.Itoa(seq)))
}

func parseReceiptHandle(h string) (queueKey, msgID string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 4 || parts[0] != "awsemu1" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// sqsLongPoll is called by serveHTTP, holding s.mu, with the result of a
// handler. While the result is an sqsPoll it releases the lock, waits and
// runs the receive again; it returns the final result.
func (s *Server) sqsLongPoll(ctx context.Context, r *request, result any, perr *apiError) (any, *apiError) {
	for perr == nil {
		p, ok := result.(*sqsPoll)
		if !ok {
			return result, nil
		}
		var changed <-chan struct{}
		if s.clockChanged != nil {
			changed = s.clockChanged()
		}
		until := p.deadline
		if !p.next.IsZero() && p.next.Before(until) {
			until = p.next
		}
		s.sqs.pollsMoved(1)
		s.mu.Unlock()
		timer := time.NewTimer(max(until.Sub(p.now), time.Millisecond))
		gone := false
		select {
		case <-p.wake:
		case <-changed:
		case <-timer.C:
		case <-ctx.Done():
			gone = true
		case <-s.closing:
			gone = true
		}
		timer.Stop()
		s.mu.Lock()
		s.sqs.pollsMoved(-1)
		r.now = s.clock().UTC()
		if gone {
			return struct{}{}, nil
		}
		result, perr = s.sqsReceiveMessage(r)
	}
	return nil, perr
}

type sqsHandleEntry struct {
	ID                string `json:"Id"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int   `json:"VisibilityTimeout"`
}

// sqsFind resolves a receipt handle to its message (nil when the message
// is gone: deleted, expired or moved).
func (s *Server) sqsFind(q *sqsQueue, handle string) (int, *sqsMessage, *apiError) {
	if handle == "" {
		return 0, nil, errSQSMissing("ReceiptHandle")
	}
	key, id, ok := parseReceiptHandle(handle)
	if !ok || key != q.key() {
		return 0, nil, &apiError{status: 400, code: "ReceiptHandleIsInvalid", message: fmt.Sprintf("The input receipt handle \"%s\" is not a valid receipt handle.", handle)}
	}
	for i, m := range q.messages {
		if m.id == id {
			return i, m, nil
		}
	}
	return 0, nil, nil
}

func (s *Server) sqsDeleteOne(q *sqsQueue, handle string) *apiError {
	i, m, err := s.sqsFind(q, handle)
	if err != nil {
		return err
	}
	// Deleting a message that is already gone succeeds, as on AWS: a
	// receipt handle stays good for a delete after the message went.
	if m != nil {
		q.messages = slices.Delete(q.messages, i, i+1)
	}
	return nil
}

func (s *Server) sqsChangeOne(r *request, q *sqsQueue, handle string, timeout *int) *apiError {
	if timeout == nil {
		return errSQSMissing("VisibilityTimeout")
	}
	if *timeout < 0 || *timeout > sqsMaxVisibility {
		return errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and %d.", *timeout, sqsMaxVisibility)
	}
	_, m, err := s.sqsFind(q, handle)
	if err != nil {
		return err
	}
	if m != nil && m.handle != handle {
		return errInvalidParameterValue("Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", handle)
	}
	if m == nil || !m.visibleAt.After(r.now) {
		return &apiError{status: 400, code: "MessageNotInflight", message: "The message referred to isn't in flight."}
	}
	// The new timeout counts from now, and the total from the first
	// receive may not pass 12 hours.
	if r.now.Add(time.Duration(*timeout) * time.Second).After(m.firstReceive.Add(sqsMaxVisibility * time.Second)) {
		return errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]", *timeout)
	}
	m.visibleAt = r.now.Add(time.Duration(*timeout) * time.Second)
	if *timeout == 0 {
		q.notify()
	}
	return nil
}

func (s *Server) sqsDeleteMessage(r *request) (any, *apiError) {
	var in struct {
		sqsQueueInput
		ReceiptHandle string `json:"ReceiptHandle"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	return nil, s.sqsDeleteOne(q, in.ReceiptHandle)
}

func (s *Server) sqsChangeMessageVisibility(r *request) (any, *apiError) {
	var in struct {
		sqsQueueInput
		sqsHandleEntry
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	return nil, s.sqsChangeOne(r, q, in.ReceiptHandle, in.VisibilityTimeout)
}

type sqsBatchOK struct {
	ID string `json:"Id"`
}

func (s *Server) sqsHandleBatch(r *request, each func(*sqsQueue, sqsHandleEntry) *apiError) (any, *apiError) {
	var in struct {
		sqsQueueInput
		Entries []sqsHandleEntry `json:"Entries"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	q, err := s.sqsQueue(r, in.QueueURL)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.ID
	}
	if err := checkBatch(ids); err != nil {
		return nil, err
	}
	out := struct {
		Successful []sqsBatchOK    `json:"Successful"`
		Failed     []sqsBatchError `json:"Failed"`
	}{Successful: []sqsBatchOK{}, Failed: []sqsBatchError{}}
	for _, e := range in.Entries {
		if err := each(q, e); err != nil {
			out.Failed = append(out.Failed, sqsBatchError{ID: e.ID, SenderFault: true, Code: sqsEntryCode(err), Message: err.message})
			continue
		}
		out.Successful = append(out.Successful, sqsBatchOK{ID: e.ID})
	}
	return out, nil
}

func (s *Server) sqsDeleteMessageBatch(r *request) (any, *apiError) {
	return s.sqsHandleBatch(r, func(q *sqsQueue, e sqsHandleEntry) *apiError { return s.sqsDeleteOne(q, e.ReceiptHandle) })
}

func (s *Server) sqsChangeMessageVisibilityBatch(r *request) (any, *apiError) {
	return s.sqsHandleBatch(r, func(q *sqsQueue, e sqsHandleEntry) *apiError {
		return s.sqsChangeOne(r, q, e.ReceiptHandle, e.VisibilityTimeout)
	})
}

// The queue policy, for callers from other accounts and for services.

type sqsPolicyContext struct {
	principalAccount, principalARN string // an AWS principal
	service                        string // a service principal
	sourceARN, sourceAccount       string
}

type sqsStatement struct {
	Effect    string                                `json:"Effect"`
	Principal json.RawMessage                       `json:"Principal"`
	Action    stringOrList                          `json:"Action"`
	Resource  stringOrList                          `json:"Resource"`
	Condition map[string]map[string]json.RawMessage `json:"Condition"`
}

type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

func parseSQSPolicy(doc string) ([]sqsStatement, error) {
	var p struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, err
	}
	var sts []sqsStatement
	if err := json.Unmarshal(p.Statement, &sts); err != nil {
		var one sqsStatement
		if err := json.Unmarshal(p.Statement, &one); err != nil {
			return nil, fmt.Errorf("no statements")
		}
		sts = []sqsStatement{one}
	}
	for _, st := range sts {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, fmt.Errorf("bad effect %q", st.Effect)
		}
	}
	return sts, nil
}

// sqsPolicyAllows evaluates the queue policy for one action: an explicit
// deny wins, then an allow. Conditions understood are the string and ARN
// operators on aws:SourceArn, aws:SourceAccount, aws:PrincipalAccount and
// aws:PrincipalArn; an allow with any other condition does not apply, a
// deny with one does (the emulator errs toward refusing).
func (s *Server) sqsPolicyAllows(q *sqsQueue, action string, ctx sqsPolicyContext) bool {
	sts, err := parseSQSPolicy(q.attrs["Policy"])
	if err != nil {
		return false
	}
	arn := q.arn(s.world.Partition)
	allowed := false
	for _, st := range sts {
		if !st.matchesPrincipal(ctx) || !matchAny(st.Action, action, true) || (len(st.Resource) > 0 && !matchAny(st.Resource, arn, false)) {
			continue
		}
		cond, known := st.conditionsHold(ctx)
		if st.Effect == "Deny" && (cond || !known) {
			return false
		}
		if st.Effect == "Allow" && cond && known {
			allowed = true
		}
	}
	return allowed
}

func matchAny(patterns []string, value string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, value = strings.ToLower(p), strings.ToLower(value)
		}
		if wildcardMatch(p, value) {
			return true
		}
	}
	return false
}

// wildcardMatch matches * (any run) and ? (one character).
func wildcardMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcardMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcardMatch(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && wildcardMatch(pattern[1:], s[1:])
}

func (st sqsStatement) matchesPrincipal(ctx sqsPolicyContext) bool {
	var star string
	if json.Unmarshal(st.Principal, &star) == nil {
		return star == "*"
	}
	var m map[string]stringOrList
	if json.Unmarshal(st.Principal, &m) != nil {
		return false
	}
	if ctx.service != "" {
		return slices.Contains(m["Service"], ctx.service)
	}
	for _, p := range m["AWS"] {
		if p == "*" || p == ctx.principalAccount || p == ctx.principalARN ||
			p == "arn:aws:iam::"+ctx.principalAccount+":root" || strings.HasSuffix(p, ":iam::"+ctx.principalAccount+":root") {
			return true
		}
	}
	return false
}

// conditionsHold reports whether every condition holds, and whether all
// of them were understood.
func (st sqsStatement) conditionsHold(ctx sqsPolicyContext) (hold, known bool) {
	values := map[string]string{
		"aws:sourcearn": ctx.sourceARN, "aws:sourceaccount": ctx.sourceAccount,
		"aws:principalaccount": ctx.principalAccount, "aws:principalarn": ctx.principalARN,
		// Every SDK call and every service delivery reaches AWS over TLS
		// (the emulator's plain HTTP stands in for it), so a policy's
		// deny of insecure transport never applies.
		"aws:securetransport": "true",
	}
	hold = true
	for op, keys := range st.Condition {
		for key, raw := range keys {
			var want stringOrList
			if json.Unmarshal(raw, &want) != nil {
				return false, false
			}
			have, ok := values[strings.ToLower(key)]
			if !ok {
				return false, false
			}
			var match bool
			switch op {
			case "StringEquals", "ArnEquals":
				match = have != "" && slices.Contains(want, have)
			case "StringLike", "ArnLike":
				match = have != "" && matchAny(want, have, false)
			case "Bool":
				match = slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(w, have) })
			default:
				return false, false
			}
			hold = hold && match
		}
	}
	return hold, true
}
