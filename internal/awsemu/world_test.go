package awsemu_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

func TestLoadWorldFile(t *testing.T) {
	w, err := awsemu.LoadWorldFile(filepath.Join("testdata", "org.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return t0 }))
	ctx := t.Context()

	sum, err := clientsFor(t, srv, "AKIASCENARIOSCAN0001").iam.GetAccountSummary(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.SummaryMap["AccountAccessKeysPresent"] != 1 || sum.SummaryMap["AccountMFAEnabled"] != 1 {
		t.Errorf("summary = %v", sum.SummaryMap)
	}
	// The hardware device is not a virtual one.
	v, err := clientsFor(t, srv, "AKIASCENARIOROOT0001").iam.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.VirtualMFADevices) != 0 {
		t.Errorf("virtual devices = %+v", v.VirtualMFADevices)
	}
	// The delegated admin's role credential can list accounts.
	accts, err := clientsFor(t, srv, "AKIASCENARIOSEC00001").orgs.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(accts.Accounts) != 3 {
		t.Errorf("accounts = %d", len(accts.Accounts))
	}
	// An inactive root key is not a usable signing identity.
	_, err = clientsFor(t, srv, "AKIASCENARIOPROD0001").iam.GetAccountSummary(ctx, nil)
	wantAPIError(t, err, "InvalidClientTokenId", 403)
}

func TestLoadWorldErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		json string
		want []string // substrings of the error
	}{
		{"unknown field", `{"accounts":[{"id":"123456789012","rooot":{}}]}`, []string{"bad.json", "rooot"}},
		{"syntax error", "{\"accounts\": [\n  {\"id\": \"123456789012\",}\n]}", []string{"bad.json", "line 2"}},
		{"wrong type", `{"accounts":[{"id":123456789012}]}`, []string{"bad.json", "line 1"}},
		{"trailing data", `{"accounts":[]} {}`, []string{"trailing"}},
		{"bad account id", `{"accounts":[{"id":"1234"}]}`, []string{`"1234"`, "12 digits"}},
		{"duplicate key", `{"accounts":[{"id":"123456789012","root":{"accessKeys":[{"id":"AKIADUP0000000000001"}]},
			"users":[{"name":"u","accessKeys":[{"id":"AKIADUP0000000000001"}]}]}]}`, []string{"AKIADUP0000000000001 already used"}},
		{"three keys", `{"accounts":[{"id":"123456789012","root":{"accessKeys":[{"id":"AKIAK00000000000001A"},{"id":"AKIAK00000000000002A"},{"id":"AKIAK00000000000003A"}]}}]}`, []string{"3 access keys"}},
		{"bad status", `{"accounts":[{"id":"123456789012","root":{"accessKeys":[{"id":"AKIAK00000000000001A","status":"active"}]}}]}`, []string{`status "active"`}},
		{"bad state", `{"accounts":[{"id":"123456789012","state":"GONE"}]}`, []string{`state "GONE"`}},
		{"missing management", `{"organization":{"id":"o-abcdefghij","managementAccountId":"111111111111","rootId":"r-abcd"},"accounts":[{"id":"123456789012"}]}`, []string{"managementAccountId"}},
		{"dangling parent", `{"organization":{"id":"o-abcdefghij","managementAccountId":"123456789012","rootId":"r-abcd"},"accounts":[{"id":"123456789012","parentId":"ou-abcd-12345678"}]}`, []string{"parentId"}},
		{"parent without org", `{"accounts":[{"id":"123456789012","parentId":"r-abcd"}]}`, []string{"no organization"}},
		{"credential for missing user", `{"accounts":[{"id":"123456789012"}],"credentials":[{"accessKeyId":"AKIACRED000000000001","accountId":"123456789012","principal":"user/ghost"}]}`, []string{"no such user"}},
		{"bad principal", `{"accounts":[{"id":"123456789012"}],"credentials":[{"accessKeyId":"AKIACRED000000000001","accountId":"123456789012","principal":"group/x"}]}`, []string{`"group/x"`}},
		{"bad partition", `{"partition":"aws-iso","accounts":[]}`, []string{"aws-iso"}},
		{"hardware mfa without serial", `{"accounts":[{"id":"123456789012","root":{"mfaDevices":[{"type":"hardware"}]}}]}`, []string{"needs a serial"}},
		{"ou cycle", `{"organization":{"id":"o-abcdefghij","managementAccountId":"123456789012","rootId":"r-abcd",
			"ous":[{"id":"ou-abcd-11111111","parentId":"ou-abcd-22222222"},{"id":"ou-abcd-22222222","parentId":"ou-abcd-11111111"}]},"accounts":[{"id":"123456789012"}]}`, []string{"cycle"}},
		{"management delegated admin", `{"organization":{"id":"o-abcdefghij","managementAccountId":"123456789012","rootId":"r-abcd","delegatedAdmins":["123456789012"]},"accounts":[{"id":"123456789012"}]}`, []string{"delegated admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := awsemu.LoadWorldFile(path)
			if err == nil {
				t.Fatal("loaded an invalid world")
			}
			for _, want := range append(tt.want, path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
	if _, err := awsemu.LoadWorldFile(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadWorldAcceptsGoFieldNames(t *testing.T) {
	w, err := awsemu.LoadWorld(strings.NewReader(`{"Accounts":[{"ID":"123456789012","Root":{"AccessKeys":[{"ID":"AKIAPASCAL0000000001","CreateDate":"2024-01-01T00:00:00Z"}]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if w.Accounts[0].Root.AccessKeys[0].ID != "AKIAPASCAL0000000001" {
		t.Errorf("world = %+v", w.Accounts[0])
	}
}

// TestWorldRoundTrip reads state back after mutations, saves it and loads
// it again: read-back worlds are valid scenario files.
func TestWorldRoundTrip(t *testing.T) {
	srv := startTest(t)
	c := clientsFor(t, srv, mgmtRootKey)
	if _, err := c.iam.DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(mgmtRootKey2)}); err != nil {
		t.Fatal(err)
	}
	saved := srv.World()
	data, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("mgmt-root-secret-1")) {
		t.Error("World() leaked a secret key")
	}
	loaded, err := awsemu.LoadWorld(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(saved, loaded); diff != "" {
		t.Errorf("round trip (-saved +loaded):\n%s", diff)
	}
	if len(loaded.Accounts[0].Root.AccessKeys) != 1 || loaded.Accounts[0].Users[0].Path != "/" {
		t.Errorf("loaded management account = %+v", loaded.Accounts[0])
	}
	// The caller's world is untouched by the server.
	if w := testWorld(); len(w.Accounts[0].Root.AccessKeys) != 2 {
		t.Error("test world changed")
	}
}

func TestDemoWorld(t *testing.T) {
	w := awsemu.DemoWorld(t0)
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return t0 }))
	c := clientsFor(t, srv, awsemu.DemoManagementAdminKey)
	accts, err := c.orgs.ListAccounts(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(accts.Accounts) != 6 {
		t.Errorf("demo accounts = %d", len(accts.Accounts))
	}
	sum, err := clientsFor(t, srv, awsemu.DemoManagementRootKey).iam.GetAccountSummary(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.SummaryMap["AccountAccessKeysPresent"] != 1 {
		t.Errorf("demo management summary = %v", sum.SummaryMap)
	}
}

func TestNewServerPanicsOnInvalidWorld(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "12 digits") {
			t.Errorf("recovered %v", r)
		}
	}()
	srv := awsemu.NewServer(&awsemu.World{Accounts: []*awsemu.Account{{ID: "1"}}})
	srv.Close()
}
