package kb_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
)

// The Python procedures: what a reader of each page does with its scripts,
// and what the accounts must look like before and after. The identities
// are those of the AWS CLI procedures (awscli_procedures_test.go).

func pyProcedures() []pyProcedure {
	day := 24 * time.Hour
	return append(append(append(pyIAMProcedures(), pyPasswordStandardProcedures()...), pyIAMReadingProcedures()...), []pyProcedure{
		{
			name: "root-access-key/standalone",
			before: func(t *testing.T, p *procRun) {
				if k := rootKeys(t, p, kbtest.StandaloneID); len(k) != 2 || k[kbtest.StandaloneRootKey1] != awsemu.StatusActive || k[kbtest.StandaloneRootKey2] != awsemu.StatusActive {
					t.Fatalf("before: root keys %v", k)
				}
			},
			seed: func(s *kbtest.Services) {
				s.Seed(kbtest.APICall(kbtest.StandaloneID, "Root", "arn:aws:iam::"+kbtest.StandaloneID+":root", kbtest.StandaloneRootKey1, kbtest.KeyUseRegion, "ec2.amazonaws.com", "RunInstances", trailIP, now.Add(-2*day)))
			},
			steps: []pyStep{
				{block: "root-access-key/find-py", as: kbtest.StandaloneAuditor, want: all(
					contains("the root user holds access key(s)", "key 1: active, created "+now.Add(-8*365*day).Format("2006-01-02")+" (2920 days before the report)", "last used "+now.Add(-2*day).Format("2006-01-02")+" (2 days before the report) in "+kbtest.KeyUseRegion+" for ec2",
						"key 2: active, created", "never used"))},
				{block: "root-access-key/last-use-py", as: kbtest.StandaloneRootKey1, args: []string{kbtest.StandaloneRootKey1},
					want: contains(kbtest.KeyUseRegion+"\t", "ec2.amazonaws.com\tRunInstances", "last used "+now.Add(-2*day).Format("2006-01-02"))},
				{block: "root-access-key/fix-py", as: kbtest.StandaloneAuditor, args: []string{"list"}, wantErr: "sign with one of the root user's access keys"},
				{block: "root-access-key/fix-py", as: kbtest.StandaloneRootKey1, args: []string{"list"}, want: all(contains(kbtest.StandaloneRootKey1+"\tActive", kbtest.StandaloneRootKey2+"\tActive"), lineCount(2))},
				{block: "root-access-key/fix-py", as: kbtest.StandaloneRootKey1, args: []string{"deactivate", kbtest.StandaloneRootKey2}, state: func(t *testing.T, p *procRun) {
					if k := rootKeys(t, p, kbtest.StandaloneID); k[kbtest.StandaloneRootKey2] != awsemu.StatusInactive || k[kbtest.StandaloneRootKey1] != awsemu.StatusActive {
						t.Errorf("after deactivation: %v", k)
					}
				}},
				{block: "root-access-key/fix-py", as: kbtest.StandaloneRootKey1, args: []string{"delete", "AKIAKBNOTAROOTKEY001"}, wantErr: "not its keys: AKIAKBNOTAROOTKEY001"},
				// Both keys at once, the signing one named first: it still goes last.
				{block: "root-access-key/fix-py", as: kbtest.StandaloneRootKey1, args: []string{"delete", kbtest.StandaloneRootKey1, kbtest.StandaloneRootKey2},
					want: equals(kbtest.StandaloneRootKey2 + ": deleted\n" + kbtest.StandaloneRootKey1 + ": deleted"), state: func(t *testing.T, p *procRun) {
						if k := rootKeys(t, p, kbtest.StandaloneID); len(k) != 0 {
							t.Errorf("root keys left: %v", k)
						}
						untouched(kbtest.StandaloneID)(t, p)
					}},
				// The summary is current; the report still shows the keys, and the
				// script says which to believe.
				{block: "root-access-key/find-py", as: kbtest.StandaloneAuditor, want: contains("the root user holds no access key(s)", "older than the latest change")},
			},
		},
		{
			name: "root-access-key/member",
			before: func(t *testing.T, p *procRun) {
				if k := rootKeys(t, p, kbtest.MemberID); len(k) != 1 {
					t.Fatalf("before: member root keys %v", k)
				}
			},
			steps: []pyStep{
				{block: "root-access-key/member-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID},
					want: all(contains(kbtest.MemberRootKey+"\tActive\tcreated ", "last used "+now.AddDate(0, 0, -40).Format("2006-01-02")+" in us-east-1 for s3"), lineCount(1)), state: noChanges},
				{block: "root-access-key/member-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID, kbtest.MemberRootKey},
					want: contains(kbtest.MemberRootKey + ": deleted"), state: func(t *testing.T, p *procRun) {
						r := p.account(t, kbtest.MemberID).Root
						if len(r.AccessKeys) != 0 || !r.Password || len(r.SigningCertificates) != 1 || len(r.MFADevices) != 1 {
							t.Errorf("member root after deleting its key: %+v", r)
						}
						untouched(kbtest.MemberID)(t, p)
					}},
				{block: "root-access-key/member-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID}, want: equals("")},
			},
		},
		{
			name:  "root-access-key/member-without-central-access",
			world: kbtest.Options{NoCentralRootAccess: true},
			steps: []pyStep{
				{block: "root-access-key/member-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID}, wantErr: "AssumeRoot: "},
			},
		},
		{
			name: "alerts",
			steps: []pyStep{
				{block: "alert/rule-py", as: kbtest.ManagementAdminKey, args: []string{"vigil-root-activity", "root-activity-pattern.json", snsTopic}, want: contains("us-east-1: arn:aws:events:us-east-1:" + kbtest.ManagementID + ":rule/vigil-root-activity"),
					state: checkAlert("vigil-root-activity", "root-activity-pattern.json", map[string]bool{
						"root sign-in": true, "root API call": true, "root session API call": true, "user sign-in": false, "user API call": false})},
				// The same script with the pages' other patterns.
				{block: "alert/rule-py", as: kbtest.ManagementAdminKey, args: []string{"vigil-root-signin-without-mfa", "root-signin-without-mfa.json", snsTopic, "us-east-1"},
					state: checkAlert("vigil-root-signin-without-mfa", "root-signin-without-mfa.json", map[string]bool{"root sign-in": true, "root sign-in with MFA": false, "root API call": false})},
				{block: "alert/rule-py", as: kbtest.ManagementAdminKey, args: []string{"vigil-root-access-disabled", "root-access-disabled-pattern.json", snsTopic},
					state: checkAlert("vigil-root-access-disabled", "root-access-disabled-pattern.json", map[string]bool{"disable root access": true, "enable root access": false})},
				{block: "alert/rule-py", as: kbtest.ManagementAdminKey, args: []string{"vigil-scp-changed", "scp-change-pattern.json", snsTopic},
					state: checkAlert("vigil-scp-changed", "scp-change-pattern.json", map[string]bool{"detach SCP": true, "attach SCP": false})},
			},
		},
		{
			name: "root-mfa",
			steps: []pyStep{
				// The decoy IAM user named root has a virtual device too; only root's shows.
				{block: "mfa-python/check", as: kbtest.StandaloneAuditor, want: equals("root MFA: virtual device " + kbtest.StandaloneMFA)},
				{block: "mfa-python/check", as: kbtest.ManagementAdminKey, want: equals("root MFA: hardware token, security key or passkey")},
				{block: "mfa-python/check", as: kbtest.CleanAuditorKey, want: equals("root MFA: none")},
			},
		},
		{
			name:   "member-cleanup",
			before: memberHoldsEverything,
			steps: []pyStep{
				{block: "member-cleanup-python/script", as: kbtest.ManagementAdminKey, wantErr: "name member accounts or give --all"},
				{block: "member-cleanup-python/script", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID},
					want:  equals(kbtest.MemberID + ": holds password, access key " + kbtest.MemberRootKey + ", signing certificate " + kbtest.MemberCertID + ", MFA device " + kbtest.MemberMFASerial),
					state: noChanges},
				{block: "member-cleanup-python/script", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID, "--apply"}, want: contains(kbtest.MemberID + ": deleted password"),
					state: func(t *testing.T, p *procRun) {
						r := p.account(t, kbtest.MemberID).Root
						if r.Password || len(r.AccessKeys)+len(r.SigningCertificates)+len(r.MFADevices) != 0 {
							t.Errorf("member root still holds credentials: %+v", r)
						}
						var order []string
						for _, c := range p.srv.Calls() {
							if awsemu.Mutating(c.Service, c.Action) {
								order = append(order, c.Action)
							}
						}
						if want := []string{"DeleteLoginProfile", "DeleteAccessKey", "DeleteSigningCertificate", "DeactivateMFADevice"}; !slices.Equal(order, want) {
							t.Errorf("order %v, want %v", order, want)
						}
						untouched(kbtest.MemberID)(t, p)
					}},
				{block: "member-cleanup-python/script", as: kbtest.ManagementAdminKey, args: []string{"--all", "--apply"},
					want: equals(kbtest.MemberID + ": nothing\n" + kbtest.CleanID + ": nothing")},
			},
		},
		{
			name:  "member-cleanup/not-reachable",
			world: kbtest.Options{NoCentralRootAccess: true},
			steps: []pyStep{
				// Every account is tried; the one that fails is named with the AWS error code.
				{block: "member-cleanup-python/script", as: kbtest.ManagementAdminKey, args: []string{"--all"}, wantErr: kbtest.CleanID + ": AssumeRoot: AccessDenied"},
			},
		},
		{
			name: "iam-unused-credentials",
			steps: []pyStep{
				// Never-used credentials count from when they were set; the
				// decoy user "root" has a password it never used either.
				{block: "iam-unused-credentials/find-py", as: kbtest.StandaloneAuditor, want: all(
					contains("auditor: access key 1 never used, set "+now.Add(-400*day).Format("2006-01-02")+" (400 days before the report)",
						"intern: password never used, set "+now.Add(-100*day).Format("2006-01-02")+" (100 days before the report); access key 1 never used",
						"root: password never used"),
					lacks("<root_account>"), lineCount(3))},
				{block: "iam-unused-credentials/fix-py", as: kbtest.StandaloneAuditor, args: []string{"intern", kbtest.StandaloneAuditor}, wantErr: "not keys of intern: " + kbtest.StandaloneAuditor},
				{block: "iam-unused-credentials/fix-py", as: kbtest.StandaloneAuditor, args: []string{"intern", "password", kbtest.StandaloneInternKey},
					want: equals("intern: " + kbtest.StandaloneInternKey + " deactivated\nintern: console password deleted"), state: func(t *testing.T, p *procRun) {
						if u := iamUser(t, p, kbtest.StandaloneID, "intern"); u.Password || len(u.AccessKeys) != 1 || u.AccessKeys[0].Status != awsemu.StatusInactive {
							t.Errorf("after the fix: %+v", u)
						}
						untouched(kbtest.StandaloneID)(t, p)
					}},
			},
		},
		{
			name: "iam-user-console-mfa",
			steps: []pyStep{
				{block: "iam-user-console-mfa/find-py", as: kbtest.StandaloneAuditor, want: equals("intern\tpassword last used never")},
				{block: "iam-user-console-mfa/find-py", as: kbtest.MemberAuditorKey, want: equals("")},
				{block: "iam-user-console-mfa/fix-py", as: kbtest.StandaloneAuditor, args: []string{"intern"}, want: equals("intern: console password deleted"), state: func(t *testing.T, p *procRun) {
					if u := iamUser(t, p, kbtest.StandaloneID, "intern"); u.Password || len(u.AccessKeys) != 1 || u.AccessKeys[0].Status != awsemu.StatusActive {
						t.Errorf("after the fix: %+v", u)
					}
					untouched(kbtest.StandaloneID)(t, p)
				}},
			},
		},
		{
			name: "iam-expired-server-certificate",
			steps: []pyStep{
				{block: "iam-expired-server-certificate/find-py", as: kbtest.StandaloneAuditor, args: []string{"--as-of", now.Format("2006-01-02")},
					want: equals(kbtest.ExpiredCertificate + "\texpired " + now.Add(-400*day).Format("2006-01-02"))},
				// A valid certificate is refused, and nothing is deleted.
				{block: "iam-expired-server-certificate/find-py", as: kbtest.StandaloneAuditor, args: []string{"--as-of", now.Format("2006-01-02"), "--delete", kbtest.ValidCertificate},
					wantErr: kbtest.ValidCertificate + ": not an expired certificate"},
				{block: "iam-expired-server-certificate/find-py", as: kbtest.StandaloneAuditor, args: []string{"--as-of", now.Format("2006-01-02"), "--delete", kbtest.ExpiredCertificate},
					want: equals(kbtest.ExpiredCertificate + ": deleted"), state: func(t *testing.T, p *procRun) {
						if c := p.account(t, kbtest.StandaloneID).ServerCertificates; len(c) != 1 || c[0].Name != kbtest.ValidCertificate {
							t.Errorf("certificates after the fix: %+v", c)
						}
					}},
			},
		},
		{
			name: "iam-access-analyzer",
			steps: []pyStep{
				{block: "iam-access-analyzer/find-py", as: kbtest.StandaloneAuditor, want: equals("eu-west-1")},
				{block: "iam-access-analyzer/find-py", as: kbtest.StandaloneAuditor, args: []string{"create", "external"},
					want: equals("eu-west-1: created arn:aws:access-analyzer:eu-west-1:" + kbtest.StandaloneID + ":analyzer/external")},
			},
		},
		{
			name: "iam-analyzer-tags",
			steps: []pyStep{
				{block: "iam-analyzer-tags/find-py", as: kbtest.StandaloneAuditor, want: equals("eu-west-1 " + kbtest.UntaggedAnalyzer)},
				{block: "iam-analyzer-tags/find-py", as: kbtest.StandaloneAuditor, args: []string{"tag", kbtest.UntaggedAnalyzer, "owner"},
					wantErr: "usage: analyzer_tags.py tag ARN KEY=VALUE"},
				{block: "iam-analyzer-tags/find-py", as: kbtest.StandaloneAuditor, args: []string{"tag", kbtest.UntaggedAnalyzer, "owner=security", "purpose=unused-access-review"},
					want: equals(kbtest.UntaggedAnalyzer + ": owner, purpose"), state: func(t *testing.T, p *procRun) {
						for _, r := range p.account(t, kbtest.StandaloneID).Regions {
							if r.Name == "eu-west-1" && len(r.Analyzers[0].Tags) != 3 {
								t.Errorf("eu-west-1 tags after the fix: %+v", r.Analyzers[0].Tags)
							}
						}
					}},
				{block: "iam-analyzer-tags/find-py", as: kbtest.StandaloneAuditor, want: equals("")},
				// An ARN of nothing is AWS's error, not a traceback.
				{block: "iam-analyzer-tags/find-py", as: kbtest.StandaloneAuditor, args: []string{"tag", "arn:aws:access-analyzer:eu-west-1:" + kbtest.StandaloneID + ":analyzer/nope", "owner=x"},
					wantErr: "TagResource: ResourceNotFoundException"},
			},
		},
		{
			name: "ec2-instance-role",
			steps: []pyStep{
				{block: "ec2-instance-role/find-py", as: kbtest.StandaloneAuditor, want: equals("us-east-1 " + kbtest.InstanceNoRole + " running")},
				{block: "ec2-instance-role/find-py", as: kbtest.StandaloneAuditor, args: []string{"attach", "us-east-1", kbtest.InstanceNoRole, kbtest.InstanceProfile},
					want: equals("us-east-1 " + kbtest.InstanceNoRole + ": instance profile " + kbtest.InstanceProfile + " attached")},
			},
		},
		{
			name: "iam-password-length",
			steps: []pyStep{
				{block: "iam-password-length/policy-py", as: kbtest.StandaloneAuditor, want: contains("no password policy")},
				{block: "iam-password-length/policy-py", as: kbtest.StandaloneAuditor, args: []string{"apply"}, want: equals("MinimumPasswordLength: 14\nPasswordReusePrevention: 24"),
					state: func(t *testing.T, p *procRun) {
						if pp := p.account(t, kbtest.StandaloneID).PasswordPolicy; pp == nil || pp.MinimumPasswordLength != 14 || pp.PasswordReusePrevention != 24 {
							t.Errorf("after apply: %+v", pp)
						}
					}},
			},
		},
		{
			name: "iam-password-reuse",
			steps: []pyStep{
				{block: "iam-password-reuse/policy-py", as: kbtest.MemberAuditorKey, want: contains("no password policy")},
				{block: "iam-password-reuse/policy-py", as: kbtest.MemberAuditorKey, args: []string{"apply"}, want: equals("MinimumPasswordLength: 14\nPasswordReusePrevention: 24"),
					state: func(t *testing.T, p *procRun) {
						if pp := p.account(t, kbtest.MemberID).PasswordPolicy; pp == nil || pp.MinimumPasswordLength != 14 || pp.PasswordReusePrevention != 24 {
							t.Errorf("after apply: %+v", pp)
						}
					}},
			},
		},
		{
			name: "root-recent-use",
			seed: func(s *kbtest.Services) {
				s.Seed(
					kbtest.RootConsoleLogin(kbtest.StandaloneID, now.Add(-3*day), signinIP, false),
					kbtest.UserConsoleLogin(kbtest.StandaloneID, "auditor", now.Add(-day)),
				)
			},
			steps: []pyStep{
				{block: "root-recent-use/find-py", as: kbtest.StandaloneAuditor, want: all(
					contains("password_last_used: "+now.Add(-3*day).Format("2006-01-02 15:04")+" UTC, 3 days before the report",
						"access_key_1_last_used_date: "+now.Add(-2*day).Format("2006-01-02"), "access_key_2_last_used_date: never",
						"sign-in "+now.Add(-3*day).Format("2006-01-02 15:04")+" UTC from "+signinIP+" MFA No Success"),
					lacks("auditor", now.Add(-day).Format("2006-01-02 15:04")))},
			},
		},
		{
			name: "root-signing-certificate",
			before: func(t *testing.T, p *procRun) {
				if n, m := len(p.account(t, kbtest.StandaloneID).Root.SigningCertificates), len(p.account(t, kbtest.MemberID).Root.SigningCertificates); n != 1 || m != 1 {
					t.Fatalf("before: %d and %d certificates", n, m)
				}
			},
			steps: []pyStep{
				{block: "root-signing-certificate/find-py", as: kbtest.StandaloneAuditor, want: all(
					contains("the root user holds signing certificate(s)", "certificate 1: active, uploaded "+now.Add(-7*365*day).Format("2006-01-02"), "certificate 2: none"))},
				{block: "root-signing-certificate/fix-py", as: kbtest.StandaloneAuditor, args: []string{"list"}, wantErr: "sign with one of the root user's access keys"},
				{block: "root-signing-certificate/fix-py", as: kbtest.StandaloneRootKey1, args: []string{"list"}, want: contains(kbtest.StandaloneCertID + "\tActive\t")},
				{block: "root-signing-certificate/fix-py", as: kbtest.StandaloneRootKey1, args: []string{"delete", kbtest.StandaloneCertID}, want: equals(kbtest.StandaloneCertID + ": deleted"),
					state: func(t *testing.T, p *procRun) {
						if r := p.account(t, kbtest.StandaloneID).Root; len(r.SigningCertificates) != 0 || len(r.AccessKeys) != 2 {
							t.Errorf("after deletion: %+v", r)
						}
					}},
				{block: "root-signing-certificate/find-py", as: kbtest.StandaloneAuditor, want: contains("the root user holds no signing certificate(s)")},
				{block: "root-signing-certificate/member-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID}, want: equals(kbtest.MemberCertID),
					state: func(t *testing.T, p *procRun) {
						if r := p.account(t, kbtest.MemberID).Root; len(r.SigningCertificates) != 1 {
							t.Errorf("listing changed the certificates: %+v", r)
						}
					}},
				{block: "root-signing-certificate/member-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID, kbtest.MemberCertID}, want: equals(kbtest.MemberCertID + ": deleted"),
					state: func(t *testing.T, p *procRun) {
						if r := p.account(t, kbtest.MemberID).Root; len(r.SigningCertificates) != 0 || len(r.AccessKeys) != 1 || !r.Password {
							t.Errorf("after deletion: %+v", r)
						}
					}},
			},
		},
		{
			name:   "root-member-password",
			before: memberHoldsEverything,
			steps: []pyStep{
				{block: "root-member-password/script", as: kbtest.ManagementAdminKey, args: []string{"check", kbtest.MemberID}, want: contains(kbtest.MemberID + ": the root user has a password, set "), state: noChanges},
				{block: "root-member-password/script", as: kbtest.ManagementAdminKey, args: []string{"delete", kbtest.MemberID}, want: equals(kbtest.MemberID + ": password deleted"),
					state: func(t *testing.T, p *procRun) {
						if r := p.account(t, kbtest.MemberID).Root; r.Password || len(r.AccessKeys) != 1 {
							t.Errorf("after deleting the password: %+v", r)
						}
					}},
				{block: "root-member-password/script", as: kbtest.ManagementAdminKey, args: []string{"delete", kbtest.MemberID}, want: equals(kbtest.MemberID + ": the root user has no password")},
				{block: "root-member-password/script", as: kbtest.ManagementAdminKey, args: []string{"check", kbtest.MemberID}, want: equals(kbtest.MemberID + ": the root user has no password")},
				{block: "root-member-password/script", as: kbtest.ManagementAdminKey, args: []string{"allow-recovery", kbtest.MemberID}, want: contains("recovery allowed"),
					state: func(t *testing.T, p *procRun) {
						if !p.account(t, kbtest.MemberID).Root.Password {
							t.Error("allowing recovery created no login profile")
						}
					}},
				// The member's own auditor sees it in the account summary.
				{block: "root-member-password/script", as: kbtest.MemberAuditorKey, args: []string{"check", kbtest.MemberID}, wantErr: "AssumeRoot: AccessDenied"},
			},
		},
		{
			name:  "org-root-credentials-management",
			world: kbtest.Options{NoCentralRootAccess: true},
			before: func(t *testing.T, p *procRun) {
				if o := p.srv.World().Organization; o.RootCredentialsManagement || o.RootSessions || len(o.TrustedAccess) != 0 || len(o.DelegatedAdmins) != 0 {
					t.Fatalf("before: organisation %+v", o)
				}
			},
			steps: []pyStep{
				{block: "org-root-credentials-management/find-py", as: kbtest.ManagementAdminKey, want: equals(
					"trusted access for IAM: off\nRootCredentialsManagement: off\nRootSessions: off\ndelegated administrator: none")},
				{block: "central-python/enable", as: kbtest.ManagementAdminKey, args: []string{kbtest.CleanID}, want: all(contains("RootCredentialsManagement", "RootSessions"), contains("delegated administrator: "+kbtest.CleanID)),
					state: func(t *testing.T, p *procRun) {
						o := p.srv.World().Organization
						if !o.RootCredentialsManagement || !o.RootSessions || !slices.Contains(o.TrustedAccess, "iam.amazonaws.com") || !slices.Equal(o.DelegatedAdmins, []string{kbtest.CleanID}) {
							t.Errorf("organisation after enabling: %+v", o)
						}
					}},
				// Safe to repeat.
				{block: "central-python/enable", as: kbtest.ManagementAdminKey, args: []string{kbtest.CleanID}, want: contains("delegated administrator: " + kbtest.CleanID)},
				{block: "org-root-credentials-management/find-py", as: kbtest.ManagementAdminKey, want: equals(
					"trusted access for IAM: on\nRootCredentialsManagement: on\nRootSessions: on\ndelegated administrator: " + kbtest.CleanID)},
				// Now a member can be cleaned from the delegated administrator.
				{block: "member-cleanup-python/script", as: kbtest.CleanAuditorKey, args: []string{kbtest.MemberID}, want: contains(kbtest.MemberID + ": holds password")},
			},
		},
		{
			name: "service-control-policy",
			before: func(t *testing.T, p *procRun) {
				if ps := p.srv.World().Organization.Policies; len(ps) != 1 || ps[0].ID != awsemu.FullAWSAccessID {
					t.Fatalf("before: policies %+v", ps)
				}
				uncovered(kbtest.MemberID, kbtest.CleanID)(t, p)
			},
			steps: []pyStep{
				{block: "scp/attach-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.OUID}, want: equals(kbtest.OUID + ": FullAWSAccess vigil-deny-root-user"),
					state: both(checkDenyRootSCP(kbtest.OUID), coveredFully)},
				// Again: the policy is found by name, and attached once.
				{block: "scp/attach-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.OUID}, want: equals(kbtest.OUID + ": FullAWSAccess vigil-deny-root-user"),
					state: checkDenyRootSCP(kbtest.OUID)},
			},
		},
		{
			name:   "org-root-scp-coverage/find",
			world:  kbtest.Options{SCPs: []awsemu.Policy{kbtest.DenyRootSCP(kbtest.CleanID)}},
			before: uncovered(kbtest.MemberID),
			steps: []pyStep{
				{block: "org-root-scp-coverage/find-py", as: kbtest.ManagementAdminKey, want: all(contains(
					"root "+kbtest.RootID+": SCPs enabled",
					kbtest.MemberID+"\t"+kbtest.MemberID+"\tFullAWSAccess\n", kbtest.MemberID+"\t"+kbtest.OUID+"\tFullAWSAccess\n", kbtest.MemberID+"\t"+kbtest.RootID+"\tFullAWSAccess\n",
					kbtest.CleanID+"\t"+kbtest.CleanID+"\tFullAWSAccess kb-deny-root-user\n"), lacks(kbtest.ManagementID, kbtest.StandaloneID), lineCount(7))},
				{block: "org-root-scp-coverage/member-py", as: kbtest.ManagementAdminKey, args: []string{"attach", kbtest.DenyRootPolicyID, kbtest.OUID},
					want: equals(kbtest.OUID + ": FullAWSAccess kb-deny-root-user"), state: coveredFully},
				{block: "org-root-scp-coverage/find-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID}, want: all(contains(kbtest.MemberID+"\t"+kbtest.OUID+"\tFullAWSAccess kb-deny-root-user"), lineCount(4))},
			},
		},
		{
			name:   "org-root-scp-coverage/break-glass",
			world:  kbtest.Options{SCPs: []awsemu.Policy{kbtest.DenyRootSCP(kbtest.MemberID, kbtest.CleanID), kbtest.RootKeysSCP(kbtest.RootID)}},
			before: coveredFully,
			steps: []pyStep{
				{block: "org-root-scp-coverage/member-py", as: kbtest.ManagementAdminKey, args: []string{"detach", kbtest.RootKeysPolicyID, kbtest.MemberID}, wantErr: "DetachPolicy: PolicyNotAttachedException"},
				{block: "org-root-scp-coverage/member-py", as: kbtest.ManagementAdminKey, args: []string{"detach", kbtest.DenyRootPolicyID, kbtest.MemberID}, want: equals(kbtest.MemberID + ": FullAWSAccess"),
					state: func(t *testing.T, p *procRun) {
						if got := policyNamed(t, p, "kb-deny-root-user").Targets; !slices.Equal(got, []string{kbtest.CleanID}) {
							t.Errorf("deny-all attached to %v", got)
						}
					}},
				{block: "org-root-scp-coverage/member-py", as: kbtest.ManagementAdminKey, args: []string{"detach", awsemu.FullAWSAccessID, kbtest.MemberID}, wantErr: "DetachPolicy: ConstraintViolationException"},
				{block: "org-root-scp-coverage/member-py", as: kbtest.ManagementAdminKey, args: []string{"attach", kbtest.DenyRootPolicyID, kbtest.MemberID}, want: equals(kbtest.MemberID + ": FullAWSAccess kb-deny-root-user"), state: coveredFully},
			},
		},
		{
			name:   "org-root-scp-coverage/by-hand",
			world:  kbtest.Options{NoSCPs: true},
			before: scpsOff,
			steps: []pyStep{
				{block: "org-root-scp-coverage/find-py", as: kbtest.ManagementAdminKey, want: contains("root " + kbtest.RootID + ": SCPs NOT enabled")},
				{block: "org-root-scp-coverage/fix-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.RootID}, want: all(contains(kbtest.RootID+": SCPs enabled\n"), lastLine(kbtest.RootID+": FullAWSAccess vigil-deny-root-access-keys")),
					state: checkKeysSCP(kbtest.RootID)},
				{block: "scp/attach-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.RootID}, want: equals(kbtest.RootID + ": FullAWSAccess vigil-deny-root-access-keys vigil-deny-root-user"),
					state: both(checkDenyRootSCP(kbtest.RootID), coveredFully)},
				// Run again: nothing changes.
				{block: "org-root-scp-coverage/fix-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.RootID}, want: equals(kbtest.RootID + ": FullAWSAccess vigil-deny-root-access-keys vigil-deny-root-user"),
					state: checkKeysSCP(kbtest.RootID)},
			},
		},
		{
			name:   "monitor",
			before: memberHoldsEverything,
			seed:   func(s *kbtest.Services) { s.CreateTopic(snsTopic) },
			steps: []pyStep{
				// A topic that does not exist: the error code, no traceback.
				{block: "alert/monitor-py", as: kbtest.ManagementAdminKey, args: []string{snsTopic + "-missing"}, wantErr: "Publish: NotFound"},
				{block: "alert/monitor-py", as: kbtest.ManagementAdminKey, args: []string{snsTopic}, want: lacks(kbtest.CleanID, kbtest.ManagementID+" ("), state: published(1, kbtest.MemberID+" (production): access key "+kbtest.MemberRootKey+" (active, created ", "signing certificate; password", "in 1 of 3 accounts checked")},
				// As a Lambda function would be configured: the topic from the environment.
				{block: "alert/monitor-py", as: kbtest.ManagementAdminKey, env: map[string]string{"ROOT_ALERT_TOPIC_ARN": snsTopic}, state: published(2, kbtest.MemberRootKey)},
				// Clean the member: the next run finds nothing and publishes nothing.
				{block: "member-cleanup-python/script", as: kbtest.ManagementAdminKey, args: []string{"--all", "--apply"}, want: contains(kbtest.MemberID + ": deleted")},
				{block: "alert/monitor-py", as: kbtest.ManagementAdminKey, args: []string{snsTopic}, want: equals("3 accounts checked: no root credentials"), state: published(2)},
			},
		},
		{
			// The account the check runs in is read from its own summary and
			// credential report: an inactive, never used key still counts.
			name:  "monitor/management-key",
			world: kbtest.Options{ManagementRootKey: true},
			seed:  func(s *kbtest.Services) { s.CreateTopic(snsTopic) },
			steps: []pyStep{
				{block: "alert/monitor-py", as: kbtest.ManagementAdminKey, args: []string{snsTopic},
					state: published(1, "Root credentials found in 2 of 3 accounts checked.",
						kbtest.ManagementID+" (management): access key 1 (inactive, created "+now.Add(-1000*day).Format("2006-01-02")+", last used never)", kbtest.MemberID+" (production): ")},
			},
		},
		{
			// From the IAM delegated administrator: the management account is
			// out of sts:AssumeRoot's reach and the alert says so.
			name: "monitor/delegated-admin",
			seed: func(s *kbtest.Services) { s.CreateTopic(adminTopic) },
			steps: []pyStep{
				{block: "central-python/enable", as: kbtest.ManagementAdminKey, args: []string{kbtest.CleanID}, want: contains("delegated administrator: " + kbtest.CleanID)},
				{block: "alert/monitor-py", as: kbtest.CleanAuditorKey, args: []string{adminTopic}, wantErr: "Not checked (1):",
					state: publishedTo(adminTopic, 1, "Root credentials found in 1 of 2 accounts checked.", kbtest.MemberID+" (production): access key "+kbtest.MemberRootKey,
						kbtest.ManagementID+" (management): sts:AssumeRoot cannot reach the management account; run this check there too")},
			},
		},
		{
			// A delegated administrator that is itself a dirty member reads
			// its own root user from its summary and credential report, the
			// password included.
			name: "monitor/dirty-delegated-admin",
			seed: func(s *kbtest.Services) { s.CreateTopic(memberTopic) },
			steps: []pyStep{
				{block: "central-python/enable", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID}, want: contains("delegated administrator: " + kbtest.MemberID)},
				{block: "alert/monitor-py", as: kbtest.MemberAuditorKey, args: []string{memberTopic}, wantErr: "Not checked (1):",
					state: publishedTo(memberTopic, 1, "Root credentials found in 1 of 2 accounts checked.",
						kbtest.MemberID+" (production): access key 1 (active, created "+now.Add(-3*365*day).Format("2006-01-02")+", last used "+now.Add(-40*day).Format("2006-01-02")+"); signing certificate; password")},
			},
		},
		{
			// Members the check cannot reach are named in the alert, and the
			// run fails: silence must mean "checked and clean".
			name:  "monitor/not-checked",
			world: kbtest.Options{NoCentralRootAccess: true},
			seed:  func(s *kbtest.Services) { s.CreateTopic(snsTopic) },
			steps: []pyStep{
				{block: "alert/monitor-py", as: kbtest.ManagementAdminKey, args: []string{snsTopic}, wantErr: "Not checked (2):",
					state: published(1, "Root credentials found in 0 of 1 accounts checked.", kbtest.MemberID+" (production): AssumeRoot: AccessDenied", kbtest.CleanID+" (sandbox): AssumeRoot: AccessDenied")},
			},
		},
	}...)
}

// Topics of the accounts registered as the IAM delegated administrator,
// which the check publishes to when it runs there.
const (
	adminTopic  = "arn:aws:sns:us-east-1:" + kbtest.CleanID + ":security-alerts"
	memberTopic = "arn:aws:sns:us-east-1:" + kbtest.MemberID + ":security-alerts"
)

// published: the topic holds n messages, the last with these lines.
func published(n int, want ...string) func(*testing.T, *procRun) {
	return publishedTo(snsTopic, n, want...)
}

func publishedTo(topic string, n int, want ...string) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		msgs := p.svc.Published()
		if len(msgs) != n {
			t.Fatalf("%d messages published, want %d: %+v", len(msgs), n, msgs)
		}
		last := msgs[n-1]
		for _, w := range want {
			if !strings.Contains(last.Message, w) {
				t.Errorf("message lacks %q:\n%s", w, last.Message)
			}
		}
		for _, m := range msgs {
			if m.TopicARN != topic || m.Subject == "" || strings.Contains(m.Message, kbtest.StandaloneID) {
				t.Errorf("message %+v", m)
			}
		}
	}
}

// memberHoldsEverything: before a procedure, the member's root user holds
// a password, a key, a certificate and an MFA device.
func memberHoldsEverything(t *testing.T, p *procRun) {
	t.Helper()
	if r := p.account(t, kbtest.MemberID).Root; !r.Password || len(r.AccessKeys) != 1 || len(r.SigningCertificates) != 1 || len(r.MFADevices) != 1 {
		t.Fatalf("before: member root %+v", r)
	}
}
