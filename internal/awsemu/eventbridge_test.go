package awsemu_test

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

func TestEventBridgeRulesAndTargets(t *testing.T) {
	srv := awsemutest.Start(t, &awsemu.World{Accounts: []*awsemu.Account{
		{ID: "123456789012", Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: "AKIAEVENTSADMIN00001"}}}}},
	}})
	ctx := t.Context()
	cfg := awsemutest.ConfigFor(t, srv, "AKIAEVENTSADMIN00001")
	cfg.RetryMaxAttempts = 1
	eb := eventbridge.NewFromConfig(cfg)
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return fmt.Sprint(err)
	}
	pattern := `{"detail":{"userIdentity":{"type":["Root"]}}}`

	// A rule on a bus that does not exist; then the bus.
	_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String("central"), EventPattern: aws.String(pattern)})
	if code(err) != "ResourceNotFoundException" {
		t.Fatalf("rule on a missing bus: %v", err)
	}
	bus, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("central")})
	if err != nil || aws.ToString(bus.EventBusArn) != "arn:aws:events:us-east-1:123456789012:event-bus/central" {
		t.Fatalf("CreateEventBus: %v %v", bus, err)
	}
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("central")}); code(err) != "ResourceAlreadyExistsException" {
		t.Errorf("second CreateEventBus: %v", err)
	}
	put, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String(aws.ToString(bus.EventBusArn)),
		EventPattern: aws.String(pattern), State: ebtypes.RuleStateEnabledWithAllCloudtrailManagementEvents})
	if err != nil || aws.ToString(put.RuleArn) != "arn:aws:events:us-east-1:123456789012:rule/central/r" {
		t.Fatalf("PutRule: %v %v", put, err)
	}
	// The default bus needs no creating; its rules' ARNs have no bus part.
	def, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(pattern)})
	if err != nil || aws.ToString(def.RuleArn) != "arn:aws:events:us-east-1:123456789012:rule/r" {
		t.Fatalf("PutRule on default: %v %v", def, err)
	}
	d, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("r"), EventBusName: aws.String("central")})
	if err != nil || aws.ToString(d.EventPattern) != pattern || d.State != ebtypes.RuleStateEnabledWithAllCloudtrailManagementEvents || aws.ToString(d.EventBusName) != "central" {
		t.Fatalf("DescribeRule: %+v %v", d, err)
	}
	if _, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("nope"), EventBusName: aws.String("central")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("DescribeRule of a missing rule: %v", err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad"), EventPattern: aws.String(`["x"]`)}); code(err) != "InvalidEventPatternException" {
		t.Errorf("bad pattern: %v", err)
	}

	// Targets: added, replaced by ID, listed, at most five.
	target := ebtypes.Target{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:q"),
		DeadLetterConfig: &ebtypes.DeadLetterConfig{Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:dlq")}}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), EventBusName: aws.String("central"), Targets: []ebtypes.Target{target}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), EventBusName: aws.String("central"), Targets: []ebtypes.Target{target}}); err != nil {
		t.Fatal(err)
	}
	list, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r"), EventBusName: aws.String("central")})
	if err != nil || len(list.Targets) != 1 || aws.ToString(list.Targets[0].Arn) != "arn:aws:sqs:us-east-1:123456789012:q" ||
		list.Targets[0].DeadLetterConfig == nil || aws.ToString(list.Targets[0].DeadLetterConfig.Arn) != "arn:aws:sqs:us-east-1:123456789012:dlq" {
		t.Fatalf("ListTargetsByRule: %+v %v", list, err)
	}
	if l, _ := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r")}); len(l.Targets) != 0 {
		t.Errorf("the default bus's rule r got the central rule's target: %+v", l.Targets)
	}
	var five []ebtypes.Target
	for i := range 5 {
		five = append(five, ebtypes.Target{Id: aws.String(fmt.Sprint("t", i)), Arn: aws.String("arn:aws:sns:us-east-1:123456789012:t")})
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), EventBusName: aws.String("central"), Targets: five}); code(err) != "LimitExceededException" {
		t.Errorf("a sixth target: %v", err)
	}
	if _, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("nope")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("targets of a missing rule: %v", err)
	}
	rules := srv.EventRules("123456789012", "us-east-1")
	if len(rules) != 2 || rules[0].Bus != "central" || len(rules[0].Targets) != 1 || rules[1].Bus != "default" {
		t.Errorf("EventRules: %+v", rules)
	}
	for _, op := range []string{"PutRule", "PutTargets", "CreateEventBus"} {
		if !awsemu.Mutating("events", op) {
			t.Errorf("events:%s is not counted as mutating", op)
		}
	}
}

// TestEventBridgeDelivers: a CloudTrail event reaches the queues of the
// rules that match it, through a central bus, as the queue's policy
// allows; a read-only call only reaches a rule that sees read-only
// management events; a non-root event reaches nothing.
func TestEventBridgeDelivers(t *testing.T) {
	const acct = "123456789012"
	srv := awsemutest.Start(t, &awsemu.World{Accounts: []*awsemu.Account{
		{ID: acct, Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: "AKIAEVENTSADMIN00001"}}}}},
	}})
	ctx := t.Context()
	cfg := awsemutest.ConfigFor(t, srv, "AKIAEVENTSADMIN00001")
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	pattern := `{"detail-type":["AWS API Call via CloudTrail","AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}`
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("central")}); err != nil {
		t.Fatal(err)
	}
	// The default bus forwards to the central bus, whose rule feeds two
	// queues: one admitting the rule, one admitting another rule.
	central := "arn:aws:events:us-east-1:" + acct + ":rule/central/root"
	queue := func(name, admits string) string {
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"` + admits + `"}}}]}`
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{"Policy": policy}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.QueueUrl)
	}
	ok := queue("admits", central)
	put := func(name, bus string, state ebtypes.RuleState, targets ...string) {
		if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventBusName: aws.String(bus), EventPattern: aws.String(pattern), State: state}); err != nil {
			t.Fatal(err)
		}
		var ts []ebtypes.Target
		for i, arn := range targets {
			ts = append(ts, ebtypes.Target{Id: aws.String(fmt.Sprint(i)), Arn: aws.String(arn)})
		}
		if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), EventBusName: aws.String(bus), Targets: ts}); err != nil {
			t.Fatal(err)
		}
	}
	put("forward", "default", ebtypes.RuleStateEnabledWithAllCloudtrailManagementEvents, "arn:aws:events:us-east-1:"+acct+":event-bus/central")
	put("root", "central", ebtypes.RuleStateEnabledWithAllCloudtrailManagementEvents, "arn:aws:sqs:us-east-1:"+acct+":admits")

	event := func(fixture string, readOnly bool) string {
		b, err := os.ReadFile(filepath.Join("testdata", "eventbridge", fixture))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), "444455556666", acct)
		if readOnly {
			s = strings.Replace(s, `"readOnly": false`, `"readOnly": true`, 1)
		}
		return s
	}
	got, err := srv.DeliverCloudTrailEvent(event("root-create-access-key.json", false))
	if err != nil || len(got) != 1 || got[0] != ok {
		t.Fatalf("root event reached %v, %v", got, err)
	}
	if got, err := srv.DeliverCloudTrailEvent(event("iam-user-create-access-key.json", false)); err != nil || len(got) != 0 {
		t.Errorf("a user's event reached %v, %v", got, err)
	}
	// A forwarding rule in the plain ENABLED state misses read-only calls.
	put("forward", "default", ebtypes.RuleStateEnabled, "arn:aws:events:us-east-1:"+acct+":event-bus/central")
	if got, err := srv.DeliverCloudTrailEvent(event("root-create-access-key.json", true)); err != nil || len(got) != 0 {
		t.Errorf("a read-only call reached %v through an ENABLED rule, %v", got, err)
	}
	// A queue whose policy admits another rule refuses the event.
	put("root", "central", ebtypes.RuleStateEnabledWithAllCloudtrailManagementEvents, "arn:aws:sqs:us-east-1:"+acct+":"+path.Base(queue("refuses", central+"-other")))
	if _, err := srv.DeliverCloudTrailEvent(event("root-create-access-key.json", false)); err == nil || !strings.Contains(err.Error(), "refuses") {
		t.Errorf("a queue not admitting the rule took the event: %v", err)
	}
	if msgs, _ := srv.SQSMessages(ok); len(msgs) != 1 {
		t.Errorf("the admitting queue holds %d messages", len(msgs))
	}
}
