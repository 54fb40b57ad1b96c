package awsemu

import (
	"slices"
	"strings"
)

// The five AWS-managed root task policies (aws-facts §3.3). Each is
// deny-only: it denies every action outside its list, and denies the
// listed IAM actions on any resource other than the root user. So an
// AssumeRoot session can do exactly what is listed here, and the IAM ones
// only on root (that is, only without a UserName).
//
// IAMDeleteRootUserCredentials lost iam:DeleteVirtualMFADevice on
// 2025-01-07; the list below is the current one.
var taskPolicies = map[string][]string{
	"IAMAuditRootUserCredentials": {
		"iam:ListAccessKeys", "iam:ListSigningCertificates", "iam:GetLoginProfile", "iam:ListMFADevices",
		"iam:GetAccountSummary", "iam:GetUser", "iam:GetAccessKeyLastUsed",
	},
	"IAMCreateRootUserPassword": {
		"iam:CreateLoginProfile", "iam:GetLoginProfile",
	},
	"IAMDeleteRootUserCredentials": {
		"iam:DeleteAccessKey", "iam:DeleteSigningCertificate", "iam:DeleteLoginProfile", "iam:DeactivateMFADevice",
		"iam:ListAccessKeys", "iam:ListSigningCertificates", "iam:GetLoginProfile", "iam:ListMFADevices",
		"iam:GetUser", "iam:GetAccessKeyLastUsed",
	},
	"S3UnlockBucketPolicy": {
		"s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:ListAllMyBuckets",
	},
	"SQSUnlockQueuePolicy": {
		"sqs:SetQueueAttributes", "sqs:GetQueueAttributes", "sqs:ListQueues", "sqs:GetQueueUrl",
	},
}

// taskPolicyNeedsRootCredentialsManagement says which organization feature
// gates a task policy: the IAM tasks need RootCredentialsManagement, the
// S3 and SQS unlock tasks RootSessions. AWS does not state this split
// precisely (UNVERIFIED, aws-facts §3.1).
func taskPolicyNeedsRootCredentialsManagement(name string) bool {
	return strings.HasPrefix(name, "IAM")
}

// taskPolicyName returns the policy name of a root-task policy ARN in the
// given partition, or "" if arn is not one of the five.
func taskPolicyName(partition, arn string) string {
	name, ok := strings.CutPrefix(arn, "arn:"+partition+":iam::aws:policy/root-task/")
	if !ok {
		return ""
	}
	if _, known := taskPolicies[name]; !known {
		return ""
	}
	return name
}

// checkTaskPolicy enforces an AssumeRoot session's task policy. Callers
// hold s.mu.
func (s *Server) checkTaskPolicy(r *request) *apiError {
	p := r.caller
	if p.kind != kindAssumedRoot {
		return nil
	}
	// GetCallerIdentity cannot be denied by any policy.
	if r.service == "sts" && r.action == "GetCallerIdentity" {
		return nil
	}
	action := r.service + ":" + r.action
	resource := "*"
	if r.service == "iam" {
		resource = rootARN(s.world.Partition, p.account.ID)
		if name := r.param("UserName"); name != "" {
			path := "/"
			if u := p.account.user(name); u != nil {
				path = u.Path
			}
			resource = userARN(s.world.Partition, p.account.ID, path, name)
		}
	}
	denied := errAccessDenied(p.arn(s.world.Partition), action, resource, "with an explicit deny in an identity-based policy")
	switch r.proto {
	case protoJSON:
		// JSON services name the same refusal AccessDeniedException.
		denied.code, denied.status = "AccessDeniedException", 400
		if r.service == "access-analyzer" {
			denied.status = 403
		}
	case protoEC2:
		denied.code, denied.status = "UnauthorizedOperation", 403
	}
	if !slices.Contains(taskPolicies[p.taskPolicy], action) {
		return denied
	}
	// Every allowed IAM action except GetAccountSummary is limited to
	// the root user as resource.
	if r.service == "iam" && r.action != "GetAccountSummary" && r.param("UserName") != "" {
		return denied
	}
	return nil
}
