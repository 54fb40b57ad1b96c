package awsemu_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

// TestSQSSecureTransport: requests reach AWS over TLS, so a policy's deny
// of insecure transport (Bool aws:SecureTransport false), as vigil prevent
// writes it, lets EventBridge deliver; a deny of secure transport stops it.
func TestSQSSecureTransport(t *testing.T) {
	srv := awsemutest.Start(t, &awsemu.World{Accounts: []*awsemu.Account{
		{ID: "123456789012", Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: "AKIASQSTRANSPORT0001"}}}}},
	}})
	client := sqs.NewFromConfig(awsemutest.ConfigFor(t, srv, "AKIASQSTRANSPORT0001"))
	rule := "arn:aws:events:us-east-1:123456789012:rule/r"
	for _, c := range []struct {
		name, deny string
		ok         bool
	}{{"deny insecure", "false", true}, {"deny secure", "true", false}} {
		t.Run(c.name, func(t *testing.T) {
			name := strings.ReplaceAll(c.name, " ", "-")
			arn := "arn:aws:sqs:us-east-1:123456789012:" + name
			policy := `{"Version":"2012-10-17","Statement":[` +
				`{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + arn + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + rule + `"}}},` +
				`{"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"` + arn + `","Condition":{"Bool":{"aws:SecureTransport":"` + c.deny + `"}}}]}`
			out, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{"Policy": policy}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = srv.SendSQSAsService(aws.ToString(out.QueueUrl), "events.amazonaws.com", rule, "123456789012", "{}")
			if (err == nil) != c.ok {
				t.Errorf("delivered: %v, want %v", err == nil, c.ok)
			}
		})
	}
}
