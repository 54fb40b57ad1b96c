package kbtest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
)

// SNS is the emulator's own (awsemu/sns.go: CreateTopic and Publish). The
// pages' scheduled check publishes to a topic; these helpers make the topic
// as its account would, and read back what was published.

// Message is one message published to a topic.
type Message struct {
	TopicARN, Subject, Message string
}

// CreateTopic creates the topic an ARN names
// (arn:PARTITION:sns:REGION:ACCOUNT:NAME) through the emulator's SNS API,
// signed as an identity of that account. A failure is a bug in the test,
// and panics.
func (s *Services) CreateTopic(arn string) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[2] != "sns" {
		panic("kbtest: not an SNS topic ARN: " + arn)
	}
	var key string
	for k, account := range s.accounts {
		if account == parts[4] && (key == "" || k < key) {
			key = k
		}
	}
	if key == "" {
		panic("kbtest: no identity of account " + parts[4] + " to create " + arn)
	}
	form := url.Values{"Action": {"CreateTopic"}, "Version": {"2010-03-31"}, "Name": {parts[5]}}
	req, _ := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20260101/"+parts[3]+"/sns/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic("kbtest: create topic: " + err.Error())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), arn) {
		panic("kbtest: create topic " + arn + ": " + resp.Status + " " + string(body))
	}
}

// Published lists the messages published so far to any topic, in order.
func (s *Services) Published() []Message {
	var out []Message
	for _, m := range s.emu.SNSMessages("") {
		out = append(out, Message{TopicARN: m.TopicARN, Subject: m.Subject, Message: m.Message})
	}
	return out
}
