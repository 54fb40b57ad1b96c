package prevent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// The root activity queue: `vigil serve` (events.sqs_queue_url) reads the
// central rule's matches from it, so Vigil itself learns of a root sign-in
// or a new root key within seconds rather than at the next scheduled scan.
//
// The Terraform, the CloudFormation and `vigil prevent --apply`
// (internal/guardrail) all build the queue from the values here, so a
// queue made one way is found "in place" by the others.
const (
	// QueueName and DeadLetterQueueName are the queues' names.
	QueueName           = "vigil-root-activity"
	DeadLetterQueueName = "vigil-root-activity-dlq"
	// QueueTargetID is the queue's target ID on the central rule.
	QueueTargetID = "vigil-queue"
	// CentralBusName is the organisation's central event bus; AlertRuleName
	// the rule on it (on the default bus of the home region when the account
	// is not in an organisation) whose targets are the topic and the queue.
	CentralBusName = centralBusName
	AlertRuleName  = alertRuleName
	// DefaultBusName is where the rule lives for a single account.
	DefaultBusName = "default"

	// MaxReceiveCount is how many times a message is received before SQS
	// moves it to the dead-letter queue: a message the consumer cannot
	// handle (malformed, or one that crashes it) is retried a few times,
	// then set aside instead of blocking the queue for good.
	MaxReceiveCount = 5
	// QueueRetentionSeconds keeps messages 14 days, the most SQS allows, so
	// a `vigil serve` that is down over a long weekend loses no root event.
	// The dead-letter queue keeps them as long: SQS keeps a message's first
	// enqueue time when it moves it, so a shorter retention there would
	// drop dead letters early.
	QueueRetentionSeconds = 1209600
	// QueueVisibilitySeconds is how long a received message stays hidden:
	// a consumer that dies mid-message gets it redelivered within a
	// minute, and one still working extends it (ChangeMessageVisibility).
	QueueVisibilitySeconds = 60
	// QueueWaitSeconds makes every receive a long poll by default (20 s,
	// the most SQS allows): fewer empty receives, events seen at once.
	QueueWaitSeconds = 20
)

// SQS attribute names, as SQS and the SDK spell them.
const (
	AttrPolicy            = "Policy"
	AttrRedrivePolicy     = "RedrivePolicy"
	AttrRetention         = "MessageRetentionPeriod"
	AttrVisibility        = "VisibilityTimeout"
	AttrWait              = "ReceiveMessageWaitTimeSeconds"
	AttrSqsManagedSSE     = "SqsManagedSseEnabled"
	AttrKmsMasterKeyID    = "KmsMasterKeyId"
	AttrQueueArn          = "QueueArn"
	redriveDeadLetterARN  = "deadLetterTargetArn"
	redriveMaxReceiveKey  = "maxReceiveCount"
	queuePolicyAllowSid   = "AllowRootActivityRule"
	queuePolicyDenyTLSSid = "DenyInsecureTransport"
)

// DeadLetterQueueAttributes are the dead-letter queue's settings, as
// CreateQueue and SetQueueAttributes take them (the policy apart).
func DeadLetterQueueAttributes() map[string]string {
	return map[string]string{
		AttrSqsManagedSSE: "true",
		AttrRetention:     strconv.Itoa(QueueRetentionSeconds),
	}
}

// QueueAttributes are the queue's settings (the policy apart); dlqARN is
// the dead-letter queue's ARN.
func QueueAttributes(dlqARN string) map[string]string {
	return map[string]string{
		AttrSqsManagedSSE: "true",
		AttrRetention:     strconv.Itoa(QueueRetentionSeconds),
		AttrVisibility:    strconv.Itoa(QueueVisibilitySeconds),
		AttrWait:          strconv.Itoa(QueueWaitSeconds),
		AttrRedrivePolicy: RedrivePolicy(dlqARN),
	}
}

// RedrivePolicy is the queue's RedrivePolicy attribute.
func RedrivePolicy(dlqARN string) string {
	return mustJSONCompact(redrivePolicy(dlqARN))
}

func redrivePolicy(dlqARN any) obj {
	return obj{{redriveDeadLetterARN, dlqARN}, {redriveMaxReceiveKey, MaxReceiveCount}}
}

// queuePolicy admits one sender: EventBridge, acting for the central rule
// (aws:SourceArn), which is what stops any other rule — in this account
// or, through a confused deputy, another — from writing to the queue. No
// IAM role is involved: EventBridge delivers to SQS under the queue's
// resource policy. A second statement refuses requests without TLS.
func queuePolicy(queueARN, ruleARN any) obj {
	return obj{version(), {policyStatements, []any{
		obj{
			{"Sid", queuePolicyAllowSid},
			{"Effect", "Allow"},
			{"Principal", obj{{"Service", "events.amazonaws.com"}}},
			{"Action", "sqs:SendMessage"},
			{"Resource", queueARN},
			{"Condition", obj{{"ArnEquals", obj{{"aws:SourceArn", ruleARN}}}}},
		},
		obj{
			{"Sid", queuePolicyDenyTLSSid},
			{"Effect", "Deny"},
			{"Principal", "*"},
			{"Action", "sqs:*"},
			{"Resource", queueARN},
			{"Condition", obj{{"Bool", obj{{"aws:SecureTransport", "false"}}}}},
		},
	}}}
}

// QueuePolicy is the resource policy of the queue (or the dead-letter
// queue) at queueARN, admitting only the rule at ruleARN.
func QueuePolicy(queueARN, ruleARN string) string {
	return mustJSONCompact(queuePolicy(queueARN, ruleARN))
}

// EventPatternJSON is EventPattern as compact JSON, as PutRule takes it.
func EventPatternJSON() string { return mustJSONCompact(EventPattern()) }

// RuleState is the state Vigil's rules are created in.
const RuleState = ruleState

// RuleDescription is the alert rule's description.
func RuleDescription(standalone bool) string { return ruleDescription(standalone) }

// SQSARN is the ARN of a queue.
func SQSARN(partition, region, account, name string) string {
	return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", partition, region, account, name)
}

// RuleARN is the ARN of a rule on bus (the default bus has no bus part).
func RuleARN(partition, region, account, bus, rule string) string {
	if bus == "" || bus == DefaultBusName {
		return fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", partition, region, account, rule)
	}
	return fmt.Sprintf("arn:%s:events:%s:%s:rule/%s/%s", partition, region, account, bus, rule)
}

// dnsSuffix is the partition's domain; China's differs.
func dnsSuffix(partition string) string {
	if partition == "aws-cn" {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// SQSURL is the URL SQS gives a queue (what GetQueueUrl returns).
func SQSURL(partition, region, account, name string) string {
	return fmt.Sprintf("https://sqs.%s.%s/%s/%s", region, dnsSuffix(partition), account, name)
}

// ServeConfig is the part of the `vigil serve` config file that points it
// at the queue.
func ServeConfig(queueURL string) string {
	return "events:\n  sqs_queue_url: " + queueURL + "\n"
}

// QueueAccount is the account that holds the queue, when known: the
// management account, or the single account.
func (o *Options) QueueAccount() string {
	if o.Standalone {
		return o.AccountID
	}
	return o.ManagementAccountID
}

// QueueURL is the queue's URL when the account holding it is known, else
// empty.
func (o *Options) QueueURL() string {
	if a := o.QueueAccount(); a != "" {
		return SQSURL(o.Partition, o.HomeRegion, a, QueueName)
	}
	return ""
}

func mustJSONCompact(v any) string {
	b, err := marshalJSON(v)
	if err != nil {
		panic(err) // only obj, strings and ints: cannot fail
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		panic(err)
	}
	return out.String()
}
