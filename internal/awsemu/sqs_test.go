package awsemu_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

const (
	sqsOwner    = "123456789012"
	sqsOwnerKey = "AKIASQSOWNER00000001"
	sqsOther    = "210987654321"
	sqsOtherKey = "AKIASQSOTHER00000001"
)

func sqsWorld() *awsemu.World {
	return &awsemu.World{Accounts: []*awsemu.Account{
		{ID: sqsOwner, Users: []awsemu.User{{Name: "vigil", AccessKeys: []awsemu.AccessKey{{ID: sqsOwnerKey}}}}},
		{ID: sqsOther, Users: []awsemu.User{{Name: "other", AccessKeys: []awsemu.AccessKey{{ID: sqsOtherKey}}}}},
	}}
}

// startSQS starts an emulator on a manual clock, so visibility and long
// polls move only when the test says.
func startSQS(t *testing.T) (*awsemu.Server, *awsemu.ManualClock, *sqs.Client) {
	t.Helper()
	clk := awsemu.NewManualClock(t0)
	srv := awsemutest.Start(t, sqsWorld(), awsemu.WithManualClock(clk))
	return srv, clk, sqs.NewFromConfig(awsemutest.ConfigFor(t, srv, sqsOwnerKey))
}

func createQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func queueAttrs(t *testing.T, c *sqs.Client, url string) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes
}

func TestSQSQueues(t *testing.T) {
	srv, clk, c := startSQS(t)
	ctx := t.Context()
	dlq := createQueue(t, c, "vigil-events-dlq", map[string]string{"MessageRetentionPeriod": "1209600"})
	dlqARN := queueAttrs(t, c, dlq)["QueueArn"]
	if want := "arn:aws:sqs:us-east-1:" + sqsOwner + ":vigil-events-dlq"; dlqARN != want {
		t.Fatalf("QueueArn = %q, want %q", dlqARN, want)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:events:us-east-1:` + sqsOwner + `:rule/central/vigil-root"}}}]}`
	q := createQueue(t, c, "vigil-events", map[string]string{
		"VisibilityTimeout": "60", "ReceiveMessageWaitTimeSeconds": "20", "Policy": policy,
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"5"}`,
	})
	if want := srv.SQSQueueURL(sqsOwner, "vigil-events"); q != want {
		t.Errorf("QueueUrl = %q, want %q", q, want)
	}
	got := queueAttrs(t, c, q)
	for k, want := range map[string]string{
		"VisibilityTimeout": "60", "ReceiveMessageWaitTimeSeconds": "20", "Policy": policy,
		"RedrivePolicy":        `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":5}`,
		"SqsManagedSseEnabled": "true", "MessageRetentionPeriod": "345600", "MaximumMessageSize": "262144",
		"DelaySeconds": "0", "ApproximateNumberOfMessages": "0", "CreatedTimestamp": strconv.FormatInt(t0.Unix(), 10),
	} {
		if got[k] != want {
			t.Errorf("attribute %s = %q, want %q", k, got[k], want)
		}
	}

	// Creating it again with the same attributes returns it; with others fails.
	if again := createQueue(t, c, "vigil-events", map[string]string{"VisibilityTimeout": "60"}); again != q {
		t.Errorf("CreateQueue again = %q", again)
	}
	_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("vigil-events"), Attributes: map[string]string{"VisibilityTimeout": "61"}})
	var exists *sqstypes.QueueNameExists
	if !errors.As(err, &exists) || exists.ErrorCode() != "QueueAlreadyExists" {
		t.Errorf("CreateQueue with other attributes: %v", err)
	}

	// SSE-KMS replaces SSE-SQS; both at once is refused.
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q), Attributes: map[string]string{"KmsMasterKeyId": "alias/vigil"}}); err != nil {
		t.Fatal(err)
	}
	got = queueAttrs(t, c, q)
	if got["KmsMasterKeyId"] != "alias/vigil" || got["SqsManagedSseEnabled"] != "false" || got["KmsDataKeyReusePeriodSeconds"] != "300" {
		t.Errorf("after KmsMasterKeyId: %v", got)
	}
	one, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q), AttributeNames: []sqstypes.QueueAttributeName{"QueueArn", "Policy"}})
	if err != nil || len(one.Attributes) != 2 || one.Attributes["Policy"] != policy {
		t.Errorf("GetQueueAttributes QueueArn, Policy: %v, %v", one.Attributes, err)
	}

	for _, tc := range []struct {
		name  string
		attrs map[string]string
		check func(error) bool
	}{
		{"unknown attribute", map[string]string{"Colour": "blue"}, isType[*sqstypes.InvalidAttributeName]},
		{"visibility too long", map[string]string{"VisibilityTimeout": "43201"}, isType[*sqstypes.InvalidAttributeValue]},
		{"wait too long", map[string]string{"ReceiveMessageWaitTimeSeconds": "21"}, isType[*sqstypes.InvalidAttributeValue]},
		{"retention too short", map[string]string{"MessageRetentionPeriod": "59"}, isType[*sqstypes.InvalidAttributeValue]},
		{"policy not JSON", map[string]string{"Policy": "{"}, isType[*sqstypes.InvalidAttributeValue]},
		{"both SSE", map[string]string{"KmsMasterKeyId": "alias/x", "SqsManagedSseEnabled": "true"}, isType[*sqstypes.InvalidAttributeName]},
		{"missing DLQ", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:` + sqsOwner + `:none","maxReceiveCount":3}`}, hasCode("InvalidParameterValue")},
		{"receive count 0", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":0}`}, hasCode("InvalidParameterValue")},
		{"own DLQ", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + queueAttrs(t, c, q)["QueueArn"] + `","maxReceiveCount":3}`}, hasCode("InvalidParameterValue")},
	} {
		_, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q), Attributes: tc.attrs})
		if !tc.check(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	url, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("vigil-events")})
	if err != nil || aws.ToString(url.QueueUrl) != q {
		t.Errorf("GetQueueUrl: %v, %v", url, err)
	}
	list, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("vigil-events")})
	if err != nil || len(list.QueueUrls) != 2 || list.QueueUrls[0] != q || list.QueueUrls[1] != dlq {
		t.Errorf("ListQueues: %v, %v", list.QueueUrls, err)
	}
	var paged []string
	p := sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page.QueueUrls...)
	}
	if len(paged) != 2 {
		t.Errorf("ListQueues pages: %v", paged)
	}
	src, err := c.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(dlq)})
	if err != nil || len(src.QueueUrls) != 1 || src.QueueUrls[0] != q {
		t.Errorf("ListDeadLetterSourceQueues: %v, %v", src, err)
	}

	// Another account sees neither the queue nor its messages.
	other := sqs.NewFromConfig(awsemutest.ConfigFor(t, srv, sqsOtherKey))
	if _, err := other.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String("x")}); !hasCode("AccessDenied")(err) {
		t.Errorf("SendMessage from another account: %v", err)
	}

	// Deleting: gone at once, and the name is held for 60 seconds.
	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(q)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("vigil-events")})
	var missing *sqstypes.QueueDoesNotExist
	if !errors.As(err, &missing) || missing.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Errorf("GetQueueUrl after delete: %v", err)
	}
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("vigil-events")})
	if !isType[*sqstypes.QueueDeletedRecently](err) {
		t.Errorf("CreateQueue within 60 s of delete: %v", err)
	}
	clk.Advance(61 * time.Second)
	createQueue(t, c, "vigil-events", nil)
}

func isType[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func hasCode(code string) func(error) bool {
	return func(err error) bool {
		var ae smithy.APIError
		return errors.As(err, &ae) && ae.ErrorCode() == code
	}
}

func TestSQSMessages(t *testing.T) {
	srv, clk, c := startSQS(t)
	ctx := t.Context()
	q := createQueue(t, c, "events", map[string]string{"VisibilityTimeout": "30"})

	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(`{"detail-type":"AWS API Call via CloudTrail"}`),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("root")},
			"blob": {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	// The SDK checks MD5OfMessageBody itself; check the attributes' digest
	// with the value AWS's documented algorithm gives.
	if aws.ToString(sent.MD5OfMessageAttributes) == "" {
		t.Error("no MD5OfMessageAttributes")
	}
	clk.Advance(time.Second)
	recv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(recv.Messages) != 1 {
		t.Fatalf("received %d messages", len(recv.Messages))
	}
	m := recv.Messages[0]
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || m.Attributes["ApproximateReceiveCount"] != "1" ||
		m.Attributes["SentTimestamp"] != strconv.FormatInt(t0.UnixMilli(), 10) ||
		m.Attributes["ApproximateFirstReceiveTimestamp"] != strconv.FormatInt(t0.Add(time.Second).UnixMilli(), 10) ||
		m.Attributes["SenderId"] == "" || aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) ||
		aws.ToString(m.MessageAttributes["kind"].StringValue) != "root" || string(m.MessageAttributes["blob"].BinaryValue) != "\x00\x01\x02" {
		t.Errorf("received %+v", m)
	}

	// In flight for 30 seconds: a second receive finds nothing.
	if n := receiveNow(t, c, q); n != 0 {
		t.Errorf("received %d while in flight", n)
	}
	msgs, _ := srv.SQSMessages(q)
	if len(msgs) != 1 || !msgs[0].InFlight {
		t.Errorf("SQSMessages = %+v", msgs)
	}
	// Extending the visibility keeps it hidden past the first timeout.
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 120}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(60 * time.Second)
	if n := receiveNow(t, c, q); n != 0 {
		t.Errorf("received %d after extending visibility", n)
	}
	clk.Advance(61 * time.Second)
	again, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil || len(again.Messages) != 1 || again.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("receive after visibility: %+v, %v", again, err)
	}
	// The first receipt handle is stale for visibility changes but still deletes.
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 10})
	if !hasCode("InvalidParameterValue")(err) {
		t.Errorf("ChangeMessageVisibility with a stale handle: %v", err)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: again.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := srv.SQSMessages(q); len(msgs) != 0 {
		t.Errorf("left after delete: %+v", msgs)
	}
	// Deleting again succeeds; a handle that is not one fails.
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: again.Messages[0].ReceiptHandle}); err != nil {
		t.Errorf("second delete: %v", err)
	}
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: aws.String("not-a-handle")})
	var bad *sqstypes.ReceiptHandleIsInvalid
	if !errors.As(err, &bad) {
		t.Errorf("delete with a bad handle: %v", err)
	}
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q), ReceiptHandle: again.Messages[0].ReceiptHandle, VisibilityTimeout: 10})
	if !isType[*sqstypes.MessageNotInflight](err) {
		t.Errorf("ChangeMessageVisibility of a deleted message: %v", err)
	}

	for _, tc := range []struct {
		name  string
		in    *sqs.ReceiveMessageInput
		check func(error) bool
	}{
		{"11 messages", &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), MaxNumberOfMessages: 11}, hasCode("InvalidParameterValue")},
		{"wait 21", &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), WaitTimeSeconds: 21}, hasCode("InvalidParameterValue")},
		{"no queue", &sqs.ReceiveMessageInput{QueueUrl: aws.String(srv.SQSQueueURL(sqsOwner, "none"))}, isType[*sqstypes.QueueDoesNotExist]},
	} {
		if _, err := c.ReceiveMessage(ctx, tc.in); !tc.check(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String("bad \x01 char")})
	if !isType[*sqstypes.InvalidMessageContents](err) {
		t.Errorf("control character: %v", err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(strings.Repeat("x", 262145))})
	if !hasCode("InvalidParameterValue")(err) {
		t.Errorf("too long: %v", err)
	}
}

// receiveNow receives without waiting and counts the messages.
func receiveNow(t *testing.T, c *sqs.Client, q string) int {
	t.Helper()
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Messages)
}

func TestSQSBatches(t *testing.T) {
	_, _, c := startSQS(t)
	ctx := t.Context()
	q := createQueue(t, c, "events", nil)
	var entries []sqstypes.SendMessageBatchRequestEntry
	for i := range 10 {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("e", i)), MessageBody: aws.String(fmt.Sprint("body ", i))})
	}
	entries[3].MessageBody = aws.String("bad \x02")
	sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q), Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.Successful) != 9 || len(sent.Failed) != 1 || aws.ToString(sent.Failed[0].Id) != "e3" || !sent.Failed[0].SenderFault ||
		aws.ToString(sent.Failed[0].Code) != "InvalidMessageContents" {
		t.Errorf("SendMessageBatch: %+v", sent)
	}
	for _, tc := range []struct {
		name    string
		entries []sqstypes.SendMessageBatchRequestEntry
		check   func(error) bool
	}{
		{"empty", []sqstypes.SendMessageBatchRequestEntry{}, isType[*sqstypes.EmptyBatchRequest]},
		{"eleven", append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String("e10"), MessageBody: aws.String("x")}), isType[*sqstypes.TooManyEntriesInBatchRequest]},
		{"repeated id", []sqstypes.SendMessageBatchRequestEntry{entries[0], entries[0]}, isType[*sqstypes.BatchEntryIdsNotDistinct]},
		{"bad id", []sqstypes.SendMessageBatchRequestEntry{{Id: aws.String("a b"), MessageBody: aws.String("x")}}, isType[*sqstypes.InvalidBatchEntryId]},
	} {
		if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q), Entries: tc.entries}); !tc.check(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	recv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), MaxNumberOfMessages: 10})
	if err != nil || len(recv.Messages) != 9 {
		t.Fatalf("received %d, %v", len(recv.Messages), err)
	}
	var vis []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	var del []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range recv.Messages {
		vis = append(vis, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(fmt.Sprint("v", i)), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 300})
		del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("d", i)), ReceiptHandle: m.ReceiptHandle})
	}
	vis = append(vis, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String("bad"), ReceiptHandle: aws.String("nope"), VisibilityTimeout: 300})
	changed, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(q), Entries: vis})
	if err != nil || len(changed.Successful) != 9 || len(changed.Failed) != 1 || aws.ToString(changed.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Errorf("ChangeMessageVisibilityBatch: %+v, %v", changed, err)
	}
	deleted, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q), Entries: del})
	if err != nil || len(deleted.Successful) != 9 || len(deleted.Failed) != 0 {
		t.Errorf("DeleteMessageBatch: %+v, %v", deleted, err)
	}
	if n := queueAttrs(t, c, q)["ApproximateNumberOfMessagesNotVisible"]; n != "0" {
		t.Errorf("%s messages left in flight", n)
	}
}

// TestSQSRedrive: a message received maxReceiveCount times and never
// deleted moves to the dead-letter queue on the next receive.
func TestSQSRedrive(t *testing.T) {
	srv, clk, c := startSQS(t)
	ctx := t.Context()
	dlq := createQueue(t, c, "dlq", nil)
	dlqARN := queueAttrs(t, c, dlq)["QueueArn"]
	q := createQueue(t, c, "events", map[string]string{"VisibilityTimeout": "10", "RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":3}`})
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String("not an event")})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if n := receiveNow(t, c, q); n != 1 {
			t.Fatalf("receive %d got %d messages", i, n)
		}
		clk.Advance(11 * time.Second)
	}
	if n := receiveNow(t, c, q); n != 0 {
		t.Errorf("fourth receive got %d messages", n)
	}
	msgs, _ := srv.SQSMessages(dlq)
	if len(msgs) != 1 || msgs[0].MessageID != aws.ToString(sent.MessageId) || msgs[0].DeadLetterSourceARN != queueAttrs(t, c, q)["QueueArn"] {
		t.Fatalf("dead-letter queue holds %+v", msgs)
	}
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "not an event" || out.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("receive from the dead-letter queue: %+v, %v", out, err)
	}
}

// TestSQSLongPoll: a waiting receive returns when a message arrives, and
// an empty one returns when the server clock passes its wait time; the
// test never sleeps.
func TestSQSLongPoll(t *testing.T) {
	srv, clk, c := startSQS(t)
	ctx := t.Context()
	q := createQueue(t, c, "events", nil)

	type result struct {
		n   int
		err error
	}
	poll := func() chan result {
		ch := make(chan result, 1)
		go func() {
			out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), WaitTimeSeconds: 20, MaxNumberOfMessages: 10})
			if err != nil {
				ch <- result{err: err}
				return
			}
			ch <- result{n: len(out.Messages)}
		}()
		return ch
	}
	// Woken by a send.
	ch := poll()
	waitHeldPoll(t, srv)
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String("hello")}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ch:
		if r.err != nil || r.n != 1 {
			t.Fatalf("long poll: %+v", r)
		}
	case <-time.After(time.Minute):
		t.Fatal("long poll not woken by a send")
	}

	// Nothing arrives: the poll ends when the manual clock passes 20 s,
	// not before, however much real time passes.
	ch = poll()
	waitHeldPoll(t, srv)
	clk.Advance(19 * time.Second)
	select {
	case r := <-ch:
		t.Fatalf("long poll ended before its wait time: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	clk.Advance(2 * time.Second)
	select {
	case r := <-ch:
		if r.err != nil || r.n != 0 {
			t.Fatalf("empty long poll: %+v", r)
		}
	case <-time.After(time.Minute):
		t.Fatal("long poll did not end when the clock passed its wait time")
	}

	// A deleted queue ends a waiting poll with QueueDoesNotExist.
	ch = poll()
	waitHeldPoll(t, srv)
	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(q)}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ch:
		if !isType[*sqstypes.QueueDoesNotExist](r.err) {
			t.Fatalf("poll on a deleted queue: %+v", r)
		}
	case <-time.After(time.Minute):
		t.Fatal("poll not ended by DeleteQueue")
	}
}

// waitHeldPoll waits until a receive is waiting in the emulator.
func waitHeldPoll(t *testing.T, srv *awsemu.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := srv.WaitSQSPolls(ctx, 1); err != nil {
		t.Fatalf("no receive waiting: %v", err)
	}
}

// TestSQSServicePolicy: EventBridge delivers only where the queue policy
// admits its rule.
func TestSQSServicePolicy(t *testing.T) {
	srv, _, c := startSQS(t)
	rule := "arn:aws:events:us-east-1:" + sqsOwner + ":rule/central/vigil-root"
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"` + rule + `"}}}]}`
	q := createQueue(t, c, "events", map[string]string{"Policy": policy})
	if _, err := srv.SendSQSAsService(q, "events.amazonaws.com", rule, sqsOwner, "{}"); err != nil {
		t.Errorf("the admitted rule: %v", err)
	}
	if _, err := srv.SendSQSAsService(q, "events.amazonaws.com", rule+"-other", sqsOwner, "{}"); err == nil {
		t.Error("another rule was admitted")
	}
	if _, err := srv.SendSQSAsService(q, "sns.amazonaws.com", rule, sqsOwner, "{}"); err == nil {
		t.Error("another service was admitted")
	}
	if msgs, _ := srv.SQSMessages(q); len(msgs) != 1 {
		t.Errorf("queue holds %d messages", len(msgs))
	}
}

// FuzzSQSRequest feeds arbitrary JSON to every SQS operation: no panic,
// and an awsJson1_0 answer (an error with a namespaced __type).
func FuzzSQSRequest(f *testing.F) {
	ops := []string{"CreateQueue", "GetQueueUrl", "GetQueueAttributes", "SetQueueAttributes", "DeleteQueue", "ListQueues",
		"PurgeQueue", "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
		"ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "ListDeadLetterSourceQueues", "Nope"}
	f.Add(uint8(0), `{"QueueName":"q","Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:q\",\"maxReceiveCount\":\"x\"}"}}`)
	f.Add(uint8(7), `{"QueueUrl":"http://x/123456789012/q","MessageBody":"hi","DelaySeconds":-1}`)
	f.Add(uint8(8), `{"QueueUrl":"http://x/123456789012/q","Entries":[{"Id":"a","MessageBody":"b"},{"Id":"a"}]}`)
	f.Add(uint8(9), `{"QueueUrl":"http://x/123456789012/q","MaxNumberOfMessages":10,"WaitTimeSeconds":0,"VisibilityTimeout":0}`)
	f.Add(uint8(10), `{"QueueUrl":"http://x/123456789012/q","ReceiptHandle":"YXdzZW11MQAxMjM0NTY3ODkwMTIvcQB4ADE"}`)
	f.Add(uint8(12), `{"QueueUrl":"http://x/123456789012/q","ReceiptHandle":"","VisibilityTimeout":99999}`)
	f.Add(uint8(3), `{"QueueUrl":"http://x/123456789012/q","Attributes":{"Policy":"{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:*\",\"Condition\":{\"StringLike\":{\"aws:SourceArn\":[\"*\"]}}}}"}}`)
	f.Add(uint8(5), `{"MaxResults":1,"NextToken":"%%"}`)
	f.Add(uint8(1), `[1`)

	srv := awsemu.NewServer(sqsWorld(), awsemu.WithClock(func() time.Time { return t0 }))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		// Wait times are capped so a fuzzed long poll cannot stall the run:
		// the fixed clock never passes a deadline, so a poll waits out its
		// real timer (at most 20 s) — the fuzzer gives it a short context.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", "AmazonSQS."+ops[int(op)%len(ops)])
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+sqsOwnerKey+"/20261101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		if rec.Code != 200 && !strings.Contains(rec.Body.String(), `"__type"`) {
			t.Fatalf("status %d without __type: %s", rec.Code, rec.Body)
		}
		if rec.Code >= 500 {
			t.Fatalf("server error %d: %s", rec.Code, rec.Body)
		}
	})
}
