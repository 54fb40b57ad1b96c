package prevent

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/iampolicy"
)

// Check validates one artefact by its kind. terraform and cfn-lint are not
// assumed to be installed, so the checks are Vigil's own: they cover what
// goes wrong in generated files — syntax, unknown types or properties,
// missing required properties, references to nothing, and policies that
// break the IAM grammar or the SCP size limit.
func Check(a Artefact) error {
	switch a.Kind {
	case KindSCP:
		return iampolicy.Validate([]byte(a.Content), iampolicy.Options{Kind: iampolicy.SCP})
	case KindEventPattern:
		var v any
		if err := json.Unmarshal([]byte(a.Content), &v); err != nil {
			return fmt.Errorf("event pattern: %w", err)
		}
		return checkEventPattern(v)
	case KindTerraform:
		return CheckTerraform([]byte(a.Content), a.Name)
	case KindCloudFormation:
		return CheckCloudFormation([]byte(a.Content))
	case KindReadme:
		if strings.TrimSpace(a.Content) == "" {
			return errors.New("empty")
		}
		return nil
	}
	return fmt.Errorf("unknown artefact kind %q", a.Kind)
}

// checkEventPattern checks an EventBridge pattern's shape: an object whose
// leaves are lists of match values.
func checkEventPattern(v any) error {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return errors.New("event pattern: must be a non-empty object")
	}
	for k, x := range m {
		switch t := x.(type) {
		case map[string]any:
			if err := checkEventPattern(t); err != nil {
				return fmt.Errorf("%s.%w", k, err)
			}
		case []any:
			if len(t) == 0 {
				return fmt.Errorf("event pattern: %s: empty list matches nothing", k)
			}
		default:
			return fmt.Errorf("event pattern: %s: match values must be in a list", k)
		}
	}
	return nil
}

// checkRedrivePolicy checks a queue's RedrivePolicy: the dead-letter
// queue's ARN and a receive count SQS accepts (1 to 1,000).
func checkRedrivePolicy(v string) error {
	var rp map[string]any
	if err := json.Unmarshal([]byte(v), &rp); err != nil {
		return fmt.Errorf("redrive policy: %w", err)
	}
	for k := range rp {
		if k != redriveDeadLetterARN && k != redriveMaxReceiveKey {
			return fmt.Errorf("redrive policy: %s is not a redrive policy field", k)
		}
	}
	arn, _ := rp[redriveDeadLetterARN].(string)
	if !strings.HasPrefix(arn, "arn:") {
		return fmt.Errorf("redrive policy: %s must be a queue ARN", redriveDeadLetterARN)
	}
	n, ok := rp[redriveMaxReceiveKey].(float64)
	if !ok || n < 1 || n > 1000 || n != float64(int(n)) {
		return fmt.Errorf("redrive policy: %s must be a whole number from 1 to 1000", redriveMaxReceiveKey)
	}
	return nil
}

// ---- CloudFormation ----

type cfnType struct {
	required []string
	props    []string
	attrs    []string
}

// cfnTypes are the resource types Vigil generates, with their properties
// and GetAtt attributes from the CloudFormation resource schemas.
var cfnTypes = map[string]cfnType{
	"AWS::Organizations::Policy": {required: []string{"Name", "Type", "Content"},
		props: []string{"Content", "Description", "Name", "Tags", "TargetIds", "Type"}, attrs: []string{"Arn", "AwsManaged", "Id"}},
	"AWS::Events::EventBus": {required: []string{"Name"},
		props: []string{"DeadLetterConfig", "Description", "EventSourceName", "KmsKeyIdentifier", "Name", "Policy", "Tags"}, attrs: []string{"Arn", "Name", "Policy"}},
	"AWS::Events::Rule": {props: []string{"Description", "EventBusName", "EventPattern", "Name", "RoleArn", "ScheduleExpression", "State", "Targets"},
		attrs: []string{"Arn"}},
	"AWS::SNS::Topic": {props: []string{"ArchivePolicy", "ContentBasedDeduplication", "DataProtectionPolicy", "DeliveryStatusLogging", "DisplayName",
		"FifoThroughputScope", "FifoTopic", "KmsMasterKeyId", "SignatureVersion", "Subscription", "Tags", "TopicName", "TracingConfig"}, attrs: []string{"TopicArn", "TopicName"}},
	"AWS::SNS::TopicPolicy": {required: []string{"PolicyDocument", "Topics"}, props: []string{"PolicyDocument", "Topics"}, attrs: []string{"Id"}},
	"AWS::SNS::Subscription": {required: []string{"Protocol", "TopicArn"}, props: []string{"DeliveryPolicy", "Endpoint", "FilterPolicy", "FilterPolicyScope",
		"Protocol", "RawMessageDelivery", "RedrivePolicy", "Region", "ReplayPolicy", "SubscriptionRoleArn", "TopicArn"}, attrs: []string{"Arn"}},
	"AWS::IAM::Role": {required: []string{"AssumeRolePolicyDocument"}, props: []string{"AssumeRolePolicyDocument", "Description", "ManagedPolicyArns",
		"MaxSessionDuration", "Path", "PermissionsBoundary", "Policies", "RoleName", "Tags"}, attrs: []string{"Arn", "RoleId"}},
	"AWS::SQS::Queue": {props: []string{"ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue", "FifoThroughputLimit",
		"KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize", "MessageRetentionPeriod", "QueueName", "ReceiveMessageWaitTimeSeconds",
		"RedriveAllowPolicy", "RedrivePolicy", "SqsManagedSseEnabled", "Tags", "VisibilityTimeout"}, attrs: []string{"Arn", "QueueName", "QueueUrl"}},
	"AWS::SQS::QueuePolicy": {required: []string{"PolicyDocument", "Queues"}, props: []string{"PolicyDocument", "Queues"}, attrs: []string{"Id"}},
	"AWS::CloudFormation::StackSet": {required: []string{"StackSetName", "PermissionModel"}, props: []string{"AdministrationRoleARN", "AutoDeployment", "CallAs",
		"Capabilities", "Description", "ExecutionRoleName", "ManagedExecution", "OperationPreferences", "Parameters", "PermissionModel", "StackInstancesGroup",
		"StackSetName", "Tags", "TemplateBody", "TemplateURL"}, attrs: []string{"StackSetId"}},
}

var pseudoParams = []string{"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}

var paramTypes = []string{"String", "Number", "List<Number>", "CommaDelimitedList"}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

type cfnChecker struct {
	params     map[string]map[string]any
	resources  map[string]map[string]any
	conditions map[string]any
	errs       []error
}

func (c *cfnChecker) bad(path, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// CheckCloudFormation checks a YAML or JSON template's structure.
func CheckCloudFormation(src []byte) error {
	var t map[string]any
	if err := yaml.Unmarshal(src, &t); err != nil {
		return fmt.Errorf("template does not parse: %w", err)
	}
	c := &cfnChecker{params: map[string]map[string]any{}, resources: map[string]map[string]any{}, conditions: map[string]any{}}
	c.template(t)
	return errors.Join(c.errs...)
}

func asMap(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

func (c *cfnChecker) template(t map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(t)) {
		switch k {
		case "AWSTemplateFormatVersion":
			if t[k] != cfnVersion {
				c.bad(k, "must be %q", cfnVersion)
			}
		case "Description", "Metadata", "Mappings", "Transform", "Rules", "Parameters", "Conditions", "Resources", "Outputs":
		default:
			c.bad(k, "is not a template section")
		}
	}
	if params, ok := asMap(t["Parameters"]); ok {
		for _, name := range slices.Sorted(maps.Keys(params)) {
			p, ok := asMap(params[name])
			if !ok {
				c.bad("Parameters."+name, "must be an object")
				continue
			}
			c.params[name] = p
			c.parameter("Parameters."+name, p)
		}
	}
	if conds, ok := asMap(t["Conditions"]); ok {
		c.conditions = conds
	}
	res, ok := asMap(t["Resources"])
	if !ok || len(res) == 0 {
		c.bad("Resources", "missing or empty")
		return
	}
	for _, name := range slices.Sorted(maps.Keys(res)) {
		r, ok := asMap(res[name])
		if !ok {
			c.bad("Resources."+name, "must be an object")
			continue
		}
		c.resources[name] = r
	}
	for _, name := range slices.Sorted(maps.Keys(c.conditions)) {
		c.intrinsics("Conditions."+name, c.conditions[name])
	}
	for _, name := range slices.Sorted(maps.Keys(c.resources)) {
		c.resource("Resources."+name, c.resources[name])
	}
	if outs, ok := asMap(t["Outputs"]); ok {
		for _, name := range slices.Sorted(maps.Keys(outs)) {
			o, ok := asMap(outs[name])
			if !ok || o["Value"] == nil {
				c.bad("Outputs."+name, "needs a Value")
				continue
			}
			c.intrinsics("Outputs."+name, o)
		}
	}
}

func (c *cfnChecker) parameter(path string, p map[string]any) {
	typ, _ := p["Type"].(string)
	if !slices.Contains(paramTypes, typ) && !strings.HasPrefix(typ, "AWS::") && !strings.HasPrefix(typ, "List<AWS::") {
		c.bad(path+".Type", "%q is not a parameter type", typ)
	}
	def, hasDef := p["Default"].(string)
	pattern, hasPat := p["AllowedPattern"].(string)
	if hasDef && hasPat && typ == "String" {
		re, err := regexp.Compile(pattern)
		switch {
		case err != nil:
			c.bad(path+".AllowedPattern", "%v", err)
		case !re.MatchString(def):
			c.bad(path+".Default", "%q does not match AllowedPattern %s", def, pattern)
		}
	}
}

func (c *cfnChecker) resource(path string, r map[string]any) {
	typ, _ := r["Type"].(string)
	spec, known := cfnTypes[typ]
	if !known {
		c.bad(path+".Type", "%q is not a resource type Vigil generates", typ)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(r)) {
		switch k {
		case "Type", "Properties", "DependsOn", "Metadata", "DeletionPolicy", "UpdateReplacePolicy":
		case "Condition":
			if name, _ := r[k].(string); c.conditions[name] == nil {
				c.bad(path+".Condition", "condition %q is not defined", r[k])
			}
		default:
			c.bad(path+"."+k, "is not a resource attribute")
		}
	}
	props, _ := asMap(r["Properties"])
	for _, req := range spec.required {
		if _, ok := props[req]; !ok {
			c.bad(path+".Properties", "%s requires %s", typ, req)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if !slices.Contains(spec.props, k) {
			c.bad(path+".Properties."+k, "is not a property of %s", typ)
		}
	}
	c.intrinsics(path+".Properties", props)
	c.typeSpecific(path+".Properties", typ, props)
}

func (c *cfnChecker) policy(path string, v any, kind iampolicy.Kind) {
	if s, ok := v.(string); ok {
		if err := iampolicy.Validate([]byte(s), iampolicy.Options{Kind: kind}); err != nil {
			c.bad(path, "%v", err)
		}
		return
	}
	if err := iampolicy.ValidateValue(v, iampolicy.Options{Kind: kind, Intrinsics: true}); err != nil {
		c.bad(path, "%v", err)
	}
}

func (c *cfnChecker) typeSpecific(path, typ string, p map[string]any) {
	switch typ {
	case "AWS::Organizations::Policy":
		if p["Type"] == "SERVICE_CONTROL_POLICY" {
			c.policy(path+".Content", p["Content"], iampolicy.SCP)
			if b, err := json.Marshal(p["Content"]); err == nil && len(b) > iampolicy.SCPMaxSize {
				c.bad(path+".Content", "%d characters, more than the SCP limit of %d", len(b), iampolicy.SCPMaxSize)
			}
		}
	case "AWS::IAM::Role":
		c.policy(path+".AssumeRolePolicyDocument", p["AssumeRolePolicyDocument"], iampolicy.ResourceBased)
		list, _ := p["Policies"].([]any)
		for i, x := range list {
			m, _ := asMap(x)
			if m["PolicyName"] == nil {
				c.bad(fmt.Sprintf("%s.Policies[%d]", path, i), "needs PolicyName")
			}
			c.policy(fmt.Sprintf("%s.Policies[%d].PolicyDocument", path, i), m["PolicyDocument"], iampolicy.Identity)
		}
	case "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy":
		c.policy(path+".PolicyDocument", p["PolicyDocument"], iampolicy.ResourceBased)
	case "AWS::SQS::Queue":
		c.queue(path, p)
	case "AWS::Events::EventBus":
		if pol, ok := p["Policy"]; ok {
			c.policy(path+".Policy", pol, iampolicy.ResourceBased)
		}
	case "AWS::Events::Rule":
		if pat, ok := asMap(p["EventPattern"]); ok {
			if err := checkEventPattern(pat); err != nil {
				c.bad(path+".EventPattern", "%v", err)
			}
		} else if p["ScheduleExpression"] == nil {
			c.bad(path, "needs EventPattern or ScheduleExpression")
		}
		if st, ok := p["State"].(string); ok && !slices.Contains([]string{"DISABLED", "ENABLED", ruleState}, st) {
			c.bad(path+".State", "%q is not a rule state", st)
		}
		targets, _ := p["Targets"].([]any)
		if len(targets) == 0 || len(targets) > 5 {
			c.bad(path+".Targets", "needs 1 to 5 targets")
		}
		for i, x := range targets {
			m, _ := asMap(x)
			if m["Id"] == nil || m["Arn"] == nil {
				c.bad(fmt.Sprintf("%s.Targets[%d]", path, i), "needs Id and Arn")
			}
			if dlc, ok := m["DeadLetterConfig"]; ok {
				if d, _ := asMap(dlc); d["Arn"] == nil {
					c.bad(fmt.Sprintf("%s.Targets[%d].DeadLetterConfig", path, i), "needs Arn")
				}
			}
		}
	case "AWS::CloudFormation::StackSet":
		if pm := p["PermissionModel"]; pm != "SERVICE_MANAGED" && pm != "SELF_MANAGED" {
			c.bad(path+".PermissionModel", "%v is not SERVICE_MANAGED or SELF_MANAGED", pm)
		}
		body, hasBody := p["TemplateBody"].(string)
		_, hasURL := p["TemplateURL"]
		if hasBody == hasURL {
			c.bad(path, "needs exactly one of TemplateBody and TemplateURL")
		}
		if hasBody {
			if len(body) > 51200 {
				c.bad(path+".TemplateBody", "longer than 51,200 bytes")
			}
			if err := CheckCloudFormation([]byte(body)); err != nil {
				c.bad(path+".TemplateBody", "%v", err)
			}
		}
		groups, _ := p["StackInstancesGroup"].([]any)
		for i, x := range groups {
			m, _ := asMap(x)
			if m["DeploymentTargets"] == nil || m["Regions"] == nil {
				c.bad(fmt.Sprintf("%s.StackInstancesGroup[%d]", path, i), "needs DeploymentTargets and Regions")
			}
		}
		params, _ := p["Parameters"].([]any)
		for i, x := range params {
			m, _ := asMap(x)
			if m["ParameterKey"] == nil || m["ParameterValue"] == nil {
				c.bad(fmt.Sprintf("%s.Parameters[%d]", path, i), "needs ParameterKey and ParameterValue")
			}
		}
	}
}

// queue checks the SQS limits of a queue's settings and its redrive
// policy (an object in a template; its ARN may be an intrinsic).
func (c *cfnChecker) queue(path string, p map[string]any) {
	for name, lim := range map[string][2]int{"MessageRetentionPeriod": {60, 1209600}, "VisibilityTimeout": {0, 43200},
		"ReceiveMessageWaitTimeSeconds": {0, 20}, "DelaySeconds": {0, 900}} {
		v, ok := p[name]
		if !ok {
			continue
		}
		if n, isInt := v.(int); !isInt || n < lim[0] || n > lim[1] {
			c.bad(path+"."+name, "%v is not a whole number from %d to %d", v, lim[0], lim[1])
		}
	}
	if _, kms := p["KmsMasterKeyId"]; kms && p["SqsManagedSseEnabled"] == true {
		c.bad(path, "SqsManagedSseEnabled and KmsMasterKeyId cannot both be set")
	}
	rp, ok := p["RedrivePolicy"]
	if !ok {
		return
	}
	m, isMap := asMap(rp)
	if !isMap {
		c.bad(path+".RedrivePolicy", "must be an object")
		return
	}
	for k := range m {
		if k != redriveDeadLetterARN && k != redriveMaxReceiveKey {
			c.bad(path+".RedrivePolicy", "%s is not a redrive policy field", k)
		}
	}
	if m[redriveDeadLetterARN] == nil {
		c.bad(path+".RedrivePolicy", "needs %s", redriveDeadLetterARN)
	}
	if n, isInt := m[redriveMaxReceiveKey].(int); !isInt || n < 1 || n > 1000 {
		c.bad(path+".RedrivePolicy", "%s must be a whole number from 1 to 1000", redriveMaxReceiveKey)
	}
}

// intrinsics walks a value and checks every Ref, GetAtt, Sub and If
// points at something that exists.
func (c *cfnChecker) intrinsics(path string, v any) {
	switch t := v.(type) {
	case []any:
		for i, x := range t {
			c.intrinsics(fmt.Sprintf("%s[%d]", path, i), x)
		}
	case map[string]any:
		if len(t) == 1 {
			for k, arg := range t {
				switch k {
				case "Ref":
					c.ref(path, arg)
				case "Fn::GetAtt":
					c.getAtt(path, arg)
				case "Fn::Sub":
					c.sub(path, arg)
				case "Fn::If":
					list, _ := arg.([]any)
					if len(list) != 3 {
						c.bad(path, "Fn::If takes [condition, then, else]")
					} else if name, _ := list[0].(string); c.conditions[name] == nil {
						c.bad(path, "Fn::If: condition %q is not defined", list[0])
					}
				case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::GetAZs", "Fn::ImportValue", "Fn::FindInMap", "Fn::Base64", "Fn::Cidr", "Condition":
				default:
					if strings.HasPrefix(k, "Fn::") {
						c.bad(path, "%s is not an intrinsic function", k)
					}
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			c.intrinsics(path+"."+k, t[k])
		}
	}
}

func (c *cfnChecker) ref(path string, arg any) {
	name, ok := arg.(string)
	if !ok {
		c.bad(path, "Ref takes a name")
		return
	}
	if c.params[name] == nil && c.resources[name] == nil && !slices.Contains(pseudoParams, name) {
		c.bad(path, "Ref %q: no such parameter or resource", name)
	}
}

func (c *cfnChecker) getAtt(path string, arg any) {
	var res, attr string
	switch t := arg.(type) {
	case []any:
		if len(t) == 2 {
			res, _ = t[0].(string)
			attr, _ = t[1].(string)
		}
	case string:
		res, attr, _ = strings.Cut(t, ".")
	}
	r := c.resources[res]
	if r == nil {
		c.bad(path, "Fn::GetAtt: no resource %q", res)
		return
	}
	typ, _ := r["Type"].(string)
	if !slices.Contains(cfnTypes[typ].attrs, attr) {
		c.bad(path, "Fn::GetAtt: %s has no attribute %q", typ, attr)
	}
}

func (c *cfnChecker) sub(path string, arg any) {
	s, ok := arg.(string)
	if !ok {
		c.bad(path, "Fn::Sub: only the string form is generated")
		return
	}
	for _, m := range subVar.FindAllStringSubmatch(s, -1) {
		name := m[1]
		if res, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			c.getAtt(path, []any{res, attr})
			continue
		}
		c.ref(path, name)
	}
}

// ---- Terraform ----

type tfResource struct {
	required []string
	// policies maps an attribute holding a JSON policy to its kind.
	policies map[string]iampolicy.Kind
}

// tfResources are the resource types Vigil generates, with the arguments
// the AWS provider requires.
var tfResources = map[string]tfResource{
	"aws_organizations_policy":              {required: []string{"name", "content"}, policies: map[string]iampolicy.Kind{"content": iampolicy.SCP}},
	"aws_organizations_policy_attachment":   {required: []string{"policy_id", "target_id"}},
	"aws_cloudwatch_event_bus":              {required: []string{"name"}},
	"aws_cloudwatch_event_bus_policy":       {required: []string{"policy"}, policies: map[string]iampolicy.Kind{"policy": iampolicy.ResourceBased}},
	"aws_sns_topic":                         {},
	"aws_sns_topic_policy":                  {required: []string{"arn", "policy"}, policies: map[string]iampolicy.Kind{"policy": iampolicy.ResourceBased}},
	"aws_sns_topic_subscription":            {required: []string{"topic_arn", "protocol", "endpoint"}},
	"aws_cloudwatch_event_rule":             {},
	"aws_cloudwatch_event_target":           {required: []string{"rule", "arn"}},
	"aws_iam_role":                          {required: []string{"assume_role_policy"}, policies: map[string]iampolicy.Kind{"assume_role_policy": iampolicy.ResourceBased}},
	"aws_iam_role_policy":                   {required: []string{"role", "policy"}, policies: map[string]iampolicy.Kind{"policy": iampolicy.Identity}},
	"aws_cloudformation_stack_set":          {required: []string{"name"}},
	"aws_cloudformation_stack_set_instance": {required: []string{"stack_set_name"}},
	"aws_sqs_queue":                         {},
	"aws_sqs_queue_policy":                  {required: []string{"queue_url", "policy"}, policies: map[string]iampolicy.Kind{"policy": iampolicy.ResourceBased}},
}

type tfChecker struct {
	vars, resources, locals map[string]bool
	errs                    []error
}

func (c *tfChecker) bad(rng hcl.Range, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", rng.String(), fmt.Sprintf(format, args...)))
}

// CheckTerraform parses HCL and checks that every block is a known kind,
// every resource has its required arguments, every reference resolves to a
// declaration, and every jsonencode'd policy, pattern and template is
// valid once evaluated.
func CheckTerraform(src []byte, filename string) error {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return fmt.Errorf("HCL: %s", diags.Error())
	}
	body := file.Body.(*hclsyntax.Body)
	c := &tfChecker{vars: map[string]bool{}, resources: map[string]bool{}, locals: map[string]bool{}}
	for _, b := range body.Blocks {
		switch b.Type {
		case "variable":
			c.vars[b.Labels[0]] = true
		case "resource", "data":
			name := strings.Join(b.Labels, ".")
			if b.Type == "data" {
				name = "data." + name
			}
			if c.resources[name] {
				c.bad(b.DefRange(), "%s declared twice", name)
			}
			c.resources[name] = true
		case "locals":
			for n := range b.Body.Attributes {
				c.locals[n] = true
			}
		case "terraform", "provider", "output", "module", "moved", "import", "check":
		default:
			c.bad(b.DefRange(), "%q is not a Terraform block type", b.Type)
		}
	}
	for _, b := range body.Blocks {
		c.block(b, b, false, false)
		if b.Type == "resource" {
			spec, ok := tfResources[b.Labels[0]]
			if !ok {
				c.bad(b.DefRange(), "resource type %q is not one Vigil generates", b.Labels[0])
				continue
			}
			for _, req := range spec.required {
				if _, ok := b.Body.Attributes[req]; !ok {
					c.bad(b.DefRange(), "%s.%s needs %q", b.Labels[0], b.Labels[1], req)
				}
			}
			for attr, kind := range spec.policies {
				if a, ok := b.Body.Attributes[attr]; ok {
					c.jsonAttr(a, func(v string) error { return iampolicy.Validate([]byte(v), iampolicy.Options{Kind: kind}) })
				}
			}
			switch b.Labels[0] {
			case "aws_cloudwatch_event_rule":
				if a, ok := b.Body.Attributes["event_pattern"]; ok {
					c.jsonAttr(a, func(v string) error {
						var m any
						if err := json.Unmarshal([]byte(v), &m); err != nil {
							return err
						}
						return checkEventPattern(m)
					})
				}
			case "aws_sqs_queue":
				if a, ok := b.Body.Attributes["redrive_policy"]; ok {
					c.jsonAttr(a, checkRedrivePolicy)
				}
			case "aws_cloudformation_stack_set":
				if a, ok := b.Body.Attributes["template_body"]; ok {
					c.jsonAttr(a, func(v string) error { return CheckCloudFormation([]byte(v)) })
				}
			}
		}
	}
	return errors.Join(c.errs...)
}

// block checks the references in a block and its nested blocks; each and
// count are only valid inside a resource that sets for_each or count.
func (c *tfChecker) block(top, b *hclsyntax.Block, hasEach, hasCount bool) {
	if b == top {
		_, hasEach = b.Body.Attributes["for_each"]
		_, hasCount = b.Body.Attributes["count"]
	}
	if b.Type == "lifecycle" {
		return // ignore_changes names attributes, not references
	}
	for _, a := range b.Body.Attributes {
		if top.Type == "variable" && a.Name == "type" {
			continue // a type constraint (list(string)), not a reference
		}
		for _, tr := range hclsyntax.Variables(a.Expr) {
			c.reference(tr, hasEach, hasCount)
		}
	}
	for _, nested := range b.Body.Blocks {
		c.block(top, nested, hasEach, hasCount)
	}
}

func (c *tfChecker) reference(tr hcl.Traversal, hasEach, hasCount bool) {
	root := tr.RootName()
	attr := func(i int) string {
		if i < len(tr) {
			if a, ok := tr[i].(hcl.TraverseAttr); ok {
				return a.Name
			}
		}
		return ""
	}
	rng := tr.SourceRange()
	switch root {
	case "var":
		if !c.vars[attr(1)] {
			c.bad(rng, "var.%s is not declared", attr(1))
		}
	case "local":
		if !c.locals[attr(1)] {
			c.bad(rng, "local.%s is not declared", attr(1))
		}
	case "each":
		if !hasEach {
			c.bad(rng, "each.%s outside a for_each resource", attr(1))
		}
	case "count":
		if !hasCount {
			c.bad(rng, "count.%s outside a counted resource", attr(1))
		}
	case "path", "terraform", "self":
	case "data":
		if !c.resources["data."+attr(1)+"."+attr(2)] {
			c.bad(rng, "data.%s.%s is not declared", attr(1), attr(2))
		}
	default:
		if !c.resources[root+"."+attr(1)] {
			c.bad(rng, "%s.%s is not declared", root, attr(1))
		}
	}
}

// jsonAttr evaluates a jsonencode(...) attribute, with every reference
// replaced by a placeholder of the right shape (an ARN for *.arn), and
// checks the JSON it produces.
func (c *tfChecker) jsonAttr(a *hclsyntax.Attribute, check func(string) error) {
	ctx := &hcl.EvalContext{
		Variables: placeholders(hclsyntax.Variables(a.Expr)),
		Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc},
	}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		c.bad(a.SrcRange, "%s does not evaluate: %s", a.Name, diags.Error())
		return
	}
	if v.Type() != cty.String || !v.IsKnown() {
		c.bad(a.SrcRange, "%s is not a JSON string", a.Name)
		return
	}
	if err := check(v.AsString()); err != nil {
		c.bad(a.SrcRange, "%s: %v", a.Name, err)
	}
}

// placeholders builds nested objects for the traversals, each leaf a
// string standing for the value Terraform would compute.
func placeholders(trs []hcl.Traversal) map[string]cty.Value {
	tree := map[string]any{}
	for _, tr := range trs {
		var path []string
		for _, step := range tr {
			switch s := step.(type) {
			case hcl.TraverseRoot:
				path = append(path, s.Name)
			case hcl.TraverseAttr:
				path = append(path, s.Name)
			}
		}
		node := tree
		for i, p := range path {
			if i == len(path)-1 {
				if _, exists := node[p]; !exists {
					node[p] = placeholderFor(path)
				}
				break
			}
			next, ok := node[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[p] = next
			}
			node = next
		}
	}
	out := map[string]cty.Value{}
	for k, v := range tree {
		out[k] = toCty(v)
	}
	return out
}

func placeholderFor(path []string) string {
	joined := strings.Join(path, ".")
	switch {
	case path[len(path)-1] == "arn":
		return "arn:aws:placeholder:us-east-1:111122223333:" + strings.ReplaceAll(joined, ".", "/")
	case joined == "var.organization_id":
		return "o-placeholder1"
	}
	return "placeholder-" + joined
}

func toCty(v any) cty.Value {
	switch t := v.(type) {
	case string:
		return cty.StringVal(t)
	case map[string]any:
		m := map[string]cty.Value{}
		for k, x := range t {
			m[k] = toCty(x)
		}
		return cty.ObjectVal(m)
	}
	return cty.NilVal
}
