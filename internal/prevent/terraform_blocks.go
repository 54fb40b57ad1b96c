package prevent

import (
	"strings"
)

// orgTerraform is the organisation's configuration: the SCPs, the central
// bus with its rule, topic and queue, the management account's forwarders
// and the member accounts' StackSet.
func orgTerraform(o *Options) ([]tfBlock, error) {
	var blocks []tfBlock
	var targetsDefault, ouDefault, orgDefault any
	if len(o.Targets) > 0 {
		targetsDefault = o.Targets
	}
	if o.RootID != "" {
		ouDefault = []string{o.RootID}
	}
	if o.OrganizationID != "" {
		orgDefault = o.OrganizationID
	}
	targetVar := tfVariable("scp_target_ids", "list(string)",
		"Root, OU or account IDs to attach the SCPs to. The root ID covers every member account; never the management account, where SCPs do not apply.",
		targetsDefault, "")
	targetVar.blocks = []tfBlock{{typ: "validation", attrs: []kv{
		{"condition", tfRef(`length(var.scp_target_ids) > 0 && alltrue([for id in var.scp_target_ids : can(regex("^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|[0-9]{12})$", id))])`)},
		{"error_message", "Each target must be a root ID (r-...), an OU ID (ou-...-...) or a 12-digit account ID."},
	}}}
	blocks = append(blocks,
		tfVariable("home_region", "string", "Region of the central event bus, the SNS topic and the queue.", o.HomeRegion, ""),
		tfVariable("organization_id", "string", "The organisation ID (o-...); only its accounts may send to the central bus.", orgDefault, ""),
		targetVar,
		tfVariable("monitored_regions", "list(string)",
			"Regions to forward root activity from. Must include "+GlobalEventsRegion(o.Partition)+", where IAM and console sign-in events land.", o.Regions, ""),
		tfVariable("monitored_ou_ids", "list(string)", "Where the StackSet deploys forwarders in member accounts: the root ID for all of them, or OU IDs.", ouDefault, ""),
		tfVariable("alert_email", "string", "Email address subscribed to the alert topic; empty for none.", o.AlertEmail, ""),
	)

	for _, p := range SCPs(o.Partition) {
		content, err := scpContent(p)
		if err != nil {
			return nil, err
		}
		name := strings.ReplaceAll(p.Key, "-", "_")
		blocks = append(blocks,
			tfBlock{typ: "resource", labels: []string{"aws_organizations_policy", name}, comment: scpComment(p),
				attrs: []kv{{"name", p.Name}, {"description", p.Description}, {"type", "SERVICE_CONTROL_POLICY"}, {"content", jsonValue{content}}}},
			tfBlock{typ: "resource", labels: []string{"aws_organizations_policy_attachment", name},
				attrs: []kv{{"for_each", tfRef("toset(var.scp_target_ids)")}, {"policy_id", tfRef("aws_organizations_policy." + name + ".id")}, {"target_id", tfRef("each.value")}}},
		)
	}

	bus := tfRef("aws_cloudwatch_event_bus.central.name")
	blocks = append(blocks,
		tfBlock{typ: "resource", labels: []string{"aws_cloudwatch_event_bus", "central"},
			comment: "Root activity monitoring. Every monitored account and region forwards root events to this bus;\none rule on it notifies the SNS topic and fills the queue vigil serve reads.",
			attrs:   []kv{{"name", centralBusName}, {"description", "Vigil: root activity from every account and region of the organisation."}}},
		tfBlock{typ: "resource", labels: []string{"aws_cloudwatch_event_bus_policy", "central"},
			attrs: []kv{{"event_bus_name", tfRef("aws_cloudwatch_event_bus.central.name")},
				{"policy", jsonValue{busPolicy(tfRef("aws_cloudwatch_event_bus.central.arn"), tfRef("var.organization_id"))}}}},
	)
	blocks = append(blocks, alertTerraform(o, bus)...)
	blocks = append(blocks,
		tfBlock{typ: "resource", labels: []string{"aws_iam_role", "forwarder"},
			comment: "The management account's own forwarders: one rule per monitored region, all through one role.\n(Service-managed StackSets never deploy to the management account.)",
			attrs: []kv{{"name", forwarderRoleTF}, {"description", "Lets EventBridge put root activity events on the central event bus (Vigil)."},
				{"assume_role_policy", jsonValue{forwarderTrust()}}}},
		tfBlock{typ: "resource", labels: []string{"aws_iam_role_policy", "forwarder"},
			attrs: []kv{{"name", "put-events-on-central-bus"}, {"role", tfRef("aws_iam_role.forwarder.id")},
				{"policy", jsonValue{forwarderPermissions(tfRef("aws_cloudwatch_event_bus.central.arn"))}}}},
		tfBlock{typ: "resource", labels: []string{"aws_cloudwatch_event_rule", "forward"},
			attrs: []kv{{"for_each", tfRef("toset(var.monitored_regions)")}, {"region", tfRef("each.value")}, {"name", forwardRuleName},
				{"description", "Vigil: root user console sign-in and API calls, to the central event bus."},
				{"state", ruleState}, {"event_pattern", jsonValue{EventPattern()}}}},
		tfBlock{typ: "resource", labels: []string{"aws_cloudwatch_event_target", "forward"},
			attrs: []kv{{"for_each", tfRef("toset(var.monitored_regions)")}, {"region", tfRef("each.value")},
				{"rule", tfRef("aws_cloudwatch_event_rule.forward[each.value].name")}, {"target_id", centralTargetID},
				{"arn", tfRef("aws_cloudwatch_event_bus.central.arn")}, {"role_arn", tfRef("aws_iam_role.forwarder.arn")}}},

		tfBlock{typ: "resource", labels: []string{"aws_cloudformation_stack_set", "forwarder"},
			comment: "Member accounts' forwarders: a service-managed StackSet deploys the forwarder template to every\naccount under var.monitored_ou_ids in every monitored region, and to accounts that join later.\nNeeds trusted access for StackSets: aws cloudformation activate-organizations-access.",
			attrs: []kv{{"name", stackSetName}, {"description", "Vigil: forwards root activity from every member account and monitored region to the central event bus."},
				{"permission_model", "SERVICE_MANAGED"}, {"capabilities", []string{"CAPABILITY_IAM"}},
				{"parameters", obj{{"CentralEventBusArn", tfRef("aws_cloudwatch_event_bus.central.arn")}}},
				{"template_body", jsonValue{forwarderTemplate(false)}}},
			blocks: []tfBlock{
				{typ: "auto_deployment", attrs: []kv{{"enabled", true}, {"retain_stacks_on_account_removal", false}}},
				{typ: "managed_execution", attrs: []kv{{"active", true}}},
				{typ: "lifecycle", attrs: []kv{{"ignore_changes", tfRef("[administration_role_arn]")}}},
			}},
		tfBlock{typ: "resource", labels: []string{"aws_cloudformation_stack_set_instance", "forwarder"},
			attrs: []kv{{"for_each", tfRef("toset(var.monitored_regions)")}, {"stack_set_name", tfRef("aws_cloudformation_stack_set.forwarder.name")},
				{"stack_set_instance_region", tfRef("each.value")}},
			blocks: []tfBlock{
				{typ: "deployment_targets", attrs: []kv{{"organizational_unit_ids", tfRef("var.monitored_ou_ids")}}},
				// An account that has not enabled one of the regions fails
				// there; that must not stop the other accounts.
				{typ: "operation_preferences", attrs: []kv{{"failure_tolerance_percentage", 100}, {"max_concurrent_percentage", 100}}},
			}},

		tfBlock{typ: "output", labels: []string{"scp_ids"}, attrs: []kv{{"value", tfRef(scpOutput(o))}}},
		tfBlock{typ: "output", labels: []string{"central_event_bus_arn"}, attrs: []kv{{"value", tfRef("aws_cloudwatch_event_bus.central.arn")}}},
	)
	return append(blocks, alertOutputs()...), nil
}

// standaloneTerraform is one account's configuration: the rule on the
// default bus of the home region with its topic and queue, and forwarders
// from every other monitored region to that bus. No SCP: they need an
// organisation.
func standaloneTerraform(o *Options) []tfBlock {
	blocks := []tfBlock{
		tfVariable("home_region", "string", "Region of the root activity rule, the SNS topic and the queue. Keep "+GlobalEventsRegion(o.Partition)+": IAM and console sign-in events land there.", o.HomeRegion, ""),
		tfVariable("monitored_regions", "list(string)",
			"Regions to forward root activity from. Must include "+GlobalEventsRegion(o.Partition)+", where IAM and console sign-in events land.", o.Regions, ""),
		tfVariable("alert_email", "string", "Email address subscribed to the alert topic; empty for none.", o.AlertEmail, ""),
		{typ: "data", labels: []string{"aws_cloudwatch_event_bus", "home"},
			comment: "Root activity monitoring for this account alone. The rule lives on the default event bus of\nvar.home_region; every other monitored region forwards root events to that bus.",
			attrs:   []kv{{"name", DefaultBusName}}},
	}
	blocks = append(blocks, alertTerraform(o, nil)...)
	blocks = append(blocks,
		tfBlock{typ: "resource", labels: []string{"aws_iam_role", "forwarder"},
			comment: "Forwarders from the other monitored regions, all through one role (an event bus in another\nregion is a target EventBridge reaches only through a role).",
			attrs: []kv{{"name", forwarderRoleTF}, {"description", "Lets EventBridge put root activity events on the home region's default event bus (Vigil)."},
				{"assume_role_policy", jsonValue{forwarderTrust()}}}},
		tfBlock{typ: "resource", labels: []string{"aws_iam_role_policy", "forwarder"},
			attrs: []kv{{"name", "put-events-on-home-bus"}, {"role", tfRef("aws_iam_role.forwarder.id")},
				{"policy", jsonValue{forwarderPermissions(tfRef("data.aws_cloudwatch_event_bus.home.arn"))}}}},
		tfBlock{typ: "resource", labels: []string{"aws_cloudwatch_event_rule", "forward"},
			attrs: []kv{{"for_each", tfRef("setsubtract(toset(var.monitored_regions), [var.home_region])")}, {"region", tfRef("each.value")}, {"name", forwardRuleName},
				{"description", "Vigil: root user console sign-in and API calls, to the home region's default event bus."},
				{"state", ruleState}, {"event_pattern", jsonValue{EventPattern()}}}},
		tfBlock{typ: "resource", labels: []string{"aws_cloudwatch_event_target", "forward"},
			attrs: []kv{{"for_each", tfRef("setsubtract(toset(var.monitored_regions), [var.home_region])")}, {"region", tfRef("each.value")},
				{"rule", tfRef("aws_cloudwatch_event_rule.forward[each.value].name")}, {"target_id", centralTargetID},
				{"arn", tfRef("data.aws_cloudwatch_event_bus.home.arn")}, {"role_arn", tfRef("aws_iam_role.forwarder.arn")}}},
	)
	return append(blocks, alertOutputs()...)
}

// alertTerraform is the rule that matches root activity on bus (nil: the
// default bus) and its two targets: the SNS topic for people, the queue
// for vigil serve, with its dead-letter queue and both queue policies.
func alertTerraform(o *Options, bus any) []tfBlock {
	ruleAttrs := []kv{{"name", alertRuleName}, {"description", ruleDescription(o.Standalone)}}
	targetBus := []kv{}
	if bus != nil {
		ruleAttrs = append(ruleAttrs, kv{"event_bus_name", bus})
		targetBus = append(targetBus, kv{"event_bus_name", bus})
	}
	ruleAttrs = append(ruleAttrs, kv{"state", ruleState}, kv{"event_pattern", jsonValue{EventPattern()}})
	target := func(attrs ...kv) []kv {
		out := []kv{{"rule", tfRef("aws_cloudwatch_event_rule.alert.name")}}
		out = append(out, targetBus...)
		return append(out, attrs...)
	}
	rule := tfRef("aws_cloudwatch_event_rule.alert.arn")
	return []tfBlock{
		{typ: "resource", labels: []string{"aws_sns_topic", "root_activity"},
			attrs: []kv{{"name", topicName}, {"display_name", "AWS root user activity"}}},
		{typ: "resource", labels: []string{"aws_sns_topic_policy", "root_activity"},
			attrs: []kv{{"arn", tfRef("aws_sns_topic.root_activity.arn")},
				{"policy", jsonValue{topicPolicy(tfRef("aws_sns_topic.root_activity.arn"), rule)}}}},
		{typ: "resource", labels: []string{"aws_sns_topic_subscription", "email"},
			attrs: []kv{{"count", tfRef(`var.alert_email == "" ? 0 : 1`)}, {"topic_arn", tfRef("aws_sns_topic.root_activity.arn")},
				{"protocol", "email"}, {"endpoint", tfRef("var.alert_email")}}},
		{typ: "resource", labels: []string{"aws_cloudwatch_event_rule", "alert"}, attrs: ruleAttrs},
		{typ: "resource", labels: []string{"aws_cloudwatch_event_target", "alert"},
			attrs: target(kv{"target_id", snsTargetID}, kv{"arn", tfRef("aws_sns_topic.root_activity.arn")})},

		{typ: "resource", labels: []string{"aws_sqs_queue", "root_activity_dlq"},
			comment: queueComment,
			attrs: []kv{{"name", DeadLetterQueueName}, {"sqs_managed_sse_enabled", true},
				{"message_retention_seconds", QueueRetentionSeconds}}},
		{typ: "resource", labels: []string{"aws_sqs_queue", "root_activity"},
			attrs: []kv{{"name", QueueName}, {"sqs_managed_sse_enabled", true},
				{"message_retention_seconds", QueueRetentionSeconds},
				{"visibility_timeout_seconds", QueueVisibilitySeconds},
				{"receive_wait_time_seconds", QueueWaitSeconds},
				{"redrive_policy", jsonValue{redrivePolicy(tfRef("aws_sqs_queue.root_activity_dlq.arn"))}}}},
		{typ: "resource", labels: []string{"aws_sqs_queue_policy", "root_activity"},
			attrs: []kv{{"queue_url", tfRef("aws_sqs_queue.root_activity.url")},
				{"policy", jsonValue{queuePolicy(tfRef("aws_sqs_queue.root_activity.arn"), rule)}}}},
		{typ: "resource", labels: []string{"aws_sqs_queue_policy", "root_activity_dlq"},
			attrs: []kv{{"queue_url", tfRef("aws_sqs_queue.root_activity_dlq.url")},
				{"policy", jsonValue{queuePolicy(tfRef("aws_sqs_queue.root_activity_dlq.arn"), rule)}}}},
		{typ: "resource", labels: []string{"aws_cloudwatch_event_target", "queue"},
			attrs:  target(kv{"target_id", QueueTargetID}, kv{"arn", tfRef("aws_sqs_queue.root_activity.arn")}),
			blocks: []tfBlock{{typ: "dead_letter_config", attrs: []kv{{"arn", tfRef("aws_sqs_queue.root_activity_dlq.arn")}}}}},
	}
}

const queueComment = `The queue vigil serve reads (events.sqs_queue_url), a target of the rule above. Its policy admits
EventBridge for this rule only (aws:SourceArn); no IAM role is involved. A message the consumer
fails on 5 times moves to the dead-letter queue, which also takes events EventBridge could not
deliver. Both are encrypted with SQS-managed keys (SSE-SQS) and keep messages 14 days.`

func alertOutputs() []tfBlock {
	return []tfBlock{
		{typ: "output", labels: []string{"root_activity_topic_arn"}, attrs: []kv{{"value", tfRef("aws_sns_topic.root_activity.arn")}}},
		{typ: "output", labels: []string{"root_activity_queue_url"}, attrs: []kv{{"value", tfRef("aws_sqs_queue.root_activity.url")}}},
		{typ: "output", labels: []string{"root_activity_queue_arn"}, attrs: []kv{{"value", tfRef("aws_sqs_queue.root_activity.arn")}}},
		{typ: "output", labels: []string{"root_activity_dead_letter_queue_url"}, attrs: []kv{{"value", tfRef("aws_sqs_queue.root_activity_dlq.url")}}},
		{typ: "output", labels: []string{"vigil_serve_config"},
			attrs: []kv{{"description", "Add this to the vigil serve config file."},
				{"value", tfRef(`"events:\n  sqs_queue_url: ${aws_sqs_queue.root_activity.url}\n"`)}}},
	}
}

// ruleDescription describes the alert rule.
func ruleDescription(standalone bool) string {
	if standalone {
		return "Vigil: root user activity in this account, to the SNS topic and the queue vigil serve reads."
	}
	return "Vigil: root user activity anywhere in the organisation, to the SNS topic and the queue vigil serve reads."
}
