package prevent

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// hclTokens renders a value as an HCL expression: strings are quoted and
// escaped by hclwrite (so "${" can never become an interpolation),
// objects keep their key order, and tfRef is written as the expression it
// holds.
func hclTokens(v any) (hclwrite.Tokens, error) {
	switch t := v.(type) {
	case string:
		return hclwrite.TokensForValue(cty.StringVal(t)), nil
	case literal:
		return hclwrite.TokensForValue(cty.StringVal(string(t))), nil
	case bool:
		return hclwrite.TokensForValue(cty.BoolVal(t)), nil
	case int:
		return hclwrite.TokensForValue(cty.NumberIntVal(int64(t))), nil
	case float64:
		return hclwrite.TokensForValue(cty.NumberFloatVal(t)), nil
	case tfRef:
		return exprTokens(string(t))
	case []string:
		elems := make([]any, len(t))
		for i, s := range t {
			elems[i] = s
		}
		return hclTokens(elems)
	case []any:
		var elems []hclwrite.Tokens
		for _, e := range t {
			tok, err := hclTokens(e)
			if err != nil {
				return nil, err
			}
			elems = append(elems, tok)
		}
		return hclwrite.TokensForTuple(elems), nil
	case obj:
		var attrs []hclwrite.ObjectAttrTokens
		for _, e := range t {
			name := hclwrite.TokensForValue(cty.StringVal(e.k))
			if hclsyntax.ValidIdentifier(e.k) {
				name = hclwrite.TokensForIdentifier(e.k)
			}
			val, err := hclTokens(e.v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.k, err)
			}
			attrs = append(attrs, hclwrite.ObjectAttrTokens{Name: name, Value: val})
		}
		return hclwrite.TokensForObject(attrs), nil
	}
	return nil, fmt.Errorf("no HCL form for %T", v)
}

// exprTokens lexes an HCL expression written by Vigil itself (references,
// conditionals, function calls) into tokens hclwrite can place.
func exprTokens(src string) (hclwrite.Tokens, error) {
	lexed, diags := hclsyntax.LexExpression([]byte(src), "expr", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("expression %q: %s", src, diags.Error())
	}
	var out hclwrite.Tokens
	prevEnd := 0
	for _, t := range lexed {
		if t.Type == hclsyntax.TokenEOF {
			break
		}
		out = append(out, &hclwrite.Token{Type: t.Type, Bytes: t.Bytes, SpacesBefore: t.Range.Start.Byte - prevEnd})
		prevEnd = t.Range.End.Byte
	}
	return out, nil
}

func jsonencode(v any) (hclwrite.Tokens, error) {
	inner, err := hclTokens(v)
	if err != nil {
		return nil, err
	}
	return hclwrite.TokensForFunctionCall("jsonencode", inner), nil
}

// tfBlock builds one block; attrs are set in order.
type tfBlock struct {
	typ    string
	labels []string
	// comment is written above the block, one "# " line per line.
	comment string
	attrs   []kv
	blocks  []tfBlock
}

func (b tfBlock) write(body *hclwrite.Body) error {
	if b.comment != "" {
		writeComment(body, b.comment)
	}
	blk := body.AppendNewBlock(b.typ, b.labels)
	for _, a := range b.attrs {
		var tok hclwrite.Tokens
		var err error
		if enc, ok := a.v.(jsonValue); ok {
			tok, err = jsonencode(enc.v)
		} else {
			tok, err = hclTokens(a.v)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %s: %w", b.typ, strings.Join(b.labels, "."), a.k, err)
		}
		blk.Body().SetAttributeRaw(a.k, tok)
	}
	for _, nested := range b.blocks {
		if err := nested.write(blk.Body()); err != nil {
			return err
		}
	}
	return nil
}

// jsonValue marks an attribute written as jsonencode(<object>), the
// idiomatic way to put a policy or pattern in Terraform.
type jsonValue struct{ v any }

func writeComment(body *hclwrite.Body, text string) {
	var toks hclwrite.Tokens
	for _, line := range strings.Split(text, "\n") {
		c := "#"
		if line != "" {
			c += " " + line
		}
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComment, Bytes: []byte(c + "\n")})
	}
	body.AppendUnstructuredTokens(toks)
}

func tfVariable(name, typ, desc string, def any, comment string) tfBlock {
	attrs := []kv{{"description", desc}, {"type", tfRef(typ)}}
	if def != nil {
		attrs = append(attrs, kv{"default", def})
	}
	return tfBlock{typ: "variable", labels: []string{name}, comment: comment, attrs: attrs}
}

// terraform renders the Terraform configuration: the SCPs and their
// attachments, the central bus, topic and alert rule in the home region,
// forwarders in every monitored region of the management account, and a
// service-managed StackSet with a forwarder in every member account.
//
// It needs the AWS provider 6 or later: per-resource region (one provider
// for all regions, for_each over them) arrived in 6.0.
func terraform(o *Options) ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	writeComment(body, terraformHeader(o))
	body.AppendNewline()

	var blocks []tfBlock
	blocks = append(blocks,
		tfBlock{typ: "terraform", blocks: []tfBlock{{typ: "required_providers", attrs: []kv{
			{"aws", obj{{"source", "hashicorp/aws"}, {"version", ">= 6.0"}}},
		}}}, attrs: []kv{{"required_version", ">= 1.5"}}},
		tfBlock{typ: "provider", labels: []string{"aws"}, comment: "Run with credentials of the management account.",
			attrs: []kv{{"region", tfRef("var.home_region")}}},
	)

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
		tfVariable("home_region", "string", "Region of the central event bus and the SNS topic.", o.HomeRegion, ""),
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

	blocks = append(blocks,
		tfBlock{typ: "resource", labels: []string{"aws_cloudwatch_event_bus", "central"},
			comment: "Root activity monitoring. Every monitored account and region forwards root events to this bus;\none rule on it notifies the SNS topic.",
			attrs:   []kv{{"name", centralBusName}, {"description", "Vigil: root activity from every account and region of the organisation."}}},
		tfBlock{typ: "resource", labels: []string{"aws_cloudwatch_event_bus_policy", "central"},
			attrs: []kv{{"event_bus_name", tfRef("aws_cloudwatch_event_bus.central.name")},
				{"policy", jsonValue{busPolicy(tfRef("aws_cloudwatch_event_bus.central.arn"), tfRef("var.organization_id"))}}}},
		tfBlock{typ: "resource", labels: []string{"aws_sns_topic", "root_activity"},
			attrs: []kv{{"name", topicName}, {"display_name", "AWS root user activity"}}},
		tfBlock{typ: "resource", labels: []string{"aws_sns_topic_policy", "root_activity"},
			attrs: []kv{{"arn", tfRef("aws_sns_topic.root_activity.arn")},
				{"policy", jsonValue{topicPolicy(tfRef("aws_sns_topic.root_activity.arn"), tfRef("aws_cloudwatch_event_rule.alert.arn"))}}}},
		tfBlock{typ: "resource", labels: []string{"aws_sns_topic_subscription", "email"},
			attrs: []kv{{"count", tfRef(`var.alert_email == "" ? 0 : 1`)}, {"topic_arn", tfRef("aws_sns_topic.root_activity.arn")},
				{"protocol", "email"}, {"endpoint", tfRef("var.alert_email")}}},
		tfBlock{typ: "resource", labels: []string{"aws_cloudwatch_event_rule", "alert"},
			attrs: []kv{{"name", alertRuleName}, {"description", "Vigil: root user activity anywhere in the organisation, to the SNS topic."},
				{"event_bus_name", tfRef("aws_cloudwatch_event_bus.central.name")}, {"state", ruleState}, {"event_pattern", jsonValue{EventPattern()}}}},
		tfBlock{typ: "resource", labels: []string{"aws_cloudwatch_event_target", "alert"},
			attrs: []kv{{"rule", tfRef("aws_cloudwatch_event_rule.alert.name")}, {"event_bus_name", tfRef("aws_cloudwatch_event_bus.central.name")},
				{"target_id", snsTargetID}, {"arn", tfRef("aws_sns_topic.root_activity.arn")}}},

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
				{"template_body", jsonValue{forwarderTemplate()}}},
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
		tfBlock{typ: "output", labels: []string{"root_activity_topic_arn"}, attrs: []kv{{"value", tfRef("aws_sns_topic.root_activity.arn")}}},
	)

	for i, b := range blocks {
		if i > 0 {
			body.AppendNewline()
		}
		if err := b.write(body); err != nil {
			return nil, err
		}
	}
	return hclwrite.Format(f.Bytes()), nil
}

func scpOutput(o *Options) string {
	var parts []string
	for _, p := range SCPs(o.Partition) {
		name := strings.ReplaceAll(p.Key, "-", "_")
		parts = append(parts, fmt.Sprintf("%s = aws_organizations_policy.%s.id", name, name))
	}
	sort.Strings(parts)
	return "{ " + strings.Join(parts, ", ") + " }"
}

func scpComment(p SCP) string {
	switch p.Name {
	case DenyRootActionsName:
		return "Denies every action to member accounts' root users, except in sts:AssumeRoot sessions (the\nNull aws:AssumedRoot condition), so the management account can still delete root credentials centrally.\nCreating policies needs SCPs enabled on the root (vigil prevent --apply does it; Terraform cannot)."
	default:
		return "Denies root users creating access keys: the floor that stays if the policy above is lifted from\nan account for a root-only task."
	}
}

func terraformHeader(o *Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Generated by Vigil (vigil prevent). Deploy from the management account of the organisation")
	if o.OrganizationID != "" {
		fmt.Fprintf(&b, " %s", o.OrganizationID)
	}
	b.WriteString(":\n")
	b.WriteString("  terraform init && terraform apply\n")
	b.WriteString("Needs the AWS provider 6.0 or later (per-resource region). See README.md for what this\ncannot cover: no SCP applies to the management account.")
	return b.String()
}
