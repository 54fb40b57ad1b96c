package guardrail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/prevent"
)

// The root activity queue, `vigil prevent --apply`'s part of it: in the
// home region, the queue `vigil serve` reads and its dead-letter queue,
// each with a policy admitting only the alert rule, and the queue as a
// target of that rule. In an organisation the rule is the one on the
// central bus, deployed by the Terraform or CloudFormation (which also
// hold the StackSet and the forwarders' roles, things --apply does not
// make); --apply adds the queue to it, or says the rule is missing. An
// account in no organisation gets the rule too, on the default bus of
// the home region, where IAM and console sign-in events land.

// Events is every EventBridge call --apply makes: two reads, two changes.
type Events interface {
	DescribeRule(context.Context, *eventbridge.DescribeRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)

	PutRule(context.Context, *eventbridge.PutRuleInput, ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	PutTargets(context.Context, *eventbridge.PutTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
}

// SQS is every SQS call --apply makes: two reads, two changes.
type SQS interface {
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)

	CreateQueue(context.Context, *sqs.CreateQueueInput, ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	SetQueueAttributes(context.Context, *sqs.SetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error)
}

// MonitorClients are the clients of one region.
type MonitorClients struct {
	Events Events
	SQS    SQS
}

// Step IDs of the queue.
const (
	StepRule          = "put-root-activity-rule"
	StepDeadLetter    = "create-dead-letter-queue"
	StepConfigureDLQ  = "configure-dead-letter-queue"
	StepQueue         = "create-queue"
	StepConfigureQ    = "configure-queue"
	StepQueueTarget   = "add-queue-target"
	maxTargetsPerRule = 5
)

// MonitorState is what the home region shows.
type MonitorState struct {
	Region, Account, Partition string
	Standalone                 bool
	// Bus is the bus the rule is on: the central bus, or the default bus
	// of a standalone account.
	Bus     string
	RuleARN string
	// RuleFound, RulePattern and RuleState describe the rule.
	RuleFound   bool
	RulePattern string
	RuleState   string
	Targets     []ebtypes.Target
	// Queue and DeadLetter are nil when the queue does not exist (or, in
	// an organisation without the rule, was not read).
	Queue, DeadLetter *QueueState
	// QueueURL is the queue's URL once known: read, or filled in by the
	// step that creates it.
	QueueURL string
}

// QueueState is a queue as read.
type QueueState struct {
	URL, ARN   string
	Attributes map[string]string
}

// QueueARN is the ARN of the queue vigil serve reads.
func (m *MonitorState) QueueARN() string {
	if m.Queue != nil && m.Queue.ARN != "" {
		return m.Queue.ARN
	}
	return prevent.SQSARN(m.Partition, m.Region, m.Account, prevent.QueueName)
}

func (m *MonitorState) deadLetterARN() string {
	if m.DeadLetter != nil && m.DeadLetter.ARN != "" {
		return m.DeadLetter.ARN
	}
	return prevent.SQSARN(m.Partition, m.Region, m.Account, prevent.DeadLetterQueueName)
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// ReadMonitor reads the rule, its targets and the two queues in region.
// In an organisation whose central rule does not exist, the queues are
// not read: nothing would be planned for them.
func ReadMonitor(ctx context.Context, mc MonitorClients, partition, account, region string, standalone bool) (*MonitorState, error) {
	m := &MonitorState{Region: region, Account: account, Partition: partition, Standalone: standalone, Bus: prevent.CentralBusName}
	if standalone {
		m.Bus = prevent.DefaultBusName
	}
	m.RuleARN = prevent.RuleARN(partition, region, account, m.Bus, prevent.AlertRuleName)
	rule, err := mc.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(prevent.AlertRuleName), EventBusName: aws.String(m.Bus)})
	switch {
	case err != nil && apiCode(err) == "ResourceNotFoundException":
		if !standalone {
			return m, nil
		}
	case err != nil:
		return nil, readError("events:DescribeRule "+prevent.AlertRuleName+" in "+region, err)
	default:
		m.RuleFound, m.RulePattern, m.RuleState = true, aws.ToString(rule.EventPattern), string(rule.State)
		if a := aws.ToString(rule.Arn); a != "" {
			m.RuleARN = a
		}
		in := &eventbridge.ListTargetsByRuleInput{Rule: aws.String(prevent.AlertRuleName), EventBusName: aws.String(m.Bus)}
		for {
			out, err := mc.Events.ListTargetsByRule(ctx, in)
			if err != nil {
				return nil, readError("events:ListTargetsByRule "+prevent.AlertRuleName+" in "+region, err)
			}
			m.Targets = append(m.Targets, out.Targets...)
			if aws.ToString(out.NextToken) == "" {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	for _, q := range []struct {
		name string
		into **QueueState
	}{{prevent.DeadLetterQueueName, &m.DeadLetter}, {prevent.QueueName, &m.Queue}} {
		u, err := mc.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q.name)})
		var missing *sqstypes.QueueDoesNotExist
		if errors.As(err, &missing) || apiCode(err) == "AWS.SimpleQueueService.NonExistentQueue" {
			continue
		}
		if err != nil {
			return nil, readError("sqs:GetQueueUrl "+q.name+" in "+region, err)
		}
		attrs, err := mc.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			return nil, readError("sqs:GetQueueAttributes "+q.name+" in "+region, err)
		}
		*q.into = &QueueState{URL: aws.ToString(u.QueueUrl), ARN: attrs.Attributes[prevent.AttrQueueArn], Attributes: attrs.Attributes}
	}
	if m.Queue != nil {
		m.QueueURL = m.Queue.URL
	}
	return m, nil
}

// planMonitor adds the queue's steps to p; step adds one step.
func planMonitor(p *change.Plan, m *MonitorState, mc MonitorClients, step func(change.Step)) {
	where := fmt.Sprintf("%s in %s", m.Bus, m.Region)
	if !m.RuleFound && !m.Standalone {
		p.Warnings = append(p.Warnings, fmt.Sprintf("Root activity monitoring is not deployed in %s: the central rule %s on bus %s does not exist, so there is nothing to attach the queue vigil serve reads to. Deploy vigil-prevent.tf or cfn-root-activity-central.yaml (vigil prevent --out DIR writes them; both include the queue), then run vigil prevent --apply again to check it.",
			m.Region, prevent.AlertRuleName, prevent.CentralBusName))
		return
	}

	var ruleDep []string
	pattern := prevent.EventPatternJSON()
	switch {
	case !m.RuleFound:
		step(change.Step{ID: StepRule, Action: "events:PutRule", Target: prevent.AlertRuleName + " (" + where + ")",
			Description: fmt.Sprintf("Create the rule %s on the default event bus of %s, matching every root user sign-in and API call (state %s, so read-only calls too).", prevent.AlertRuleName, m.Region, prevent.RuleState),
			Run:         putRule(mc, m)})
		ruleDep = []string{StepRule}
	case !samePattern(m.RulePattern, pattern) || m.RuleState != prevent.RuleState:
		if m.Standalone {
			step(change.Step{ID: StepRule, Action: "events:PutRule", Target: prevent.AlertRuleName + " (" + where + ")",
				Description: "Set the rule's pattern and state back to Vigil's: it no longer matches every root user sign-in and API call.",
				Warning:     "the rule's current pattern (" + m.RulePattern + ") and state (" + m.RuleState + ") are replaced",
				Run:         putRule(mc, m)})
			ruleDep = []string{StepRule}
		} else {
			p.Warnings = append(p.Warnings, fmt.Sprintf("The central rule %s (%s) has pattern %s and state %s, not Vigil's %s and %s: it may miss root activity. It belongs to your Terraform or CloudFormation; redeploy it from vigil prevent --out.",
				prevent.AlertRuleName, where, m.RulePattern, m.RuleState, pattern, prevent.RuleState))
		}
	default:
		p.InPlace = append(p.InPlace, fmt.Sprintf("the rule %s (%s) matches root activity", prevent.AlertRuleName, where))
	}

	dlqARN, queueARN := m.deadLetterARN(), m.QueueARN()
	var dlqDep []string
	if s, ok := planQueue(p, m, mc, queueSpec{
		name: prevent.DeadLetterQueueName, state: m.DeadLetter, createID: StepDeadLetter, configureID: StepConfigureDLQ,
		attrs: prevent.DeadLetterQueueAttributes(), policy: prevent.QueuePolicy(dlqARN, m.RuleARN),
		what: "the dead-letter queue " + prevent.DeadLetterQueueName + ", for messages vigil serve fails on " + strconv.Itoa(prevent.MaxReceiveCount) + " times and events EventBridge cannot deliver",
	}); ok {
		step(s)
		dlqDep = []string{s.ID}
	}
	var queueDep []string
	if s, ok := planQueue(p, m, mc, queueSpec{
		name: prevent.QueueName, state: m.Queue, createID: StepQueue, configureID: StepConfigureQ, deps: dlqDep,
		attrs: prevent.QueueAttributes(dlqARN), policy: prevent.QueuePolicy(queueARN, m.RuleARN), isMain: true,
		what: "the queue " + prevent.QueueName + " that vigil serve reads (events.sqs_queue_url)",
	}); ok {
		step(s)
		queueDep = []string{s.ID}
	}

	want := ebtypes.Target{Id: aws.String(prevent.QueueTargetID), Arn: aws.String(queueARN), DeadLetterConfig: &ebtypes.DeadLetterConfig{Arn: aws.String(dlqARN)}}
	found := false
	for _, t := range m.Targets {
		if aws.ToString(t.Id) == prevent.QueueTargetID && aws.ToString(t.Arn) == queueARN && t.RoleArn == nil &&
			t.DeadLetterConfig != nil && aws.ToString(t.DeadLetterConfig.Arn) == dlqARN {
			found = true
		}
	}
	ours := slices.ContainsFunc(m.Targets, func(t ebtypes.Target) bool { return aws.ToString(t.Id) == prevent.QueueTargetID })
	switch {
	case found:
		p.InPlace = append(p.InPlace, fmt.Sprintf("the rule %s sends to the queue %s", prevent.AlertRuleName, prevent.QueueName))
	case !ours && len(m.Targets) >= maxTargetsPerRule:
		p.Blocked = append(p.Blocked, fmt.Sprintf("add the queue %s to the rule %s (%s): the rule already has %d targets, the most EventBridge allows; remove one first",
			prevent.QueueName, prevent.AlertRuleName, where, len(m.Targets)))
	default:
		s := change.Step{ID: StepQueueTarget, Action: "events:PutTargets", Target: prevent.AlertRuleName + " (" + where + ")",
			Description: fmt.Sprintf("Send the rule's matches to the queue %s (target %s), with the dead-letter queue for events EventBridge cannot deliver. No role: the queue policy admits the rule.", prevent.QueueName, prevent.QueueTargetID),
			DependsOn:   append(slices.Clone(ruleDep), queueDep...),
			Run: func(ctx context.Context) (string, error) {
				out, err := mc.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(prevent.AlertRuleName), EventBusName: aws.String(m.Bus), Targets: []ebtypes.Target{want}})
				if err != nil {
					return "", err
				}
				if out.FailedEntryCount > 0 && len(out.FailedEntries) > 0 {
					f := out.FailedEntries[0]
					return "", fmt.Errorf("target %s not added: %s: %s", prevent.QueueTargetID, aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage))
				}
				return queueARN, nil
			}}
		if ours {
			s.Description = fmt.Sprintf("Point the rule's target %s back at the queue %s with its dead-letter queue (it was changed).", prevent.QueueTargetID, prevent.QueueName)
		}
		if !m.Standalone {
			s.Warning = "the central rule belongs to your Terraform or CloudFormation: add the queue there too (vigil prevent --out writes it), or the next deploy may remove this target"
		}
		step(s)
	}
}

func putRule(mc MonitorClients, m *MonitorState) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		out, err := mc.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(prevent.AlertRuleName), EventBusName: aws.String(m.Bus),
			EventPattern: aws.String(prevent.EventPatternJSON()), State: ebtypes.RuleState(prevent.RuleState),
			Description: aws.String(prevent.RuleDescription(m.Standalone))})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.RuleArn), nil
	}
}

type queueSpec struct {
	name                  string
	state                 *QueueState
	createID, configureID string
	deps                  []string
	attrs                 map[string]string
	policy                string
	what                  string
	isMain                bool
}

// planQueue plans the creation of a queue, or the settings of an existing
// one that differ from Vigil's. ok is false when nothing is to be done.
func planQueue(p *change.Plan, m *MonitorState, mc MonitorClients, q queueSpec) (s change.Step, ok bool) {
	if q.state == nil {
		attrs := maps.Clone(q.attrs)
		attrs[prevent.AttrPolicy] = q.policy
		return change.Step{ID: q.createID, Action: "sqs:CreateQueue", Target: q.name + " (" + m.Region + ")", DependsOn: q.deps,
			Description: "Create " + q.what + ": encrypted (SSE-SQS), messages kept 14 days, writable only by the rule " + prevent.AlertRuleName + ".",
			Run: func(ctx context.Context) (string, error) {
				out, err := mc.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.name), Attributes: attrs})
				if err != nil {
					return "", err
				}
				if q.isMain {
					m.QueueURL = aws.ToString(out.QueueUrl)
				}
				return aws.ToString(out.QueueUrl), nil
			}}, true
	}
	if key := q.state.Attributes[prevent.AttrKmsMasterKeyID]; key != "" {
		// Kept (it is stronger than SSE-SQS), but EventBridge can write
		// to such a queue only if the key lets it.
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s is encrypted with the KMS key %s, which Vigil keeps: its key policy must let events.amazonaws.com use it (kms:GenerateDataKey, kms:Decrypt), or EventBridge cannot deliver; the AWS managed key alias/aws/sqs never can. SSE-SQS needs no key policy.", q.name, key))
	}
	diff := map[string]string{}
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(q.attrs)) {
		want, got := q.attrs[k], q.state.Attributes[k]
		switch k {
		case prevent.AttrSqsManagedSSE:
			// A customer managed KMS key is stronger than SSE-SQS: keep it.
			if q.state.Attributes[prevent.AttrKmsMasterKeyID] != "" || strings.EqualFold(got, want) {
				continue
			}
		case prevent.AttrRedrivePolicy:
			if sameRedrive(got, want) {
				continue
			}
		default:
			if got == want {
				continue
			}
		}
		diff[k] = want
		changed = append(changed, fmt.Sprintf("%s %s (was %s)", k, want, orNone(got)))
	}
	policyChanged := !samePolicy(q.state.Attributes[prevent.AttrPolicy], q.policy)
	if policyChanged {
		diff[prevent.AttrPolicy] = q.policy
		changed = append(changed, "Policy admitting only the rule "+prevent.AlertRuleName)
	}
	if len(diff) == 0 {
		p.InPlace = append(p.InPlace, fmt.Sprintf("%s exists with Vigil's settings (%s)", q.name, q.state.URL))
		return change.Step{}, false
	}
	s = change.Step{ID: q.configureID, Action: "sqs:SetQueueAttributes", Target: q.name + " (" + m.Region + ")", DependsOn: q.deps,
		Description: "Set " + q.what + " to Vigil's settings: " + strings.Join(changed, "; ") + ".",
		Run: func(ctx context.Context) (string, error) {
			_, err := mc.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q.state.URL), Attributes: diff})
			return "", err
		}}
	if policyChanged && q.state.Attributes[prevent.AttrPolicy] != "" {
		s.Warning = "the queue's current policy is replaced: statements added by hand are lost"
	}
	return s, true
}

func orNone(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

// samePattern compares two event patterns as JSON.
func samePattern(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// sameRedrive compares redrive policies; SQS may give maxReceiveCount back
// as a string.
func sameRedrive(a, b string) bool {
	parse := func(s string) (string, string, bool) {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) != nil {
			return "", "", false
		}
		arn, _ := m["deadLetterTargetArn"].(string)
		return arn, fmt.Sprint(m["maxReceiveCount"]), true
	}
	a1, a2, ok1 := parse(a)
	b1, b2, ok2 := parse(b)
	return ok1 && ok2 && a1 == b1 && a2 == b2
}

// samePolicy compares policies by their canonical form, ignoring the
// policy's Id (the console adds one; it grants nothing).
func samePolicy(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	ca, err1 := iampolicy.Canonical(withoutID(a))
	cb, err2 := iampolicy.Canonical(withoutID(b))
	return err1 == nil && err2 == nil && ca == cb
}

func withoutID(policy string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(policy), &m) != nil {
		return []byte(policy) // Canonical reports the error
	}
	delete(m, "Id")
	b, err := json.Marshal(m)
	if err != nil {
		return []byte(policy)
	}
	return b
}
