package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// A process cannot share a test's manual clock, so these tests give vigil
// short real timeouts and check only that it ends, saying which call it
// gave up on. The bound on how long it may take is a minute for timeouts
// of a second or two: a hang fails it, a busy machine does not.
const processLimit = time.Minute

// vigilWithin runs the binary as vigil does, but kills it and fails the
// test if it has not ended within processLimit.
func vigilWithin(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), processLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	home := t.TempDir()
	base := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": home,
		"AWS_CONFIG_FILE":             filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"SOURCE_DATE_EPOCH":           testclock.Epoch(),
	}
	for k, v := range env {
		base[k] = v
	}
	for k, v := range base {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("vigil %s did not end within %v\nstderr:\n%s", strings.Join(args, " "), processLimit, errb.String())
	}
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// hungEndpoint is an emulator of a one-account organisation whose calls
// matching f are accepted and never answered, and the environment that
// points vigil at it.
func hungEndpoint(t *testing.T, f awsemu.Fault) map[string]string {
	srv := awsemutest.Start(t, awsemu.OrgWorld(1, awsemu.OrgWorldOptions{Now: testclock.Ref()}), awsemu.WithFaults(f))
	return map[string]string{"AWS_ENDPOINT_URL": srv.URL(), "AWS_ACCESS_KEY_ID": awsemu.OrgWorldAdminKey, "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
}

// TestScanHungCall: a call that is never answered no longer holds a scan
// forever. Each attempt is given up on at --call-timeout, with a warning
// naming the call; after the SDK's attempts the report is still written,
// the rules that need the call UNKNOWN with it as evidence, and the scan
// exits 1 because it could not read everything.
func TestScanHungCall(t *testing.T) {
	t.Parallel()
	env := hungEndpoint(t, awsemu.Fault{Service: "iam", Action: "GetCredentialReport", Hang: true})
	r := vigilWithin(t, env, "scan", "--call-timeout", "1s", "--max-attempts", "2", "--format", "json", "--log-level", "debug").want(t, 1)
	for _, want := range []string{
		`level=DEBUG msg="calling AWS" call=iam:GetCredentialReport attempt=1`,
		`level=WARN msg="no answer from AWS in time; the SDK retries while attempts remain" call=iam:GetCredentialReport attempt=2 call_timeout=1s`,
		"vigil: the scan is incomplete: 1 AWS call(s) got no answer in time: iam:GetCredentialReport (CallTimeout: no answer within 1s on any of 2 attempts (--call-timeout, --max-attempts))",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	var j struct {
		Incomplete *struct{ Reason string } `json:"incomplete"`
		Results    []struct {
			RuleID   string `json:"rule_id"`
			Status   string `json:"status"`
			Evidence []struct {
				Source string `json:"source"`
				Error  string `json:"error"`
			} `json:"evidence"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil {
		t.Fatalf("report does not parse: %v\n%s", err, r.stdout)
	}
	if j.Incomplete == nil || !strings.Contains(j.Incomplete.Reason, "iam:GetCredentialReport") {
		t.Errorf("incomplete = %+v", j.Incomplete)
	}
	cited := 0
	for _, res := range j.Results {
		for _, e := range res.Evidence {
			if e.Source == "iam:GetCredentialReport" && strings.HasPrefix(e.Error, "CallTimeout: ") {
				cited++
				if res.Status != "UNKNOWN" {
					t.Errorf("%s = %s with the timed-out call as evidence", res.RuleID, res.Status)
				}
			}
		}
	}
	if cited == 0 {
		t.Errorf("no result cites the timed-out call:\n%s", r.stdout)
	}
}

// TestScanDeadEndpoint: when nothing answers, the account deadline ends a
// single-account scan too, naming the calls it was still waiting for.
func TestScanDeadEndpoint(t *testing.T) {
	t.Parallel()
	env := hungEndpoint(t, awsemu.Fault{Hang: true})
	r := vigilWithin(t, env, "scan", "--account-timeout", "2s").want(t, 1)
	want := "vigil: cannot identify the account: sts:GetCallerIdentity got no answer within the account's deadline (--account-timeout 2s); also still waiting: account:GetAlternateContact, account:GetAlternateContact, account:GetAlternateContact, ec2:DescribeRegions, iam:GetAccountAuthorizationDetails, iam:GetAccountPasswordPolicy, iam:GetAccountSummary, iam:GetCredentialReport, iam:ListOpenIDConnectProviders, iam:ListOrganizationsFeatures, iam:ListSAMLProviders, iam:ListServerCertificates, iam:ListVirtualMFADevices, organizations:DescribeOrganization"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
}

// TestFixAndPreventHungEndpoint: vigil fix and vigil prevent bound their
// calls the same way.
func TestFixAndPreventHungEndpoint(t *testing.T) {
	t.Parallel()
	env := hungEndpoint(t, awsemu.Fault{Hang: true})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"fix", "--call-timeout", "1s", "--max-attempts", "1"}, "vigil: cannot identify the account (sts:GetCallerIdentity): CallTimeout: no answer within 1s (--call-timeout)"},
		{[]string{"prevent", "--plan", "--target", "r-orgw", "--call-timeout", "1s"}, "vigil: sts:GetCallerIdentity: CallTimeout: no answer within 1s on any of 3 attempts"},
	} {
		r := vigilWithin(t, env, c.args...).want(t, 1)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("vigil %s: stderr lacks %q:\n%s", strings.Join(c.args, " "), c.want, r.stderr)
		}
	}
}

func TestTimeoutFlagErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--call-timeout", "0"}, `"0" is out of range: want 1s to 1h`},
		{[]string{"scan", "--account-timeout", "0"}, `"0" is out of range: want 1s to 1d`},
		{[]string{"scan", "--from", "testdata/snapshot.json", "--call-timeout", "5s"}, "--call-timeout has no effect when evaluating a file"},
		{[]string{"scan", "--from", "testdata/snapshot.json", "--account-timeout", "5s"}, "--account-timeout has no effect when evaluating a file"},
		{[]string{"fix", "--call-timeout", "0"}, `"0" is out of range: want 1s to 1h`},
		{[]string{"prevent", "--call-timeout", "2h"}, `"2h" is out of range: want 1s to 1h`},
		{[]string{"prevent", "--offline", "--call-timeout", "5s"}, "--offline makes no AWS call: --call-timeout has no effect with it"},
	} {
		r := vigil(t, nil, c.args...).want(t, 2)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("vigil %s: stderr %q lacks %q", strings.Join(c.args, " "), r.stderr, c.want)
		}
	}
}
