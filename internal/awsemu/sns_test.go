package awsemu_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

func TestSNSPublish(t *testing.T) {
	srv := awsemutest.Start(t, &awsemu.World{Accounts: []*awsemu.Account{
		{ID: "123456789012", Users: []awsemu.User{{Name: "alerts", AccessKeys: []awsemu.AccessKey{{ID: "AKIASNSALERTS0000001"}}}}},
		{ID: "210987654321", Users: []awsemu.User{{Name: "other", AccessKeys: []awsemu.AccessKey{{ID: "AKIASNSOTHER00000001"}}}}},
	}})
	ctx := t.Context()
	client := sns.NewFromConfig(awsemutest.ConfigFor(t, srv, "AKIASNSALERTS0000001"))
	other := sns.NewFromConfig(awsemutest.ConfigFor(t, srv, "AKIASNSOTHER00000001"))

	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("vigil-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(topic.TopicArn)
	if want := "arn:aws:sns:us-east-1:123456789012:vigil-alerts"; arn != want {
		t.Errorf("TopicArn = %q, want %q", arn, want)
	}
	again, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("vigil-alerts")})
	if err != nil || aws.ToString(again.TopicArn) != arn {
		t.Errorf("CreateTopic is idempotent: %v, %v", again, err)
	}

	out, err := client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(arn), Subject: aws.String("Vigil: 1 new"), Message: aws.String(`{"schema":"vigil.alert"}`),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"delivery_id": {DataType: aws.String("String"), StringValue: aws.String("d-1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.SNSMessages(arn)
	if len(msgs) != 1 || msgs[0].MessageID != aws.ToString(out.MessageId) || msgs[0].Subject != "Vigil: 1 new" ||
		msgs[0].Message != `{"schema":"vigil.alert"}` || msgs[0].Attributes["delivery_id"] != "d-1" {
		t.Errorf("recorded %+v (MessageId %s)", msgs, aws.ToString(out.MessageId))
	}

	for _, tc := range []struct {
		name   string
		client *sns.Client
		in     *sns.PublishInput
		code   string
	}{
		{"no topic", client, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:none"), Message: aws.String("x")}, "NotFound"},
		{"other account", other, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x")}, "AuthorizationError"},
		{"empty message", client, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("")}, "InvalidParameter"},
		{"subject with newline", client, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x"), Subject: aws.String("a\nb")}, "InvalidParameter"},
		{"group on a standard topic", client, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x"), MessageGroupId: aws.String("g")}, "InvalidParameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.Publish(ctx, tc.in)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Errorf("error %v, want %s", err, tc.code)
			}
		})
	}
	if n := len(srv.SNSMessages("")); n != 1 {
		t.Errorf("%d messages recorded after refusals, want 1", n)
	}

	// FIFO: the group is required and a repeated deduplication ID is dropped.
	fifo, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("vigil.fifo")})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := client.Publish(ctx, &sns.PublishInput{TopicArn: fifo.TopicArn, Message: aws.String("x"), MessageGroupId: aws.String("vigil"), MessageDeduplicationId: aws.String("d-2")}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.SNSMessages(aws.ToString(fifo.TopicArn))); n != 1 {
		t.Errorf("FIFO deduplication: %d messages, want 1", n)
	}
	if got := srv.CallCount("sns", "Publish"); got != 8 {
		t.Errorf("CallCount(sns, Publish) = %d, want 8", got)
	}
}
