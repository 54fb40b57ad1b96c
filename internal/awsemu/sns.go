package awsemu

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SNS, minimally: CreateTopic and Publish, so that Vigil's SNS alert
// channel is tested through the real SDK. Published messages are kept
// for tests to read (SNSMessages); nothing is delivered to subscribers,
// since the emulator has none.

const snsNamespace = "http://sns.amazonaws.com/doc/2010-03-31/"

// snsHandlers lists the SNS operations the emulator implements.
var snsHandlers = map[string]handlerFunc{
	"CreateTopic": (*Server).snsCreateTopic,
	"Publish":     (*Server).snsPublish,
}

// snsState is the SNS part of the world, made on first use.
type snsState struct {
	topics   map[string]bool // topic ARN → exists
	messages []SNSMessage
}

// SNSMessage is one message published to a topic.
type SNSMessage struct {
	TopicARN  string
	MessageID string
	Subject   string
	Message   string
	// Attributes are the message attributes' string values by name.
	Attributes      map[string]string
	DeduplicationID string
	GroupID         string
	Time            time.Time
}

// SNSMessages returns the messages published to topicARN (every topic
// when it is empty), oldest first.
func (s *Server) SNSMessages(topicARN string) []SNSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sns == nil {
		return nil
	}
	var out []SNSMessage
	for _, m := range s.sns.messages {
		if topicARN == "" || m.TopicARN == topicARN {
			out = append(out, m)
		}
	}
	return out
}

func (s *Server) snsWorld() *snsState {
	if s.sns == nil {
		s.sns = &snsState{topics: map[string]bool{}}
	}
	return s.sns
}

var topicName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

func snsRegion(r *request) string {
	if r.region != "" {
		return r.region
	}
	return "us-east-1"
}

func (s *Server) snsCreateTopic(r *request) (any, *apiError) {
	name := r.param("Name")
	if !topicName.MatchString(name) || len(name) > 256 {
		return nil, newError("InvalidParameter", "Invalid parameter: Topic Name")
	}
	arn := fmt.Sprintf("arn:%s:sns:%s:%s:%s", s.world.Partition, snsRegion(r), r.caller.account.ID, name)
	s.snsWorld().topics[arn] = true
	return struct {
		TopicArn string `xml:"TopicArn"`
	}{arn}, nil
}

func (s *Server) snsPublish(r *request) (any, *apiError) {
	arn := r.param("TopicArn")
	if arn == "" {
		arn = r.param("TargetArn")
	}
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[2] != "sns" {
		return nil, newError("InvalidParameter", "Invalid parameter: TopicArn")
	}
	if parts[4] != r.caller.account.ID {
		return nil, &apiError{status: 403, code: "AuthorizationError", message: fmt.Sprintf("User: %s is not authorized to perform: SNS:Publish on resource: %s", r.caller.arn(s.world.Partition), arn)}
	}
	st := s.snsWorld()
	if !st.topics[arn] {
		return nil, &apiError{status: 404, code: "NotFound", message: "Topic does not exist"}
	}
	msg := r.param("Message")
	switch {
	case msg == "":
		return nil, newError("InvalidParameter", "Invalid parameter: Empty message")
	case len(msg) > 256*1024:
		return nil, newError("InvalidParameter", "Invalid parameter: Message too long")
	}
	subject := r.param("Subject")
	if len(subject) > 100 || strings.ContainsAny(subject, "\r\n") {
		return nil, newError("InvalidParameter", "Invalid parameter: Subject")
	}
	fifo := strings.HasSuffix(arn, ".fifo")
	group := r.param("MessageGroupId")
	if fifo && group == "" {
		return nil, newError("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
	}
	if !fifo && (group != "" || r.param("MessageDeduplicationId") != "") {
		return nil, newError("InvalidParameter", "Invalid parameter: MessageGroupId and MessageDeduplicationId are only for FIFO topics")
	}
	attrs := map[string]string{}
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		name := r.param(prefix + "Name")
		if name == "" {
			break
		}
		attrs[name] = r.param(prefix + "Value.StringValue")
	}
	m := SNSMessage{
		TopicARN:        arn,
		MessageID:       derivedUUID(fmt.Sprintf("sns-%d", len(st.messages)+s.seq)),
		Subject:         subject,
		Message:         msg,
		Attributes:      attrs,
		DeduplicationID: r.param("MessageDeduplicationId"),
		GroupID:         group,
		Time:            r.now,
	}
	if fifo && m.DeduplicationID != "" && slices.ContainsFunc(st.messages, func(o SNSMessage) bool {
		return o.TopicARN == arn && o.DeduplicationID == m.DeduplicationID
	}) {
		// A FIFO topic drops a duplicate silently, as AWS does within
		// its five-minute window.
		return struct {
			MessageId string `xml:"MessageId"`
		}{m.MessageID}, nil
	}
	st.messages = append(st.messages, m)
	return struct {
		MessageId string `xml:"MessageId"`
	}{m.MessageID}, nil
}
