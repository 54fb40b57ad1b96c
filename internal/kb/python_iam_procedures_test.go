package kb_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
)

// The Python procedures of the IAM user, policy, support role and password
// settings pages (awscli_iam_procedures_test.go has their AWS CLI twins).

func pyIAMProcedures() []pyProcedure {
	estate := kbtest.Options{IAMEstate: true}
	date := func(days int) string { return now.AddDate(0, 0, -days).Format("2006-01-02") }
	mfaSerial := "arn:aws:iam::" + kbtest.StandaloneID + ":mfa/intern"
	return []pyProcedure{
		{
			name:  "iam-access-keys",
			world: estate,
			steps: []pyStep{
				{block: "access-keys-py/find", as: kbtest.StandaloneAuditor, want: all(contains(
					"deployer: TWO ACTIVE KEYS",
					"deployer: key 1 active, created "+date(200)+" (200 days before the report)  OLDER THAN 90 DAYS",
					"deployer: key 2 active, created "+date(10)+" (10 days before the report)\n",
					"intern: key 1 active, created "+date(100)+" (100 days before the report)  OLDER THAN 90 DAYS"),
					lacks("<root_account>", "root:"))},
				{block: "access-keys-fix-py/fix", as: kbtest.StandaloneAuditor, args: []string{"list", "deployer"}, want: all(
					contains(kbtest.DeployerKey1+"\tActive\tcreated "+date(200), kbtest.DeployerKey2+"\tActive"), lineCount(2))},
				{block: "access-keys-fix-py/fix", as: kbtest.StandaloneAuditor, args: []string{"deactivate", "deployer", kbtest.StandaloneInternKey},
					wantErr: "not keys of deployer: " + kbtest.StandaloneInternKey},
				{block: "access-keys-fix-py/fix", as: kbtest.StandaloneAuditor, args: []string{"deactivate", "deployer", kbtest.DeployerKey2},
					want: equals("deployer: " + kbtest.DeployerKey2 + " deactivated"), state: func(t *testing.T, p *procRun) {
						if k := userKeys(t, p, "deployer"); k[kbtest.DeployerKey2] != awsemu.StatusInactive || k[kbtest.DeployerKey1] != awsemu.StatusActive {
							t.Errorf("after deactivation: %v", k)
						}
					}},
				{block: "access-keys-fix-py/fix", as: kbtest.StandaloneAuditor, args: []string{"delete", "deployer", kbtest.DeployerKey2},
					state: func(t *testing.T, p *procRun) {
						if k := userKeys(t, p, "deployer"); len(k) != 1 {
							t.Errorf("after deletion: %v", k)
						}
					}},
				// Rotation: a new key into a private file, never printed.
				{block: "access-keys-fix-py/fix", as: kbtest.StandaloneAuditor, args: []string{"create", "intern", "intern-key.json"},
					want: contains("intern: new key AKIA", "written to intern-key.json"), state: func(t *testing.T, p *procRun) {
						if k := userKeys(t, p, "intern"); len(k) != 2 {
							t.Errorf("after create: %v", k)
						}
						if fi, err := os.Stat(filepath.Join(p.dir, "intern-key.json")); err != nil || fi.Mode().Perm() != 0o600 {
							t.Errorf("intern-key.json: %v, %v", fi, err)
						}
					}},
				{block: "access-keys-fix-py/fix", as: kbtest.StandaloneAuditor, args: []string{"create", "intern", "again.json"}, wantErr: "LimitExceeded"},
				{block: "access-keys-fix-py/fix", as: kbtest.StandaloneAuditor, args: []string{"delete", "intern", kbtest.StandaloneInternKey},
					state: func(t *testing.T, p *procRun) {
						k := userKeys(t, p, "intern")
						if _, old := k[kbtest.StandaloneInternKey]; old || len(k) != 1 {
							t.Errorf("after rotation: %v", k)
						}
						untouched(kbtest.StandaloneID)(t, p)
					}},
			},
		},
		{
			name: "iam-user-mfa",
			steps: []pyStep{
				{block: "iam-user-mfa/find-py", as: kbtest.StandaloneAuditor, want: equals("auditor\tno MFA; access key 1\nintern\tno MFA; console password, access key 1")},
				{block: "iam-user-mfa/fix-py", as: kbtest.StandaloneAuditor, args: []string{"create", "intern"}, want: equals(mfaSerial + "\tQR code in intern-mfa.png"),
					state: func(t *testing.T, p *procRun) {
						if fi, err := os.Stat(filepath.Join(p.dir, "intern-mfa.png")); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
							t.Errorf("intern-mfa.png: %v, %v", fi, err)
						}
					}},
				{block: "iam-user-mfa/fix-py", as: kbtest.StandaloneAuditor, args: []string{"enable", "intern", mfaSerial, "123456", "654321"},
					want: equals("intern: MFA device " + mfaSerial + " assigned"), state: func(t *testing.T, p *procRun) {
						if u := iamUser(t, p, kbtest.StandaloneID, "intern"); len(u.MFADevices) != 1 {
							t.Errorf("intern devices: %+v", u.MFADevices)
						}
					}},
			},
		},
		{
			name:  "iam-user-direct-policies",
			world: estate,
			steps: []pyStep{
				{block: "iam-user-direct-policies/find-py", as: kbtest.StandaloneAuditor,
					want: equals("deployer\tattached: " + kbtest.LegacyAdminPolicy + ", ReadOnlyAccess\tinline: " + kbtest.DeployerInline + "\tgroups: -")},
				{block: "iam-user-direct-policies/find-py", as: kbtest.StandaloneAuditor, args: []string{"move", "deployer", "developers"},
					want: contains(kbtest.LegacyAdminPolicy+" now attached to developers", "inline "+kbtest.DeployerInline+" now inline in developers"), state: func(t *testing.T, p *procRun) {
						u, g := iamUser(t, p, kbtest.StandaloneID, "deployer"), iamGroup(t, p, "developers")
						if len(u.AttachedPolicies)+len(u.InlinePolicies) != 0 || !slices.Contains(u.Groups, "developers") ||
							!slices.Contains(g.AttachedPolicies, standalonePolicy+kbtest.LegacyAdminPolicy) || len(g.InlinePolicies) != 1 {
							t.Errorf("after moving: user %+v, group %+v", u, g)
						}
					}},
				{block: "iam-user-direct-policies/find-py", as: kbtest.StandaloneAuditor, want: equals("")},
			},
		},
		{
			name:  "iam-policy-full-admin",
			world: estate,
			steps: []pyStep{
				{block: "iam-policy-full-admin/find-py", as: kbtest.StandaloneAuditor, want: all(contains(
					adminAccess+"\theld by group ops, role ci-deploy",
					standalonePolicy+kbtest.LegacyAdminPolicy+"\theld by user deployer",
					standalonePolicy+kbtest.SpareAdminPolicy+"\theld by nobody"), lacks("ReadOnlyAccess", kbtest.DeployerInline), lineCount(3))},
				{block: "iam-policy-full-admin/find-py", as: kbtest.StandaloneAuditor, args: []string{"detach", adminAccess},
					want: equals(adminAccess + ": detached from group ops\n" + adminAccess + ": detached from role ci-deploy"), state: func(t *testing.T, p *procRun) {
						if g := iamGroup(t, p, "ops"); len(g.AttachedPolicies) != 0 {
							t.Errorf("ops still holds %v", g.AttachedPolicies)
						}
					}},
				{block: "iam-policy-full-admin/find-py", as: kbtest.StandaloneAuditor, want: all(lacks(adminAccess), lineCount(2))},
			},
		},
		{
			name:  "iam-policy-service-wildcard",
			world: estate,
			before: func(t *testing.T, p *procRun) {
				if err := os.WriteFile(filepath.Join(p.dir, "narrow-policy.json"), []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			steps: []pyStep{
				{block: "iam-policy-service-wildcard/find-py", as: kbtest.StandaloneAuditor, want: all(contains(
					standalonePolicy+kbtest.LegacyAdminPolicy+"\tstatement 1: NotAction\theld by user deployer",
					standalonePolicy+kbtest.S3FullPolicy+"\tstatement 1: s3:*\theld by group developers",
					standalonePolicy+kbtest.SpareAdminPolicy+"\tstatement 1: *\theld by nobody"), lineCount(3))},
				{block: "iam-policy-service-wildcard/find-py", as: kbtest.StandaloneAuditor, args: []string{"replace", standalonePolicy + kbtest.S3FullPolicy, "deploy-artifacts", "narrow-policy.json"},
					want: equals("group developers: " + standalonePolicy + "deploy-artifacts in place of " + standalonePolicy + kbtest.S3FullPolicy)},
				// The wide policy is held by nobody now, ready to delete; the new one is narrow.
				{block: "iam-policy-service-wildcard/find-py", as: kbtest.StandaloneAuditor, want: all(
					contains(standalonePolicy+kbtest.S3FullPolicy+"\tstatement 1: s3:*\theld by nobody"), lacks("deploy-artifacts"), lineCount(3))},
			},
		},
		{
			name: "account-security-contact",
			steps: []pyStep{
				{block: "account-security-contact/find-py", as: kbtest.StandaloneAuditor, want: equals("SECURITY: not registered\nBILLING: not registered\nOPERATIONS: not registered")},
				{block: "account-security-contact/find-py", as: kbtest.StandaloneAuditor, args: []string{"set", "Security team", "Security operations", "security@example.com", "+1 555 0100"},
					want: contains("SECURITY: Security team, security@example.com, +1 555 0100\nBILLING: not registered")},
			},
		},
		{
			name: "iam-identity-federation",
			steps: []pyStep{
				{block: "iam-identity-federation/find-py", as: kbtest.ManagementAdminKey, want: equals("SAML arn:aws:iam::" + kbtest.ManagementID + ":saml-provider/" + kbtest.IdentityCenterSAML +
					"\nOIDC arn:aws:iam::" + kbtest.ManagementID + ":oidc-provider/" + kbtest.GitHubOIDC)},
				{block: "iam-identity-federation/find-py", as: kbtest.StandaloneAuditor, args: []string{"remove-password", "intern"}, want: equals("console password: root")},
			},
		},
		{
			name: "iam-support-role",
			steps: []pyStep{
				{block: "iam-support-role/find-py", as: kbtest.StandaloneAuditor, want: equals("no role holds AWSSupportAccess")},
				{block: "iam-support-role/find-py", as: kbtest.StandaloneAuditor, args: []string{"create", "aws-support"},
					want: equals("arn:aws:iam::" + kbtest.StandaloneID + ":role/aws-support: created with AWSSupportAccess"), state: func(t *testing.T, p *procRun) {
						if r, ok := iamRole(t, p, "aws-support"); !ok || !slices.Equal(r.AttachedPolicies, []string{supportAccess}) {
							t.Errorf("aws-support: %+v, %v", r, ok)
						}
					}},
				{block: "iam-support-role/find-py", as: kbtest.StandaloneAuditor, want: equals("role aws-support")},
			},
		},
		{
			name:  "iam-cloudshell-full-access",
			world: estate,
			steps: []pyStep{
				{block: "iam-cloudshell-full-access/find-py", as: kbtest.StandaloneAuditor, want: equals("role " + kbtest.ShellRole)},
				{block: "iam-cloudshell-full-access/find-py", as: kbtest.StandaloneAuditor, args: []string{"replace", "role", kbtest.ShellRole},
					want: equals("role " + kbtest.ShellRole + ": cloudshell-no-file-transfer in place of AWSCloudShellFullAccess"), state: func(t *testing.T, p *procRun) {
						if r, ok := iamRole(t, p, kbtest.ShellRole); !ok || !slices.Equal(r.AttachedPolicies, []string{standalonePolicy + "cloudshell-no-file-transfer"}) {
							t.Errorf("%s: %+v, %v", kbtest.ShellRole, r, ok)
						}
					}},
				{block: "iam-cloudshell-full-access/find-py", as: kbtest.StandaloneAuditor, want: equals("")},
			},
		},
		{
			name:  "iam-identity-tags",
			world: estate,
			steps: []pyStep{
				{block: "identity-tags-find/find-py", as: kbtest.StandaloneAuditor, want: equals("user auditor\nuser intern\nuser root\nrole " + kbtest.ShellRole)},
				{block: "identity-tags-find/find-py", as: kbtest.StandaloneAuditor, args: []string{"tag", "role", kbtest.ShellRole, "owner=ops", "purpose=shell"},
					want: equals("role " + kbtest.ShellRole + ": tagged owner, purpose"), state: func(t *testing.T, p *procRun) {
						if r, _ := iamRole(t, p, kbtest.ShellRole); !slices.Equal(r.Tags, []awsemu.Tag{{Key: "owner", Value: "ops"}, {Key: "purpose", Value: "shell"}}) {
							t.Errorf("%s's tags: %v", kbtest.ShellRole, r.Tags)
						}
					}},
				{block: "identity-tags-find/find-py", as: kbtest.StandaloneAuditor, args: []string{"tag", "user", "intern", "owner=data-team"}, want: equals("user intern: tagged owner")},
				{block: "identity-tags-find/find-py", as: kbtest.StandaloneAuditor, want: equals("user auditor\nuser root")},
			},
		},
		{
			name: "iam-password-settings",
			steps: []pyStep{
				{block: "password-settings-find/find-py", as: kbtest.StandaloneAuditor, want: contains("no password policy")},
				{block: "password-settings-find/find-py", as: kbtest.StandaloneAuditor, args: []string{"apply"}, state: passwordSettings(0),
					want: equals("RequireUppercaseCharacters: True\nRequireLowercaseCharacters: True\nRequireSymbols: True\nRequireNumbers: True\nMaxPasswordAge: never expires")},
				{block: "password-settings-find/find-py", as: kbtest.StandaloneAuditor, args: []string{"apply", "--max-age", "90"}, state: passwordSettings(90),
					want: contains("MaxPasswordAge: 90")},
				{block: "password-settings-find/find-py", as: kbtest.StandaloneAuditor, args: []string{"apply", "--max-age"}, wantErr: "usage"},
			},
		},
	}
}
