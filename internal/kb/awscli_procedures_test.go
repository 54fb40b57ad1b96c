package kb_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
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
	daysAgo3  = "2026-11-23T12:00:00"
	memberArg = "MEMBER_ACCOUNT_ID"
)

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
	return []procedure{
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
				{block: "root-recent-use/find-signins", as: kbtest.StandaloneAuditor, want: all(contains(daysAgo3, "ConsoleLogin"), lacks(now.Add(-day).Format("2006-01-02T15")),
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
				if n := len(p.srv.World().Organization.Policies); n != 0 {
					t.Fatalf("before: %d policies", n)
				}
			},
			steps: []step{
				{block: "scp/attach", as: kbtest.ManagementAdminKey, subst: map[string]string{"ROOT_OR_OU_ID": kbtest.OUID},
					want: all(contains(kbtest.RootID), func(t *testing.T, out string) {
						if lines := strings.Split(strings.TrimSpace(out), "\n"); lines[len(lines)-1] != "vigil-deny-root-user" {
							t.Errorf("the policy is not listed for the OU:\n%s", out)
						}
					}),
					state: checkSCP},
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
			},
		},
	}
}

// checkSCP reads the created policy back and judges what it denies.
func checkSCP(t *testing.T, p *procRun) {
	t.Helper()
	o := p.srv.World().Organization
	if len(o.Policies) != 1 {
		t.Fatalf("policies: %+v", o.Policies)
	}
	pol := o.Policies[0]
	if pol.Name != "vigil-deny-root-user" || !slices.Equal(pol.Targets, []string{kbtest.OUID}) {
		t.Errorf("policy %s attached to %v", pol.Name, pol.Targets)
	}
	for _, tc := range []struct {
		who  string
		ctx  map[string]string
		deny bool
	}{
		{"a member's root user", map[string]string{"aws:PrincipalArn": "arn:aws:iam::" + kbtest.MemberID + ":root"}, true},
		{"a GovCloud member's root user", map[string]string{"aws:PrincipalArn": "arn:aws-us-gov:iam::" + kbtest.MemberID + ":root"}, true},
		{"a centralised root session", map[string]string{"aws:PrincipalArn": "arn:aws:iam::" + kbtest.MemberID + ":root", "aws:AssumedRoot": "true"}, false},
		{"an IAM user named root", map[string]string{"aws:PrincipalArn": "arn:aws:iam::" + kbtest.MemberID + ":user/root"}, false},
		{"an administrator role", map[string]string{"aws:PrincipalArn": "arn:aws:iam::" + kbtest.MemberID + ":role/Admin"}, false},
	} {
		deny, err := kbtest.SCPDenies(pol.Content, tc.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if deny != tc.deny {
			t.Errorf("the SCP denies %s: %v, want %v", tc.who, deny, tc.deny)
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
	return map[string]map[string]any{
		"root sign-in":          kbtest.EventBridge(kbtest.RootConsoleLogin(m, at, signinIP, false)),
		"root sign-in with MFA": kbtest.EventBridge(kbtest.RootConsoleLogin(m, at, signinIP, true)),
		"root API call":         kbtest.EventBridge(kbtest.APICall(m, "Root", "arn:aws:iam::"+m+":root", "AKIAKBROOTKEY0000001", "eu-west-1", "ec2.amazonaws.com", "RunInstances", trailIP, at)),
		"root session API call": kbtest.EventBridge(session),
		"user sign-in":          kbtest.EventBridge(kbtest.UserConsoleLogin(m, "admin", at)),
		"user API call":         kbtest.EventBridge(kbtest.APICall(m, "IAMUser", "arn:aws:iam::"+m+":user/admin", kbtest.ManagementAdminKey, "us-east-1", "s3.amazonaws.com", "ListBuckets", "192.0.2.9", at)),
		"disable root access":   kbtest.EventBridge(disable),
		"enable root access":    kbtest.EventBridge(enable),
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
