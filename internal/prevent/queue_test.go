package prevent_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/prevent"
)

const (
	ruleARN  = "arn:aws:events:us-east-1:111122223333:rule/vigil-root-activity/vigil-root-activity-alert"
	queueARN = "arn:aws:sqs:us-east-1:111122223333:vigil-root-activity"
)

// checkQueuePolicy: the one Allow admits EventBridge, for the rule only,
// to send to the queue only; the other statement is a Deny.
func checkQueuePolicy(t *testing.T, where, policy, queue, rule string) {
	t.Helper()
	if err := iampolicy.Validate([]byte(policy), iampolicy.Options{Kind: iampolicy.ResourceBased}); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	doc, err := iampolicy.Parse([]byte(policy), iampolicy.ResourceBased)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	var raw struct {
		Statement []struct {
			Effect    string
			Principal any
		}
	}
	if err := json.Unmarshal([]byte(policy), &raw); err != nil {
		t.Fatal(err)
	}
	allows := 0
	for i, s := range doc.Statement {
		if s.Effect != iampolicy.Allow {
			continue
		}
		allows++
		p, _ := json.Marshal(raw.Statement[i].Principal)
		if string(p) != `{"Service":"events.amazonaws.com"}` {
			t.Errorf("%s: the Allow admits %s, want only events.amazonaws.com", where, p)
		}
		req := func(action, resource, source string) iampolicy.Request {
			return iampolicy.Request{Action: action, Resource: resource, Context: map[string][]string{"aws:SourceArn": {source}}}
		}
		for _, c := range []struct {
			name string
			r    iampolicy.Request
			want iampolicy.Verdict
		}{
			{"the rule sending", req("sqs:SendMessage", queue, rule), iampolicy.Match},
			{"another rule sending", req("sqs:SendMessage", queue, rule+"-other"), iampolicy.NoMatch},
			{"the rule sending to another queue", req("sqs:SendMessage", queue+"-other", rule), iampolicy.NoMatch},
			{"the rule receiving", req("sqs:ReceiveMessage", queue, rule), iampolicy.NoMatch},
		} {
			if got := s.Matches(c.r); got.Verdict != c.want {
				t.Errorf("%s: %s: %s, want %s", where, c.name, got.Verdict, c.want)
			}
		}
	}
	if allows != 1 {
		t.Errorf("%s: %d Allow statements, want 1", where, allows)
	}
}

func TestQueuePolicy(t *testing.T) {
	checkQueuePolicy(t, "QueuePolicy", prevent.QueuePolicy(queueARN, ruleARN), queueARN, ruleARN)
	attrs := prevent.QueueAttributes("arn:aws:sqs:us-east-1:111122223333:vigil-root-activity-dlq")
	var rp map[string]any
	if err := json.Unmarshal([]byte(attrs[prevent.AttrRedrivePolicy]), &rp); err != nil {
		t.Fatal(err)
	}
	if rp["deadLetterTargetArn"] != "arn:aws:sqs:us-east-1:111122223333:vigil-root-activity-dlq" || rp["maxReceiveCount"] != float64(prevent.MaxReceiveCount) {
		t.Errorf("redrive policy %v", rp)
	}
	if attrs[prevent.AttrSqsManagedSSE] != "true" || prevent.DeadLetterQueueAttributes()[prevent.AttrSqsManagedSSE] != "true" {
		t.Error("a queue is not encrypted")
	}
	if got := prevent.RuleARN("aws", "us-east-1", "111122223333", prevent.CentralBusName, prevent.AlertRuleName); got != ruleARN {
		t.Errorf("RuleARN %s", got)
	}
	if got := prevent.RuleARN("aws-cn", "cn-north-1", "111122223333", "default", "r"); got != "arn:aws-cn:events:cn-north-1:111122223333:rule/r" {
		t.Errorf("default-bus RuleARN %s", got)
	}
	if got := prevent.SQSURL("aws-cn", "cn-north-1", "111122223333", "q"); got != "https://sqs.cn-north-1.amazonaws.com.cn/111122223333/q" {
		t.Errorf("SQSURL %s", got)
	}
}

// tfResource finds one resource block.
func tfResource(t *testing.T, body *hclsyntax.Body, typ, name string) *hclsyntax.Block {
	t.Helper()
	for _, b := range body.Blocks {
		if b.Type == "resource" && b.Labels[0] == typ && b.Labels[1] == name {
			return b
		}
	}
	t.Fatalf("no resource %s.%s", typ, name)
	return nil
}

// refOf is the reference an attribute holds, as written.
func refOf(t *testing.T, src []byte, b *hclsyntax.Block, attr string) string {
	t.Helper()
	a, ok := b.Body.Attributes[attr]
	if !ok {
		return ""
	}
	return strings.TrimSpace(string(a.Expr.Range().SliceBytes(src)))
}

// evalJSON evaluates a jsonencode attribute with references standing for
// themselves, so the test can see which reference sits where.
func evalJSON(t *testing.T, b *hclsyntax.Block, attr string) string {
	t.Helper()
	a := b.Body.Attributes[attr]
	vars := map[string]cty.Value{}
	for _, tr := range hclsyntax.Variables(a.Expr) {
		// aws_sqs_queue.root_activity.arn → the string "aws_sqs_queue.root_activity.arn".
		var parts []string
		for _, step := range tr {
			switch s := step.(type) {
			case hcl.TraverseRoot:
				parts = append(parts, s.Name)
			case hcl.TraverseAttr:
				parts = append(parts, s.Name)
			}
		}
		vars[parts[0]] = nest(parts[1:], tfARN(strings.Join(parts, ".")), vars[parts[0]])
	}
	v, diags := a.Expr.Value(&hcl.EvalContext{Variables: vars, Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return v.AsString()
}

// tfARN is what a reference stands for in evalJSON: an ARN that names it.
func tfARN(ref string) string { return "arn:aws:tf:us-east-1:111122223333:" + ref }

func nest(path []string, leaf string, into cty.Value) cty.Value {
	if len(path) == 0 {
		return cty.StringVal(leaf)
	}
	m := map[string]cty.Value{}
	if into != cty.NilVal && into.Type().IsObjectType() {
		m = into.AsValueMap()
	}
	m[path[0]] = nest(path[1:], leaf, m[path[0]])
	return cty.ObjectVal(m)
}

func TestTerraformQueue(t *testing.T) {
	for name, o := range map[string]func() *prevent.Options{"org": known, "standalone": standalone} {
		t.Run(name, func(t *testing.T) {
			src := []byte(generate(t, o())[prevent.TerraformName].Content)
			file, diags := hclsyntax.ParseConfig(src, "tf", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			body := file.Body.(*hclsyntax.Body)
			target := tfResource(t, body, "aws_cloudwatch_event_target", "queue")
			for attr, want := range map[string]string{
				"rule": "aws_cloudwatch_event_rule.alert.name", "arn": "aws_sqs_queue.root_activity.arn", "target_id": `"vigil-queue"`, "role_arn": "",
			} {
				if got := refOf(t, src, target, attr); got != want {
					t.Errorf("queue target %s = %q, want %q", attr, got, want)
				}
			}
			wantBus := "aws_cloudwatch_event_bus.central.name"
			if name == "standalone" {
				wantBus = "" // the default bus
			}
			if got := refOf(t, src, target, "event_bus_name"); got != wantBus {
				t.Errorf("queue target on bus %q, want %q", got, wantBus)
			}
			if got := refOf(t, src, tfResource(t, body, "aws_cloudwatch_event_rule", "alert"), "event_bus_name"); got != wantBus {
				t.Errorf("alert rule on bus %q, want %q", got, wantBus)
			}
			if len(target.Body.Blocks) != 1 || refOf(t, src, target.Body.Blocks[0], "arn") != "aws_sqs_queue.root_activity_dlq.arn" {
				t.Error("the queue target has no dead-letter queue")
			}
			for _, q := range []string{"root_activity", "root_activity_dlq"} {
				queue := tfResource(t, body, "aws_sqs_queue", q)
				if refOf(t, src, queue, "sqs_managed_sse_enabled") != "true" || refOf(t, src, queue, "message_retention_seconds") != "1209600" {
					t.Errorf("%s: not SSE-SQS with 14 days' retention", q)
				}
				pol := tfResource(t, body, "aws_sqs_queue_policy", q)
				if got := refOf(t, src, pol, "queue_url"); got != "aws_sqs_queue."+q+".url" {
					t.Errorf("%s policy on %s", q, got)
				}
				checkQueuePolicy(t, "terraform "+q, evalJSON(t, pol, "policy"), tfARN("aws_sqs_queue."+q+".arn"), tfARN("aws_cloudwatch_event_rule.alert.arn"))
			}
			rp := evalJSON(t, tfResource(t, body, "aws_sqs_queue", "root_activity"), "redrive_policy")
			if rp != `{"deadLetterTargetArn":"`+tfARN("aws_sqs_queue.root_activity_dlq.arn")+`","maxReceiveCount":5}` {
				t.Errorf("redrive policy %s", rp)
			}
			if !strings.Contains(string(src), `output "vigil_serve_config"`) || !strings.Contains(string(src), "sqs_queue_url: ${aws_sqs_queue.root_activity.url}") {
				t.Error("no vigil serve config output")
			}
		})
	}
}

func TestCloudFormationQueue(t *testing.T) {
	for name, o := range map[string]func() *prevent.Options{"org": known, "standalone": standalone} {
		t.Run(name, func(t *testing.T) {
			var tmpl struct {
				Resources map[string]struct {
					Type       string         `yaml:"Type"`
					Properties map[string]any `yaml:"Properties"`
				} `yaml:"Resources"`
				Outputs map[string]map[string]any `yaml:"Outputs"`
			}
			if err := yaml.Unmarshal([]byte(generate(t, o())[prevent.CFNCentralName].Content), &tmpl); err != nil {
				t.Fatal(err)
			}
			js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
			getAtt := func(res string) string { return js(map[string]any{"Fn::GetAtt": []any{res, "Arn"}}) }
			rule := tmpl.Resources["RootActivityAlertRule"].Properties
			wantBus := `{"Ref":"CentralEventBus"}`
			if name == "standalone" {
				wantBus = `"default"`
			}
			if js(rule["EventBusName"]) != wantBus {
				t.Errorf("rule on bus %s, want %s", js(rule["EventBusName"]), wantBus)
			}
			var queueTarget map[string]any
			for _, x := range rule["Targets"].([]any) {
				if m := x.(map[string]any); m["Id"] == prevent.QueueTargetID {
					queueTarget = m
				}
			}
			switch {
			case queueTarget == nil:
				t.Fatal("the rule has no queue target")
			case js(queueTarget["Arn"]) != getAtt("RootActivityQueue"):
				t.Errorf("queue target Arn %s", js(queueTarget["Arn"]))
			case queueTarget["RoleArn"] != nil:
				t.Error("the queue target has a role; SQS takes the queue policy")
			case js(queueTarget["DeadLetterConfig"]) != `{"Arn":`+getAtt("RootActivityDeadLetterQueue")+`}`:
				t.Errorf("queue target DeadLetterConfig %s", js(queueTarget["DeadLetterConfig"]))
			}
			for queue, policy := range map[string]string{"RootActivityQueue": "RootActivityQueuePolicy", "RootActivityDeadLetterQueue": "RootActivityDeadLetterQueuePolicy"} {
				q := tmpl.Resources[queue]
				if q.Type != "AWS::SQS::Queue" || q.Properties["SqsManagedSseEnabled"] != true || q.Properties["MessageRetentionPeriod"] != prevent.QueueRetentionSeconds {
					t.Errorf("%s: %+v", queue, q)
				}
				p := tmpl.Resources[policy].Properties
				if js(p["Queues"]) != `[{"Ref":"`+queue+`"}]` {
					t.Errorf("%s applies to %s", policy, js(p["Queues"]))
				}
				// Intrinsics stand for themselves, as strings, for the check.
				doc := strings.NewReplacer(getAtt(queue), `"Q"`, getAtt("RootActivityAlertRule"), `"R"`).Replace(js(p["PolicyDocument"]))
				checkQueuePolicy(t, policy, strings.NewReplacer(`"Q"`, `"arn:aws:sqs:us-east-1:1:q"`, `"R"`, `"arn:aws:events:us-east-1:1:rule/r"`).Replace(doc),
					"arn:aws:sqs:us-east-1:1:q", "arn:aws:events:us-east-1:1:rule/r")
			}
			if rp := js(tmpl.Resources["RootActivityQueue"].Properties["RedrivePolicy"]); rp != `{"deadLetterTargetArn":`+getAtt("RootActivityDeadLetterQueue")+`,"maxReceiveCount":5}` {
				t.Errorf("RedrivePolicy %s", rp)
			}
			for _, out := range []string{"RootActivityQueueUrl", "RootActivityQueueArn", "VigilServeConfig"} {
				if tmpl.Outputs[out] == nil {
					t.Errorf("no output %s", out)
				}
			}
		})
	}
}

func TestStandalone(t *testing.T) {
	arts := generate(t, standalone())
	for name := range arts {
		if strings.HasPrefix(name, "scp-") || name == prevent.CFNSCPName {
			t.Errorf("a standalone account got %s: SCPs need an organisation", name)
		}
	}
	tf := arts[prevent.TerraformName].Content
	for _, banned := range []string{"aws_organizations_", "stack_set", "organization_id", "aws_cloudwatch_event_bus\" \"central"} {
		if strings.Contains(tf, banned) {
			t.Errorf("standalone Terraform has %s", banned)
		}
	}
	if !strings.Contains(tf, "setsubtract(toset(var.monitored_regions), [var.home_region])") {
		t.Error("the home region forwards to itself")
	}
	if !strings.Contains(arts[prevent.ReadmeName].Content, "sqs_queue_url: https://sqs.us-east-1.amazonaws.com/777788889999/vigil-root-activity") {
		t.Error("README lacks the serve config")
	}
	for _, c := range []struct {
		o    prevent.Options
		want string
	}{
		{prevent.Options{Standalone: true, Targets: []string{"r-ab12"}}, "SCPs need an AWS Organization"},
		{prevent.Options{Standalone: true, OrganizationID: "o-aa111bb222"}, "an organisation was given"},
		{prevent.Options{Standalone: true, AccountID: "12"}, "want 12 digits"},
	} {
		if err := c.o.Normalize(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
}
