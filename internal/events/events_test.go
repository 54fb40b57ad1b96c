package events_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/events"
)

// fixtures are EventBridge events written from AWS's documented shapes
// (see their README).
const fixtures = "../awsemu/testdata/eventbridge"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	tests := []struct {
		file string
		want events.Event
	}{
		{"root-create-access-key.json", events.Event{
			ID: "3c5f0b9e-8e2a-4a36-9b1e-1f0e2d3c4b5a", Kind: events.RootAccessKeyCreated, DetailType: events.DetailAPICall,
			Account: "444455556666", Region: "us-east-1", Time: at("2026-11-01T12:00:00Z"), Source: "iam.amazonaws.com", Name: "CreateAccessKey",
			IdentityType: "Root", IdentityARN: "arn:aws:iam::444455556666:root", SourceIP: "203.0.113.7",
			UserAgent:   "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#iam.create-access-key",
			AccessKeyID: "ASIAQNEWROOTSESS0001", MFA: "no", NewAccessKeyID: "AKIAQNEWROOTKEY00001",
		}},
		{"root-upload-signing-certificate.json", events.Event{
			ID: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", Kind: events.RootSigningCertificate, DetailType: events.DetailAPICall,
			Account: "444455556666", Region: "us-east-1", Time: at("2026-11-01T12:05:10Z"), Source: "iam.amazonaws.com", Name: "UploadSigningCertificate",
			IdentityType: "Root", IdentityARN: "arn:aws:iam::444455556666:root", SourceIP: "198.51.100.23",
			UserAgent:   "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.24.1 md/GOOS#linux md/GOARCH#amd64 api/iam#1.41.0",
			AccessKeyID: "AKIAMEMBERROOT000001", MFA: "no",
		}},
		{"root-console-login-success.json", events.Event{
			ID: "e0f1a2b3-c4d5-4e6f-8a7b-9c0d1e2f3a4b", Kind: events.RootConsoleLogin, DetailType: events.DetailConsoleSignIn,
			Account: "444455556666", Region: "us-east-1", Time: at("2026-11-01T12:01:13Z"), Source: "signin.amazonaws.com", Name: "ConsoleLogin",
			IdentityType: "Root", IdentityARN: "arn:aws:iam::444455556666:root", SourceIP: "203.0.113.7",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", MFA: "yes",
		}},
		{"root-console-login-failure.json", events.Event{
			ID: "f1a2b3c4-d5e6-4f7a-9b8c-0d1e2f3a4b5c", Kind: events.RootConsoleLoginFailed, DetailType: events.DetailConsoleSignIn,
			Account: "444455556666", Region: "us-east-1", Time: at("2026-11-01T11:59:02Z"), Source: "signin.amazonaws.com", Name: "ConsoleLogin",
			IdentityType: "Root", IdentityARN: "arn:aws:iam::444455556666:root", SourceIP: "192.0.2.250",
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			MFA:       "no", ErrorMessage: "Failed authentication",
		}},
		{"root-other-call.json", events.Event{
			ID: "a2b3c4d5-e6f7-4a8b-9c0d-1e2f3a4b5c6d", Kind: events.RootAPICall, DetailType: events.DetailAPICall,
			Account: "444455556666", Region: "eu-west-1", Time: at("2026-11-01T12:20:00Z"), Source: "ec2.amazonaws.com", Name: "RunInstances",
			IdentityType: "Root", IdentityARN: "arn:aws:iam::444455556666:root", SourceIP: "198.51.100.23",
			UserAgent:   "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/command#ec2.run-instances",
			AccessKeyID: "AKIAMEMBERROOT000001", MFA: "no", ErrorCode: "Client.UnauthorizedOperation", ErrorMessage: "You are not authorized to perform this operation.",
		}},
		{"assumeroot-session-delete-access-key.json", events.Event{
			ID: "b3c4d5e6-f7a8-4b9c-8d0e-2f3a4b5c6d7e", Kind: events.RootAccessKeyChanged, DetailType: events.DetailAPICall,
			Account: "444455556666", Region: "us-east-1", Time: at("2026-11-01T12:30:05Z"), Source: "iam.amazonaws.com", Name: "DeleteAccessKey",
			IdentityType: "Root", IdentityARN: "arn:aws:iam::444455556666:root", SourceIP: "192.0.2.1",
			UserAgent:   "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.24.1 md/GOOS#linux md/GOARCH#amd64 api/iam#1.41.0 m/E",
			AccessKeyID: "ASIAQASSUMEDROOT0001", MFA: "no", AssumedRoot: true,
		}},
		{"management-assume-root.json", events.Event{
			ID: "c4d5e6f7-a8b9-4c0d-9e1f-3a4b5c6d7e8f", Kind: events.AssumeRoot, DetailType: events.DetailAPICall,
			Account: "111122223333", Region: "us-east-1", Time: at("2026-11-01T12:30:01Z"), Source: "sts.amazonaws.com", Name: "AssumeRoot",
			IdentityType: "AssumedRole", IdentityARN: "arn:aws:sts::111122223333:assumed-role/SecOps/jane", SourceIP: "192.0.2.1",
			UserAgent:   "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/command#sts.assume-root",
			AccessKeyID: "ASIAQMGMTSECOPS00001", MFA: "no", AssumedRoot: true,
			Session: &events.Session{Principal: "arn:aws:sts::111122223333:assumed-role/SecOps/jane", TargetAccount: "444455556666",
				TaskPolicy: "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials", AccessKeyID: "ASIAQASSUMEDROOT0001"},
		}},
	}
	for _, tt := range tests {
		got, err := events.Parse(fixture(t, tt.file))
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, d)
		}
	}
	// The kinds of the other fixtures.
	for file, kind := range map[string]events.Kind{
		"root-create-login-profile.json":       events.RootPasswordCreated,
		"root-deactivate-mfa-device.json":      events.RootMFARemoved,
		"root-delete-virtual-mfa-device.json":  events.RootMFARemoved,
		"iam-user-create-access-key.json":      events.NotRoot,
		"root-upload-signing-certificate.json": events.RootSigningCertificate,
	} {
		got, err := events.Parse(fixture(t, file))
		if err != nil || got.Kind != kind {
			t.Errorf("%s: kind %q, %v; want %q", file, got.Kind, err, kind)
		}
	}
}

func TestKinds(t *testing.T) {
	for _, k := range []events.Kind{events.RootAccessKeyCreated, events.RootSigningCertificate, events.RootPasswordCreated,
		events.RootMFARemoved, events.RootConsoleLogin, events.RootConsoleLoginFailed, events.RootAPICall, events.RootAccessKeyChanged} {
		if !k.Root() || k.Severity() == "info" {
			t.Errorf("%s: Root %v, severity %s", k, k.Root(), k.Severity())
		}
	}
	for _, k := range []events.Kind{events.AssumeRoot, events.NotRoot, events.RootServiceCall} {
		if k.Root() {
			t.Errorf("%s alerts as root activity", k)
		}
	}
}

// TestServiceCallsOnRootsBehalf: the CIS filter leaves out calls a
// service makes for root (invokedBy) and AwsServiceEvent records.
func TestServiceCallsOnRootsBehalf(t *testing.T) {
	body := strings.Replace(string(fixture(t, "root-other-call.json")), `"accessKeyId": "AKIAMEMBERROOT000001"`,
		`"accessKeyId": "AKIAMEMBERROOT000001", "invokedBy": "cloudformation.amazonaws.com"`, 1)
	e, err := events.Parse([]byte(body))
	if err != nil || e.Kind != events.RootServiceCall {
		t.Errorf("invokedBy: %q, %v", e.Kind, err)
	}
}

func TestSummary(t *testing.T) {
	e, err := events.Parse(fixture(t, "root-create-access-key.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := "root CreateAccessKey in 444455556666 (us-east-1) from 203.0.113.7, aws-cli/2.22.4, MFA no, new key AKIAQNEWROOTKEY00001"
	if got := e.Summary(); got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	e, _ = events.Parse(fixture(t, "root-console-login-failure.json"))
	if got := e.Summary(); !strings.HasPrefix(got, "failed root console sign-in in 444455556666 (us-east-1) from 192.0.2.250") {
		t.Errorf("Summary = %q", got)
	}
}

func TestParseMalformed(t *testing.T) {
	good := string(fixture(t, "root-create-access-key.json"))
	for name, body := range map[string]string{
		"empty":            "",
		"not JSON":         "hello",
		"array":            "[1,2]",
		"S3 event":         `{"Records":[{"eventSource":"aws:s3"}]}`,
		"other detail":     `{"detail-type":"EC2 Instance State-change Notification","detail":{}}`,
		"no detail":        `{"detail-type":"AWS API Call via CloudTrail","account":"444455556666"}`,
		"null detail":      `{"detail-type":"AWS API Call via CloudTrail","detail":null}`,
		"detail a string":  `{"detail-type":"AWS API Call via CloudTrail","detail":"x"}`,
		"no event ID":      strings.Replace(good, `"eventID": "3c5f0b9e-8e2a-4a36-9b1e-1f0e2d3c4b5a",`, "", 1),
		"bad account":      strings.ReplaceAll(good, "444455556666", "nope"),
		"bad time":         strings.ReplaceAll(strings.ReplaceAll(good, `"2026-11-01T12:00:00Z"`, `"yesterday"`), `"time": "yesterday"`, `"time": "x"`),
		"too large":        `{"detail-type":"` + strings.Repeat("x", events.MaxBody) + `"}`,
		"identity a list":  strings.Replace(good, `"userIdentity": {`, `"userIdentity": [], "x": {`, 1),
		"no event name":    strings.Replace(good, `"eventName": "CreateAccessKey",`, "", 1),
		"SNS notification": `{"Type":"Notification","Message":"{}"}`,
	} {
		if _, err := events.Parse([]byte(body)); !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzParse: whatever arrives on the queue, Parse returns an event or
// ErrMalformed, never panics, and what it keeps is bounded.
func FuzzParse(f *testing.F) {
	entries, _ := os.ReadDir(fixtures)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			f.Add(fixture(f, e.Name()))
		}
	}
	f.Add([]byte(`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventID":"x","eventName":"AssumeRoot","eventSource":"sts.amazonaws.com","eventTime":"2026-01-01T00:00:00Z","recipientAccountId":"111122223333","requestParameters":{"targetPrincipal":7},"responseElements":[]}}`))
	f.Add([]byte(`{"detail-type":"AWS Console Sign In via CloudTrail","detail":{"eventID":"x","eventName":"ConsoleLogin","eventSource":"s","eventTime":"2026-01-01T00:00:00Z","recipientAccountId":"111122223333","userIdentity":{"type":"Root","sessionContext":{"assumedRoot":true,"attributes":{"mfaAuthenticated":1}}},"responseElements":{"ConsoleLogin":null}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := events.Parse(body)
		if err != nil {
			if !errors.Is(err, events.ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		if e.ID == "" || e.Kind == "" || e.Time.IsZero() || len(e.Account) != 12 {
			t.Fatalf("parsed an incomplete event: %+v", e)
		}
		for _, s := range []string{e.Name, e.Source, e.SourceIP, e.UserAgent, e.AccessKeyID, e.ErrorMessage, e.Region} {
			if len(s) > 600 {
				t.Fatalf("unbounded field of %d bytes", len(s))
			}
		}
		_ = e.Summary()
	})
}
