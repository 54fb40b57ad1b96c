package kb_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/rule"
)

// The procedures: what a reader of each page does, in order, and what the
// account must look like at each point. Identities:
//   - an auditor (an IAM user of the account) for the read-only checks;
//   - the root user's own access key for "signed in as root";
//   - the management account's administrator for Organizations and
//     sts:AssumeRoot, whose session later blocks inherit from the shell.

const (
	snsTopic  = "arn:aws:sns:us-east-1:" + kbtest.ManagementID + ":security-alerts"
	trailIP   = "203.0.113.10"
	signinIP  = "198.51.100.7"
	rootARN   = "arn:aws:iam::" + kbtest.MemberID + ":root"
	memberArg = "MEMBER_ACCOUNT_ID"
)

// daysAgo3 is three days before now, to the second, as the AWS CLI
// prints it.
var daysAgo3 = now.Add(-3 * 24 * time.Hour).Format("2006-01-02T15:04:05")

// printsTime checks that the output shows t as an AWS CLI prints a
// timestamp: version 2 in ISO 8601, version 1 (cli_timestamp_format
// "none") as the service sent it, here CloudTrail's epoch seconds.
func printsTime(t time.Time) func(*testing.T, string) {
	return func(tt *testing.T, out string) {
		tt.Helper()
		iso, epoch := t.Format("2006-01-02T15:04:05"), strconv.FormatInt(t.Unix(), 10)
		if !strings.Contains(out, iso) && !strings.Contains(out, epoch) {
			tt.Errorf("output shows neither %s nor %s:\n%s", iso, epoch, out)
		}
	}
}

func member(extra ...string) map[string]string {
	m := map[string]string{memberArg: kbtest.MemberID}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func key(id string) map[string]string { return map[string]string{"ACCESS_KEY_ID": id} }

// untouched checks that the IAM users of an account (the auditor, the decoy
// user named "root") kept their credentials: the commands act on root only.
func untouched(accountID string) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		for _, u := range p.account(t, accountID).Users {
			if u.Name == "auditor" && len(u.AccessKeys) != 1 {
				t.Errorf("%s: the auditor's keys changed: %+v", accountID, u.AccessKeys)
			}
			if u.Name == "root" && (len(u.MFADevices) != 1 || !u.Password) {
				t.Errorf("%s: the IAM user named root was changed: %+v", accountID, u)
			}
		}
	}
}

func procedures() []procedure {
	day := 24 * time.Hour
	standaloneRoot := "arn:aws:iam::" + kbtest.StandaloneID + ":root"
	return append(append(append(iamProcedures(), passwordStandardProcedures()...), iamReadingProcedures()...), []procedure{
		{
			name: "root-access-key/standalone",
			before: func(t *testing.T, p *procRun) {
				if k := rootKeys(t, p, kbtest.StandaloneID); len(k) != 2 || k[kbtest.StandaloneRootKey1] != awsemu.StatusActive || k[kbtest.StandaloneRootKey2] != awsemu.StatusActive {
					t.Fatalf("before: root keys %v", k)
				}
			},
			seed: func(s *kbtest.Services) {
				s.Seed(
					kbtest.APICall(kbtest.StandaloneID, "Root", standaloneRoot, kbtest.StandaloneRootKey1, kbtest.KeyUseRegion, "ec2.amazonaws.com", "RunInstances", trailIP, now.Add(-2*day)),
					kbtest.APICall(kbtest.StandaloneID, "Root", standaloneRoot, kbtest.StandaloneRootKey1, kbtest.KeyUseRegion, "ec2.amazonaws.com", "DescribeInstances", trailIP, now.Add(-3*day)),
					kbtest.APICall(kbtest.StandaloneID, "IAMUser", "arn:aws:iam::"+kbtest.StandaloneID+":user/auditor", kbtest.StandaloneAuditor, kbtest.KeyUseRegion, "s3.amazonaws.com", "ListBuckets", "192.0.2.1", now.Add(-day)),
				)
			},
			steps: []step{
				{block: "root-access-key/find-summary", as: kbtest.StandaloneAuditor, want: equals("1")},
				{block: "root-access-key/find-report", as: kbtest.StandaloneAuditor, want: all(
					contains("user,access_key_1_active,access_key_1_last_rotated", "<root_account>,true,"), lacks("auditor,"))},
				{block: "root-access-key/list", as: kbtest.StandaloneRootKey1, want: contains(kbtest.StandaloneRootKey1, kbtest.StandaloneRootKey2)},
				{block: "root-access-key/last-used", as: kbtest.StandaloneRootKey1, subst: key(kbtest.StandaloneRootKey1), want: contains(kbtest.KeyUseRegion, `"ServiceName": "ec2"`)},
				{block: "root-access-key/trail", as: kbtest.StandaloneAuditor, subst: map[string]string{"REGION": kbtest.KeyUseRegion, "ACCESS_KEY_ID": kbtest.StandaloneRootKey1},
					want: all(contains("RunInstances", "DescribeInstances", `"sourceIPAddress":"`+trailIP+`"`), lacks("ListBuckets"))},
				{block: "root-access-key/deactivate", as: kbtest.StandaloneRootKey1, subst: key(kbtest.StandaloneRootKey2), state: func(t *testing.T, p *procRun) {
					if k := rootKeys(t, p, kbtest.StandaloneID); k[kbtest.StandaloneRootKey2] != awsemu.StatusInactive || k[kbtest.StandaloneRootKey1] != awsemu.StatusActive {
						t.Errorf("after deactivation: %v", k)
					}
				}},
				{block: "root-access-key/delete", as: kbtest.StandaloneRootKey1, subst: key(kbtest.StandaloneRootKey2), state: func(t *testing.T, p *procRun) {
					if k := rootKeys(t, p, kbtest.StandaloneID); len(k) != 1 {
						t.Errorf("after deleting key 2: %v", k)
					}
				}},
				// The signing key last, signed by itself.
				{block: "root-access-key/delete", as: kbtest.StandaloneRootKey1, subst: key(kbtest.StandaloneRootKey1), state: func(t *testing.T, p *procRun) {
					if k := rootKeys(t, p, kbtest.StandaloneID); len(k) != 0 {
						t.Errorf("root keys left: %v", k)
					}
					untouched(kbtest.StandaloneID)(t, p)
				}},
				{block: "root-access-key/find-summary", as: kbtest.StandaloneAuditor, want: equals("0")},
			},
		},
		{
			name: "root-access-key/member",
			before: func(t *testing.T, p *procRun) {
				if k := rootKeys(t, p, kbtest.MemberID); len(k) != 1 {
					t.Fatalf("before: member root keys %v", k)
				}
			},
			steps: []step{
				{block: "member-session/start", as: kbtest.ManagementAdminKey, subst: member(), want: equals(rootARN)},
				{block: "root-access-key/member-list", want: all(contains(kbtest.MemberRootKey, "Active"))},
				{block: "root-access-key/member-last-used", subst: key(kbtest.MemberRootKey), want: contains(`"ServiceName": "s3"`)},
				// The page says the session cannot deactivate a key or read the summary.
				{probe: "aws iam update-access-key --access-key-id " + kbtest.MemberRootKey + " --status Inactive", wantErr: "AccessDenied"},
				{probe: "aws iam get-account-summary", wantErr: "AccessDenied"},
				{block: "root-access-key/member-delete", subst: key(kbtest.MemberRootKey), want: equals(""), state: func(t *testing.T, p *procRun) {
					r := p.account(t, kbtest.MemberID).Root
					if len(r.AccessKeys) != 0 || !r.Password || len(r.SigningCertificates) != 1 || len(r.MFADevices) != 1 {
						t.Errorf("member root after deleting its key: %+v", r)
					}
					untouched(kbtest.MemberID)(t, p)
				}},
				{block: "member-session/end"},
				{probe: "aws sts get-caller-identity --query Arn --output text", as: kbtest.MemberAuditorKey, want: contains(":user/auditor")},
			},
		},
		{
			// vigil fix signed with root's own key: the first run
			// deactivates the unused key and refuses the recently used one
			// it signs with; the second deletes the key it deactivated.
			name: "root-access-key/vigil-fix-standalone",
			steps: []step{
				{block: "root-access-key/vigil-fix-root-plan", as: kbtest.StandaloneRootKey1,
					want: contains("iam:UpdateAccessKey "+kbtest.StandaloneRootKey2, "REFUSED: used 2 days ago", "signs this run", "This was a dry run"),
					state: both(noChanges, func(t *testing.T, p *procRun) {
						if k := rootKeys(t, p, kbtest.StandaloneID); len(k) != 2 || k[kbtest.StandaloneRootKey2] != awsemu.StatusActive {
							t.Errorf("the plan changed the keys: %v", k)
						}
					})},
				{block: "root-access-key/vigil-fix-root-apply", as: kbtest.StandaloneRootKey1, want: contains("1 change(s) succeeded, 0 failed"),
					state: func(t *testing.T, p *procRun) {
						if k := rootKeys(t, p, kbtest.StandaloneID); k[kbtest.StandaloneRootKey2] != awsemu.StatusInactive || k[kbtest.StandaloneRootKey1] != awsemu.StatusActive {
							t.Errorf("after the first run: %v", k)
						}
						auditLines(1)(t, p)
					}},
				{block: "root-access-key/vigil-fix-root-apply", as: kbtest.StandaloneRootKey1, want: contains("iam:DeleteAccessKey  "+kbtest.StandaloneRootKey2, "1 change(s) succeeded, 0 failed"),
					state: func(t *testing.T, p *procRun) {
						if k := rootKeys(t, p, kbtest.StandaloneID); len(k) != 1 || k[kbtest.StandaloneRootKey1] != awsemu.StatusActive {
							t.Errorf("after the second run: %v", k)
						}
						auditLines(2)(t, p)
						untouched(kbtest.StandaloneID)(t, p)
					}},
			},
		},
		{
			name: "root-access-key/vigil-fix-member",
			steps: []step{
				{block: "root-access-key/vigil-fix-plan", as: kbtest.ManagementAdminKey, subst: member(),
					want: contains("iam:DeleteAccessKey "+kbtest.MemberRootKey, "irreversible", "This was a dry run"), state: noChanges},
				{block: "root-access-key/vigil-fix-apply", as: kbtest.ManagementAdminKey, subst: member(), want: contains("1 change(s) succeeded, 0 failed"),
					state: func(t *testing.T, p *procRun) {
						r := p.account(t, kbtest.MemberID).Root
						if len(r.AccessKeys) != 0 || !r.Password || len(r.SigningCertificates) != 1 || len(r.MFADevices) != 1 {
							t.Errorf("member root after vigil fix: %+v", r)
						}
						untouched(kbtest.MemberID)(t, p)
						auditLines(1)(t, p)
					}},
				// Run again: nothing left to do with the keys.
				{block: "root-access-key/vigil-fix-plan", as: kbtest.ManagementAdminKey, subst: member(), want: all(lacks("iam:DeleteAccessKey"), contains("left alone (add --password)"))},
			},
		},
		{
			name: "fix-members",
			steps: []step{
				{block: "fix-members/all", as: kbtest.ManagementAdminKey, subst: member(), want: contains("4 change(s) succeeded, 0 failed"),
					state: func(t *testing.T, p *procRun) {
						a := p.account(t, kbtest.MemberID)
						if r := a.Root; r.Password || len(r.AccessKeys)+len(r.SigningCertificates)+len(r.MFADevices) != 0 {
							t.Errorf("member root still holds credentials: %+v", r)
						}
						var order []string
						for _, c := range p.srv.Calls() {
							if awsemu.Mutating(c.Service, c.Action) {
								order = append(order, c.Action)
							}
						}
						if want := []string{"DeleteAccessKey", "DeleteSigningCertificate", "DeleteLoginProfile", "DeactivateMFADevice"}; !slices.Equal(order, want) {
							t.Errorf("order %v, want %v", order, want)
						}
						untouched(kbtest.MemberID)(t, p)
						auditLines(4)(t, p)
					}},
			},
		},
		{
			name: "member-cleanup",
			before: func(t *testing.T, p *procRun) {
				if r := p.account(t, kbtest.MemberID).Root; !r.Password || len(r.AccessKeys) != 1 || len(r.SigningCertificates) != 1 || len(r.MFADevices) != 1 {
					t.Fatalf("before: member root %+v", r)
				}
			},
			steps: []step{
				{block: "member-session/start", as: kbtest.ManagementAdminKey, subst: member(), want: equals(rootARN)},
				{block: "member-cleanup/delete", state: func(t *testing.T, p *procRun) {
					a := p.account(t, kbtest.MemberID)
					r := a.Root
					if r.Password || len(r.AccessKeys)+len(r.SigningCertificates)+len(r.MFADevices) != 0 {
						t.Errorf("member root still holds credentials: %+v", r)
					}
					if !slices.Contains(a.UnassignedVirtualMFA, kbtest.MemberMFASerial) {
						t.Errorf("the virtual MFA device should stay, unassigned: %v", a.UnassignedVirtualMFA)
					}
					untouched(kbtest.MemberID)(t, p)
					// Password first, MFA last.
					var order []string
					for _, c := range p.srv.Calls() {
						if awsemu.Mutating(c.Service, c.Action) && c.Service == "iam" {
							order = append(order, c.Action)
						}
					}
					if want := []string{"DeleteLoginProfile", "DeleteAccessKey", "DeleteSigningCertificate", "DeactivateMFADevice"}; !slices.Equal(order, want) {
						t.Errorf("order %v, want %v", order, want)
					}
				}},
				{block: "member-cleanup/check", want: equals("")},
				{block: "member-session/end"},
			},
		},
		{
			name: "iam-unused-credentials",
			steps: []step{
				// The auditor's key (400 days, never used) and the intern's
				// password and key (100 days, never used) are what the page
				// teaches to read; root's row is left out.
				{block: "iam-unused-credentials/find-report", as: kbtest.StandaloneAuditor, want: all(
					contains("user,password_enabled,password_last_used,password_last_changed,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,",
						"auditor,false,N/A,N/A,true,", "intern,true,no_information,"), lacks("<root_account>"))},
				{block: "iam-unused-credentials/list-keys", as: kbtest.StandaloneAuditor, subst: map[string]string{"USER_NAME": "intern"}, want: all(
					contains(kbtest.StandaloneInternKey), lacks(kbtest.StandaloneAuditor))},
				{block: "iam-unused-credentials/deactivate-key", as: kbtest.StandaloneAuditor,
					subst: map[string]string{"USER_NAME": "intern", "ACCESS_KEY_ID": kbtest.StandaloneInternKey}, state: func(t *testing.T, p *procRun) {
						u := iamUser(t, p, kbtest.StandaloneID, "intern")
						if len(u.AccessKeys) != 1 || u.AccessKeys[0].Status != awsemu.StatusInactive || !u.Password {
							t.Errorf("after deactivation: %+v", u)
						}
					}},
				{block: "iam-unused-credentials/delete-password", as: kbtest.StandaloneAuditor, subst: map[string]string{"USER_NAME": "intern"}, state: func(t *testing.T, p *procRun) {
					if u := iamUser(t, p, kbtest.StandaloneID, "intern"); u.Password || len(u.AccessKeys) != 1 {
						t.Errorf("after deleting the password: %+v", u)
					}
					untouched(kbtest.StandaloneID)(t, p)
				}},
			},
		},
		{
			name: "iam-user-console-mfa",
			steps: []step{
				// The decoy user "root" has a password and MFA; only the
				// intern lacks MFA.
				{block: "iam-user-console-mfa/find-report", as: kbtest.StandaloneAuditor, want: equals("intern")},
				{block: "iam-user-console-mfa/find-report", as: kbtest.MemberAuditorKey, want: equals("")},
				{block: "iam-user-console-mfa/delete-password", as: kbtest.StandaloneAuditor, subst: map[string]string{"USER_NAME": "intern"}, state: func(t *testing.T, p *procRun) {
					if u := iamUser(t, p, kbtest.StandaloneID, "intern"); u.Password || len(u.AccessKeys) != 1 || u.AccessKeys[0].Status != awsemu.StatusActive {
						t.Errorf("after deleting the password: %+v", u)
					}
					untouched(kbtest.StandaloneID)(t, p)
				}},
			},
		},
		{
			name: "iam-expired-server-certificate",
			steps: []step{
				// Sorted by expiry: the expired certificate first.
				{block: "iam-expired-server-certificate/find", as: kbtest.StandaloneAuditor, want: all(lineCount(2), firstLineHas(kbtest.ExpiredCertificate), contains(kbtest.ValidCertificate))},
				{block: "iam-expired-server-certificate/fix", as: kbtest.StandaloneAuditor, subst: map[string]string{"CERTIFICATE_NAME": kbtest.ExpiredCertificate}, state: func(t *testing.T, p *procRun) {
					if c := p.account(t, kbtest.StandaloneID).ServerCertificates; len(c) != 1 || c[0].Name != kbtest.ValidCertificate {
						t.Errorf("certificates after the fix: %+v", c)
					}
				}},
				{block: "iam-expired-server-certificate/find", as: kbtest.StandaloneAuditor, want: all(lineCount(1), contains(kbtest.ValidCertificate))},
			},
		},
		{
			name: "iam-access-analyzer",
			steps: []step{
				// eu-west-1 has only an unused-access analyzer; af-south-1
				// is not enabled and not listed.
				{block: "iam-access-analyzer/find", as: kbtest.StandaloneAuditor, want: all(lineCount(2), contains("us-east-1 external"), lacks("eu-west-1 unused", "af-south-1"))},
				{block: "iam-access-analyzer/fix", as: kbtest.StandaloneAuditor, subst: map[string]string{"REGION": "eu-west-1"}, state: func(t *testing.T, p *procRun) {
					for _, r := range p.account(t, kbtest.StandaloneID).Regions {
						if r.Name == "eu-west-1" && (len(r.Analyzers) != 2 || r.Analyzers[1].Name != "external" || r.Analyzers[1].Type != "ACCOUNT") {
							t.Errorf("eu-west-1 analyzers after the fix: %+v", r.Analyzers)
						}
					}
				}},
				{block: "iam-access-analyzer/find", as: kbtest.StandaloneAuditor, want: all(lineCount(2), contains("us-east-1 external", "eu-west-1 external"))},
			},
		},
		{
			name: "iam-analyzer-tags",
			steps: []step{
				// us-east-1's analyzer carries an owner tag; eu-west-1's only
				// CloudFormation's system tag, which does not count.
				{block: "iam-analyzer-tags/find", as: kbtest.StandaloneAuditor, want: equals(kbtest.UntaggedAnalyzer)},
				{block: "iam-analyzer-tags/fix", as: kbtest.StandaloneAuditor,
					subst: map[string]string{"REGION": "eu-west-1", "ANALYZER_ARN": kbtest.UntaggedAnalyzer, "OWNER": "security", "PURPOSE": "unused-access-review"},
					state: func(t *testing.T, p *procRun) {
						for _, r := range p.account(t, kbtest.StandaloneID).Regions {
							if r.Name == "eu-west-1" && fmt.Sprint(r.Analyzers[0].Tags) != "[{aws:cloudformation:stack-name access-review} {owner security} {purpose unused-access-review}]" {
								t.Errorf("eu-west-1 tags after the fix: %+v", r.Analyzers[0].Tags)
							}
						}
					}},
				{block: "iam-analyzer-tags/check", as: kbtest.StandaloneAuditor, subst: map[string]string{"REGION": "eu-west-1", "ANALYZER_ARN": kbtest.UntaggedAnalyzer},
					want: contains(`"owner": "security"`, `"purpose": "unused-access-review"`, `"aws:cloudformation:stack-name": "access-review"`)},
				{block: "iam-analyzer-tags/find", as: kbtest.StandaloneAuditor, want: equals("")},
			},
		},
		{
			name: "ec2-instance-role",
			steps: []step{
				{block: "ec2-instance-role/find", as: kbtest.StandaloneAuditor, want: equals("us-east-1 " + kbtest.InstanceNoRole + "\trunning")},
				{block: "ec2-instance-role/fix", as: kbtest.StandaloneAuditor, subst: map[string]string{"REGION": "us-east-1", "INSTANCE_ID": kbtest.InstanceNoRole, "PROFILE_NAME": kbtest.InstanceProfile},
					state: func(t *testing.T, p *procRun) {
						for _, r := range p.account(t, kbtest.StandaloneID).Regions {
							for _, in := range r.Instances {
								if in.InstanceProfile == "" {
									t.Errorf("instance %s still without a role", in.ID)
								}
							}
						}
					}},
				{block: "ec2-instance-role/find", as: kbtest.StandaloneAuditor, want: equals("")},
			},
		},
		{
			name: "iam-password-length",
			steps: []step{
				// No policy at all is an answer, and a failure.
				{block: "iam-password-length/find", as: kbtest.StandaloneAuditor, wantErr: "NoSuchEntity"},
				{block: "iam-password-length/fix", as: kbtest.StandaloneAuditor, state: passwordPolicyIs(kbtest.StandaloneID, 14, 24)},
				{block: "iam-password-length/find", as: kbtest.StandaloneAuditor, want: equals("14\t24")},
			},
		},
		{
			name: "iam-password-reuse",
			steps: []step{
				// No policy at all is an answer, and a failure.
				{block: "iam-password-reuse/find", as: kbtest.MemberAuditorKey, wantErr: "NoSuchEntity"},
				{block: "iam-password-reuse/fix", as: kbtest.MemberAuditorKey, state: passwordPolicyIs(kbtest.MemberID, 14, 24)},
				{block: "iam-password-reuse/find", as: kbtest.MemberAuditorKey, want: equals("14\t24")},
			},
		},
		{
			name: "root-mfa",
			steps: []step{
				{block: "root-mfa/find-summary", as: kbtest.MemberAuditorKey, want: equals("1")},
				{block: "root-mfa/find-summary", as: kbtest.CleanAuditorKey, want: equals("0")},
				{block: "root-mfa/list", as: kbtest.StandaloneRootKey1, want: all(
					contains(kbtest.StandaloneMFA), lacks(`"arn:aws:iam::`+kbtest.StandaloneID+`:mfa/root"`))},
				{block: "root-mfa/verify", as: kbtest.ManagementAdminKey, want: equals("1")},
			},
		},
		{
			name: "root-hardware-mfa",
			steps: []step{
				// Root's virtual device shows; the decoy user's does not.
				{block: "root-hardware-mfa/find-virtual", as: kbtest.StandaloneAuditor, want: equals(kbtest.StandaloneMFA)},
				{block: "root-hardware-mfa/find-virtual", as: kbtest.ManagementAdminKey, want: equals("")},
				{block: "root-hardware-mfa/find-summary", as: kbtest.ManagementAdminKey, want: equals("1")},
				{block: "root-hardware-mfa/verify", as: kbtest.ManagementAdminKey, want: equals("1")},
			},
		},
		{
			name: "root-signing-certificate/standalone",
			before: func(t *testing.T, p *procRun) {
				if n := len(p.account(t, kbtest.StandaloneID).Root.SigningCertificates); n != 1 {
					t.Fatalf("before: %d certificates", n)
				}
			},
			steps: []step{
				{block: "root-signing-certificate/find-summary", as: kbtest.StandaloneAuditor, want: equals("1")},
				{block: "root-signing-certificate/list", as: kbtest.StandaloneRootKey1, want: contains(kbtest.StandaloneCertID, "Active")},
				{block: "root-signing-certificate/delete", as: kbtest.StandaloneRootKey1, subst: map[string]string{"CERTIFICATE_ID": kbtest.StandaloneCertID}, state: func(t *testing.T, p *procRun) {
					if r := p.account(t, kbtest.StandaloneID).Root; len(r.SigningCertificates) != 0 || len(r.AccessKeys) != 2 {
						t.Errorf("after deletion: %+v", r)
					}
				}},
				{block: "root-signing-certificate/find-summary", as: kbtest.StandaloneAuditor, want: equals("0")},
			},
		},
		{
			name: "root-signing-certificate/member",
			steps: []step{
				{block: "member-session/start", as: kbtest.ManagementAdminKey, subst: member(), want: equals(rootARN)},
				{block: "root-signing-certificate/member-delete", subst: map[string]string{"CERTIFICATE_ID": kbtest.MemberCertID}, want: onlyFirstListing(kbtest.MemberCertID),
					state: func(t *testing.T, p *procRun) {
						if r := p.account(t, kbtest.MemberID).Root; len(r.SigningCertificates) != 0 || len(r.AccessKeys) != 1 {
							t.Errorf("after deletion: %+v", r)
						}
					}},
				{block: "member-session/end"},
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
			steps: []step{
				{block: "root-recent-use/find-report", as: kbtest.StandaloneAuditor, want: contains("user,password_last_used,access_key_1_last_used_date,access_key_2_last_used_date",
					"<root_account>,"+daysAgo3, ",N/A")},
				{block: "root-recent-use/find-signins", as: kbtest.StandaloneAuditor, want: all(contains("ConsoleLogin"), printsTime(now.Add(-3*day)), lacks(now.Add(-day).Format("2006-01-02T15"), strconv.FormatInt(now.Add(-day).Unix(), 10)),
					func(t *testing.T, out string) {
						if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 1 {
							t.Errorf("want the one root sign-in, got %d lines:\n%s", n, out)
						}
					})},
				{block: "root-recent-use/signin-detail", as: kbtest.StandaloneAuditor, want: all(contains(`"sourceIPAddress":"`+signinIP+`"`, `"MFAUsed":"No"`, `"type":"Root"`), lacks("IAMUser"))},
			},
		},
		{
			name: "root-member-password",
			before: func(t *testing.T, p *procRun) {
				if !p.account(t, kbtest.MemberID).Root.Password {
					t.Fatal("before: the member's root user has no password")
				}
			},
			steps: []step{
				{block: "root-member-password/find-summary", as: kbtest.MemberAuditorKey, want: equals("1")},
				{block: "audit-session/start", as: kbtest.ManagementAdminKey, subst: member(), want: equals(rootARN)},
				// The audit session changes nothing.
				{probe: "aws iam delete-login-profile", wantErr: "AccessDenied"},
				{block: "root-member-password/find-session", want: contains("CreateDate")},
				{block: "member-session/start", as: kbtest.ManagementAdminKey, subst: member(), want: equals(rootARN)},
				{block: "root-member-password/delete", state: func(t *testing.T, p *procRun) {
					if r := p.account(t, kbtest.MemberID).Root; r.Password || len(r.AccessKeys) != 1 {
						t.Errorf("after deleting the password: %+v", r)
					}
				}},
				{block: "member-session/end"},
				{block: "root-member-password/find-summary", as: kbtest.MemberAuditorKey, want: equals("0")},
				{block: "root-member-password/allow-recovery", as: kbtest.ManagementAdminKey, subst: member(), want: contains(rootARN, "LoginProfile"), state: func(t *testing.T, p *procRun) {
					if !p.account(t, kbtest.MemberID).Root.Password {
						t.Error("allowing recovery created no login profile")
					}
				}},
				{block: "root-member-password/find-summary", as: kbtest.MemberAuditorKey, want: equals("1")},
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
			steps: []step{
				{block: "org-root-credentials-management/find-features", as: kbtest.ManagementAdminKey, wantErr: "ServiceAccessNotEnabledException"},
				{block: "org-root-credentials-management/find-trusted", as: kbtest.ManagementAdminKey, want: equals("")},
				{block: "central/enable", as: kbtest.ManagementAdminKey, want: contains("RootCredentialsManagement", "RootSessions"), state: func(t *testing.T, p *procRun) {
					o := p.srv.World().Organization
					if !o.RootCredentialsManagement || !o.RootSessions || !slices.Contains(o.TrustedAccess, "iam.amazonaws.com") {
						t.Errorf("organisation after enabling: %+v", o)
					}
				}},
				{block: "org-root-credentials-management/find-features", as: kbtest.ManagementAdminKey, want: contains(`"RootCredentialsManagement"`, `"RootSessions"`, kbtest.OrgID)},
				{block: "org-root-credentials-management/find-trusted", as: kbtest.ManagementAdminKey, want: equals("iam.amazonaws.com")},
				{block: "org-root-credentials-management/delegate", as: kbtest.ManagementAdminKey, subst: map[string]string{"DELEGATED_ADMIN_ACCOUNT_ID": kbtest.CleanID},
					want: equals(kbtest.CleanID), state: func(t *testing.T, p *procRun) {
						if got := p.srv.World().Organization.DelegatedAdmins; !slices.Equal(got, []string{kbtest.CleanID}) {
							t.Errorf("delegated admins %v", got)
						}
					}},
				{block: "org-root-credentials-management/members", as: kbtest.ManagementAdminKey, want: all(
					contains(kbtest.ManagementID, kbtest.MemberID, kbtest.CleanID), lacks(kbtest.StandaloneID))},
				// Now a member can be cleaned centrally from the delegated administrator too.
				{block: "member-session/start", as: kbtest.CleanAuditorKey, subst: member(), want: equals(rootARN)},
			},
		},
		{
			name: "service-control-policy",
			before: func(t *testing.T, p *procRun) {
				// SCPs are enabled: only the AWS managed FullAWSAccess exists,
				// attached everywhere, and it restricts nobody.
				if ps := p.srv.World().Organization.Policies; len(ps) != 1 || ps[0].ID != awsemu.FullAWSAccessID {
					t.Fatalf("before: policies %+v", ps)
				}
				uncovered(kbtest.MemberID, kbtest.CleanID)(t, p)
			},
			steps: []step{
				{block: "scp/attach", as: kbtest.ManagementAdminKey, subst: map[string]string{"ROOT_OR_OU_ID": kbtest.OUID},
					want:  all(contains(kbtest.RootID), lastLine("FullAWSAccess\tvigil-deny-root-user")),
					state: both(checkDenyRootSCP(kbtest.OUID), coveredFully)},
			},
		},
		{
			// An organisation where one member is covered and one is not.
			name:   "org-root-scp-coverage/find",
			world:  kbtest.Options{SCPs: []awsemu.Policy{kbtest.DenyRootSCP(kbtest.CleanID)}},
			before: uncovered(kbtest.MemberID),
			steps: []step{
				{block: "org-root-scp-coverage/find-root", as: kbtest.ManagementAdminKey, want: equals(kbtest.RootID + "\tSERVICE_CONTROL_POLICY")},
				{block: "org-root-scp-coverage/find-policies", as: kbtest.ManagementAdminKey, want: all(
					contains("p-FullAWSAccess\tFullAWSAccess\tTrue", kbtest.DenyRootPolicyID+"\tkb-deny-root-user\tFalse"), lineCount(2))},
				{block: "org-root-scp-coverage/find-policy", as: kbtest.ManagementAdminKey, subst: map[string]string{"POLICY_ID": kbtest.DenyRootPolicyID},
					want: all(contains(`"aws:AssumedRoot":"true"`, kbtest.CleanID+"\tACCOUNT\tsandbox"), lacks(kbtest.MemberID))},
				// The uncovered member: FullAWSAccess at every level, nothing else.
				{block: "org-root-scp-coverage/find-account", as: kbtest.ManagementAdminKey, subst: member(),
					want: levels(kbtest.MemberID, "FullAWSAccess", kbtest.OUID, "FullAWSAccess", kbtest.RootID, "FullAWSAccess")},
				{block: "org-root-scp-coverage/find-account", as: kbtest.ManagementAdminKey, subst: map[string]string{memberArg: kbtest.CleanID},
					want: levels(kbtest.CleanID, "FullAWSAccess kb-deny-root-user", kbtest.OUID, "FullAWSAccess", kbtest.RootID, "FullAWSAccess")},
				// A member account cannot read the policies that apply to it.
				{probe: "aws organizations list-policies-for-target --target-id " + kbtest.MemberID + " --filter SERVICE_CONTROL_POLICY", as: kbtest.MemberAuditorKey, wantErr: "AccessDenied"},
				// Cover it through its OU.
				{block: "org-root-scp-coverage/cover", as: kbtest.ManagementAdminKey, subst: map[string]string{"POLICY_ID": kbtest.DenyRootPolicyID, "OU_OR_ACCOUNT_ID": kbtest.OUID},
					want: equals("FullAWSAccess\tkb-deny-root-user"), state: coveredFully},
				{block: "org-root-scp-coverage/find-account", as: kbtest.ManagementAdminKey, subst: member(),
					want: levels(kbtest.MemberID, "FullAWSAccess", kbtest.OUID, "FullAWSAccess kb-deny-root-user", kbtest.RootID, "FullAWSAccess")},
			},
		},
		{
			name:  "org-root-scp-coverage/by-hand",
			world: kbtest.Options{NoSCPs: true},
			before: func(t *testing.T, p *procRun) {
				if o := p.srv.World().Organization; o.PolicyTypes == nil || len(*o.PolicyTypes) != 0 || len(o.Policies) != 0 {
					t.Fatalf("before: policy types %v, policies %+v", o.PolicyTypes, o.Policies)
				}
				scpsOff(t, p)
			},
			steps: []step{
				{block: "org-root-scp-coverage/find-root", as: kbtest.ManagementAdminKey, want: equals(kbtest.RootID)},
				{block: "org-root-scp-coverage/enable", as: kbtest.ManagementAdminKey, subst: map[string]string{"ROOT_ID": kbtest.RootID}, want: equals("ENABLED"),
					state: both(func(t *testing.T, p *procRun) {
						// FullAWSAccess is now attached everywhere: nobody lost access.
						full := policyNamed(t, p, "FullAWSAccess")
						for _, target := range []string{kbtest.RootID, kbtest.OUID, kbtest.ManagementID, kbtest.MemberID, kbtest.CleanID} {
							if !slices.Contains(full.Targets, target) {
								t.Errorf("FullAWSAccess is not attached to %s: %v", target, full.Targets)
							}
						}
					}, uncovered(kbtest.MemberID, kbtest.CleanID))},
				{block: "org-root-scp-coverage/find-root", as: kbtest.ManagementAdminKey, want: equals(kbtest.RootID + "\tSERVICE_CONTROL_POLICY")},
				{block: "scp/attach", as: kbtest.ManagementAdminKey, subst: map[string]string{"ROOT_OR_OU_ID": kbtest.RootID},
					want:  lastLine("FullAWSAccess\tvigil-deny-root-user"),
					state: both(checkDenyRootSCP(kbtest.RootID), coveredFully)},
				{block: "org-root-scp-coverage/attach-keys", as: kbtest.ManagementAdminKey, subst: map[string]string{"ROOT_OR_OU_ID": kbtest.RootID},
					want: equals("FullAWSAccess\tvigil-deny-root-user\tvigil-deny-root-access-keys"), state: both(checkKeysSCP(kbtest.RootID), coveredFully)},
			},
		},
		{
			name:  "org-root-scp-coverage/vigil-prevent",
			world: kbtest.Options{NoSCPs: true},
			steps: []step{
				{block: "org-root-scp-coverage/prevent-plan", as: kbtest.ManagementAdminKey, subst: map[string]string{"ROOT_ID": kbtest.RootID},
					want: contains("organizations:EnablePolicyType", "VigilDenyRootActions", "VigilDenyRootAccessKeys", "organizations:AttachPolicy  "+kbtest.RootID, "nothing was changed"),
					state: both(func(t *testing.T, p *procRun) {
						for _, c := range p.srv.Calls() {
							if awsemu.Mutating(c.Service, c.Action) {
								t.Errorf("the plan changed something: %s:%s", c.Service, c.Action)
							}
						}
					}, scpsOff)},
				{block: "org-root-scp-coverage/prevent-apply", as: kbtest.ManagementAdminKey, subst: map[string]string{"ROOT_ID": kbtest.RootID},
					want: all(contains("Results:", "created p-"), lacks("failed")),
					state: both(coveredFully, func(t *testing.T, p *procRun) {
						for _, name := range []string{"VigilDenyRootActions", "VigilDenyRootAccessKeys"} {
							if pol := policyNamed(t, p, name); !slices.Equal(pol.Targets, []string{kbtest.RootID}) {
								t.Errorf("%s attached to %v", name, pol.Targets)
							}
						}
						// One audit line per change made.
						var changes int
						for _, c := range p.srv.Calls() {
							if awsemu.Mutating(c.Service, c.Action) {
								changes++
							}
						}
						if lines := strings.Count(string(readFile(t, p, "vigil-audit.jsonl")), "\n"); changes == 0 || lines != changes {
							t.Errorf("%d audit lines for %d changes", lines, changes)
						}
					})},
				{block: "org-root-scp-coverage/find-root", as: kbtest.ManagementAdminKey, want: equals(kbtest.RootID + "\tSERVICE_CONTROL_POLICY")},
				{block: "org-root-scp-coverage/prevent-plan", as: kbtest.ManagementAdminKey, subst: map[string]string{"ROOT_ID": kbtest.RootID},
					want: all(contains("Nothing to change.", "VigilDenyRootActions is attached to "+kbtest.RootID), lacks("organizations:CreatePolicy", "organizations:AttachPolicy"))},
			},
		},
		{
			// The deny-all policy on each member account, the floor on the root.
			name:  "org-root-scp-coverage/break-glass",
			world: kbtest.Options{SCPs: []awsemu.Policy{kbtest.DenyRootSCP(kbtest.MemberID, kbtest.CleanID), kbtest.RootKeysSCP(kbtest.RootID)}},
			before: func(t *testing.T, p *procRun) {
				coveredFully(t, p)
			},
			steps: []step{
				{block: "org-root-scp-coverage/find-account", as: kbtest.ManagementAdminKey, subst: member(),
					want: levels(kbtest.MemberID, "FullAWSAccess kb-deny-root-user", kbtest.OUID, "FullAWSAccess", kbtest.RootID, "FullAWSAccess kb-deny-root-access-keys")},
				// A policy attached above the account cannot be detached from it.
				{probe: "aws organizations detach-policy --policy-id " + kbtest.RootKeysPolicyID + " --target-id " + kbtest.MemberID, as: kbtest.ManagementAdminKey, wantErr: "PolicyNotAttachedException"},
				{block: "org-root-scp-coverage/lift", as: kbtest.ManagementAdminKey, subst: member("DENY_ALL_POLICY_ID", kbtest.DenyRootPolicyID),
					want: equals("FullAWSAccess"), state: func(t *testing.T, p *procRun) {
						if got := policyNamed(t, p, "kb-deny-root-user").Targets; !slices.Equal(got, []string{kbtest.CleanID}) {
							t.Errorf("deny-all attached to %v", got)
						}
						if r := kbtest.SCPCoverage(t, p.srv, now); r.Status != rule.Pass || !strings.Contains(r.Message, "every root action is denied in 1, root access key creation only in 1") {
							t.Errorf("lifted: %s %s", r.Status, r.Message)
						}
					}},
				// An account is never left with no SCP at all.
				{probe: "aws organizations detach-policy --policy-id " + awsemu.FullAWSAccessID + " --target-id " + kbtest.MemberID, as: kbtest.ManagementAdminKey, wantErr: "ConstraintViolationException"},
				{block: "org-root-scp-coverage/restore", as: kbtest.ManagementAdminKey, subst: member("DENY_ALL_POLICY_ID", kbtest.DenyRootPolicyID),
					want: equals("FullAWSAccess\tkb-deny-root-user"), state: coveredFully},
			},
		},
		{
			name: "alerts",
			steps: []step{
				{block: "alert/rule", as: kbtest.ManagementAdminKey, subst: map[string]string{"SNS_TOPIC_ARN": snsTopic}, want: contains(`"RuleArn": "arn:aws:events:us-east-1:`+kbtest.ManagementID+`:rule/vigil-root-activity"`, `"FailedEntryCount": 0`),
					state: checkAlert("vigil-root-activity", "root-activity-pattern.json", map[string]bool{
						"root sign-in": true, "root sign-in with MFA": true, "root API call": true, "root session API call": true,
						"user sign-in": false, "user API call": false, "disable root access": false})},
				{block: "root-mfa/nomfa-rule", as: kbtest.ManagementAdminKey, subst: map[string]string{"SNS_TOPIC_ARN": snsTopic},
					state: checkAlert("vigil-root-signin-without-mfa", "root-signin-without-mfa.json", map[string]bool{
						"root sign-in": true, "root sign-in with MFA": false, "root API call": false, "user sign-in": false})},
				{block: "org-root-credentials-management/disable-rule", as: kbtest.ManagementAdminKey, subst: map[string]string{"SNS_TOPIC_ARN": snsTopic},
					state: checkAlert("vigil-root-access-disabled", "root-access-disabled-pattern.json", map[string]bool{
						"disable root access": true, "enable root access": false, "root API call": false, "user API call": false})},
				{block: "org-root-scp-coverage/change-rule", as: kbtest.ManagementAdminKey, subst: map[string]string{"SNS_TOPIC_ARN": snsTopic},
					state: checkAlert("vigil-scp-changed", "scp-change-pattern.json", map[string]bool{
						"detach SCP": true, "disable SCPs": true, "attach SCP": false, "disable root access": false, "root API call": false, "user API call": false})},
			},
		},
	}...)
}

// SCP checks. The emulator stores SCPs and never enforces them, so what a
// policy denies is judged with the evaluator Vigil's rule uses, and whether
// the organisation is covered by the rule itself, on the tree and policies
// read back through the API (kbtest.SCPCoverage).

func policyNamed(t *testing.T, p *procRun, name string) awsemu.Policy {
	t.Helper()
	for _, pol := range p.srv.World().Organization.Policies {
		if pol.Name == name {
			return pol
		}
	}
	t.Fatalf("no policy named %s", name)
	return awsemu.Policy{}
}

// rootRequest is a request by a member account's root user, or by a
// centralised root session in it, or by another principal of the account.
func rootRequest(principal, action string, assumedRoot bool) iampolicy.Request {
	r := iampolicy.Request{Action: action, Resource: "arn:aws:iam::" + kbtest.MemberID + ":root",
		Context: map[string][]string{"aws:PrincipalArn": {principal}}}
	if assumedRoot {
		r.Context["aws:AssumedRoot"] = []string{"true"}
	} else {
		r.Absent = []string{"aws:AssumedRoot"}
	}
	return r
}

type denyCase struct {
	who         string
	principal   string
	action      string
	assumedRoot bool
	deny        bool
}

var (
	memberRoot    = "arn:aws:iam::" + kbtest.MemberID + ":root"
	govMemberRoot = "arn:aws-us-gov:iam::" + kbtest.MemberID + ":root"
	userNamedRoot = "arn:aws:iam::" + kbtest.MemberID + ":user/root"
	adminRole     = "arn:aws:iam::" + kbtest.MemberID + ":role/Admin"
)

// judgeSCP checks what a stored policy denies and where it is attached.
func judgeSCP(t *testing.T, pol awsemu.Policy, target string, cases []denyCase) {
	t.Helper()
	if !slices.Equal(pol.Targets, []string{target}) {
		t.Errorf("%s is attached to %v, want %s", pol.Name, pol.Targets, target)
	}
	doc, err := iampolicy.Parse([]byte(pol.Content), iampolicy.SCP)
	if err != nil {
		t.Fatalf("%s: %v", pol.Name, err)
	}
	for _, tc := range cases {
		dec, _ := doc.Denies(rootRequest(tc.principal, tc.action, tc.assumedRoot))
		want := iampolicy.NoMatch
		if tc.deny {
			want = iampolicy.Match
		}
		if dec.Verdict != want {
			t.Errorf("%s denies %s %s: %s, want %s", pol.Name, tc.who, tc.action, dec.Verdict, want)
		}
	}
}

// checkDenyRootSCP: the page's deny-all policy stops root users and lets
// centralised root sessions and IAM principals through.
func checkDenyRootSCP(target string) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		judgeSCP(t, policyNamed(t, p, "vigil-deny-root-user"), target, []denyCase{
			{"a member's root user", memberRoot, "iam:CreateAccessKey", false, true},
			{"a member's root user", memberRoot, "ec2:RunInstances", false, true},
			{"a GovCloud member's root user", govMemberRoot, "iam:CreateAccessKey", false, true},
			{"a centralised root session", memberRoot, "iam:DeleteAccessKey", true, false},
			{"an IAM user named root", userNamedRoot, "iam:CreateAccessKey", false, false},
			{"an administrator role", adminRole, "iam:CreateAccessKey", false, false},
		})
	}
}

// checkKeysSCP: the key-creation floor denies root users creating keys,
// and nothing else.
func checkKeysSCP(target string) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		pol := policyNamed(t, p, "vigil-deny-root-access-keys")
		stored, err1 := iampolicy.Canonical([]byte(pol.Content))
		page, err2 := iampolicy.Canonical(readFile(t, p, "deny-root-access-keys.json"))
		if err1 != nil || err2 != nil || stored != page {
			t.Errorf("stored policy %s is not the page's %s (%v, %v)", stored, page, err1, err2)
		}
		judgeSCP(t, pol, target, []denyCase{
			{"a member's root user", memberRoot, "iam:CreateAccessKey", false, true},
			{"a GovCloud member's root user", govMemberRoot, "iam:CreateAccessKey", false, true},
			// No root task policy allows creating keys: sessions gain nothing from an exemption.
			{"a centralised root session", memberRoot, "iam:CreateAccessKey", true, true},
			{"a member's root user", memberRoot, "iam:DeleteAccessKey", false, false},
			{"a member's root user", memberRoot, "ec2:RunInstances", false, false},
			{"an IAM user named root", userNamedRoot, "iam:CreateAccessKey", false, false},
			{"an administrator role", adminRole, "iam:CreateAccessKey", false, false},
		})
	}
}

// coveredFully: every member account is covered, with every root action
// denied and central remediation left working.
func coveredFully(t *testing.T, p *procRun) {
	t.Helper()
	r := kbtest.SCPCoverage(t, p.srv, now)
	if r.Status != rule.Pass || !strings.Contains(r.Message, "reaches all 2 active member accounts.") ||
		strings.Contains(r.Message, "only root access key creation") || strings.Contains(r.Message, "aws:AssumedRoot") {
		t.Errorf("org-root-scp-coverage: %s %s", r.Status, r.Message)
	}
}

// uncovered: the rule fails and names exactly these member accounts.
func uncovered(ids ...string) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		r := kbtest.SCPCoverage(t, p.srv, now)
		if r.Status != rule.Fail || !strings.Contains(r.Message, fmt.Sprintf("%d of 2 member accounts", len(ids))) {
			t.Errorf("org-root-scp-coverage: %s %s", r.Status, r.Message)
		}
		for _, id := range ids {
			if !strings.Contains(r.Message, id) {
				t.Errorf("the result does not name %s: %s", id, r.Message)
			}
		}
	}
}

// scpsOff: the rule fails because SCPs are not enabled on the root.
func scpsOff(t *testing.T, p *procRun) {
	t.Helper()
	if r := kbtest.SCPCoverage(t, p.srv, now); r.Status != rule.Fail || !strings.Contains(r.Message, "not enabled on the root "+kbtest.RootID) {
		t.Errorf("org-root-scp-coverage: %s %s", r.Status, r.Message)
	}
}

func both(checks ...func(*testing.T, *procRun)) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		for _, c := range checks {
			c(t, p)
		}
	}
}

func lastLine(want string) func(*testing.T, string) {
	return func(t *testing.T, out string) {
		t.Helper()
		if lines := strings.Split(strings.TrimSpace(out), "\n"); lines[len(lines)-1] != want {
			t.Errorf("last line %q, want %q:\n%s", lines[len(lines)-1], want, out)
		}
	}
}

// firstLineHas checks the first line of the output.
func firstLineHas(want string) func(*testing.T, string) {
	return func(t *testing.T, out string) {
		t.Helper()
		if first, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); !strings.Contains(first, want) {
			t.Errorf("first line %q lacks %q", first, want)
		}
	}
}

func lineCount(n int) func(*testing.T, string) {
	return func(t *testing.T, out string) {
		t.Helper()
		if got := len(strings.Split(strings.TrimSpace(out), "\n")); got != n {
			t.Errorf("%d lines, want %d:\n%s", got, n, out)
		}
	}
}

// levels checks the find-account walk: each "== TARGET" heading in order,
// with the names of the policies listed under it (space-separated).
func levels(want ...string) func(*testing.T, string) {
	return func(t *testing.T, out string) {
		t.Helper()
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if target, ok := strings.CutPrefix(line, "== "); ok {
				got = append(got, target, "")
				continue
			}
			if len(got) == 0 {
				t.Fatalf("output before the first level:\n%s", out)
			}
			for _, f := range strings.Split(line, "\t") {
				if strings.HasPrefix(f, "p-") {
					continue // IDs; the names say which policy
				}
				got[len(got)-1] = strings.TrimSpace(got[len(got)-1] + " " + f)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("levels %q, want %q:\n%s", got, want, out)
		}
	}
}

// samples are the events the alert rules are judged against.
func samples() map[string]map[string]any {
	at := now.Add(-time.Hour)
	m := kbtest.ManagementID
	session := kbtest.APICall(kbtest.MemberID, "Root", rootARN, "ASIAKBSESSION0000001", "us-east-1", "iam.amazonaws.com", "DeleteAccessKey", "192.0.2.9", at)
	disable := kbtest.APICall(m, "IAMUser", "arn:aws:iam::"+m+":user/admin", kbtest.ManagementAdminKey, "us-east-1", "iam.amazonaws.com", "DisableOrganizationsRootSessions", "192.0.2.9", at)
	enable := kbtest.APICall(m, "IAMUser", "arn:aws:iam::"+m+":user/admin", kbtest.ManagementAdminKey, "us-east-1", "iam.amazonaws.com", "EnableOrganizationsRootSessions", "192.0.2.9", at)
	orgs := func(name string) map[string]any {
		return kbtest.EventBridge(kbtest.APICall(m, "IAMUser", "arn:aws:iam::"+m+":user/admin", kbtest.ManagementAdminKey, "us-east-1", "organizations.amazonaws.com", name, "192.0.2.9", at))
	}
	return map[string]map[string]any{
		"root sign-in":          kbtest.EventBridge(kbtest.RootConsoleLogin(m, at, signinIP, false)),
		"root sign-in with MFA": kbtest.EventBridge(kbtest.RootConsoleLogin(m, at, signinIP, true)),
		"root API call":         kbtest.EventBridge(kbtest.APICall(m, "Root", "arn:aws:iam::"+m+":root", "AKIAKBROOTKEY0000001", "eu-west-1", "ec2.amazonaws.com", "RunInstances", trailIP, at)),
		"root session API call": kbtest.EventBridge(session),
		"user sign-in":          kbtest.EventBridge(kbtest.UserConsoleLogin(m, "admin", at)),
		"user API call":         kbtest.EventBridge(kbtest.APICall(m, "IAMUser", "arn:aws:iam::"+m+":user/admin", kbtest.ManagementAdminKey, "us-east-1", "s3.amazonaws.com", "ListBuckets", "192.0.2.9", at)),
		"disable root access":   kbtest.EventBridge(disable),
		"enable root access":    kbtest.EventBridge(enable),
		"detach SCP":            orgs("DetachPolicy"),
		"disable SCPs":          orgs("DisablePolicyType"),
		"attach SCP":            orgs("AttachPolicy"),
	}
}

// checkAlert reads a rule back, checks it is the page's pattern with the
// SNS target, and judges which sample events it matches.
func checkAlert(name, file string, want map[string]bool) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		r, ok := p.svc.Rule("us-east-1", name)
		if !ok {
			t.Fatalf("no rule %s in us-east-1", name)
		}
		if r.Targets["notify"] != snsTopic || r.State != "ENABLED" {
			t.Errorf("rule %s: state %s, targets %v", name, r.State, r.Targets)
		}
		var stored, page any
		_ = json.Unmarshal([]byte(r.Pattern), &stored)
		data, _ := json.Marshal(stored)
		pageData := readFile(t, p, file)
		_ = json.Unmarshal(pageData, &page)
		pd, _ := json.Marshal(page)
		if string(data) != string(pd) {
			t.Errorf("rule %s: stored pattern %s is not the page's %s", name, data, pd)
		}
		events := samples()
		for sample, match := range want {
			got, err := kbtest.PatternMatches(r.Pattern, events[sample])
			if err != nil {
				t.Fatal(err)
			}
			if got != match {
				t.Errorf("rule %s matches %s: %v, want %v", name, sample, got, match)
			}
		}
	}
}

// noChanges: a step made no mutating call.
func noChanges(t *testing.T, p *procRun) {
	t.Helper()
	for _, c := range p.srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			t.Errorf("a change was made: %s:%s", c.Service, c.Action)
		}
	}
}

// auditLines: vigil's audit log holds n lines, each a JSON object.
func auditLines(n int) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(string(readFile(t, p, "vigil-audit.jsonl"))), "\n")
		if len(lines) != n {
			t.Errorf("%d audit lines, want %d", len(lines), n)
		}
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil || m["result"] != "succeeded" {
				t.Errorf("audit line %s (%v)", l, err)
			}
		}
	}
}

func iamUser(t *testing.T, p *procRun, accountID, name string) awsemu.User {
	t.Helper()
	for _, u := range p.account(t, accountID).Users {
		if u.Name == name {
			return u
		}
	}
	t.Fatalf("%s: no user %s", accountID, name)
	return awsemu.User{}
}

func passwordPolicyIs(accountID string, length, reuse int) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		pp := p.account(t, accountID).PasswordPolicy
		if pp == nil || pp.MinimumPasswordLength != length || pp.PasswordReusePrevention != reuse || !pp.RequireSymbols || !pp.AllowUsersToChangePassword {
			t.Errorf("%s: password policy %+v, want length %d, reuse %d and the flags kept", accountID, pp, length, reuse)
		}
	}
}
