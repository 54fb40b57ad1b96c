package prevent

import (
	"strings"
	"testing"
)

// The checkers must reject what a generator bug would produce; a checker
// that accepts everything would make every artefact test pass.

const goodTF = `
variable "ids" {
  type = list(string)
}
resource "aws_sns_topic" "t" {
  name = "x"
}
resource "aws_sns_topic_policy" "p" {
  arn = aws_sns_topic.t.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "events.amazonaws.com" }, Action = "sns:Publish", Resource = aws_sns_topic.t.arn }]
  })
}
resource "aws_organizations_policy_attachment" "a" {
  for_each  = toset(var.ids)
  policy_id = "p-12345678"
  target_id = each.value
}
`

func TestCheckTerraform(t *testing.T) {
	if err := CheckTerraform([]byte(goodTF), "good.tf"); err != nil {
		t.Fatalf("rejected a valid file: %v", err)
	}
	cases := []struct {
		name, from, to, want string
	}{
		{"syntax", `name = "x"`, `name = "x`, "HCL"},
		{"undeclared variable", "toset(var.ids)", "toset(var.idz)", "var.idz is not declared"},
		{"undeclared resource", "arn = aws_sns_topic.t.arn", "arn = aws_sns_topic.u.arn", "aws_sns_topic.u is not declared"},
		{"each without for_each", "  for_each  = toset(var.ids)\n", "", "each.value outside a for_each resource"},
		{"unknown resource type", `"aws_sns_topic" "t"`, `"aws_sns_topik" "t"`, `resource type "aws_sns_topik"`},
		{"missing required argument", "  target_id = each.value\n", "", `needs "target_id"`},
		{"broken policy", `Effect = "Allow"`, `Effect = "Maybe"`, `Effect: must be "Allow" or "Deny"`},
		{"policy that is not JSON-encoded", "policy = jsonencode({", "policy = ({", "is not a JSON string"},
		{"unknown block", "variable \"ids\"", "varaible \"ids\"", `"varaible" is not a Terraform block type`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(goodTF, c.from, c.to, 1)
			if src == goodTF {
				t.Fatalf("mutation %q did not apply", c.from)
			}
			err := CheckTerraform([]byte(src), "bad.tf")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

const goodCFN = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Org:
    Type: String
    Default: o-aa111bb222
    AllowedPattern: ^o-[a-z0-9]{10,32}$
  Email:
    Type: String
    Default: ""
Conditions:
  HasEmail:
    Fn::Not:
      - Fn::Equals: [{Ref: Email}, ""]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: t
  Sub:
    Type: AWS::SNS::Subscription
    Condition: HasEmail
    Properties:
      Protocol: email
      TopicArn: {Ref: Topic}
      Endpoint: {Ref: Email}
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: b
      Policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: events:PutEvents
            Resource: {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/b"}
            Condition: {StringEquals: {"aws:PrincipalOrgID": {Ref: Org}}}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: {Ref: Bus}
      EventPattern: {detail: {userIdentity: {type: [Root]}}}
      Targets:
        - Id: sns
          Arn: {Ref: Topic}
Outputs:
  BusArn:
    Value: {"Fn::GetAtt": [Bus, Arn]}
`

func TestCheckCloudFormation(t *testing.T) {
	if err := CheckCloudFormation([]byte(goodCFN)); err != nil {
		t.Fatalf("rejected a valid template: %v", err)
	}
	cases := []struct {
		name, from, to, want string
	}{
		{"not YAML", "Resources:\n", "Resources: [\n", "does not parse"},
		{"unknown type", "AWS::SNS::Topic", "AWS::SNS::Topik", `"AWS::SNS::Topik" is not a resource type`},
		{"unknown property", "TopicName: t", "TopicNam: t", "TopicNam: is not a property of AWS::SNS::Topic"},
		{"missing required property", "      Protocol: email\n", "", "requires Protocol"},
		{"Ref to nothing", "TopicArn: {Ref: Topic}", "TopicArn: {Ref: Topik}", `Ref "Topik": no such parameter or resource`},
		{"GetAtt of a missing attribute", "[Bus, Arn]", "[Bus, Url]", `has no attribute "Url"`},
		{"Sub of nothing", "${AWS::Region}", "${Regionn}", `Ref "Regionn"`},
		{"undefined condition", "Condition: HasEmail", "Condition: HasMail", `condition "HasMail" is not defined`},
		{"broken policy", "Action: events:PutEvents", "Action: PutEvents", `"PutEvents" is not an action`},
		{"default outside its pattern", "Default: o-aa111bb222", "Default: org-1", `"org-1" does not match AllowedPattern`},
		{"target without an ID", "        - Id: sns\n          Arn", "        - Arn", "needs Id and Arn"},
		{"bad template section", "Outputs:", "Output:", "Output: is not a template section"},
		{"unknown intrinsic", `"Fn::GetAtt": [Bus, Arn]`, `"Fn::GetAttr": [Bus, Arn]`, "Fn::GetAttr is not an intrinsic function"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(goodCFN, c.from, c.to, 1)
			if src == goodCFN {
				t.Fatalf("mutation %q did not apply", c.from)
			}
			err := CheckCloudFormation([]byte(src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestCheckStackSetBody(t *testing.T) {
	o := &Options{}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	tmpl := centralTemplate(o, "Resources: {}\n")
	b, err := marshalYAML(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCloudFormation(b); err == nil || !strings.Contains(err.Error(), "TemplateBody: Resources: missing or empty") {
		t.Errorf("an empty StackSet template was accepted: %v", err)
	}
}

func TestCheckEventPattern(t *testing.T) {
	for _, bad := range []string{`[]`, `{}`, `{"detail-type":"AWS API Call via CloudTrail"}`, `{"detail":{"userIdentity":{"type":[]}}}`} {
		if err := Check(Artefact{Kind: KindEventPattern, Content: bad}); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestHCLEscapesInterpolation(t *testing.T) {
	// A policy may contain ${aws:PrincipalAccount}; in HCL that must stay
	// literal text, not become a Terraform interpolation.
	tok, err := hclTokens(obj{{"Resource", "arn:aws:iam::${aws:PrincipalAccount}:root"}, {"t", "%{if}"}})
	if err != nil {
		t.Fatal(err)
	}
	got := string(tok.Bytes())
	if !strings.Contains(got, `$${aws:PrincipalAccount}`) || !strings.Contains(got, `%%{if}`) {
		t.Errorf("not escaped: %s", got)
	}
}

const goodQueueCFN = `AWSTemplateFormatVersion: "2010-09-09"
Resources:
  DLQ:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: true
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: true
      VisibilityTimeout: 60
      RedrivePolicy:
        deadLetterTargetArn: {"Fn::GetAtt": [DLQ, Arn]}
        maxReceiveCount: 5
  Policy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [{Ref: Queue}]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: sqs:SendMessage
            Resource: {"Fn::GetAtt": [Queue, Arn]}
`

const goodQueueTF = `
resource "aws_sqs_queue" "dlq" {
  name = "d"
}
resource "aws_sqs_queue" "q" {
  name = "q"
  redrive_policy = jsonencode({ deadLetterTargetArn = aws_sqs_queue.dlq.arn, maxReceiveCount = 5 })
}
resource "aws_sqs_queue_policy" "q" {
  queue_url = aws_sqs_queue.q.url
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "events.amazonaws.com" }, Action = "sqs:SendMessage", Resource = aws_sqs_queue.q.arn }]
  })
}
`

func TestCheckQueue(t *testing.T) {
	if err := CheckCloudFormation([]byte(goodQueueCFN)); err != nil {
		t.Fatalf("rejected a valid template: %v", err)
	}
	if err := CheckTerraform([]byte(goodQueueTF), "q.tf"); err != nil {
		t.Fatalf("rejected a valid file: %v", err)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"receive count out of range", "maxReceiveCount: 5", "maxReceiveCount: 0", "maxReceiveCount must be a whole number"},
		{"no dead-letter queue", `deadLetterTargetArn: {"Fn::GetAtt": [DLQ, Arn]}`, `deadLetterTarget: {"Fn::GetAtt": [DLQ, Arn]}`, "deadLetterTarget is not a redrive policy field"},
		{"visibility out of range", "VisibilityTimeout: 60", "VisibilityTimeout: 99999", "VisibilityTimeout: 99999 is not a whole number"},
		{"two kinds of encryption", "      VisibilityTimeout: 60\n", "      VisibilityTimeout: 60\n      KmsMasterKeyId: alias/aws/sqs\n", "cannot both be set"},
		{"queue policy without principal", "            Principal: {Service: events.amazonaws.com}\n", "", "needs Principal"},
		{"queue policy without queues", "      Queues: [{Ref: Queue}]\n", "", "requires Queues"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(goodQueueCFN, c.from, c.to, 1)
			if src == goodQueueCFN {
				t.Fatalf("mutation %q did not apply", c.from)
			}
			if err := CheckCloudFormation([]byte(src)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"receive count out of range", "maxReceiveCount = 5", "maxReceiveCount = 5000", "maxReceiveCount must be a whole number"},
		{"not an ARN", "deadLetterTargetArn = aws_sqs_queue.dlq.arn", `deadLetterTargetArn = "dlq"`, "must be a queue ARN"},
		{"policy without queue", "  queue_url = aws_sqs_queue.q.url\n", "", `needs "queue_url"`},
	} {
		t.Run("terraform "+c.name, func(t *testing.T) {
			src := strings.Replace(goodQueueTF, c.from, c.to, 1)
			if src == goodQueueTF {
				t.Fatalf("mutation %q did not apply", c.from)
			}
			if err := CheckTerraform([]byte(src), "q.tf"); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}
