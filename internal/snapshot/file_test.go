package snapshot

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/input"
)

func sample() *Document {
	yes, no := true, false
	gen := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	d := New(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), "test", Source{Kind: SourceAWS, Detail: "profile prod"})
	d.Accounts = []Account{
		{
			ID: "999988887777", Partition: "aws-us-gov",
			Org:     &Membership{Role: RoleMember, OrganizationID: "o-aa111bb222", ManagementAccountID: "111122223333"},
			Summary: &Summary{AccessKeysPresent: &yes, MFAEnabled: &no},
			Gaps:    []Gap{{Section: SectionRootVirtualMFA, Call: "iam:ListVirtualMFADevices", Code: "AccessDenied", Message: "denied", RequestID: "req-1"}},
		},
		{
			ID: "111122223333", Partition: "aws",
			Caller: &Caller{ARN: "arn:aws:iam::111122223333:user/audit"},
			Org:    &Membership{Role: RoleManagement, Features: &OrgFeatures{TrustedAccessIAM: &yes, RootCredentialsManagement: true}},
			CredentialReport: &CredentialReport{GeneratedTime: &gen, TimeSource: "GetCredentialReport", Columns: 22, Users: 3,
				Root: &CredentialRow{User: "<root_account>", ARN: "arn:aws:iam::111122223333:root", PasswordEnabled: "not_supported",
					PasswordLastUsed: SentinelStamp(NoInformation), CreationTime: StampOf(gen),
					AccessKeys: [2]KeySlot{{Active: true, LastRotated: StampOf(gen), LastUsedDate: SentinelStamp(NotApplicable)}}}},
			RootVirtualMFA:  &RootVirtualMFA{Devices: []MFADevice{}},
			RootCredentials: &RootCredentials{AccessKeys: []AccessKey{}, MFADevices: nil},
		},
	}
	return d
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	want := sample()
	if err := Encode(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()), "mem")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.Accounts[0].ID != "111122223333" {
		t.Error("accounts not sorted by ID")
	}
	// Known-empty and unknown must survive: [] versus null.
	rc := got.Accounts[0].RootCredentials
	if rc.AccessKeys == nil || rc.MFADevices != nil {
		t.Errorf("empty and unknown lists were confused: %+v", rc)
	}
	var again bytes.Buffer
	Encode(&again, got)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("encoding is not deterministic")
	}
}

func TestLoadErrors(t *testing.T) {
	valid, _ := json.Marshal(sample())
	cases := []struct{ name, in, want string }{
		{"not json", "hello", "line 1, column 1"},
		{"truncated", string(valid[:len(valid)/2]), "unexpected end of JSON input"},
		{"wrong schema", `{"schema":"other","version":1,"accounts":[]}`, `not a Vigil snapshot (schema "other"`},
		{"future version", `{"schema":"vigil.snapshot","version":2,"accounts":[]}`, "version 2 is not supported (this Vigil reads version 1)"},
		{"unknown field", "{\"schema\":\"vigil.snapshot\",\"version\":1,\n\"acounts\":[]}", `line 2, column 14: unknown field "acounts"`},
		{"wrong type", "{\"schema\":\"vigil.snapshot\",\"version\":1,\"accounts\":[\n{\"account_id\":12}]}", "line 2, column 16: accounts.account_id must be a JSON string, not a number"},
		{"object for an array", `{"schema":"vigil.snapshot","version":1,"accounts":"all"}`, "accounts must be a JSON array, not a string"},
		{"string for a bool", `{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"111122223333","caller":{"arn":"x","is_root":"no"}}]}`, "accounts.caller.is_root must be true or false, not a string"},
		{"fraction for a version", `{"schema":"vigil.snapshot","version":1.5,"accounts":[]}`, "version must be a whole number, not 1.5"},
		{"bad time", `{"schema":"vigil.snapshot","version":1,"collected_at":"yesterday","accounts":[]}`, `"yesterday" is not an RFC 3339 time`},
		{"time not a string", `{"schema":"vigil.snapshot","version":1,"collected_at":5,"accounts":[]}`, "a time must be a JSON string in RFC 3339 form"},
		{"stamp not a string", `{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"111122223333","credential_report":{"columns":22,"users":0,"root":{"user_creation_time":5}}}]}`, "a timestamp must be a JSON string or null"},
		{"bad account id", `{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"12"}]}`, `accounts[0]: account_id "12" is not a 12-digit`},
		{"duplicate account", `{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"111122223333"},{"account_id":"111122223333"}]}`, "appears more than once"},
		{"bad partition", `{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"111122223333","partition":"mars"}]}`, `unknown partition "mars"`},
		{"bad stamp", `{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"111122223333","credential_report":{"columns":22,"users":0,"root":{"user_creation_time":"yesterday"}}}]}`, `timestamp "yesterday"`},
		{"missing accounts", `{"schema":"vigil.snapshot","version":1}`, `"accounts" is missing`},
		{"trailing data", `{"schema":"vigil.snapshot","version":1,"accounts":[]} {}`, "line 1, column 55: invalid character '{' after top-level value"},
		{"bad role", `{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"111122223333","organization":{"role":"boss"}}]}`, `role "boss"`},
		{"no collection time", `{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"111122223333"}]}`, `"collected_at" is missing`},
		{"zero collection time", `{"schema":"vigil.snapshot","version":1,"collected_at":"0001-01-01T00:00:00Z","accounts":[{"account_id":"111122223333"}]}`, `"collected_at" is missing`},
		{"no account", `{"schema":"vigil.snapshot","version":1,"collected_at":"2026-11-26T12:00:00Z","accounts":[]}`, "it holds no account"},
		{"long name", `{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"111122223333","name":"` + strings.Repeat("n", 257) + `"}]}`, "accounts[0] (111122223333): name is 257 bytes long; at most 256"},
		{"long OU name", `{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"111122223333","ou_path":["Root","` + strings.Repeat("o", 300) + `"]}]}`, "ou_path[1] is 300 bytes long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(c.in), "snap.json")
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			if !strings.Contains(err.Error(), "snap.json") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q should name the file and contain %q", err, c.want)
			}
			// Go's names for types and its own prefixes mean nothing to
			// whoever edits the file.
			msg := strings.TrimPrefix(err.Error(), "snapshot snap.json: ")
			for _, goText := range []string{"json:", "Go struct", "Go value", "snapshot.", "[]", "UnmarshalJSON", "2006-01-02", " bool", " int", "float64"} {
				if strings.Contains(msg, goText) {
					t.Errorf("error %q holds %q", err, goText)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.json"))
	if err == nil || !os.IsNotExist(errorsUnwrapAll(err)) {
		t.Fatalf("err = %v, want a not-exist error", err)
	}
}

func errorsUnwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestStampJSON(t *testing.T) {
	for _, s := range []Stamp{{}, SentinelStamp(NotApplicable), SentinelStamp(NoInformation), SentinelStamp(NotSupported), StampOf(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC))} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Stamp
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%v → %s → %v, %v", s, b, back, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	valid, _ := json.Marshal(sample())
	f.Add(valid)
	f.Add([]byte(`{"schema":"vigil.snapshot","version":1,"accounts":[]}`))
	f.Add([]byte(`{"schema":"vigil.snapshot","version":1,"accounts":[{"account_id":"111122223333","summary":{"account_access_keys_present":null}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "snapshot fuzz.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("decoded document does not validate: %v", err)
		}
		var buf bytes.Buffer
		if err := Encode(&buf, d); err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(&buf, "again"); err != nil {
			t.Fatalf("re-encoded document does not load: %v", err)
		}
	})
}

// TestDecodeBounds: a snapshot is read up to a limit, and one holding an
// absurdly long string is refused by position, without echoing it.
func TestDecodeBounds(t *testing.T) {
	valid, _ := json.Marshal(sample())
	_, err := DecodeLimit(bytes.NewReader(valid), "s.json", int64(len(valid)-1))
	if !input.IsTooLarge(err) || !strings.HasPrefix(err.Error(), "snapshot s.json: larger than") {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := DecodeLimit(bytes.NewReader(valid), "s.json", int64(len(valid))); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	d := sample()
	d.Accounts[0].Name = strings.Repeat("n", input.MaxString+1)
	long, _ := json.Marshal(d)
	_, err = Decode(bytes.NewReader(long), "s.json")
	if err == nil || !strings.Contains(err.Error(), "a string of 65537 bytes") || len(err.Error()) > 300 {
		t.Errorf("long string: %.300v", err)
	}
}

// TestStampSize: a report of 100,000 users keeps 900,000 stamps in its
// rows (BENCHMARKS.md, the credential report's parse and evaluation).
func TestStampSize(t *testing.T) {
	if n := unsafe.Sizeof(Stamp{}); n != 16 {
		t.Errorf("snapshot.Stamp is %d bytes, want 16", n)
	}
	if n := unsafe.Sizeof(CredentialRow{}); n > 320 {
		t.Errorf("snapshot.CredentialRow is %d bytes, over 320", n)
	}
}
