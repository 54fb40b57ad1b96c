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

// TestSNSPublish: SNS is told from IAM by the signing scope alone, refuses
// a topic that does not exist and a subject SNS would refuse, and keeps
// what was published for the test to read. (The pages' scheduled check
// runs against it with boto3 in package kb.)
func TestSNSPublish(t *testing.T) {
	s := Serve(t, awsemutest.Start(t, World(testclock.Ref(), Options{})))
	const topic = "arn:aws:sns:us-east-1:" + ManagementID + ":alerts"
	post := func(service string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+ManagementAdminKey+"/20261126/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	publish := url.Values{"Action": {"Publish"}, "TopicArn": {topic}, "Subject": {"Root credentials"}, "Message": {"222222222222: access key"}}
	if code, body := post("sns", publish); code != 404 || !strings.Contains(body, "<Code>NotFound</Code>") {
		t.Errorf("no topic: %d %s", code, body)
	}
	s.CreateTopic(topic)
	if code, body := post("sns", publish); code != 200 || !strings.Contains(body, "<PublishResponse") || !strings.Contains(body, "<MessageId>") {
		t.Errorf("publish: %d %s", code, body)
	}
	bad := url.Values{"Action": {"Publish"}, "TopicArn": {topic}, "Subject": {"two\nlines"}, "Message": {"x"}}
	if code, body := post("sns", bad); code != 400 || !strings.Contains(body, "InvalidParameter") {
		t.Errorf("subject with a newline: %d %s", code, body)
	}
	if got := s.Published(); len(got) != 1 || got[0] != (Message{TopicARN: topic, Subject: "Root credentials", Message: "222222222222: access key"}) {
		t.Errorf("published %+v", got)
	}
	// The same form signed for IAM goes to the emulator, which knows no Publish.
	if code, body := post("iam", publish); code == 200 || strings.Contains(body, "PublishResponse") {
		t.Errorf("IAM answered Publish: %d %s", code, body)
	}
}
