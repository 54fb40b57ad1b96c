package guardrail_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/guardrail"
	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/prevent"
)

const (
	aloneID  = "777788889999"
	aloneKey = "AKIAALONEADMIN000001"
	home     = "us-east-1"
)

func aloneWorld() *awsemu.World {
	return &awsemu.World{Accounts: []*awsemu.Account{
		{ID: aloneID, Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: aloneKey}}}}},
	}}
}

// monitorPlan reads and plans as vigil prevent --plan does.
func monitorPlan(t *testing.T, srv *awsemu.Server, key string, standalone bool, targets ...string) (*change.Plan, *guardrail.State) {
	t.Helper()
	c := clients(t, srv, key)
	var st *guardrail.State
	var err error
	if standalone {
		st, err = guardrail.ReadStandalone(t.Context(), c)
	} else {
		st, err = guardrail.Read(t.Context(), c)
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.Monitor, err = guardrail.ReadMonitor(t.Context(), c.Monitor(home), st.Partition, st.Account, home, standalone); err != nil {
		t.Fatal(err)
	}
	p, err := guardrail.BuildPlan(st, c, guardrail.Request{Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

func queueAttrs(t *testing.T, srv *awsemu.Server, key, name string) map[string]string {
	t.Helper()
	q := sqs.NewFromConfig(awsemutest.ConfigFor(t, srv, key))
	u, err := q.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out, err := q.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes
}

func canon(t *testing.T, s string) string {
	t.Helper()
	c, err := iampolicy.Canonical([]byte(s))
	if err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return c
}

// checkQueues: both queues hold Vigil's settings, the queue's policy
// admits EventBridge for the rule and nothing else, and the rule sends to
// the queue with the dead-letter queue.
func checkQueues(t *testing.T, srv *awsemu.Server, key, account, bus string) {
	t.Helper()
	ruleARN := prevent.RuleARN("aws", home, account, bus, prevent.AlertRuleName)
	dlqARN := prevent.SQSARN("aws", home, account, prevent.DeadLetterQueueName)
	queueARN := prevent.SQSARN("aws", home, account, prevent.QueueName)
	dlq, queue := queueAttrs(t, srv, key, prevent.DeadLetterQueueName), queueAttrs(t, srv, key, prevent.QueueName)
	for name, got := range map[string]map[string]string{"dlq": dlq, "queue": queue} {
		if got["SqsManagedSseEnabled"] != "true" || got["MessageRetentionPeriod"] != "1209600" {
			t.Errorf("%s: %v", name, got)
		}
	}
	if queue["QueueArn"] != queueARN || dlq["QueueArn"] != dlqARN {
		t.Errorf("ARNs %s %s", queue["QueueArn"], dlq["QueueArn"])
	}
	if queue["VisibilityTimeout"] != "60" || queue["ReceiveMessageWaitTimeSeconds"] != "20" {
		t.Errorf("queue: %v", queue)
	}
	var rp struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(queue["RedrivePolicy"]), &rp); err != nil || rp.DeadLetterTargetArn != dlqARN || strings.Trim(string(mustJSON(rp.MaxReceiveCount)), `"`) != "5" {
		t.Errorf("RedrivePolicy %s", queue["RedrivePolicy"])
	}
	if canon(t, queue["Policy"]) != canon(t, prevent.QueuePolicy(queueARN, ruleARN)) || canon(t, dlq["Policy"]) != canon(t, prevent.QueuePolicy(dlqARN, ruleARN)) {
		t.Errorf("policies:\n%s\n%s", queue["Policy"], dlq["Policy"])
	}
	// What the policy lets in, as SQS judges it.
	url := srv.SQSQueueURL(account, prevent.QueueName)
	if _, err := srv.SendSQSAsService(url, "events.amazonaws.com", ruleARN, account, `{"detail-type":"AWS API Call via CloudTrail"}`); err != nil {
		t.Errorf("the rule cannot deliver to the queue: %v", err)
	}
	if _, err := srv.SendSQSAsService(url, "events.amazonaws.com", ruleARN+"-other", account, "{}"); err == nil {
		t.Error("another rule can deliver to the queue")
	}
	if _, err := srv.SendSQSAsService(url, "sns.amazonaws.com", ruleARN, account, "{}"); err == nil {
		t.Error("another service can deliver to the queue")
	}

	var rule *awsemu.EventRule
	for _, r := range srv.EventRules(account, home) {
		if r.Name == prevent.AlertRuleName && r.Bus == bus {
			rule = &r
		}
	}
	if rule == nil {
		t.Fatalf("no rule %s on %s", prevent.AlertRuleName, bus)
	}
	i := slices.IndexFunc(rule.Targets, func(tg awsemu.EventTarget) bool { return tg.Id == prevent.QueueTargetID })
	if i < 0 || rule.Targets[i].Arn != queueARN || rule.Targets[i].RoleArn != "" || rule.Targets[i].DeadLetterConfig == nil || rule.Targets[i].DeadLetterConfig.Arn != dlqARN {
		t.Errorf("rule targets %+v", rule.Targets)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestStandaloneQueueIdempotent(t *testing.T) {
	srv := awsemutest.Start(t, aloneWorld())
	p, st := monitorPlan(t, srv, aloneKey, true)
	if got := mutatingCalls(srv); len(got) != 0 {
		t.Fatalf("reading and planning made mutating calls: %v", got)
	}
	want := []string{guardrail.StepRule, guardrail.StepDeadLetter, guardrail.StepQueue, guardrail.StepQueueTarget}
	if diff := cmp.Diff(want, stepActions(p)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	if st.Monitor.QueueURL != "" {
		t.Errorf("a queue URL before the queue exists: %s", st.Monitor.QueueURL)
	}
	srv.ResetCalls()
	if rep := apply(t, p, filepath.Join(t.TempDir(), "audit.jsonl")); rep.Failed() != 0 {
		t.Fatalf("apply: %+v", rep.Results)
	}
	var calls []string
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			calls = append(calls, c.Service+":"+c.Action)
		}
	}
	if diff := cmp.Diff([]string{"events:PutRule", "sqs:CreateQueue", "sqs:CreateQueue", "events:PutTargets"}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if st.Monitor.QueueURL != srv.SQSQueueURL(aloneID, prevent.QueueName) {
		t.Errorf("QueueURL after apply: %q", st.Monitor.QueueURL)
	}
	checkQueues(t, srv, aloneKey, aloneID, prevent.DefaultBusName)
	r := srv.EventRules(aloneID, home)[0]
	if r.Bus != "default" || r.State != prevent.RuleState || canon(t, r.EventPattern) != canon(t, prevent.EventPatternJSON()) {
		t.Errorf("rule %+v", r)
	}

	// Again: nothing to do, and it says what is in place.
	srv.ResetCalls()
	again, st2 := monitorPlan(t, srv, aloneKey, true)
	if len(again.Steps) != 0 || len(again.InPlace) != 4 {
		t.Errorf("second plan: steps %v, in place %v", stepActions(again), again.InPlace)
	}
	if st2.Monitor.QueueURL != srv.SQSQueueURL(aloneID, prevent.QueueName) {
		t.Errorf("QueueURL read back: %q", st2.Monitor.QueueURL)
	}
	if got := mutatingCalls(srv); len(got) != 0 {
		t.Errorf("second read made mutating calls: %v", got)
	}
}

func TestStandaloneDrift(t *testing.T) {
	srv := awsemutest.Start(t, aloneWorld())
	p, _ := monitorPlan(t, srv, aloneKey, true)
	apply(t, p, filepath.Join(t.TempDir(), "a"))
	// Someone loosens the queue, repoints the target and edits the rule.
	cfg := awsemutest.ConfigFor(t, srv, aloneKey)
	q := sqs.NewFromConfig(cfg)
	url := srv.SQSQueueURL(aloneID, prevent.QueueName)
	open := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}`
	if _, err := q.SetQueueAttributes(t.Context(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"VisibilityTimeout": "300", "Policy": open}}); err != nil {
		t.Fatal(err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	if _, err := eb.PutTargets(t.Context(), &eventbridge.PutTargetsInput{Rule: aws.String(prevent.AlertRuleName),
		Targets: []ebtypes.Target{{Id: aws.String(prevent.QueueTargetID), Arn: aws.String("arn:aws:sqs:us-east-1:777788889999:elsewhere")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(t.Context(), &eventbridge.PutRuleInput{Name: aws.String(prevent.AlertRuleName), EventPattern: aws.String(`{"source":["aws.iam"]}`)}); err != nil {
		t.Fatal(err)
	}

	p, _ = monitorPlan(t, srv, aloneKey, true)
	if diff := cmp.Diff([]string{guardrail.StepRule, guardrail.StepConfigureQ, guardrail.StepQueueTarget}, stepActions(p)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	cfgStep := p.Steps[1]
	if !strings.Contains(cfgStep.Description, "VisibilityTimeout 60 (was 300)") || !strings.Contains(cfgStep.Warning, "policy is replaced") {
		t.Errorf("configure step: %+v", cfgStep)
	}
	if !strings.Contains(p.Steps[0].Warning, `{"source":["aws.iam"]}`) {
		t.Errorf("rule step does not say what it replaces: %+v", p.Steps[0])
	}
	srv.ResetCalls()
	if rep := apply(t, p, filepath.Join(t.TempDir(), "b")); rep.Failed() != 0 {
		t.Fatalf("apply: %+v", rep.Results)
	}
	for _, c := range srv.Calls() {
		if c.Action == "SetQueueAttributes" && strings.Contains(c.Params["Attributes"], "MessageRetentionPeriod") {
			t.Errorf("SetQueueAttributes set what was right: %s", c.Params["Attributes"])
		}
	}
	checkQueues(t, srv, aloneKey, aloneID, prevent.DefaultBusName)
	if p, _ := monitorPlan(t, srv, aloneKey, true); len(p.Steps) != 0 {
		t.Errorf("not idempotent: %v", stepActions(p))
	}

	// The same policy written another way (an Id, lists for single
	// values, other key order) is the same policy.
	ruleARN := prevent.RuleARN("aws", home, aloneID, prevent.DefaultBusName, prevent.AlertRuleName)
	queueARN := prevent.SQSARN("aws", home, aloneID, prevent.QueueName)
	same := `{"Id":"__default_policy_ID","Statement":[{"Condition":{"ArnEquals":{"aws:SourceArn":["` + ruleARN + `"]}},"Resource":["` + queueARN + `"],"Action":["sqs:SendMessage"],"Principal":{"Service":["events.amazonaws.com"]},"Effect":"Allow","Sid":"AllowRootActivityRule"},` +
		`{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"` + queueARN + `","Condition":{"Bool":{"aws:SecureTransport":"false"}}}],"Version":"2012-10-17"}`
	if _, err := q.SetQueueAttributes(t.Context(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": same}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := monitorPlan(t, srv, aloneKey, true); len(p.Steps) != 0 {
		t.Errorf("an equivalent policy is replaced: %v", stepActions(p))
	}

	// A customer managed key is stronger than SSE-SQS: kept, with a word
	// on what EventBridge needs from it.
	if _, err := q.SetQueueAttributes(t.Context(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"KmsMasterKeyId": "alias/vigil", "SqsManagedSseEnabled": "false"}}); err != nil {
		t.Fatal(err)
	}
	p, _ = monitorPlan(t, srv, aloneKey, true)
	if len(p.Steps) != 0 || !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "KMS key alias/vigil") }) {
		t.Errorf("KMS key: steps %v, warnings %v", stepActions(p), p.Warnings)
	}
}

// setUpCentral makes the central bus and rule as the Terraform would, with
// only the SNS target: a deployment by an older Vigil.
func setUpCentral(t *testing.T, srv *awsemu.Server, extraTargets int) {
	t.Helper()
	eb := eventbridge.NewFromConfig(awsemutest.ConfigFor(t, srv, mgmtKey))
	ctx := t.Context()
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(prevent.CentralBusName)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(prevent.AlertRuleName), EventBusName: aws.String(prevent.CentralBusName),
		EventPattern: aws.String(prevent.EventPatternJSON()), State: ebtypes.RuleState(prevent.RuleState)}); err != nil {
		t.Fatal(err)
	}
	targets := []ebtypes.Target{{Id: aws.String("sns"), Arn: aws.String("arn:aws:sns:us-east-1:111122223333:vigil-root-activity")}}
	for i := range extraTargets {
		targets = append(targets, ebtypes.Target{Id: aws.String("other" + string(rune('a'+i))), Arn: aws.String("arn:aws:sns:us-east-1:111122223333:other")})
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(prevent.AlertRuleName), EventBusName: aws.String(prevent.CentralBusName), Targets: targets}); err != nil {
		t.Fatal(err)
	}
}

func TestOrgQueueOnTheCentralRule(t *testing.T) {
	srv := awsemutest.Start(t, freshWorld())
	setUpCentral(t, srv, 0)
	srv.ResetCalls()
	p, st := monitorPlan(t, srv, mgmtKey, false, rootID)
	ids := stepActions(p)
	if diff := cmp.Diff([]string{guardrail.StepDeadLetter, guardrail.StepQueue, guardrail.StepQueueTarget}, ids[len(ids)-3:]); diff != "" {
		t.Fatalf("queue steps (-want +got):\n%s", diff)
	}
	if slices.Contains(ids, guardrail.StepRule) {
		t.Error("--apply would change the central rule, which belongs to the templates")
	}
	if last := p.Steps[len(p.Steps)-1]; !strings.Contains(last.Warning, "Terraform or CloudFormation") || last.Account != mgmtID {
		t.Errorf("target step: %+v", last)
	}
	if rep := apply(t, p, filepath.Join(t.TempDir(), "a")); rep.Failed() != 0 {
		t.Fatalf("apply: %+v", rep.Results)
	}
	checkQueues(t, srv, mgmtKey, mgmtID, prevent.CentralBusName)
	if st.Monitor.QueueURL == "" {
		t.Error("no queue URL after apply")
	}
	// The SNS target is untouched.
	if r := srv.EventRules(mgmtID, home)[0]; len(r.Targets) != 2 || r.Targets[0].Id != "sns" {
		t.Errorf("targets %+v", r.Targets)
	}
	if again, _ := monitorPlan(t, srv, mgmtKey, false, rootID); len(again.Steps) != 0 {
		t.Errorf("not idempotent: %v", stepActions(again))
	}
}

func TestOrgWithoutTheCentralRule(t *testing.T) {
	srv := awsemutest.Start(t, freshWorld())
	p, st := monitorPlan(t, srv, mgmtKey, false, rootID)
	for _, s := range p.Steps {
		if strings.HasPrefix(s.Action, "sqs:") || strings.HasPrefix(s.Action, "events:") {
			t.Errorf("planned %s without the central rule", s.Action)
		}
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool {
		return strings.Contains(w, "Root activity monitoring is not deployed in us-east-1")
	}) {
		t.Errorf("no warning: %v", p.Warnings)
	}
	if srv.CallCount("sqs", "") != 0 || st.Monitor.RuleFound {
		t.Errorf("read the queues although there is no rule (%d SQS calls)", srv.CallCount("sqs", ""))
	}
}

func TestQueueTargetQuota(t *testing.T) {
	srv := awsemutest.Start(t, freshWorld())
	setUpCentral(t, srv, 4)
	p, _ := monitorPlan(t, srv, mgmtKey, false, rootID)
	if slices.Contains(stepActions(p), guardrail.StepQueueTarget) || len(p.Blocked) != 1 || !strings.Contains(p.Blocked[0], "already has 5 targets") {
		t.Errorf("steps %v blocked %v", stepActions(p), p.Blocked)
	}
}

func TestMonitorReadErrors(t *testing.T) {
	srv := awsemutest.Start(t, aloneWorld(), awsemu.WithFaults(awsemu.Fault{Service: "sqs", Action: "GetQueueUrl", Code: "AccessDenied"}))
	c := clients(t, srv, aloneKey)
	_, err := guardrail.ReadMonitor(t.Context(), c.Monitor(home), "aws", aloneID, home, true)
	if err == nil || !strings.Contains(err.Error(), "sqs:GetQueueUrl") {
		t.Errorf("denied read: %v", err)
	}
	srv = awsemutest.Start(t, aloneWorld(), awsemu.WithFaults(awsemu.Fault{Service: "events", Action: "DescribeRule", Code: "AccessDeniedException"}))
	c = clients(t, srv, aloneKey)
	if _, err := guardrail.ReadMonitor(t.Context(), c.Monitor(home), "aws", aloneID, home, true); err == nil || !strings.Contains(err.Error(), "events:DescribeRule") {
		t.Errorf("denied rule read: %v", err)
	}
}
