package awsemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/slowtest"
)

// TestAWSCLI drives the emulator with the AWS CLI (botocore), a second,
// independent implementation of the same wire protocols. It is skipped
// when aws is not installed.
func TestAWSCLI(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	slowtest.Skip(t, "the emulator's answers to the AWS CLI (Python processes)")
	srv := startTest(t)
	dir := t.TempDir()
	none := filepath.Join(dir, "none")

	// A hermetic environment: no profile, config or credentials of the
	// person running the tests.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+mgmtRootKey,
		"AWS_SECRET_ACCESS_KEY=not-checked",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+none,
		"AWS_SHARED_CREDENTIALS_FILE="+none,
		"AWS_EC2_METADATA_DISABLED=true",
	)
	run := func(args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsPath, append(args, "--endpoint-url", srv.URL(), "--output", "json")...)
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return out, errors.New(stderr.String())
		}
		return out, nil
	}
	if _, err := run("--version"); err != nil {
		t.Skipf("aws CLI does not run: %v", err)
	}

	out, err := run("iam", "get-account-summary")
	if err != nil {
		t.Fatal(err)
	}
	var summary struct {
		SummaryMap map[string]int
	}
	if err := json.Unmarshal(out, &summary); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if summary.SummaryMap["AccountAccessKeysPresent"] != 1 || summary.SummaryMap["AccountMFAEnabled"] != 1 || summary.SummaryMap["AccessKeysPerUserQuota"] != 2 {
		t.Errorf("summary = %v", summary.SummaryMap)
	}

	out, err = run("iam", "list-access-keys")
	if err != nil {
		t.Fatal(err)
	}
	var keys struct {
		AccessKeyMetadata []struct{ AccessKeyId, Status, CreateDate string }
	}
	if err := json.Unmarshal(out, &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 2 || keys.AccessKeyMetadata[1].Status != "Inactive" ||
		!strings.HasPrefix(keys.AccessKeyMetadata[0].CreateDate, "2019-03-14T09:45:51") {
		t.Errorf("keys = %+v", keys)
	}

	out, err = run("organizations", "list-accounts")
	if err != nil {
		t.Fatal(err)
	}
	var accounts struct {
		Accounts []struct{ Id, State string }
	}
	if err := json.Unmarshal(out, &accounts); err != nil {
		t.Fatal(err)
	}
	if len(accounts.Accounts) != 4 {
		t.Errorf("accounts = %+v", accounts)
	}

	_, err = run("iam", "get-credential-report")
	if err == nil || !strings.Contains(err.Error(), "ReportNotPresent") {
		t.Errorf("get-credential-report error = %v", err)
	}
	_, err = run("organizations", "list-roots", "--max-results", "30")
	if err == nil || !strings.Contains(err.Error(), "InvalidInputException") {
		t.Errorf("list-roots error = %v", err)
	}
}
