package snippets_test

import (
	"context"
	"flag"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/kb/snippets"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/testclock"
)

var now = testclock.Ref().Truncate(time.Second)

// tested lists the snippet files this test runs. TestEverySnippetRuns
// fails when a file is added without a test here.
var tested = map[string]bool{}

func covers(t *testing.T, file string) {
	t.Helper()
	tested[file] = true
}

func start(t *testing.T, o kbtest.Options) *awsemu.Server {
	t.Helper()
	return awsemutest.Start(t, kbtest.World(now, o), awsemu.WithClock(awsemu.NewManualClock(now).Now))
}

func account(t *testing.T, srv *awsemu.Server, id string) *awsemu.Account {
	t.Helper()
	a, ok := srv.Account(id)
	if !ok {
		t.Fatalf("no account %s", id)
	}
	return a
}

func keyIDs(a *awsemu.Account) []string {
	var ids []string
	for _, k := range a.Root.AccessKeys {
		ids = append(ids, k.ID)
	}
	return ids
}

func TestRootAccessKeyStandalone(t *testing.T) {
	covers(t, "root_access_key_find.go")
	covers(t, "root_access_key_fix.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	auditor := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	root := awsemutest.ConfigFor(t, srv, kbtest.StandaloneRootKey1)

	if present, err := snippets.RootAccessKeysPresent(ctx, auditor); err != nil || !present {
		t.Fatalf("RootAccessKeysPresent = %v, %v; want true", present, err)
	}
	keys, err := snippets.ListRootAccessKeys(ctx, root)
	if err != nil || len(keys) != 2 || aws.ToString(keys[0].AccessKeyId) != kbtest.StandaloneRootKey1 {
		t.Fatalf("ListRootAccessKeys = %+v, %v", keys, err)
	}
	use, err := snippets.RootAccessKeyLastUse(ctx, root, kbtest.StandaloneRootKey1)
	if err != nil || use.LastUsedDate == nil || aws.ToString(use.Region) != kbtest.KeyUseRegion {
		t.Fatalf("RootAccessKeyLastUse = %+v, %v", use, err)
	}
	if use, err := snippets.RootAccessKeyLastUse(ctx, root, kbtest.StandaloneRootKey2); err != nil || use.LastUsedDate != nil {
		t.Fatalf("unused key: %+v, %v", use, err)
	}

	if err := snippets.DeactivateRootAccessKey(ctx, root, kbtest.StandaloneRootKey2); err != nil {
		t.Fatal(err)
	}
	if k := account(t, srv, kbtest.StandaloneID).Root.AccessKeys[1]; k.ID != kbtest.StandaloneRootKey2 || k.Status != awsemu.StatusInactive {
		t.Fatalf("after deactivation: %+v", k)
	}
	if err := snippets.DeleteRootAccessKey(ctx, root, kbtest.StandaloneRootKey2); err != nil {
		t.Fatal(err)
	}
	// The signing key last: its own deletion is the last call it makes.
	if err := snippets.DeleteRootAccessKey(ctx, root, kbtest.StandaloneRootKey1); err != nil {
		t.Fatal(err)
	}
	if ids := keyIDs(account(t, srv, kbtest.StandaloneID)); len(ids) != 0 {
		t.Fatalf("root keys left: %v", ids)
	}
	if present, err := snippets.RootAccessKeysPresent(ctx, auditor); err != nil || present {
		t.Fatalf("after deletion RootAccessKeysPresent = %v, %v", present, err)
	}
	// The decoy IAM user named "root" and the auditor are untouched.
	if a := account(t, srv, kbtest.StandaloneID); len(a.Users) != 3 || len(a.Users[0].AccessKeys) != 1 || len(a.Users[2].AccessKeys) != 1 {
		t.Fatalf("IAM users changed: %+v", a.Users)
	}
}

func TestAssumeRoot(t *testing.T) {
	covers(t, "assume_root.go")
	ctx := context.Background()
	for _, partition := range []string{"aws", "aws-us-gov"} {
		t.Run(partition, func(t *testing.T) {
			srv := start(t, kbtest.Options{Partition: partition})
			session, err := snippets.AssumeRoot(ctx, awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey), kbtest.MemberID, "IAMAuditRootUserCredentials")
			if err != nil {
				t.Fatal(err)
			}
			who, err := sts.NewFromConfig(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if want := "arn:" + partition + ":iam::" + kbtest.MemberID + ":root"; aws.ToString(who.Arn) != want {
				t.Errorf("session is %s, want %s", aws.ToString(who.Arn), want)
			}
			calls := srv.Calls()
			var policy string
			for _, c := range calls {
				if c.Action == "AssumeRoot" {
					policy = c.Params["TaskPolicyArn.arn"]
				}
			}
			if want := "arn:" + partition + ":iam::aws:policy/root-task/IAMAuditRootUserCredentials"; policy != want {
				t.Errorf("task policy ARN %q, want %q", policy, want)
			}
		})
	}
	srv := start(t, kbtest.Options{NoCentralRootAccess: true})
	if _, err := snippets.AssumeRoot(ctx, awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey), kbtest.MemberID, "IAMDeleteRootUserCredentials"); err == nil ||
		!strings.Contains(err.Error(), "sts:AssumeRoot "+kbtest.MemberID+" with IAMDeleteRootUserCredentials") {
		t.Errorf("without centralised root access: %v", err)
	}
}

func TestMemberRootAccessKeys(t *testing.T) {
	covers(t, "root_access_key_member.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	deleted, err := snippets.DeleteMemberRootAccessKeys(ctx, awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey), kbtest.MemberID)
	if err != nil || !slices.Equal(deleted, []string{kbtest.MemberRootKey}) {
		t.Fatalf("DeleteMemberRootAccessKeys = %v, %v", deleted, err)
	}
	a := account(t, srv, kbtest.MemberID)
	if len(a.Root.AccessKeys) != 0 || !a.Root.Password || len(a.Root.SigningCertificates) != 1 {
		t.Fatalf("member root after key deletion: %+v", a.Root)
	}
	// Signed as the member's own auditor, the account summary agrees.
	if present, err := snippets.RootAccessKeysPresent(ctx, awsemutest.ConfigFor(t, srv, kbtest.MemberAuditorKey)); err != nil || present {
		t.Errorf("summary still shows a root key: %v, %v", present, err)
	}
}

func TestMemberRootCleanup(t *testing.T) {
	covers(t, "member_root_cleanup.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	admin := awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey)
	removed, err := snippets.DeleteMemberRootCredentials(ctx, admin, kbtest.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	if !removed.Password || !slices.Equal(removed.AccessKeys, []string{kbtest.MemberRootKey}) ||
		!slices.Equal(removed.SigningCertificates, []string{kbtest.MemberCertID}) || !slices.Equal(removed.MFADevices, []string{kbtest.MemberMFASerial}) {
		t.Fatalf("removed %+v", removed)
	}
	r := account(t, srv, kbtest.MemberID).Root
	if r.Password || len(r.AccessKeys)+len(r.SigningCertificates)+len(r.MFADevices) != 0 {
		t.Fatalf("member root still holds credentials: %+v", r)
	}
	// The order matters: the password went before the MFA.
	var order []string
	for _, c := range srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			order = append(order, c.Action)
		}
	}
	if want := []string{"DeleteLoginProfile", "DeleteAccessKey", "DeleteSigningCertificate", "DeactivateMFADevice"}; !slices.Equal(order, want) {
		t.Errorf("mutating calls %v, want %v", order, want)
	}
	// A clean member: nothing to remove, and no error.
	removed, err = snippets.DeleteMemberRootCredentials(ctx, admin, kbtest.CleanID)
	if err != nil || removed.Password || len(removed.AccessKeys) != 0 {
		t.Errorf("clean member: %+v, %v", removed, err)
	}
}

func TestRootMFA(t *testing.T) {
	covers(t, "root_mfa_find.go")
	covers(t, "root_hardware_mfa_find.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	// The standalone root has a virtual MFA; the decoy user "root" has one too.
	standalone := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	if on, err := snippets.RootMFAEnabled(ctx, standalone); err != nil || !on {
		t.Fatalf("RootMFAEnabled = %v, %v", on, err)
	}
	if serials, err := snippets.RootVirtualMFADevices(ctx, standalone); err != nil || !slices.Equal(serials, []string{kbtest.StandaloneMFA}) {
		t.Fatalf("RootVirtualMFADevices = %v, %v", serials, err)
	}
	// The management root's MFA is hardware: no virtual device counts.
	mgmt := awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey)
	if on, err := snippets.RootMFAEnabled(ctx, mgmt); err != nil || !on {
		t.Fatalf("management RootMFAEnabled = %v, %v", on, err)
	}
	if serials, err := snippets.RootVirtualMFADevices(ctx, mgmt); err != nil || len(serials) != 0 {
		t.Fatalf("management RootVirtualMFADevices = %v, %v", serials, err)
	}
	// The clean member's root has no MFA at all.
	if on, err := snippets.RootMFAEnabled(ctx, awsemutest.ConfigFor(t, srv, kbtest.CleanAuditorKey)); err != nil || on {
		t.Fatalf("clean RootMFAEnabled = %v, %v", on, err)
	}
}

func TestRootSigningCertificates(t *testing.T) {
	covers(t, "root_signing_certificate_find.go")
	covers(t, "root_signing_certificate_fix.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	auditor := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	root := awsemutest.ConfigFor(t, srv, kbtest.StandaloneRootKey1)
	if present, err := snippets.RootSigningCertificatesPresent(ctx, auditor); err != nil || !present {
		t.Fatalf("RootSigningCertificatesPresent = %v, %v", present, err)
	}
	certs, err := snippets.ListRootSigningCertificates(ctx, root)
	if err != nil || len(certs) != 1 || aws.ToString(certs[0].CertificateId) != kbtest.StandaloneCertID {
		t.Fatalf("ListRootSigningCertificates = %+v, %v", certs, err)
	}
	if err := snippets.DeleteRootSigningCertificate(ctx, root, kbtest.StandaloneCertID); err != nil {
		t.Fatal(err)
	}
	if n := len(account(t, srv, kbtest.StandaloneID).Root.SigningCertificates); n != 0 {
		t.Fatalf("%d certificates left", n)
	}
	if present, err := snippets.RootSigningCertificatesPresent(ctx, auditor); err != nil || present {
		t.Fatalf("after deletion: %v, %v", present, err)
	}
}

func TestRootLastUse(t *testing.T) {
	covers(t, "root_recent_use_find.go")
	if testing.Short() {
		t.Skip("waits for the emulated credential report")
	}
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	use, err := snippets.RootLastUse(ctx, awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor))
	if err != nil {
		t.Fatal(err)
	}
	r := account(t, srv, kbtest.StandaloneID).Root
	if !use.PasswordLastUsed.Equal(*r.PasswordLastUsed) || !use.KeyLastUsed[0].Equal(r.AccessKeys[0].LastUsed.Date) ||
		!use.KeyLastUsed[1].IsZero() || !use.Latest().Equal(r.AccessKeys[0].LastUsed.Date) || use.ReportTime.IsZero() {
		t.Errorf("RootLastUse = %+v", use)
	}
	if got := now.Sub(use.Latest()); got != 2*24*time.Hour {
		t.Errorf("latest use %s ago, want 48h", got)
	}
}

func TestRootPassword(t *testing.T) {
	covers(t, "root_member_password_find.go")
	covers(t, "root_member_password_fix.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	admin := awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey)
	if has, err := snippets.RootPasswordPresent(ctx, awsemutest.ConfigFor(t, srv, kbtest.MemberAuditorKey)); err != nil || !has {
		t.Fatalf("RootPasswordPresent = %v, %v", has, err)
	}
	if has, err := snippets.MemberRootHasPassword(ctx, admin, kbtest.MemberID); err != nil || !has {
		t.Fatalf("MemberRootHasPassword(member) = %v, %v", has, err)
	}
	if has, err := snippets.MemberRootHasPassword(ctx, admin, kbtest.CleanID); err != nil || has {
		t.Fatalf("MemberRootHasPassword(clean) = %v, %v", has, err)
	}
	if had, err := snippets.DeleteMemberRootPassword(ctx, admin, kbtest.MemberID); err != nil || !had {
		t.Fatalf("DeleteMemberRootPassword = %v, %v", had, err)
	}
	if account(t, srv, kbtest.MemberID).Root.Password {
		t.Fatal("password still present")
	}
	if had, err := snippets.DeleteMemberRootPassword(ctx, admin, kbtest.MemberID); err != nil || had {
		t.Fatalf("second DeleteMemberRootPassword = %v, %v", had, err)
	}
	if has, err := snippets.RootPasswordPresent(ctx, awsemutest.ConfigFor(t, srv, kbtest.MemberAuditorKey)); err != nil || has {
		t.Fatalf("summary after deletion = %v, %v", has, err)
	}
}

func TestCentralRootAccess(t *testing.T) {
	covers(t, "org_features.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{NoCentralRootAccess: true})
	admin := awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey)
	if f, err := snippets.CentralRootAccessFeatures(ctx, admin); err != nil || len(f) != 0 {
		t.Fatalf("before: %v, %v", f, err)
	}
	if err := snippets.EnableCentralRootAccess(ctx, admin); err != nil {
		t.Fatal(err)
	}
	if err := snippets.EnableCentralRootAccess(ctx, admin); err != nil {
		t.Fatalf("re-running: %v", err)
	}
	f, err := snippets.CentralRootAccessFeatures(ctx, admin)
	if err != nil || !slices.Equal(f, []string{"RootCredentialsManagement", "RootSessions"}) {
		t.Fatalf("after: %v, %v", f, err)
	}
	o := srv.World().Organization
	if !o.RootCredentialsManagement || !o.RootSessions || !slices.Contains(o.TrustedAccess, "iam.amazonaws.com") {
		t.Errorf("organisation state %+v", o)
	}
	// From a member account the call is refused, not misread as "off".
	if _, err := snippets.CentralRootAccessFeatures(ctx, awsemutest.ConfigFor(t, srv, kbtest.MemberAuditorKey)); err == nil {
		t.Error("a member account read the organisation's features")
	}
}

// The two policies as a reader would pass them: indented, as the pages
// show them.
var pagePolicies = []snippets.RootSCP{
	{Name: "vigil-deny-root-user", Description: "Deny member-account root users everything except centralised root sessions", Content: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyRootUserExceptCentralRootSessions",
      "Effect": "Deny",
      "Action": "*",
      "Resource": "*",
      "Condition": {
        "ArnLike": { "aws:PrincipalArn": "arn:*:iam::*:root" },
        "Null": { "aws:AssumedRoot": "true" }
      }
    }
  ]
}`},
	{Name: "vigil-deny-root-access-keys", Description: "Deny member-account root users creating access keys", Content: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyRootAccessKeyCreation",
      "Effect": "Deny",
      "Action": "iam:CreateAccessKey",
      "Resource": "*",
      "Condition": {
        "ArnLike": { "aws:PrincipalArn": "arn:*:iam::*:root" }
      }
    }
  ]
}`},
}

func policyByName(t *testing.T, srv *awsemu.Server, name string) awsemu.Policy {
	t.Helper()
	for _, p := range srv.World().Organization.Policies {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no policy %s", name)
	return awsemu.Policy{}
}

func TestRootSCPs(t *testing.T) {
	covers(t, "org_scp_fix.go")
	covers(t, "org_scp_find.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{NoSCPs: true})
	admin := awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey)
	if r := kbtest.SCPCoverage(t, srv, now); r.Status != rule.Fail {
		t.Fatalf("before: %s %s", r.Status, r.Message)
	}
	ids, err := snippets.EnsureRootSCPs(ctx, admin, []string{kbtest.RootID}, pagePolicies)
	if err != nil || len(ids) != 2 {
		t.Fatalf("EnsureRootSCPs = %v, %v", ids, err)
	}
	o := srv.World().Organization
	if o.PolicyTypes == nil || !slices.Equal(*o.PolicyTypes, []string{awsemu.PolicyTypeSCP}) {
		t.Errorf("policy types on the root: %v", o.PolicyTypes)
	}
	for i, p := range pagePolicies {
		got := policyByName(t, srv, p.Name)
		if got.ID != ids[i] || !slices.Equal(got.Targets, []string{kbtest.RootID}) || strings.ContainsAny(got.Content, " \n") {
			t.Errorf("%s: %+v (the text must be sent without whitespace)", p.Name, got)
		}
	}
	// Enabling SCPs attached FullAWSAccess everywhere, so the deny-only
	// policies change nothing else.
	if full := policyByName(t, srv, "FullAWSAccess"); !slices.Contains(full.Targets, kbtest.MemberID) {
		t.Errorf("FullAWSAccess targets %v", full.Targets)
	}
	r := kbtest.SCPCoverage(t, srv, now)
	if r.Status != rule.Pass || !strings.Contains(r.Message, "all 2 active member accounts") || strings.Contains(r.Message, "only root access key creation") {
		t.Errorf("after: %s %s", r.Status, r.Message)
	}

	// Re-running changes nothing.
	again, err := snippets.EnsureRootSCPs(ctx, admin, []string{kbtest.RootID}, pagePolicies)
	if err != nil || !slices.Equal(again, ids) || len(srv.World().Organization.Policies) != 3 {
		t.Fatalf("re-run: %v, %v, %d policies", again, err, len(srv.World().Organization.Policies))
	}
	// A policy of that name with another text is not overwritten.
	changed := []snippets.RootSCP{{Name: pagePolicies[1].Name, Content: kbtest.DenyRootContent}}
	if _, err := snippets.EnsureRootSCPs(ctx, admin, []string{kbtest.OUID}, changed); err == nil || !strings.Contains(err.Error(), "exists with a different text") {
		t.Errorf("different text: %v", err)
	}
	if got := policyByName(t, srv, pagePolicies[1].Name); got.Content == kbtest.DenyRootContent || slices.Contains(got.Targets, kbtest.OUID) {
		t.Errorf("the policy was changed: %+v", got)
	}

	// What reaches the member account, level by level.
	reaching, err := snippets.SCPsReachingAccount(ctx, admin, kbtest.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	var levels []string
	for _, p := range reaching {
		levels = append(levels, p.AttachedTo+" "+p.Name)
		if p.Content == "" {
			t.Errorf("%s: no text", p.PolicyID)
		}
	}
	want := []string{kbtest.MemberID + " FullAWSAccess", kbtest.OUID + " FullAWSAccess", kbtest.RootID + " FullAWSAccess",
		kbtest.RootID + " vigil-deny-root-user", kbtest.RootID + " vigil-deny-root-access-keys"}
	if !slices.Equal(levels, want) {
		t.Errorf("SCPsReachingAccount = %v, want %v", levels, want)
	}
}

func TestLiftRootDenyForTask(t *testing.T) {
	covers(t, "org_scp_member.go")
	ctx := context.Background()
	// The deny-all policy on each member account, the floor on the root.
	srv := start(t, kbtest.Options{SCPs: []awsemu.Policy{kbtest.DenyRootSCP(kbtest.MemberID, kbtest.CleanID), kbtest.RootKeysSCP(kbtest.RootID)}})
	admin := awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey)
	if r := kbtest.SCPCoverage(t, srv, now); r.Status != rule.Pass || strings.Contains(r.Message, "only root access key creation") {
		t.Fatalf("before: %s %s", r.Status, r.Message)
	}
	restore, err := snippets.LiftRootDenyForTask(ctx, admin, kbtest.MemberID, kbtest.DenyRootPolicyID, kbtest.RootKeysPolicyID)
	if err != nil {
		t.Fatal(err)
	}
	if got := policyByName(t, srv, "kb-deny-root-user").Targets; !slices.Equal(got, []string{kbtest.CleanID}) {
		t.Errorf("deny-all after lifting: %v", got)
	}
	// Root can act in the member account but still cannot create a key.
	r := kbtest.SCPCoverage(t, srv, now)
	if r.Status != rule.Pass || !strings.Contains(r.Message, "every root action is denied in 1, root access key creation only in 1") {
		t.Errorf("lifted: %s %s", r.Status, r.Message)
	}
	if err := restore(ctx); err != nil {
		t.Fatal(err)
	}
	if err := restore(ctx); err != nil {
		t.Fatalf("restoring twice: %v", err)
	}
	if got := policyByName(t, srv, "kb-deny-root-user").Targets; !slices.Equal(got, []string{kbtest.CleanID, kbtest.MemberID}) {
		t.Errorf("deny-all after restoring: %v", got)
	}

	// Refusals, each leaving the policies as they were.
	for _, tc := range []struct {
		name string
		scps []awsemu.Policy
		want string
	}{
		{"attached above the account", []awsemu.Policy{kbtest.DenyRootSCP(kbtest.OUID), kbtest.RootKeysSCP(kbtest.RootID)}, "reaches " + kbtest.MemberID + " from " + kbtest.OUID},
		{"also attached above", []awsemu.Policy{kbtest.DenyRootSCP(kbtest.MemberID, kbtest.RootID), kbtest.RootKeysSCP(kbtest.RootID)}, "from " + kbtest.RootID},
		{"no floor", []awsemu.Policy{kbtest.DenyRootSCP(kbtest.MemberID), kbtest.RootKeysSCP(kbtest.CleanID)}, "does not reach " + kbtest.MemberID},
		{"not attached", []awsemu.Policy{kbtest.DenyRootSCP(kbtest.CleanID), kbtest.RootKeysSCP(kbtest.RootID)}, "nothing to lift"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, kbtest.Options{SCPs: tc.scps})
			before := srv.World().Organization.Policies
			_, err := snippets.LiftRootDenyForTask(ctx, awsemutest.ConfigFor(t, srv, kbtest.ManagementAdminKey), kbtest.MemberID, kbtest.DenyRootPolicyID, kbtest.RootKeysPolicyID)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if after := srv.World().Organization.Policies; !reflect.DeepEqual(before, after) {
				t.Errorf("policies changed: %+v", after)
			}
		})
	}
}

// TestEverySnippetRuns runs last (Go runs tests in source order) and fails
// for a snippet file that no test above exercises.
func TestEverySnippetRuns(t *testing.T) {
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		t.Skip("only meaningful when every test runs")
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || name == "doc.go" {
			continue
		}
		if !tested[name] {
			t.Errorf("snippet %s is not run by any test", name)
		}
	}
}
