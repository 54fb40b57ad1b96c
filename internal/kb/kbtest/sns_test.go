package kbtest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// TestSNSHelpers: CreateTopic makes the topic in the emulator through
// Services' endpoint, Publish reaches the emulator (not EventBridge), and
// Published reads back what was published. (The pages' scheduled check
// runs against it with boto3 in package kb.)
func TestSNSHelpers(t *testing.T) {
	s := Serve(t, awsemutest.Start(t, World(testclock.Ref(), Options{})))
	const topic = "arn:aws:sns:us-east-1:" + ManagementID + ":alerts"
	publish := func() (int, string) {
		t.Helper()
		form := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {topic}, "Subject": {"Root credentials"}, "Message": {"222222222222: access key"}}
		req, _ := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+ManagementAdminKey+"/20261126/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := publish(); code != 404 || !strings.Contains(body, "<Code>NotFound</Code>") {
		t.Errorf("no topic: %d %s", code, body)
	}
	s.CreateTopic(topic)
	if code, body := publish(); code != 200 || !strings.Contains(body, "<MessageId>") {
		t.Errorf("publish: %d %s", code, body)
	}
	if got := s.Published(); len(got) != 1 || got[0] != (Message{TopicARN: topic, Subject: "Root credentials", Message: "222222222222: access key"}) {
		t.Errorf("published %+v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a topic of an account with no identity was created")
		}
	}()
	s.CreateTopic("arn:aws:sns:us-east-1:999999999999:alerts")
}
