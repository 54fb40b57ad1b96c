package awsemu_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

const (
	auditPolicy  = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
	deletePolicy = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
	pwPolicy     = "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"
	s3Policy     = "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"
)

func TestGetCallerIdentity(t *testing.T) {
	srv := startTest(t)
	tests := []struct {
		key, arn, account, userID string
	}{
		{mgmtRootKey, "arn:aws:iam::111122223333:root", mgmtID, mgmtID},
		{memberDecoyKey, "arn:aws:iam::444455556666:user/root", memberID, ""},
		{mgmtRoleKey, "arn:aws:sts::111122223333:assumed-role/Auditor/awsemu", mgmtID, ""},
	}
	for _, tt := range tests {
		out, err := clientsFor(t, srv, tt.key).sts.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Arn) != tt.arn || aws.ToString(out.Account) != tt.account {
			t.Errorf("%s: %s in %s", tt.key, aws.ToString(out.Arn), aws.ToString(out.Account))
		}
		id := aws.ToString(out.UserId)
		switch {
		case tt.userID != "" && id != tt.userID,
			strings.Contains(tt.arn, ":user/") && !strings.HasPrefix(id, "AIDA"),
			strings.Contains(tt.arn, "assumed-role") && !(strings.HasPrefix(id, "AROA") && strings.HasSuffix(id, ":awsemu")):
			t.Errorf("%s: UserId %s", tt.key, id)
		}
	}
}

func TestAuthenticationFailures(t *testing.T) {
	srv := startTest(t)
	_, err := clientsFor(t, srv, "AKIAUNKNOWN000000001").sts.GetCallerIdentity(t.Context(), nil)
	wantAPIError(t, err, "InvalidClientTokenId", 403)
	_, err = clientsFor(t, srv, "AKIAUNKNOWN000000001").iam.GetAccountSummary(t.Context(), nil)
	wantAPIError(t, err, "InvalidClientTokenId", 403)
	_, err = clientsFor(t, srv, "AKIAUNKNOWN000000001").orgs.DescribeOrganization(t.Context(), nil)
	wantAPIError(t, err, "UnrecognizedClientException", 400)
	_, err = clientsFor(t, srv, mgmtRootKey2).iam.GetAccountSummary(t.Context(), nil)
	wantAPIError(t, err, "InvalidClientTokenId", 403)
	for _, c := range srv.Calls() {
		if c.CallerAccount != "" || c.Principal != "" || c.AccessKeyID == "" {
			t.Errorf("failed authentication logged as %+v", c)
		}
	}
}

func TestAssumeRoleFlow(t *testing.T) {
	clock := awsemu.NewManualClock(t0)
	srv := awsemutest.Start(t, testWorld(), awsemu.WithClock(clock.Now))
	ctx := t.Context()
	before := time.Now()
	out, err := clientsFor(t, srv, mgmtAdminKey).sts.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::" + memberID + ":role/OrganizationAccountAccessRole"),
		RoleSessionName: aws.String("vigil-scan"),
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatal(err)
	}
	creds := out.Credentials
	if !strings.HasPrefix(aws.ToString(creds.AccessKeyId), "ASIA") || aws.ToString(creds.SessionToken) == "" {
		t.Errorf("credentials = %+v", creds)
	}
	// The server clock is years from the wall clock and stands still; the
	// expiry is stated in the client's frame, 15 minutes from now.
	wantExpiry(t, creds.Expiration, before, 15*time.Minute)
	wantARN := "arn:aws:sts::" + memberID + ":assumed-role/OrganizationAccountAccessRole/vigil-scan"
	if aws.ToString(out.AssumedRoleUser.Arn) != wantARN || !strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":vigil-scan") {
		t.Errorf("assumed role user = %+v", out.AssumedRoleUser)
	}

	session := clientsForCreds(t, srv, aws.Credentials{AccessKeyID: *creds.AccessKeyId, SecretAccessKey: *creds.SecretAccessKey, SessionToken: *creds.SessionToken})
	id, err := session.sts.GetCallerIdentity(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != wantARN || aws.ToString(id.Account) != memberID {
		t.Errorf("session identity = %s in %s", aws.ToString(id.Arn), aws.ToString(id.Account))
	}
	sum, err := session.iam.GetAccountSummary(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.SummaryMap["AccountAccessKeysPresent"] != 1 || sum.SummaryMap["Users"] != 2 {
		t.Errorf("member summary through the role = %v", sum.SummaryMap)
	}
	_, err = session.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	wantAPIError(t, err, "ValidationError", 400)

	// The session token is part of the credentials.
	_, err = clientsForCreds(t, srv, aws.Credentials{AccessKeyID: *creds.AccessKeyId, SecretAccessKey: "x"}).sts.GetCallerIdentity(ctx, nil)
	wantAPIError(t, err, "InvalidClientTokenId", 403)

	// ConfigFor knows the session's secret and token.
	if _, err := clientsFor(t, srv, *creds.AccessKeyId).sts.GetCallerIdentity(ctx, nil); err != nil {
		t.Errorf("ConfigFor(session): %v", err)
	}

	clock.Advance(15 * time.Minute)
	_, err = session.sts.GetCallerIdentity(ctx, nil)
	wantAPIError(t, err, "ExpiredToken", 400)
	_, err = session.orgs.DescribeOrganization(ctx, nil)
	wantAPIError(t, err, "ExpiredTokenException", 400)

	for _, c := range srv.Calls() {
		for k, v := range c.Params {
			if v == *creds.SessionToken || v == *creds.SecretAccessKey {
				t.Errorf("call log param %s holds a session secret", k)
			}
		}
	}
}

func TestAssumeRoleRefusals(t *testing.T) {
	srv := startTest(t)
	role := func(acct, name string) *string { return aws.String("arn:aws:iam::" + acct + ":role/" + name) }
	tests := []struct {
		name   string
		signer string
		in     sts.AssumeRoleInput
		code   string
		status int
	}{
		{"root user", mgmtRootKey, sts.AssumeRoleInput{RoleArn: role(memberID, "OrganizationAccountAccessRole")}, "AccessDenied", 403},
		{"deny assume", mgmtAdminKey, sts.AssumeRoleInput{RoleArn: role(memberID, "Locked")}, "AccessDenied", 403},
		{"no such role", mgmtAdminKey, sts.AssumeRoleInput{RoleArn: role(memberID, "Nope")}, "AccessDenied", 403},
		{"no such account", mgmtAdminKey, sts.AssumeRoleInput{RoleArn: role("000000000000", "OrganizationAccountAccessRole")}, "AccessDenied", 403},
		{"suspended account", mgmtAdminKey, sts.AssumeRoleInput{RoleArn: role(suspendedID, "OrganizationAccountAccessRole")}, "AccessDenied", 403},
		{"missing external id", mgmtAdminKey, sts.AssumeRoleInput{RoleArn: role(memberID, "VigilAudit")}, "AccessDenied", 403},
		{"wrong external id", mgmtAdminKey, sts.AssumeRoleInput{RoleArn: role(memberID, "VigilAudit"), ExternalId: aws.String("other")}, "AccessDenied", 403},
		{"wrong partition", mgmtAdminKey, sts.AssumeRoleInput{RoleArn: aws.String("arn:aws-cn:iam::" + memberID + ":role/OrganizationAccountAccessRole")}, "AccessDenied", 403},
		{"duration too short", mgmtAdminKey, sts.AssumeRoleInput{RoleArn: role(memberID, "OrganizationAccountAccessRole"), DurationSeconds: aws.Int32(899)}, "ValidationError", 400},
		{"duration too long", mgmtAdminKey, sts.AssumeRoleInput{RoleArn: role(memberID, "OrganizationAccountAccessRole"), DurationSeconds: aws.Int32(43201)}, "ValidationError", 400},
		{"malformed arn", mgmtAdminKey, sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::12:role/x")}, "ValidationError", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.RoleSessionName = aws.String("s1")
			_, err := clientsFor(t, srv, tt.signer).sts.AssumeRole(t.Context(), &in)
			wantAPIError(t, err, tt.code, tt.status)
		})
	}
	t.Run("role chaining over an hour", func(t *testing.T) {
		_, err := clientsFor(t, srv, mgmtRoleKey).sts.AssumeRole(t.Context(), &sts.AssumeRoleInput{
			RoleArn: role(memberID, "OrganizationAccountAccessRole"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(3601)})
		wantAPIError(t, err, "ValidationError", 400)
	})
	out, err := clientsFor(t, srv, mgmtAdminKey).sts.AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: role(memberID, "VigilAudit"), RoleSessionName: aws.String("s1"), ExternalId: aws.String("vigil-ext-1")})
	if err != nil || out.Credentials == nil {
		t.Errorf("matching external ID refused: %v", err)
	}
}

func assumeRoot(t *testing.T, srv *awsemu.Server, signer, target, policy string) (clients, *sts.AssumeRootOutput) {
	t.Helper()
	out, err := clientsFor(t, srv, signer).sts.AssumeRoot(t.Context(), &sts.AssumeRootInput{
		TargetPrincipal: aws.String(target),
		TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(policy)},
	})
	if err != nil {
		t.Fatalf("AssumeRoot(%s, %s): %v", target, policy, err)
	}
	c := out.Credentials
	return clientsForCreds(t, srv, aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}), out
}

func TestAssumeRootDeleteCredentials(t *testing.T) {
	srv := startTest(t)
	ctx := t.Context()
	before := time.Now()
	root, out := assumeRoot(t, srv, mgmtAdminKey, memberID, deletePolicy)
	wantExpiry(t, out.Credentials.Expiration, before, 900*time.Second)

	id, err := root.sts.GetCallerIdentity(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != "arn:aws:iam::"+memberID+":root" || aws.ToString(id.Account) != memberID {
		t.Errorf("AssumeRoot session identity = %s in %s", aws.ToString(id.Arn), aws.ToString(id.Account))
	}

	keys, err := root.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 2 {
		t.Fatalf("root keys = %v", keyIDs(keys.AccessKeyMetadata))
	}
	if _, err := root.iam.GetLoginProfile(ctx, nil); err == nil {
		t.Error("GetLoginProfile found a password the member root does not have")
	} else {
		wantType[*iamtypes.NoSuchEntityException](t, err)
	}
	certs, err := root.iam.ListSigningCertificates(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if _, err := root.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: k.AccessKeyId}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range certs.Certificates {
		if _, err := root.iam.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: c.CertificateId}); err != nil {
			t.Fatal(err)
		}
	}

	// What the delete policy does not allow.
	_, err = root.iam.GetAccountSummary(ctx, nil)
	wantAPIError(t, err, "AccessDenied", 403)
	_, err = root.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(memberRootKey), Status: iamtypes.StatusTypeInactive})
	wantAPIError(t, err, "AccessDenied", 403)
	_, err = root.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("root")})
	wantAPIError(t, err, "AccessDenied", 403)
	_, err = root.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(memberDecoyKey), UserName: aws.String("root")})
	wantAPIError(t, err, "AccessDenied", 403)
	_, err = root.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(memberAliceKey)})
	wantAPIError(t, err, "AccessDenied", 403)
	_, err = root.iam.CreateAccessKey(ctx, nil)
	wantAPIError(t, err, "AccessDenied", 403)
	_, err = root.orgs.DescribeOrganization(ctx, nil)
	wantAPIError(t, err, "AccessDeniedException", 400)
	_, err = root.sts.AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String(memberID), TaskPolicyArn: &ststypes.PolicyDescriptorType{Arn: aws.String(auditPolicy)}})
	wantAPIError(t, err, "AccessDenied", 403)

	acct, _ := srv.Account(memberID)
	if len(acct.Root.AccessKeys) != 0 || len(acct.Root.SigningCertificates) != 0 {
		t.Errorf("member root after cleanup: %+v", acct.Root)
	}
	if u := acct.Users[0]; u.Name != "root" || len(u.AccessKeys) != 1 {
		t.Errorf("decoy user changed: %+v", u)
	}
	_, err = clientsFor(t, srv, memberRootKey).sts.GetCallerIdentity(ctx, nil)
	wantAPIError(t, err, "InvalidClientTokenId", 403)
}

func TestAssumeRootAuditAndPassword(t *testing.T) {
	srv := startTest(t)
	ctx := t.Context()
	audit, _ := assumeRoot(t, srv, delegatedKey, "arn:aws:iam::"+memberID+":root", auditPolicy)
	sum, err := audit.iam.GetAccountSummary(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.SummaryMap["AccountAccessKeysPresent"] != 1 {
		t.Errorf("summary = %v", sum.SummaryMap)
	}
	u, err := audit.iam.GetUser(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(u.User.Arn) != "arn:aws:iam::"+memberID+":root" {
		t.Errorf("GetUser = %+v", u.User)
	}
	lu, err := audit.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(memberRootKey)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(lu.AccessKeyLastUsed.ServiceName) != "s3" {
		t.Errorf("last used = %+v", lu.AccessKeyLastUsed)
	}
	_, err = audit.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(memberRootKey)})
	wantAPIError(t, err, "AccessDenied", 403)
	_, err = audit.iam.GenerateCredentialReport(ctx, nil)
	wantAPIError(t, err, "AccessDenied", 403)

	pw, _ := assumeRoot(t, srv, mgmtAdminKey, memberID, pwPolicy)
	_, err = pw.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{Password: aws.String("x-Secret-1")})
	wantAPIError(t, err, "ValidationError", 400)
	lp, err := pw.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{})
	if err != nil {
		t.Fatal(err)
	}
	if lp.LoginProfile.UserName != nil || !lp.LoginProfile.CreateDate.Equal(t0) {
		t.Errorf("login profile = %+v", lp.LoginProfile)
	}
	if acct, _ := srv.Account(memberID); !acct.Root.Password {
		t.Error("root password not created")
	}
	_, err = pw.iam.ListAccessKeys(ctx, nil)
	wantAPIError(t, err, "AccessDenied", 403)
}

func TestAssumeRootRefusals(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name     string
		world    func(*awsemu.World)
		signer   string
		target   string
		policy   string
		duration *int32
		code     string
	}{
		{"root user caller", nil, mgmtRootKey, memberID, deletePolicy, nil, "AccessDenied"},
		{"member account caller", nil, memberAliceKey, adminID, deletePolicy, nil, "AccessDenied"},
		{"standalone caller", nil, standaloneAdmin, memberID, deletePolicy, nil, "AccessDenied"},
		{"management account target", nil, mgmtAdminKey, mgmtID, deletePolicy, nil, "AccessDenied"},
		{"standalone target", nil, mgmtAdminKey, standaloneID, deletePolicy, nil, "AccessDenied"},
		{"unknown target", nil, mgmtAdminKey, "000000000000", deletePolicy, nil, "AccessDenied"},
		{"suspended target", nil, mgmtAdminKey, suspendedID, deletePolicy, nil, "AccessDenied"},
		{"feature disabled", func(w *awsemu.World) { w.Organization.RootCredentialsManagement = false }, mgmtAdminKey, memberID, auditPolicy, nil, "AccessDenied"},
		{"root sessions disabled", nil, mgmtAdminKey, memberID, s3Policy, nil, "AccessDenied"},
		{"duration above 900", nil, mgmtAdminKey, memberID, auditPolicy, aws.Int32(901), "ValidationError"},
		{"not a task policy", nil, mgmtAdminKey, memberID, "arn:aws:iam::aws:policy/AdministratorAccess", nil, "ValidationError"},
		{"wrong partition policy", nil, mgmtAdminKey, memberID, "arn:aws-cn:iam::aws:policy/root-task/IAMAuditRootUserCredentials", nil, "ValidationError"},
		{"malformed target", nil, mgmtAdminKey, "arn:aws:iam::444455556666:user/x", auditPolicy, nil, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWorld()
			if tt.world != nil {
				tt.world(w)
			}
			srv := awsemutest.Start(t, w)
			_, err := clientsFor(t, srv, tt.signer).sts.AssumeRoot(ctx, &sts.AssumeRootInput{
				TargetPrincipal: aws.String(tt.target),
				TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(tt.policy)},
				DurationSeconds: tt.duration,
			})
			status := 403
			if tt.code == "ValidationError" {
				status = 400
			}
			wantAPIError(t, err, tt.code, status)
		})
	}

	t.Run("root sessions enabled", func(t *testing.T) {
		w := testWorld()
		w.Organization.RootSessions = true
		srv := awsemutest.Start(t, w)
		s3, _ := assumeRoot(t, srv, mgmtAdminKey, memberID, s3Policy)
		_, err := s3.iam.ListAccessKeys(ctx, nil)
		wantAPIError(t, err, "AccessDenied", 403)
	})
	t.Run("feature message says what is missing", func(t *testing.T) {
		w := testWorld()
		w.Organization.RootCredentialsManagement = false
		srv := awsemutest.Start(t, w)
		_, err := clientsFor(t, srv, mgmtAdminKey).sts.AssumeRoot(ctx, &sts.AssumeRootInput{
			TargetPrincipal: aws.String(memberID), TaskPolicyArn: &ststypes.PolicyDescriptorType{Arn: aws.String(auditPolicy)}})
		if err == nil || !strings.Contains(err.Error(), "not enabled") {
			t.Errorf("error = %v", err)
		}
	})
}

func TestAssumeRootSessionExpires(t *testing.T) {
	clock := awsemu.NewManualClock(t0)
	srv := awsemutest.Start(t, testWorld(), awsemu.WithClock(clock.Now))
	out, err := clientsFor(t, srv, mgmtAdminKey).sts.AssumeRoot(t.Context(), &sts.AssumeRootInput{
		TargetPrincipal: aws.String(memberID),
		TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(auditPolicy)},
		DurationSeconds: aws.Int32(300),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	root := clientsForCreds(t, srv, aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken})
	clock.Advance(299 * time.Second)
	if _, err := root.iam.ListAccessKeys(t.Context(), nil); err != nil {
		t.Fatalf("session before expiry: %v", err)
	}
	clock.Advance(time.Second)
	_, err = root.iam.ListAccessKeys(t.Context(), nil)
	wantAPIError(t, err, "ExpiredToken", 400)
}

func TestGovCloudPartition(t *testing.T) {
	w := testWorld()
	w.Partition = "aws-us-gov"
	srv := awsemutest.Start(t, w)
	ctx := t.Context()
	id, err := clientsFor(t, srv, mgmtRootKey).sts.GetCallerIdentity(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != "arn:aws-us-gov:iam::111122223333:root" {
		t.Errorf("arn = %s", aws.ToString(id.Arn))
	}
	_, err = clientsFor(t, srv, mgmtAdminKey).sts.AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String(memberID),
		TaskPolicyArn: &ststypes.PolicyDescriptorType{Arn: aws.String(auditPolicy)}})
	wantAPIError(t, err, "ValidationError", 400)
	root, _ := assumeRoot(t, srv, mgmtAdminKey, memberID, "arn:aws-us-gov:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
	u, err := root.iam.GetUser(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(u.User.Arn) != "arn:aws-us-gov:iam::444455556666:root" {
		t.Errorf("user arn = %s", aws.ToString(u.User.Arn))
	}
	org, err := clientsFor(t, srv, mgmtAdminKey).orgs.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(org.Organization.Arn), "arn:aws-us-gov:organizations::") {
		t.Errorf("org arn = %s", aws.ToString(org.Organization.Arn))
	}
	ar, err := clientsFor(t, srv, mgmtAdminKey).sts.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws-us-gov:iam::" + memberID + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("gov")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(ar.AssumedRoleUser.Arn), "arn:aws-us-gov:sts::") {
		t.Errorf("assumed role arn = %s", aws.ToString(ar.AssumedRoleUser.Arn))
	}
}

// wantExpiry checks a session's Expiration: d after it was issued, on the
// caller's clock (the wall clock), whatever the server's clock says. It
// was issued between before and now; Expiration is whole seconds.
func wantExpiry(t *testing.T, got *time.Time, before time.Time, d time.Duration) {
	t.Helper()
	after := time.Now()
	if got == nil || got.Before(before.Add(d).Truncate(time.Second)) || got.After(after.Add(d)) {
		t.Errorf("expiration = %v, want %v after issue by the wall clock (issued between %v and %v)", got, d, before.UTC(), after.UTC())
	}
}

// TestSessionExpiryFrame: a session issued by a server whose clock is
// years before or after the wall clock lasts, to the SDK's credential
// cache, exactly its duration: it is neither renewed on every call (as it
// would be if it looked long expired) nor never (as if it expired years
// from now).
func TestSessionExpiryFrame(t *testing.T) {
	for name, at := range map[string]time.Time{
		"server clock years behind": time.Now().AddDate(-7, 0, 0),
		"server clock years ahead":  time.Now().AddDate(8, 0, 0),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := awsemu.NewManualClock(at)
			srv := awsemutest.Start(t, testWorld(), awsemu.WithClock(clock.Now))
			client := func(window time.Duration) *sts.Client {
				cfg := awsemutest.ConfigFor(t, srv, mgmtAdminKey)
				cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg),
					"arn:aws:iam::"+memberID+":role/OrganizationAccountAccessRole", func(o *stscreds.AssumeRoleOptions) {
						o.Duration = 15 * time.Minute
					}), func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = window })
				return sts.NewFromConfig(cfg)
			}

			// A cache that renews a second into the session's life
			// renews once a second has passed on the wall clock.
			renewing := client(15*time.Minute - time.Second)
			if _, err := renewing.GetCallerIdentity(t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1100 * time.Millisecond)
			if _, err := renewing.GetCallerIdentity(t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			if n := srv.CallCount("sts", "AssumeRole"); n != 2 {
				t.Errorf("%d AssumeRole calls, want 2: one, then one renewal a second into the session", n)
			}
			srv.ResetCalls()

			member := client(0)
			for i := range 3 {
				if _, err := member.GetCallerIdentity(t.Context(), nil); err != nil {
					t.Fatalf("call %d: %v", i+1, err)
				}
			}
			if n := srv.CallCount("sts", "AssumeRole"); n != 1 {
				t.Errorf("%d AssumeRole calls for three calls within the session's life, want 1", n)
			}
			// Past its life on the server clock, the server refuses it.
			clock.Advance(15 * time.Minute)
			_, err := member.GetCallerIdentity(t.Context(), nil)
			wantAPIError(t, err, "ExpiredToken", 400)
		})
	}
}
