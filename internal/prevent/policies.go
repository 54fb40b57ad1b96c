package prevent

import (
	"github.com/vigil-sec/vigil/internal/iampolicy"
)

// SCP is one service control policy Vigil generates.
type SCP struct {
	// Key names the policy inside Vigil (file names, Terraform names).
	Key string
	// Name is the policy's name in AWS Organizations; Vigil finds its own
	// policies by it.
	Name        string
	Description string
	Doc         *iampolicy.Document
}

// Names of the SCPs in AWS Organizations.
const (
	DenyRootActionsName    = "VigilDenyRootActions"
	DenyRootAccessKeysName = "VigilDenyRootAccessKeys"
)

// rootPrincipal is the ARN pattern of every account's root user in the
// partition. ArnLike matches each ARN part on its own, so the account
// wildcard never spans a colon and IAM users named "root"
// (…:user/root) never match.
func rootPrincipal(partition string) string { return "arn:" + partition + ":iam::*:root" }

// SCPs returns the two policies.
//
// The first denies every action to a member account's root user except
// in sts:AssumeRoot sessions: those carry aws:AssumedRoot, and the Null
// condition exempts them, so the management account can still delete
// root credentials centrally. The second denies only iam:CreateAccessKey
// to the root user; it is the floor that stays when the first has to be
// lifted from an account for a root-only task (closing the account,
// changing its support plan, …). AssumeRoot sessions need no exemption
// from it: no root task policy allows creating keys.
func SCPs(partition string) []SCP {
	root := iampolicy.Strings{rootPrincipal(partition)}
	return []SCP{
		{
			Key: "deny-root-actions", Name: DenyRootActionsName,
			Description: "Vigil: deny every action to member accounts' root users, except in sts:AssumeRoot sessions",
			Doc: &iampolicy.Document{Version: iampolicy.Version2012, Statement: iampolicy.Statements{{
				Sid: "DenyRootUserExceptAssumeRootSessions", Effect: iampolicy.Deny,
				Action: iampolicy.Strings{"*"}, Resource: iampolicy.Strings{"*"},
				Condition: iampolicy.Condition{
					"ArnLike": {"aws:PrincipalArn": root},
					"Null":    {"aws:AssumedRoot": {"true"}},
				},
			}}},
		},
		{
			Key: "deny-root-access-keys", Name: DenyRootAccessKeysName,
			Description: "Vigil: deny member accounts' root users creating access keys",
			Doc: &iampolicy.Document{Version: iampolicy.Version2012, Statement: iampolicy.Statements{{
				Sid: "DenyRootAccessKeyCreation", Effect: iampolicy.Deny,
				Action: iampolicy.Strings{"iam:CreateAccessKey"}, Resource: iampolicy.Strings{"*"},
				Condition: iampolicy.Condition{"ArnLike": {"aws:PrincipalArn": root}},
			}}},
		},
	}
}

// EventPattern matches root console sign-in and root API calls. It does
// not filter on source: CloudTrail events arrive with the calling
// service's source (aws.iam, aws.signin, …), never aws.cloudtrail.
func EventPattern() obj {
	return obj{
		{"detail-type", []any{"AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"}},
		{"detail", obj{{"userIdentity", obj{{"type", []any{"Root"}}}}}},
	}
}

// ruleState makes a rule see read-only management events too (root's
// List*/Get*/Describe* calls), which plain ENABLED rules skip.
const ruleState = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"

// Resource names shared by the Terraform and CloudFormation artefacts.
const (
	centralBusName   = "vigil-root-activity"
	topicName        = "vigil-root-activity"
	alertRuleName    = "vigil-root-activity-alert"
	forwardRuleName  = "vigil-root-activity-forward"
	stackSetName     = "vigil-root-activity-forwarder"
	forwarderRoleTF  = "vigil-root-activity-forwarder"
	centralTargetID  = "central-bus"
	snsTargetID      = "sns"
	policyStatements = "Statement"
)

func version() kv { return kv{"Version", iampolicy.Version2012} }

// busPolicy lets every principal of the organisation put events on the
// central bus; forwarders in member accounts sign as their own role.
func busPolicy(busARN, orgID any) obj {
	return obj{version(), {policyStatements, []any{obj{
		{"Sid", "AllowOrganizationForwarders"},
		{"Effect", "Allow"},
		{"Principal", "*"},
		{"Action", "events:PutEvents"},
		{"Resource", busARN},
		{"Condition", obj{{"StringEquals", obj{{"aws:PrincipalOrgID", orgID}}}}},
	}}}}
}

// topicPolicy lets only the central alert rule publish to the topic.
func topicPolicy(topicARN, ruleARN any) obj {
	return obj{version(), {policyStatements, []any{obj{
		{"Sid", "AllowRootActivityRule"},
		{"Effect", "Allow"},
		{"Principal", obj{{"Service", "events.amazonaws.com"}}},
		{"Action", "sns:Publish"},
		{"Resource", topicARN},
		{"Condition", obj{{"ArnEquals", obj{{"aws:SourceArn", ruleARN}}}}},
	}}}}
}

// forwarderTrust lets EventBridge assume the forwarder role.
func forwarderTrust() obj {
	return obj{version(), {policyStatements, []any{obj{
		{"Effect", "Allow"},
		{"Principal", obj{{"Service", "events.amazonaws.com"}}},
		{"Action", "sts:AssumeRole"},
	}}}}
}

// forwarderPermissions lets the role put events on the central bus only.
func forwarderPermissions(busARN any) obj {
	return obj{version(), {policyStatements, []any{obj{
		{"Sid", "PutEventsOnCentralBus"},
		{"Effect", "Allow"},
		{"Action", "events:PutEvents"},
		{"Resource", busARN},
	}}}}
}
