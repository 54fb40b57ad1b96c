package prevent

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/iampolicy"
)

// CloudFormation intrinsic functions, in their long form: plain YAML that
// any YAML parser reads, unlike the !Ref short tags.
func ref(name string) obj         { return obj{{"Ref", name}} }
func getAtt(res, attr string) obj { return obj{{"Fn::GetAtt", []any{res, attr}}} }
func sub(s string) obj            { return obj{{"Fn::Sub", s}} }

const cfnVersion = "2010-09-09"

// busARNPattern is what a CentralEventBusArn parameter must look like.
const busARNPattern = `^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._/-]+$`

// forwarderTemplate is deployed in every monitored account and region: a
// rule on the default bus that sends root activity to the central bus,
// with the role EventBridge needs for that (a role is required for an
// event bus target in another region, and for one in another account
// that is allowed through the organisation rather than by account ID).
// The role has no name, so CloudFormation gives each regional stack its
// own and the stacks never collide on IAM's global names. For a
// standalone account the "central" bus is the home region's default bus.
func forwarderTemplate(standalone bool) obj {
	description := "Vigil root activity forwarder: sends this account's root user sign-ins and API calls in this region to the organisation's central event bus."
	roleDescription := "Lets EventBridge put root activity events on the organisation's central event bus (Vigil)."
	if standalone {
		description = "Vigil root activity forwarder: sends this account's root user sign-ins and API calls in this region to the default event bus of the account's home region, where the rule for them is."
		roleDescription = "Lets EventBridge put root activity events on the home region's default event bus (Vigil)."
	}
	return obj{
		{"AWSTemplateFormatVersion", cfnVersion},
		{"Description", description},
		{"Parameters", obj{
			{"CentralEventBusArn", obj{
				{"Type", "String"},
				{"Description", "ARN of the central event bus (output CentralEventBusArn of the central stack)."},
				{"AllowedPattern", busARNPattern},
			}},
		}},
		{"Resources", obj{
			{"ForwarderRole", obj{
				{"Type", "AWS::IAM::Role"},
				{"Properties", obj{
					{"Description", roleDescription},
					{"AssumeRolePolicyDocument", forwarderTrust()},
					{"Policies", []any{obj{
						{"PolicyName", "put-events-on-central-bus"},
						{"PolicyDocument", forwarderPermissions(ref("CentralEventBusArn"))},
					}}},
				}},
			}},
			{"RootActivityRule", obj{
				{"Type", "AWS::Events::Rule"},
				{"Properties", obj{
					{"Name", forwardRuleName},
					{"Description", "Vigil: root user console sign-in and API calls, to the central event bus."},
					{"EventBusName", "default"},
					{"State", ruleState},
					{"EventPattern", EventPattern()},
					{"Targets", []any{obj{
						{"Id", centralTargetID},
						{"Arn", ref("CentralEventBusArn")},
						{"RoleArn", getAtt("ForwarderRole", "Arn")},
					}}},
				}},
			}},
		}},
	}
}

// centralTemplate is deployed once, in the home region of the management
// account: the central bus that every forwarder sends to, the alert rule
// with its SNS topic and queue, and the StackSet that puts a forwarder in
// every member account and monitored region — including accounts that
// join later. For a standalone account it is the rule on the home
// region's default bus with its topic and queue; the forwarder template,
// deployed in the other regions, sends to that bus.
func centralTemplate(o *Options, forwarderYAML string) obj {
	param := func(typ, desc, def string, extra ...kv) obj {
		p := obj{{"Type", typ}, {"Description", desc}}
		if def != "" {
			p = append(p, kv{"Default", def})
		}
		return append(p, extra...)
	}
	ous := ""
	if o.RootID != "" {
		ous = o.RootID
	}
	params := obj{}
	resources := obj{}
	outputs := obj{}
	description := "Vigil root activity monitoring: a central event bus, SNS topic and queue in the management account, and a StackSet that forwards root activity from every member account and monitored region."
	ruleBus := any(ref("CentralEventBus"))
	if o.Standalone {
		description = "Vigil root activity monitoring for one account: a rule on this region's default event bus, an SNS topic and the queue vigil serve reads. Deploy the forwarder template in the account's other regions."
		ruleBus = DefaultBusName
		outputs = append(outputs, kv{"CentralEventBusArn", obj{
			{"Description", "Give this to the forwarder stacks of the account's other regions."},
			{"Value", sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/" + DefaultBusName)}}})
	} else {
		params = append(params,
			kv{"OrganizationId", param("String", "The organisation ID (o-...): only its accounts may send to the central bus.", o.OrganizationID,
				kv{"AllowedPattern", "^o-[a-z0-9]{10,32}$"})},
			kv{"MonitoredOrganizationalUnitIds", param("CommaDelimitedList", "Where the StackSet deploys forwarders: the root ID (r-...) for every member account, or OU IDs.", ous)},
			kv{"MonitoredRegions", param("CommaDelimitedList", "Regions to forward root activity from; must include "+GlobalEventsRegion(o.Partition)+", where IAM and sign-in events land.", strings.Join(o.Regions, ","))},
		)
		resources = append(resources, kv{"CentralEventBus", obj{
			{"Type", "AWS::Events::EventBus"},
			{"Properties", obj{
				{"Name", centralBusName},
				{"Description", "Vigil: root activity from every account and region of the organisation."},
				{"Policy", busPolicy(sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/"+centralBusName), ref("OrganizationId"))},
			}},
		}})
		outputs = append(outputs, kv{"CentralEventBusArn", obj{{"Description", "Give this to the forwarder stacks of the management account's regions."}, {"Value", getAtt("CentralEventBus", "Arn")}}})
	}
	// An empty default keeps the parameter optional.
	params = append(params, kv{"AlertEmail", obj{{"Type", "String"}, {"Description", "Email address to notify (confirm the subscription email); empty for none."}, {"Default", o.AlertEmail}}})

	rule := getAtt("RootActivityAlertRule", "Arn")
	resources = append(resources,
		kv{"RootActivityTopic", obj{
			{"Type", "AWS::SNS::Topic"},
			{"Properties", obj{
				{"TopicName", topicName},
				{"DisplayName", "AWS root user activity"},
			}},
		}},
		kv{"RootActivityTopicPolicy", obj{
			{"Type", "AWS::SNS::TopicPolicy"},
			{"Properties", obj{
				{"Topics", []any{ref("RootActivityTopic")}},
				{"PolicyDocument", topicPolicy(ref("RootActivityTopic"), rule)},
			}},
		}},
		kv{"AlertEmailSubscription", obj{
			{"Type", "AWS::SNS::Subscription"},
			{"Condition", "HasAlertEmail"},
			{"Properties", obj{
				{"Protocol", "email"},
				{"TopicArn", ref("RootActivityTopic")},
				{"Endpoint", ref("AlertEmail")},
			}},
		}},
		// The queue vigil serve reads (events.sqs_queue_url). Its policy
		// admits EventBridge for the alert rule only; no role is involved.
		kv{"RootActivityDeadLetterQueue", obj{
			{"Type", "AWS::SQS::Queue"},
			{"Properties", obj{
				{"QueueName", DeadLetterQueueName},
				{"SqsManagedSseEnabled", true},
				{"MessageRetentionPeriod", QueueRetentionSeconds},
			}},
		}},
		kv{"RootActivityQueue", obj{
			{"Type", "AWS::SQS::Queue"},
			{"Properties", obj{
				{"QueueName", QueueName},
				{"SqsManagedSseEnabled", true},
				{"MessageRetentionPeriod", QueueRetentionSeconds},
				{"VisibilityTimeout", QueueVisibilitySeconds},
				{"ReceiveMessageWaitTimeSeconds", QueueWaitSeconds},
				{"RedrivePolicy", redrivePolicy(getAtt("RootActivityDeadLetterQueue", "Arn"))},
			}},
		}},
		kv{"RootActivityQueuePolicy", obj{
			{"Type", "AWS::SQS::QueuePolicy"},
			{"Properties", obj{
				{"Queues", []any{ref("RootActivityQueue")}},
				{"PolicyDocument", queuePolicy(getAtt("RootActivityQueue", "Arn"), rule)},
			}},
		}},
		kv{"RootActivityDeadLetterQueuePolicy", obj{
			{"Type", "AWS::SQS::QueuePolicy"},
			{"Properties", obj{
				{"Queues", []any{ref("RootActivityDeadLetterQueue")}},
				{"PolicyDocument", queuePolicy(getAtt("RootActivityDeadLetterQueue", "Arn"), rule)},
			}},
		}},
		kv{"RootActivityAlertRule", obj{
			{"Type", "AWS::Events::Rule"},
			{"Properties", obj{
				{"Name", alertRuleName},
				{"Description", ruleDescription(o.Standalone)},
				{"EventBusName", ruleBus},
				{"State", ruleState},
				{"EventPattern", EventPattern()},
				{"Targets", []any{
					obj{{"Id", snsTargetID}, {"Arn", ref("RootActivityTopic")}},
					obj{{"Id", QueueTargetID}, {"Arn", getAtt("RootActivityQueue", "Arn")},
						{"DeadLetterConfig", obj{{"Arn", getAtt("RootActivityDeadLetterQueue", "Arn")}}}},
				}},
			}},
		}},
	)
	if !o.Standalone {
		resources = append(resources, kv{"MemberAccountForwarders", obj{
			{"Type", "AWS::CloudFormation::StackSet"},
			{"Properties", obj{
				{"StackSetName", stackSetName},
				{"Description", "Vigil: forwards root activity from every member account and monitored region to the central event bus."},
				{"PermissionModel", "SERVICE_MANAGED"},
				{"AutoDeployment", obj{{"Enabled", true}, {"RetainStacksOnAccountRemoval", false}}},
				{"Capabilities", []any{"CAPABILITY_IAM"}},
				{"ManagedExecution", obj{{"Active", true}}},
				{"OperationPreferences", obj{
					{"RegionConcurrencyType", "PARALLEL"},
					{"MaxConcurrentPercentage", 100},
					{"FailureTolerancePercentage", 100},
					{"ConcurrencyMode", "SOFT_FAILURE_TOLERANCE"},
				}},
				{"Parameters", []any{obj{{"ParameterKey", "CentralEventBusArn"}, {"ParameterValue", getAtt("CentralEventBus", "Arn")}}}},
				{"StackInstancesGroup", []any{obj{
					{"DeploymentTargets", obj{{"OrganizationalUnitIds", ref("MonitoredOrganizationalUnitIds")}}},
					{"Regions", ref("MonitoredRegions")},
				}}},
				{"TemplateBody", literal(forwarderYAML)},
			}},
		}})
	}
	outputs = append(outputs,
		kv{"RootActivityTopicArn", obj{{"Description", "Subscribe your alerting (email, chat, paging) to this topic."}, {"Value", ref("RootActivityTopic")}}},
		kv{"RootActivityQueueUrl", obj{{"Description", "The queue vigil serve reads: events.sqs_queue_url in its config."}, {"Value", ref("RootActivityQueue")}}},
		kv{"RootActivityQueueArn", obj{{"Description", "ARN of the queue vigil serve reads."}, {"Value", getAtt("RootActivityQueue", "Arn")}}},
		kv{"RootActivityDeadLetterQueueUrl", obj{{"Description", "Messages vigil serve could not handle, and events EventBridge could not deliver."}, {"Value", ref("RootActivityDeadLetterQueue")}}},
		kv{"VigilServeConfig", obj{{"Description", "Add this to the vigil serve config file."}, {"Value", sub("events:\n  sqs_queue_url: ${RootActivityQueue}\n")}}},
	)
	return obj{
		{"AWSTemplateFormatVersion", cfnVersion},
		{"Description", description},
		{"Parameters", params},
		{"Conditions", obj{
			{"HasAlertEmail", obj{{"Fn::Not", []any{obj{{"Fn::Equals", []any{ref("AlertEmail"), ""}}}}}}},
		}},
		{"Resources", resources},
		{"Outputs", outputs},
	}
}

// scpTemplate creates the two SCPs and attaches them to TargetIds.
func scpTemplate(o *Options) (obj, error) {
	resources := obj{}
	outputs := obj{}
	for _, p := range SCPs(o.Partition) {
		content, err := scpContent(p)
		if err != nil {
			return nil, err
		}
		logical := cfnLogicalID(p.Key)
		resources = append(resources, kv{logical, obj{
			{"Type", "AWS::Organizations::Policy"},
			{"Properties", obj{
				{"Name", p.Name},
				{"Description", p.Description},
				{"Type", "SERVICE_CONTROL_POLICY"},
				// An object rather than a string, so CloudFormation can
				// detect drift on the policy text.
				{"Content", content},
				{"TargetIds", ref("TargetIds")},
			}},
		}})
		outputs = append(outputs, kv{logical + "Id", obj{{"Description", "ID of " + p.Name}, {"Value", getAtt(logical, "Id")}}})
	}
	target := obj{{"Type", "CommaDelimitedList"},
		{"Description", "Root, OU or account IDs to attach the SCPs to. The root ID (r-...) covers every member account; never the management account (SCPs do not apply there)."}}
	if len(o.Targets) > 0 {
		target = append(target, kv{"Default", strings.Join(o.Targets, ",")})
	}
	return obj{
		{"AWSTemplateFormatVersion", cfnVersion},
		{"Description", "Vigil: service control policies that stop member accounts' root users (all actions except AssumeRoot sessions; access key creation)."},
		{"Parameters", obj{{"TargetIds", target}}},
		{"Resources", resources},
		{"Outputs", outputs},
	}, nil
}

// scpContent is an SCP as an ordered object, for embedding.
func scpContent(p SCP) (any, error) {
	b, err := iampolicy.Minify(p.Doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Name, err)
	}
	return orderedFromJSON(b)
}

// cfnLogicalID turns "deny-root-actions" into "DenyRootActions".
func cfnLogicalID(key string) string {
	var b strings.Builder
	for _, part := range strings.Split(key, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
