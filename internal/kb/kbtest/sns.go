package kbtest

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Amazon SNS, as little of it as the pages' scheduled check needs: topics
// the test creates, and Publish (awsQuery, like IAM), whose messages the
// test reads back. A topic that does not exist answers NotFound, as SNS
// does, so a script that publishes to the wrong ARN fails.

// Message is one message published to a topic.
type Message struct {
	TopicARN, Subject, Message string
}

const snsNamespace = "http://sns.amazonaws.com/doc/2010-03-31/"

// CreateTopic makes a topic exist (its ARN names Region and account).
func (s *Services) CreateTopic(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.topics[arn] = true
}

// Published lists the messages published so far, in order.
func (s *Services) Published() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.published...)
}

func (s *Services) serveSNS(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeQueryError(w, http.StatusBadRequest, "InvalidParameter", err.Error())
		return
	}
	action := r.PostForm.Get("Action")
	s.mu.Lock()
	s.calls = append(s.calls, "sns:"+action)
	s.mu.Unlock()
	switch action {
	case "Publish":
		s.publish(w, r.PostForm)
	default:
		writeQueryError(w, http.StatusBadRequest, "InvalidAction", "kbtest serves sns "+action+" nowhere")
	}
}

func (s *Services) publish(w http.ResponseWriter, form url.Values) {
	m := Message{TopicARN: form.Get("TopicArn"), Subject: form.Get("Subject"), Message: form.Get("Message")}
	switch {
	case m.TopicARN == "":
		writeQueryError(w, http.StatusBadRequest, "InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
		return
	case m.Message == "":
		writeQueryError(w, http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Empty message")
		return
	case len(m.Subject) > 100 || strings.ContainsAny(m.Subject, "\n\r"):
		writeQueryError(w, http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Subject")
		return
	}
	s.mu.Lock()
	if !s.topics[m.TopicARN] {
		s.mu.Unlock()
		writeQueryError(w, http.StatusNotFound, "NotFound", "Topic does not exist")
		return
	}
	s.published = append(s.published, m)
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.published))
	s.mu.Unlock()
	type result struct {
		MessageID string `xml:"MessageId"`
	}
	writeQuery(w, struct {
		XMLName   xml.Name `xml:"PublishResponse"`
		NS        string   `xml:"xmlns,attr"`
		Result    result   `xml:"PublishResult"`
		RequestID string   `xml:"ResponseMetadata>RequestId"`
	}{NS: snsNamespace, Result: result{id}, RequestID: id})
}

func writeQuery(w http.ResponseWriter, v any) {
	data, _ := xml.Marshal(v)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

func writeQueryError(w http.ResponseWriter, status int, code, message string) {
	data, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		NS        string   `xml:"xmlns,attr"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}{NS: snsNamespace, Type: "Sender", Code: code, Message: message, RequestID: "00000000-0000-4000-8000-000000000000"})
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write(data)
}
