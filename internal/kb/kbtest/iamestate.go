package kbtest

import (
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

// The standalone account's IAM estate with Options.IAMEstate: what the
// pages of the access key and IAM policy rules find and fix.
const (
	// DeployerKey1 belongs to IAM user "deployer": active, made 200 days
	// ago, used yesterday. DeployerKey2 is its second active key, made 10
	// days ago and never used: two active keys, one of them too old.
	DeployerKey1 = "AKIAKBSTANDDEPLOY001"
	DeployerKey2 = "AKIAKBSTANDDEPLOY002"
	// LegacyAdminPolicy is a customer-managed policy allowing "*:*",
	// attached directly to the deployer; SpareAdminPolicy allows it too and
	// is attached to nothing; DeployerInline is the deployer's own inline
	// policy; the deployer also holds AWS's ReadOnlyAccess. Group "ops" and
	// role "ci-deploy" hold AWS's AdministratorAccess, group "developers"
	// AWS's ReadOnlyAccess. No role holds AWSSupportAccess.
	LegacyAdminPolicy = "legacy-admin"
	SpareAdminPolicy  = "spare-admin"
	DeployerInline    = "deployer-s3"
	AdminDocument     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	// AllButOneDocument allows every action but one: its holder can attach
	// itself any policy, an administrator in effect.
	AllButOneDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:DeleteAccountPasswordPolicy","Resource":"*"}]}`
	// ShellRole holds AWS's AWSCloudShellFullAccess (Security Hub IAM.27)
	// and carries no tag; the deployer and ci-deploy are tagged, the
	// standalone account's other users are not (IAM.24, IAM.25).
	ShellRole = "ops-shell"
	// S3FullPolicy allows every S3 action (Security Hub IAM.21), held by
	// group "developers".
	S3FullPolicy   = "s3-full"
	S3FullDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::deploy-artifacts/*"}]}`
	S3Document     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::deploy-artifacts/*"}]}`
)

func addIAMEstate(a *awsemu.Account, now time.Time, part string) {
	day := 24 * time.Hour
	if part == "" {
		part = "aws"
	}
	policy := func(name string) string { return "arn:" + part + ":iam::" + a.ID + ":policy/" + name }
	a.Policies = append(a.Policies,
		awsemu.IAMPolicy{Name: LegacyAdminPolicy, Document: AllButOneDocument},
		awsemu.IAMPolicy{Name: SpareAdminPolicy, Document: AdminDocument},
		awsemu.IAMPolicy{Name: S3FullPolicy, Document: S3FullDocument},
	)
	a.Groups = append(a.Groups,
		awsemu.Group{Name: "ops", AttachedPolicies: []string{"arn:" + part + ":iam::aws:policy/AdministratorAccess"}},
		awsemu.Group{Name: "developers", AttachedPolicies: []string{"arn:" + part + ":iam::aws:policy/ReadOnlyAccess", policy(S3FullPolicy)}},
	)
	a.Roles = append(a.Roles,
		awsemu.Role{Name: "ci-deploy", AttachedPolicies: []string{"arn:" + part + ":iam::aws:policy/AdministratorAccess"},
			Tags: []awsemu.Tag{{Key: "owner", Value: "platform"}}},
		awsemu.Role{Name: ShellRole, AttachedPolicies: []string{"arn:" + part + ":iam::aws:policy/AWSCloudShellFullAccess"}},
	)
	a.Users = append(a.Users, awsemu.User{
		Name: "deployer", CreateDate: now.Add(-400 * day),
		AccessKeys: []awsemu.AccessKey{
			{ID: DeployerKey1, CreateDate: now.Add(-200 * day), LastUsed: &awsemu.KeyLastUsed{Date: now.Add(-day), Region: "us-east-1", Service: "s3"}},
			{ID: DeployerKey2, CreateDate: now.Add(-10 * day)},
		},
		AttachedPolicies: []string{policy(LegacyAdminPolicy), "arn:" + part + ":iam::aws:policy/ReadOnlyAccess"},
		InlinePolicies:   []awsemu.InlinePolicy{{Name: DeployerInline, Document: S3Document}},
		Tags:             []awsemu.Tag{{Key: "owner", Value: "platform"}, {Key: "purpose", Value: "deployments"}},
	})
}
