package awsemu_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

func startTest(t *testing.T, opts ...awsemu.Option) *awsemu.Server {
	t.Helper()
	return awsemutest.Start(t, testWorld(), append([]awsemu.Option{awsemu.WithClock(func() time.Time { return t0 })}, opts...)...)
}

func TestGetAccountSummary(t *testing.T) {
	srv := startTest(t)
	keys := []string{"AccountAccessKeysPresent", "AccountMFAEnabled", "AccountPasswordPresent", "AccountSigningCertificatesPresent",
		"Users", "MFADevices", "MFADevicesInUse", "AccessKeysPerUserQuota", "SigningCertificatesPerUserQuota"}
	tests := []struct {
		name string
		key  string
		want []int32 // in the order of keys
	}{
		// Management root: an active and an inactive key, MFA, password.
		{"management root", mgmtRootKey, []int32{1, 1, 1, 0, 1, 1, 1, 2, 2}},
		// Member root: keys but no MFA or password, a certificate; asked by the decoy user "root".
		{"member via decoy user", memberDecoyKey, []int32{1, 0, 0, 1, 2, 1, 1, 2, 2}},
		// Delegated admin: root has nothing.
		{"no root credentials", delegatedKey, []int32{0, 0, 0, 0, 1, 0, 0, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := clientsFor(t, srv, tt.key).iam.GetAccountSummary(t.Context(), &iam.GetAccountSummaryInput{})
			if err != nil {
				t.Fatal(err)
			}
			var got []int32
			for _, k := range keys {
				v, ok := out.SummaryMap[k]
				if !ok {
					t.Errorf("SummaryMap lacks %s", k)
				}
				got = append(got, v)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("summary %v (-want +got):\n%s", keys, diff)
			}
		})
	}
}

func TestAccountSummaryCountsInactiveRootKey(t *testing.T) {
	w := testWorld()
	w.Accounts[0].Root.AccessKeys = w.Accounts[0].Root.AccessKeys[1:] // only the inactive key left
	w.Credentials = append(w.Credentials, awsemu.Credential{AccessKeyID: "AKIAEXTRAROOT0000001", AccountID: mgmtID, Principal: "root"})
	srv := awsemutest.Start(t, w)
	out, err := clientsFor(t, srv, "AKIAEXTRAROOT0000001").iam.GetAccountSummary(t.Context(), &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.SummaryMap[string(types.SummaryKeyTypeAccountAccessKeysPresent)]; got != 1 {
		t.Errorf("AccountAccessKeysPresent = %d with only an inactive root key, want 1", got)
	}
}

func keyIDs(md []types.AccessKeyMetadata) []string {
	var ids []string
	for _, k := range md {
		ids = append(ids, aws.ToString(k.AccessKeyId)+"/"+string(k.Status)+"/"+aws.ToString(k.UserName))
	}
	return ids
}

func TestListAccessKeysActsOnSignerOrNamedUser(t *testing.T) {
	srv := startTest(t)
	tests := []struct {
		name     string
		signer   string
		userName *string
		want     []string
	}{
		{"root key lists root's keys", mgmtRootKey, nil, []string{mgmtRootKey + "/Active/", mgmtRootKey2 + "/Inactive/"}},
		{"user key lists the user's keys", mgmtAdminKey, nil, []string{mgmtAdminKey + "/Active/admin"}},
		{"UserName=root finds the IAM user named root", memberRootKey, aws.String("root"), []string{memberDecoyKey + "/Active/root"}},
		{"a user may name another user", memberDecoyKey, aws.String("alice"), []string{memberAliceKey + "/Active/alice"}},
		{"role session naming a user", mgmtRoleKey, aws.String("admin"), []string{mgmtAdminKey + "/Active/admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := clientsFor(t, srv, tt.signer).iam.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{UserName: tt.userName})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, keyIDs(out.AccessKeyMetadata)); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if out.IsTruncated {
				t.Error("IsTruncated = true")
			}
		})
	}

	t.Run("UserName=root without such a user", func(t *testing.T) {
		_, err := clientsFor(t, srv, mgmtRootKey).iam.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{UserName: aws.String("root")})
		wantType[*types.NoSuchEntityException](t, err)
		wantAPIError(t, err, "NoSuchEntity", 404)
	})
	t.Run("role session without UserName", func(t *testing.T) {
		_, err := clientsFor(t, srv, mgmtRoleKey).iam.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{})
		wantAPIError(t, err, "ValidationError", 400)
	})
	t.Run("empty list decodes as empty", func(t *testing.T) {
		out, err := clientsFor(t, srv, delegatedKey).iam.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{UserName: aws.String("secops")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.AccessKeyMetadata) != 1 {
			t.Fatalf("got %v", keyIDs(out.AccessKeyMetadata))
		}
		srvNoKeys := awsemutest.Start(t, &awsemu.World{Accounts: []*awsemu.Account{{ID: "123456789012",
			Users: []awsemu.User{{Name: "x"}}}}, Credentials: []awsemu.Credential{{AccessKeyID: "AKIAROOTCRED00000001", AccountID: "123456789012", Principal: "root"}}})
		out, err = clientsFor(t, srvNoKeys, "AKIAROOTCRED00000001").iam.ListAccessKeys(t.Context(), &iam.ListAccessKeysInput{})
		if err != nil {
			t.Fatal(err)
		}
		if out.AccessKeyMetadata == nil || len(out.AccessKeyMetadata) != 0 {
			t.Errorf("AccessKeyMetadata = %#v, want empty non-nil", out.AccessKeyMetadata)
		}
	})
}

func TestRootManagesOwnKeys(t *testing.T) {
	srv := startTest(t)
	c := clientsFor(t, srv, mgmtRootKey)
	ctx := t.Context()

	// Deactivate and reactivate the other key, then delete it.
	if _, err := c.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(mgmtRootKey2), Status: types.StatusTypeActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := clientsFor(t, srv, mgmtRootKey2).sts.GetCallerIdentity(ctx, nil); err != nil {
		t.Errorf("reactivated key cannot sign: %v", err)
	}
	if _, err := c.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(mgmtRootKey2), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err := clientsFor(t, srv, mgmtRootKey2).sts.GetCallerIdentity(ctx, nil)
	wantAPIError(t, err, "InvalidClientTokenId", 403)

	if _, err := c.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(mgmtRootKey2)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(mgmtRootKey2)})
	wantType[*types.NoSuchEntityException](t, err)

	// A root key is not a user's key: naming the user does not find it.
	_, err = c.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(mgmtRootKey), UserName: aws.String("admin")})
	wantType[*types.NoSuchEntityException](t, err)

	// Deleting the signing key is allowed; the next call with it fails.
	if _, err := c.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(mgmtRootKey)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403)

	acct, _ := srv.Account(mgmtID)
	if len(acct.Root.AccessKeys) != 0 {
		t.Errorf("root keys after deletion: %+v", acct.Root.AccessKeys)
	}
	out, err := clientsFor(t, srv, mgmtAdminKey).iam.GetAccountSummary(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.SummaryMap["AccountAccessKeysPresent"]; got != 0 {
		t.Errorf("AccountAccessKeysPresent = %d after deleting both keys", got)
	}
}

func TestUpdateAccessKeyRejectsBadStatus(t *testing.T) {
	srv := startTest(t)
	_, err := clientsFor(t, srv, mgmtRootKey).iam.UpdateAccessKey(t.Context(), &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(mgmtRootKey2), Status: "Expired"})
	wantAPIError(t, err, "ValidationError", 400)
}

func TestCreateAccessKey(t *testing.T) {
	srv := startTest(t, awsemu.WithSeed(7))
	ctx := t.Context()
	c := clientsFor(t, srv, memberAliceKey)
	out, err := c.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	k := out.AccessKey
	if aws.ToString(k.UserName) != "alice" || k.Status != types.StatusTypeActive || aws.ToString(k.SecretAccessKey) == "" || !k.CreateDate.Equal(t0) {
		t.Errorf("new key = %+v", k)
	}
	id, err := clientsForCreds(t, srv, aws.Credentials{AccessKeyID: *k.AccessKeyId, SecretAccessKey: *k.SecretAccessKey}).sts.GetCallerIdentity(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(id.Arn); got != "arn:aws:iam::"+memberID+":user/alice" {
		t.Errorf("new key signs as %s", got)
	}
	_, err = c.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	wantType[*types.LimitExceededException](t, err)
	wantAPIError(t, err, "LimitExceeded", 409)

	// Secrets never show in read-back state or in the call log.
	acct, _ := srv.Account(memberID)
	for _, u := range acct.Users {
		for _, key := range u.AccessKeys {
			if key.Secret != "" {
				t.Errorf("Account() returned a secret for %s", key.ID)
			}
		}
	}
	for _, call := range srv.Calls() {
		for name, v := range call.Params {
			if v == *k.SecretAccessKey {
				t.Errorf("call log param %s holds the secret", name)
			}
		}
	}
}

func TestLoginProfiles(t *testing.T) {
	srv := startTest(t)
	ctx := t.Context()
	mgmtRoot := clientsFor(t, srv, mgmtRootKey).iam
	member := clientsFor(t, srv, memberAliceKey).iam

	// Signed with root's own long-term key, AWS does not let these calls
	// omit the user name: only an AssumeRoot session may (sts_test.go).
	// Nothing changes.
	_, err := mgmtRoot.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
	wantAPIError(t, err, "ValidationError", 400)
	_, err = mgmtRoot.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{})
	wantAPIError(t, err, "ValidationError", 400)
	_, err = mgmtRoot.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{Password: aws.String("Sup3r-secret!")})
	wantAPIError(t, err, "ValidationError", 400)
	_, err = mgmtRoot.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: aws.String("arn:aws:iam::" + mgmtID + ":mfa/root-account-mfa-device")})
	wantAPIError(t, err, "ValidationError", 400)
	if a, _ := srv.Account(mgmtID); !a.Root.Password || len(a.Root.MFADevices) != 1 {
		t.Errorf("a refused call changed the management root: %+v", a.Root)
	}
	// What root's key may still omit the user name for: its own keys,
	// certificates and MFA devices.
	if _, err := mgmtRoot.ListMFADevices(ctx, &iam.ListMFADevicesInput{}); err != nil {
		t.Errorf("ListMFADevices with root's key: %v", err)
	}

	_, err = member.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("root")})
	wantType[*types.NoSuchEntityException](t, err)

	if _, err := member.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("root"), Password: aws.String("Sup3r-secret!")}); err != nil {
		t.Fatal(err)
	}
	_, err = member.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("root"), Password: aws.String("Sup3r-secret!")})
	wantType[*types.EntityAlreadyExistsException](t, err)
	got, err := member.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("root")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.LoginProfile.UserName) != "root" || !got.LoginProfile.CreateDate.Equal(t0) {
		t.Errorf("login profile = %+v", got.LoginProfile)
	}
	_, err = member.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice")})
	wantAPIError(t, err, "ValidationError", 400)

	if _, err := member.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("root")}); err != nil {
		t.Fatal(err)
	}
	_, err = member.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("root")})
	wantType[*types.NoSuchEntityException](t, err)

	// The member root's password was never set; the decoy user's changes did not touch it.
	acct, _ := srv.Account(memberID)
	if acct.Root.Password {
		t.Error("member root gained a password through the user named root")
	}
	for _, call := range srv.Calls() {
		if call.Action == "CreateLoginProfile" && call.Params["Password"] != "" && call.Params["Password"] != "REDACTED" {
			t.Errorf("password logged: %q", call.Params["Password"])
		}
	}
}

func TestGetUser(t *testing.T) {
	srv := startTest(t)
	ctx := t.Context()
	out, err := clientsFor(t, srv, mgmtRootKey).iam.GetUser(ctx, &iam.GetUserInput{})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if aws.ToString(u.Arn) != "arn:aws:iam::"+mgmtID+":root" || aws.ToString(u.UserId) != mgmtID || u.UserName != nil ||
		!u.PasswordLastUsed.Equal(time.Date(2026, 10, 2, 17, 40, 12, 0, time.UTC)) {
		t.Errorf("root GetUser = %+v", u)
	}
	out, err = clientsFor(t, srv, memberAliceKey).iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("root")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.User.Arn) != "arn:aws:iam::"+memberID+":user/root" || aws.ToString(out.User.Path) != "/" ||
		len(aws.ToString(out.User.UserId)) != 21 {
		t.Errorf("decoy GetUser = %+v", out.User)
	}
	_, err = clientsFor(t, srv, mgmtRoleKey).iam.GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, err, "ValidationError", 400)
	_, err = clientsFor(t, srv, mgmtRoleKey).iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantType[*types.NoSuchEntityException](t, err)
}

func TestGetAccessKeyLastUsed(t *testing.T) {
	srv := startTest(t)
	c := clientsFor(t, srv, memberAliceKey).iam
	tests := []struct {
		key                     string
		wantUser                string
		wantDate                *time.Time
		wantService, wantRegion string
	}{
		{memberRootKey, "", tp(time.Date(2026, 10, 31, 2, 0, 0, 0, time.UTC)), "s3", "N/A"},
		{memberRootKey2, "", nil, "N/A", "N/A"},
		{memberDecoyKey, "root", nil, "N/A", "N/A"},
	}
	for _, tt := range tests {
		out, err := c.GetAccessKeyLastUsed(t.Context(), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(tt.key)})
		if err != nil {
			t.Fatal(err)
		}
		lu := out.AccessKeyLastUsed
		if aws.ToString(out.UserName) != tt.wantUser || aws.ToString(lu.ServiceName) != tt.wantService || aws.ToString(lu.Region) != tt.wantRegion {
			t.Errorf("%s: got user %q service %q region %q", tt.key, aws.ToString(out.UserName), aws.ToString(lu.ServiceName), aws.ToString(lu.Region))
		}
		if (tt.wantDate == nil) != (lu.LastUsedDate == nil) || tt.wantDate != nil && !tt.wantDate.Equal(*lu.LastUsedDate) {
			t.Errorf("%s: LastUsedDate = %v, want %v", tt.key, lu.LastUsedDate, tt.wantDate)
		}
	}
	_, err := c.GetAccessKeyLastUsed(t.Context(), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(mgmtRootKey)})
	wantType[*types.NoSuchEntityException](t, err)
}

func TestSigningCertificates(t *testing.T) {
	srv := startTest(t)
	ctx := t.Context()
	c := clientsFor(t, srv, memberRootKey).iam
	out, err := c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Certificates) != 1 || aws.ToString(out.Certificates[0].CertificateId) != "CERTMEMBERROOT1" ||
		out.Certificates[0].Status != types.StatusTypeActive || out.Certificates[0].UserName != nil || aws.ToString(out.Certificates[0].CertificateBody) == "" {
		t.Fatalf("certificates = %+v", out.Certificates)
	}
	if _, err := c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: aws.String("CERTMEMBERROOT1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: aws.String("CERTMEMBERROOT1")})
	wantType[*types.NoSuchEntityException](t, err)
	sum, err := c.GetAccountSummary(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.SummaryMap["AccountSigningCertificatesPresent"] != 0 {
		t.Error("AccountSigningCertificatesPresent still 1")
	}
}

func TestMFADevices(t *testing.T) {
	w := testWorld()
	w.Accounts[2].Root.MFADevices = []awsemu.MFADevice{{EnableDate: time.Date(2022, 1, 11, 0, 0, 0, 0, time.UTC)}}
	srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return t0 }))
	ctx := t.Context()
	// Root's own key lists its MFA devices without a user name…
	rootSerial := "arn:aws:iam::" + mgmtID + ":mfa/root-account-mfa-device"
	out, err := clientsFor(t, srv, mgmtRootKey).iam.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MFADevices) != 1 || aws.ToString(out.MFADevices[0].SerialNumber) != rootSerial || out.MFADevices[0].UserName != nil {
		t.Fatalf("root MFA devices = %+v", out.MFADevices)
	}
	// …but only an AssumeRoot session deactivates one without it.
	c, _ := assumeRoot(t, srv, mgmtAdminKey, memberID, deletePolicy)
	memberSerial := "arn:aws:iam::" + memberID + ":mfa/root-account-mfa-device"
	_, err = c.iam.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: aws.String("arn:aws:iam::" + memberID + ":mfa/other")})
	wantType[*types.NoSuchEntityException](t, err)
	if _, err := c.iam.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: aws.String(memberSerial)}); err != nil {
		t.Fatal(err)
	}
	alice := clientsFor(t, srv, memberAliceKey).iam
	sum, err := alice.GetAccountSummary(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.SummaryMap["AccountMFAEnabled"] != 0 || sum.SummaryMap["MFADevices"] != 2 || sum.SummaryMap["MFADevicesInUse"] != 1 {
		t.Errorf("summary after deactivation: %v", sum.SummaryMap)
	}
	// A user deactivates their own device by omitting UserName.
	mine, err := alice.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(mine.MFADevices) != 1 || aws.ToString(mine.MFADevices[0].UserName) != "alice" ||
		aws.ToString(mine.MFADevices[0].SerialNumber) != "arn:aws:iam::"+memberID+":mfa/alice" {
		t.Fatalf("alice's devices = %+v", mine.MFADevices)
	}
	if _, err := alice.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: mine.MFADevices[0].SerialNumber}); err != nil {
		t.Fatal(err)
	}
	if acct, _ := srv.Account(memberID); len(acct.Users[1].MFADevices) != 0 || len(acct.UnassignedVirtualMFA) != 2 {
		t.Errorf("member after deactivation: %+v, unassigned %v", acct.Users[1], acct.UnassignedVirtualMFA)
	}

	v, err := alice.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeUnassigned})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.VirtualMFADevices) != 2 || aws.ToString(v.VirtualMFADevices[0].SerialNumber) != memberSerial || v.VirtualMFADevices[0].User != nil {
		t.Errorf("unassigned devices = %+v", v.VirtualMFADevices)
	}
}

func TestListVirtualMFADevicesPagination(t *testing.T) {
	acct := &awsemu.Account{ID: "123456789012", Root: awsemu.Root{
		CreateDate: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC),
		AccessKeys: []awsemu.AccessKey{{ID: "AKIAPAGEROOT00000001"}},
		MFADevices: []awsemu.MFADevice{{EnableDate: time.Date(2018, 1, 2, 0, 0, 0, 0, time.UTC)}},
	}, UnassignedVirtualMFA: []string{"arn:aws:iam::123456789012:mfa/spare"}}
	for _, name := range []string{"erin", "bob", "dave", "carol", "alice"} {
		acct.Users = append(acct.Users, awsemu.User{Name: name, MFADevices: []awsemu.MFADevice{{}}})
	}
	acct.Users = append(acct.Users, awsemu.User{Name: "hw", MFADevices: []awsemu.MFADevice{{Type: "hardware", Serial: "GAHT0001"}}})
	srv := awsemutest.Start(t, &awsemu.World{Accounts: []*awsemu.Account{acct}})
	c := clientsFor(t, srv, "AKIAPAGEROOT00000001").iam

	var serials []string
	pages := 0
	p := iam.NewListVirtualMFADevicesPaginator(c, &iam.ListVirtualMFADevicesInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, d := range out.VirtualMFADevices {
			serials = append(serials, aws.ToString(d.SerialNumber))
			if pages == 1 && len(serials) == 1 {
				u := d.User
				if u == nil || aws.ToString(u.Arn) != "arn:aws:iam::123456789012:root" || aws.ToString(u.UserId) != "123456789012" || u.UserName != nil {
					t.Errorf("root device user = %+v", u)
				}
			}
		}
	}
	want := []string{
		"arn:aws:iam::123456789012:mfa/root-account-mfa-device",
		"arn:aws:iam::123456789012:mfa/alice", "arn:aws:iam::123456789012:mfa/bob", "arn:aws:iam::123456789012:mfa/carol",
		"arn:aws:iam::123456789012:mfa/dave", "arn:aws:iam::123456789012:mfa/erin",
		"arn:aws:iam::123456789012:mfa/spare",
	}
	if diff := cmp.Diff(want, serials); diff != "" {
		t.Errorf("serials (-want +got):\n%s", diff)
	}
	if pages != 4 {
		t.Errorf("pages = %d, want 4", pages)
	}

	assigned, err := c.ListVirtualMFADevices(t.Context(), &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAssigned})
	if err != nil {
		t.Fatal(err)
	}
	if len(assigned.VirtualMFADevices) != 6 || assigned.IsTruncated {
		t.Errorf("assigned: %d devices, truncated %v", len(assigned.VirtualMFADevices), assigned.IsTruncated)
	}
	if d := assigned.VirtualMFADevices[1]; aws.ToString(d.User.UserName) != "alice" || aws.ToString(d.User.Path) != "/" || d.EnableDate == nil {
		t.Errorf("alice's device = %+v user %+v", d, d.User)
	}
	_, err = c.ListVirtualMFADevices(t.Context(), &iam.ListVirtualMFADevicesInput{Marker: aws.String("bogus")})
	wantAPIError(t, err, "InvalidInput", 400)
	_, err = c.ListVirtualMFADevices(t.Context(), &iam.ListVirtualMFADevicesInput{MaxItems: aws.Int32(0)})
	wantAPIError(t, err, "ValidationError", 400)
}

func TestListUsersAndAliases(t *testing.T) {
	w := testWorld()
	w.Accounts[2].Alias = "prod-alias"
	srv := awsemutest.Start(t, w)
	c := clientsFor(t, srv, memberAliceKey).iam
	out, err := c.ListUsers(t.Context(), &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range out.Users {
		names = append(names, aws.ToString(u.UserName))
	}
	if !slices.Equal(names, []string{"alice", "root"}) {
		t.Errorf("users = %v", names)
	}
	al, err := c.ListAccountAliases(t.Context(), &iam.ListAccountAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(al.AccountAliases, []string{"prod-alias"}) {
		t.Errorf("aliases = %v", al.AccountAliases)
	}
}

func TestOrganizationsFeatures(t *testing.T) {
	ctx := t.Context()
	t.Run("management and delegated admin read", func(t *testing.T) {
		srv := startTest(t)
		for _, key := range []string{mgmtAdminKey, delegatedKey, mgmtRootKey} {
			out, err := clientsFor(t, srv, key).iam.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if aws.ToString(out.OrganizationId) != "o-aa111bb222" || !slices.Equal(out.EnabledFeatures, []types.FeatureType{types.FeatureTypeRootCredentialsManagement}) {
				t.Errorf("%s: got %s %v", key, aws.ToString(out.OrganizationId), out.EnabledFeatures)
			}
		}
	})
	t.Run("refusals", func(t *testing.T) {
		srv := startTest(t)
		_, err := clientsFor(t, srv, memberAliceKey).iam.ListOrganizationsFeatures(ctx, nil)
		wantType[*types.AccountNotManagementOrDelegatedAdministratorException](t, err)
		wantAPIError(t, err, "AccountNotManagementOrDelegatedAdministratorException", 400)
		_, err = clientsFor(t, srv, standaloneAdmin).iam.ListOrganizationsFeatures(ctx, nil)
		wantType[*types.OrganizationNotFoundException](t, err)
		_, err = clientsFor(t, srv, delegatedKey).iam.EnableOrganizationsRootSessions(ctx, nil)
		wantType[*types.CallerIsNotManagementAccountException](t, err)
	})
	t.Run("enable after trusted access", func(t *testing.T) {
		w := testWorld()
		w.Organization.TrustedAccess = nil
		w.Organization.RootCredentialsManagement = false
		srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return t0 }))
		c := clientsFor(t, srv, mgmtAdminKey)
		_, err := c.iam.EnableOrganizationsRootCredentialsManagement(ctx, nil)
		wantType[*types.ServiceAccessNotEnabledException](t, err)
		if _, err := c.orgs.EnableAWSServiceAccess(ctx, enableIAMAccess()); err != nil {
			t.Fatal(err)
		}
		out, err := c.iam.EnableOrganizationsRootCredentialsManagement(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.EnabledFeatures, []types.FeatureType{types.FeatureTypeRootCredentialsManagement}) {
			t.Errorf("features = %v", out.EnabledFeatures)
		}
		sess, err := c.iam.EnableOrganizationsRootSessions(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(sess.EnabledFeatures) != 2 {
			t.Errorf("features = %v", sess.EnabledFeatures)
		}
		// Disabling is open to the delegated administrator.
		dis, err := clientsFor(t, srv, delegatedKey).iam.DisableOrganizationsRootSessions(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(dis.EnabledFeatures, []types.FeatureType{types.FeatureTypeRootCredentialsManagement}) {
			t.Errorf("features after disable = %v", dis.EnabledFeatures)
		}
		dis2, err := c.iam.DisableOrganizationsRootCredentialsManagement(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if dis2.EnabledFeatures == nil || len(dis2.EnabledFeatures) != 0 {
			t.Errorf("features after disabling all = %#v", dis2.EnabledFeatures)
		}
		if o := srv.World().Organization; o.RootCredentialsManagement || o.RootSessions || !slices.Contains(o.TrustedAccess, "iam.amazonaws.com") {
			t.Errorf("organization state = %+v", o)
		}
	})
}
