package kb_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
)

// The AWS CLI procedures of the pages about IAM users' access keys and MFA,
// who holds which policy, the support role and the password settings. They
// run on the standalone account, with its IAM estate where they need it.

const (
	standalonePolicy = "arn:aws:iam::" + kbtest.StandaloneID + ":policy/"
	adminAccess      = "arn:aws:iam::aws:policy/AdministratorAccess"
	readOnlyAccess   = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	supportAccess    = "arn:aws:iam::aws:policy/AWSSupportAccess"
)

func userKeys(t *testing.T, p *procRun, user string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range iamUser(t, p, kbtest.StandaloneID, user).AccessKeys {
		out[k.ID] = k.Status
	}
	return out
}

func iamGroup(t *testing.T, p *procRun, name string) awsemu.Group {
	t.Helper()
	for _, g := range p.account(t, kbtest.StandaloneID).Groups {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no group %s", name)
	return awsemu.Group{}
}

func iamRole(t *testing.T, p *procRun, name string) (awsemu.Role, bool) {
	t.Helper()
	for _, r := range p.account(t, kbtest.StandaloneID).Roles {
		if r.Name == name {
			return r, true
		}
	}
	return awsemu.Role{}, false
}

// passwordSettings checks the standalone account's policy requires every
// character type, with CIS's length and reuse, and the given expiry.
func passwordSettings(maxAge int) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		passwordPolicyIs(kbtest.StandaloneID, 14, 24)(t, p)
		pp := p.account(t, kbtest.StandaloneID).PasswordPolicy
		if pp == nil || !pp.RequireUppercaseCharacters || !pp.RequireLowercaseCharacters || !pp.RequireNumbers || pp.MaxPasswordAge != maxAge {
			t.Errorf("password policy %+v, want every character type and max age %d", pp, maxAge)
		}
	}
}

func iamProcedures() []procedure {
	estate := kbtest.Options{IAMEstate: true}
	deployer := map[string]string{"USER_NAME": "deployer"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	mfaSerial := "arn:aws:iam::" + kbtest.StandaloneID + ":mfa/intern"
	return []procedure{
		{
			name:  "iam-user-one-active-key",
			world: estate,
			steps: []step{
				{block: "iam-user-one-active-key/find-report", as: kbtest.StandaloneAuditor, want: equals("deployer")},
				{block: "iam-user-one-active-key/list-keys", as: kbtest.StandaloneAuditor, subst: deployer, want: all(
					contains(kbtest.DeployerKey1+"\tActive", kbtest.DeployerKey2+"\tActive"), lineCount(2))},
				{block: "iam-user-one-active-key/last-used", as: kbtest.StandaloneAuditor, subst: with("ACCESS_KEY_ID", kbtest.DeployerKey1), want: contains("us-east-1", "s3")},
				{block: "iam-user-one-active-key/last-used", as: kbtest.StandaloneAuditor, subst: with("ACCESS_KEY_ID", kbtest.DeployerKey2), want: contains("N/A")},
				{block: "iam-user-one-active-key/deactivate", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "deployer", "ACCESS_KEY_ID", kbtest.DeployerKey2),
					state: func(t *testing.T, p *procRun) {
						if k := userKeys(t, p, "deployer"); k[kbtest.DeployerKey2] != awsemu.StatusInactive || k[kbtest.DeployerKey1] != awsemu.StatusActive {
							t.Errorf("after deactivation: %v", k)
						}
					}},
				// The report is cached for four hours: the keys' own listing shows the change.
				{block: "iam-user-one-active-key/list-keys", as: kbtest.StandaloneAuditor, subst: deployer, want: contains(kbtest.DeployerKey1+"\tActive", kbtest.DeployerKey2+"\tInactive")},
				{block: "iam-user-one-active-key/delete", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "deployer", "ACCESS_KEY_ID", kbtest.DeployerKey2),
					state: func(t *testing.T, p *procRun) {
						if k := userKeys(t, p, "deployer"); len(k) != 1 || k[kbtest.DeployerKey1] != awsemu.StatusActive {
							t.Errorf("after deletion: %v", k)
						}
						untouched(kbtest.StandaloneID)(t, p)
					}},
			},
		},
		{
			name:  "iam-access-key-rotation",
			world: estate,
			steps: []step{
				{block: "iam-access-key-rotation/find-report", as: kbtest.StandaloneAuditor, want: all(
					contains("deployer key 1 created "+now.AddDate(0, 0, -200).Format("2006-01-02"), "deployer key 2 created", "intern key 1 created "+now.AddDate(0, 0, -100).Format("2006-01-02"), "auditor key 1 created"),
					lacks("<root_account>"))},
				{block: "iam-access-key-rotation/list-keys", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern"), want: all(contains(kbtest.StandaloneInternKey), lineCount(1))},
				{block: "iam-access-key-rotation/create", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern"), want: equals(""), state: func(t *testing.T, p *procRun) {
					if k := userKeys(t, p, "intern"); len(k) != 2 {
						t.Errorf("after create: %v", k)
					}
					var out struct {
						AccessKey struct{ AccessKeyId, SecretAccessKey string }
					}
					if err := json.Unmarshal(readFile(t, p, "new-access-key.json"), &out); err != nil || out.AccessKey.SecretAccessKey == "" {
						t.Errorf("new-access-key.json: %+v, %v", out, err)
					}
					if fi, err := os.Stat(filepath.Join(p.dir, "new-access-key.json")); err != nil || fi.Mode().Perm() != 0o600 {
						t.Errorf("new-access-key.json mode: %v, %v", fi, err)
					}
				}},
				{block: "iam-access-key-rotation/deactivate", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern", "ACCESS_KEY_ID", kbtest.StandaloneInternKey),
					state: func(t *testing.T, p *procRun) {
						if k := userKeys(t, p, "intern"); k[kbtest.StandaloneInternKey] != awsemu.StatusInactive {
							t.Errorf("after deactivation: %v", k)
						}
					}},
				{block: "iam-access-key-rotation/delete", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern", "ACCESS_KEY_ID", kbtest.StandaloneInternKey),
					state: func(t *testing.T, p *procRun) {
						k := userKeys(t, p, "intern")
						if _, old := k[kbtest.StandaloneInternKey]; old || len(k) != 1 {
							t.Errorf("after deletion: %v", k)
						}
						untouched(kbtest.StandaloneID)(t, p)
					}},
				// The report is cached for four hours: the keys' own listing shows the rotation.
				{block: "iam-access-key-rotation/list-keys", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern"),
					want: all(lacks(kbtest.StandaloneInternKey), contains("\tActive\t"+now.Format("2006-01-02")), lineCount(1))},
			},
		},
		{
			name: "iam-user-mfa",
			steps: []step{
				// The decoy user "root" has MFA; the auditor and the intern do not.
				{block: "iam-user-mfa/find-report", as: kbtest.StandaloneAuditor, want: equals("auditor\nintern")},
				{block: "iam-user-mfa/create-device", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern"), want: equals(mfaSerial), state: func(t *testing.T, p *procRun) {
					if len(readFile(t, p, "intern-mfa.png")) == 0 {
						t.Error("no QR code written")
					}
				}},
				{block: "iam-user-mfa/enable-device", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern", "SERIAL_NUMBER", mfaSerial, "CODE_1", "123456", "CODE_2", "654321"),
					state: func(t *testing.T, p *procRun) {
						if u := iamUser(t, p, kbtest.StandaloneID, "intern"); len(u.MFADevices) != 1 || u.MFADevices[0].Serial != mfaSerial {
							t.Errorf("intern after enabling: %+v", u.MFADevices)
						}
					}},
			},
		},
		{
			name:  "iam-user-direct-policies",
			world: estate,
			steps: []step{
				{block: "iam-user-direct-policies/find", as: kbtest.StandaloneAuditor, want: equals("deployer")},
				{block: "iam-user-direct-policies/list-user", as: kbtest.StandaloneAuditor, subst: deployer, want: contains(standalonePolicy+kbtest.LegacyAdminPolicy, readOnlyAccess, kbtest.DeployerInline)},
				{block: "iam-user-direct-policies/to-group", as: kbtest.StandaloneAuditor, subst: with("GROUP_NAME", "developers", "POLICY_ARN", readOnlyAccess, "USER_NAME", "deployer"),
					state: func(t *testing.T, p *procRun) {
						if u := iamUser(t, p, kbtest.StandaloneID, "deployer"); !slices.Contains(u.Groups, "developers") {
							t.Errorf("deployer groups: %v", u.Groups)
						}
					}},
				{block: "iam-user-direct-policies/detach", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "deployer", "POLICY_ARN", readOnlyAccess),
					state: func(t *testing.T, p *procRun) {
						if u := iamUser(t, p, kbtest.StandaloneID, "deployer"); slices.Contains(u.AttachedPolicies, readOnlyAccess) || len(u.AttachedPolicies) != 1 {
							t.Errorf("deployer policies: %v", u.AttachedPolicies)
						}
					}},
				{block: "iam-user-direct-policies/move-inline", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "deployer", "GROUP_NAME", "developers", "POLICY_NAME", kbtest.DeployerInline),
					state: func(t *testing.T, p *procRun) {
						g := iamGroup(t, p, "developers")
						if u := iamUser(t, p, kbtest.StandaloneID, "deployer"); len(u.InlinePolicies) != 0 || len(g.InlinePolicies) != 1 {
							t.Fatalf("after moving: user %v, group %v", u.InlinePolicies, g.InlinePolicies)
						}
						var doc map[string]any
						if err := json.Unmarshal([]byte(g.InlinePolicies[0].Document), &doc); err != nil || doc["Statement"] == nil {
							t.Errorf("moved document %q: %v", g.InlinePolicies[0].Document, err)
						}
					}},
				{block: "iam-user-direct-policies/detach", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "deployer", "POLICY_ARN", standalonePolicy+kbtest.LegacyAdminPolicy)},
				{block: "iam-user-direct-policies/find", as: kbtest.StandaloneAuditor, want: equals("")},
			},
		},
		{
			name:  "iam-policy-full-admin",
			world: estate,
			steps: []step{
				{block: "iam-policy-full-admin/find", as: kbtest.StandaloneAuditor, want: all(
					contains(standalonePolicy+kbtest.LegacyAdminPolicy, adminAccess, `"NotAction"`), lacks(kbtest.SpareAdminPolicy))},
				{block: "iam-policy-full-admin/holders", as: kbtest.StandaloneAuditor, subst: with("POLICY_ARN", adminAccess), want: contains(`"ops"`, `"ci-deploy"`)},
				{block: "iam-policy-full-admin/detach-group", as: kbtest.StandaloneAuditor, subst: with("GROUP_NAME", "ops", "POLICY_ARN", adminAccess),
					state: func(t *testing.T, p *procRun) {
						if g := iamGroup(t, p, "ops"); len(g.AttachedPolicies) != 0 {
							t.Errorf("ops still holds %v", g.AttachedPolicies)
						}
					}},
				{block: "iam-policy-full-admin/detach-role", as: kbtest.StandaloneAuditor, subst: with("ROLE_NAME", "ci-deploy", "POLICY_ARN", adminAccess),
					state: func(t *testing.T, p *procRun) {
						if r, _ := iamRole(t, p, "ci-deploy"); len(r.AttachedPolicies) != 0 {
							t.Errorf("ci-deploy still holds %v", r.AttachedPolicies)
						}
					}},
				{block: "iam-policy-full-admin/detach-user", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "deployer", "POLICY_ARN", standalonePolicy+kbtest.LegacyAdminPolicy)},
				{block: "iam-policy-full-admin/delete", as: kbtest.StandaloneAuditor, subst: with("POLICY_ARN", standalonePolicy+kbtest.SpareAdminPolicy),
					state: func(t *testing.T, p *procRun) {
						for _, pol := range p.account(t, kbtest.StandaloneID).Policies {
							if pol.Name == kbtest.SpareAdminPolicy {
								t.Error("spare-admin not deleted")
							}
						}
					}},
				{block: "iam-policy-full-admin/find", as: kbtest.StandaloneAuditor, want: all(contains(readOnlyAccess), lacks(kbtest.LegacyAdminPolicy, adminAccess))},
			},
		},
		{
			name:  "iam-policy-service-wildcard",
			world: estate,
			steps: []step{
				{block: "iam-policy-service-wildcard/find", as: kbtest.StandaloneAuditor, want: all(
					contains(standalonePolicy+kbtest.S3FullPolicy, `"s3:*"`, standalonePolicy+kbtest.SpareAdminPolicy, `"NotAction"`), lacks(adminAccess))},
				{block: "iam-policy-service-wildcard/replace", as: kbtest.StandaloneAuditor,
					subst: with("NEW_POLICY_NAME", "deploy-artifacts", "GROUP_NAME", "developers", "NEW_POLICY_ARN", standalonePolicy+"deploy-artifacts", "POLICY_ARN", standalonePolicy+kbtest.S3FullPolicy),
					want:  contains(standalonePolicy + "deploy-artifacts"), state: func(t *testing.T, p *procRun) {
						g := iamGroup(t, p, "developers")
						if slices.Contains(g.AttachedPolicies, standalonePolicy+kbtest.S3FullPolicy) || !slices.Contains(g.AttachedPolicies, standalonePolicy+"deploy-artifacts") {
							t.Errorf("developers hold %v", g.AttachedPolicies)
						}
					}},
				{block: "iam-policy-service-wildcard/delete", as: kbtest.StandaloneAuditor, subst: with("POLICY_ARN", standalonePolicy+kbtest.S3FullPolicy)},
				{block: "iam-policy-service-wildcard/find", as: kbtest.StandaloneAuditor, want: all(contains(standalonePolicy+"deploy-artifacts"), lacks(standalonePolicy+kbtest.S3FullPolicy))},
			},
		},
		{
			name: "account-security-contact",
			steps: []step{
				{block: "account-security-contact/find", as: kbtest.StandaloneAuditor, wantErr: "ResourceNotFoundException"},
				{block: "account-security-contact/fix", as: kbtest.StandaloneAuditor,
					subst: with("NAME", "Security team", "TITLE", "Security operations", "EMAIL", "security@example.com", "PHONE", "+1 555 0100"),
					state: func(t *testing.T, p *procRun) {
						if c := p.account(t, kbtest.StandaloneID).AlternateContacts["SECURITY"]; c.Name != "Security team" || c.EmailAddress != "security@example.com" {
							t.Errorf("security contact after the fix: %+v", c)
						}
					}},
				{block: "account-security-contact/find", as: kbtest.StandaloneAuditor, want: equals("Security team\tsecurity@example.com\t+1 555 0100")},
				// The management account sets a member's contact.
				{block: "account-security-contact/fix-member", as: kbtest.ManagementAdminKey,
					subst: with("MEMBER_ACCOUNT_ID", kbtest.MemberID, "NAME", "SOC", "TITLE", "Security operations", "EMAIL", "soc@example.com", "PHONE", "+1 555 0101"),
					state: func(t *testing.T, p *procRun) {
						if c := p.account(t, kbtest.MemberID).AlternateContacts["SECURITY"]; c.EmailAddress != "soc@example.com" {
							t.Errorf("member's security contact: %+v", c)
						}
					}},
			},
		},
		{
			name: "iam-identity-federation",
			steps: []step{
				{block: "iam-identity-federation/find", as: kbtest.StandaloneAuditor, want: equals("")},
				{block: "iam-identity-federation/find", as: kbtest.ManagementAdminKey, want: all(lineCount(2),
					contains("arn:aws:iam::"+kbtest.ManagementID+":saml-provider/"+kbtest.IdentityCenterSAML, "arn:aws:iam::"+kbtest.ManagementID+":oidc-provider/"+kbtest.GitHubOIDC))},
				{block: "iam-identity-federation/find-report", as: kbtest.StandaloneAuditor, want: all(lineCount(2), contains("root", "intern"))},
				// The report is IAM's cached one for four hours, so the
				// fix is checked on the account itself.
				{block: "iam-identity-federation/fix", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern"), state: func(t *testing.T, p *procRun) {
					for _, u := range p.account(t, kbtest.StandaloneID).Users {
						if u.Name == "intern" && u.Password {
							t.Error("intern still has a console password")
						}
					}
				}},
			},
		},
		{
			name: "iam-support-role",
			steps: []step{
				{block: "iam-support-role/find", as: kbtest.StandaloneAuditor, want: equals("")},
				{block: "iam-support-role/create-role", as: kbtest.StandaloneAuditor, subst: with("ROLE_NAME", "aws-support"),
					want: contains("arn:aws:iam::" + kbtest.StandaloneID + ":role/aws-support"), state: func(t *testing.T, p *procRun) {
						if r, ok := iamRole(t, p, "aws-support"); !ok || !slices.Equal(r.AttachedPolicies, []string{supportAccess}) {
							t.Errorf("aws-support: %+v, %v", r, ok)
						}
					}},
				{block: "iam-support-role/find", as: kbtest.StandaloneAuditor, want: equals("aws-support")},
			},
		},
		{
			name:  "iam-cloudshell-full-access",
			world: estate,
			steps: []step{
				{block: "iam-cloudshell-full-access/find", as: kbtest.StandaloneAuditor, want: equals("Role " + kbtest.ShellRole)},
				{block: "iam-cloudshell-full-access/replace", as: kbtest.StandaloneAuditor, subst: with("ROLE_NAME", kbtest.ShellRole),
					want: contains(standalonePolicy + "cloudshell-no-file-transfer"), state: func(t *testing.T, p *procRun) {
						if r, ok := iamRole(t, p, kbtest.ShellRole); !ok || !slices.Equal(r.AttachedPolicies, []string{standalonePolicy + "cloudshell-no-file-transfer"}) {
							t.Errorf("%s: %+v, %v", kbtest.ShellRole, r, ok)
						}
					}},
				{block: "iam-cloudshell-full-access/find", as: kbtest.StandaloneAuditor, want: lacks(kbtest.ShellRole)},
			},
		},
		{
			name:  "iam-cloudshell-full-access-detach",
			world: estate,
			steps: []step{
				{block: "iam-cloudshell-full-access/detach", as: kbtest.StandaloneAuditor, subst: with("ROLE_NAME", kbtest.ShellRole), state: func(t *testing.T, p *procRun) {
					if r, ok := iamRole(t, p, kbtest.ShellRole); !ok || len(r.AttachedPolicies) != 0 {
						t.Errorf("%s: %+v, %v", kbtest.ShellRole, r, ok)
					}
				}},
				{block: "iam-cloudshell-full-access/find", as: kbtest.StandaloneAuditor, want: lacks(kbtest.ShellRole)},
			},
		},
		{
			name:  "iam-identity-tags",
			world: estate,
			steps: []step{
				{block: "identity-tags-find/find", as: kbtest.StandaloneAuditor, want: equals("user\tauditor\nuser\tintern\nuser\troot\nrole\t" + kbtest.ShellRole)},
				{block: "identity-tags-fix/tag-user", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern", "OWNER", "data-team", "PURPOSE", "notebooks"),
					state: func(t *testing.T, p *procRun) {
						if tags := iamUser(t, p, kbtest.StandaloneID, "intern").Tags; !slices.Equal(tags, []awsemu.Tag{{Key: "owner", Value: "data-team"}, {Key: "purpose", Value: "notebooks"}}) {
							t.Errorf("intern's tags: %v", tags)
						}
					}},
				{block: "identity-tags-fix/tag-role", as: kbtest.StandaloneAuditor, subst: with("ROLE_NAME", kbtest.ShellRole, "OWNER", "ops", "PURPOSE", "shell"),
					state: func(t *testing.T, p *procRun) {
						if r, _ := iamRole(t, p, kbtest.ShellRole); len(r.Tags) != 2 {
							t.Errorf("%s's tags: %v", kbtest.ShellRole, r.Tags)
						}
					}},
				{block: "identity-tags-find/find", as: kbtest.StandaloneAuditor, want: equals("user\tauditor\nuser\troot")},
			},
		},
		{
			name: "iam-password-settings",
			steps: []step{
				{block: "password-settings-find/find", as: kbtest.StandaloneAuditor, wantErr: "NoSuchEntity"},
				{block: "password-settings-fix/fix", as: kbtest.StandaloneAuditor, state: passwordSettings(0)},
				{block: "password-settings-find/find", as: kbtest.StandaloneAuditor, want: equals("True\tTrue\tTrue\tTrue\tNone")},
				{block: "iam-password-expiry/fix-expiry", as: kbtest.StandaloneAuditor, state: passwordSettings(90)},
				{block: "password-settings-find/find", as: kbtest.StandaloneAuditor, want: equals("True\tTrue\tTrue\tTrue\t90")},
			},
		},
	}
}
