package main

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestReportHoldsNoSecret: a credential the AWS SDK quotes in an error
// never reaches a report. A credential_process that prints credentials
// the SDK cannot parse (an Expiration that is no time) makes the SDK put
// the whole output, secret key and session token included, in its error;
// that error becomes the gap of an unreached target, and the report,
// text or JSON, on stdout or in a file, with or without a compliance
// view, must show the gap without the credentials.
func TestReportHoldsNoSecret(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the credential_process is a POSIX shell command")
	}
	const (
		secretKey    = "vIgiLcLiCaNaRy7sEcReTkEy/k7MDENG+bPxRfi42"
		sessionToken = "IQoJb3JpZ2luX2VjEVIGILCLICANARY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh"
	)
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	process := `echo '{"Version": 1, "AccessKeyId": "ASIAVIGILCLICANARY01", "SecretAccessKey": "` + secretKey + `", "SessionToken": "` + sessionToken + `", "Expiration": "soon"}'`
	if err := os.WriteFile(config, []byte("[profile leaky]\nregion = us-east-1\ncredential_process = "+process+"\n[profile leaky2]\nregion = us-east-1\ncredential_process = "+process+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AWS_CONFIG_FILE": config}
	out := filepath.Join(dir, "report")
	for _, args := range [][]string{
		{"--format", "json"},
		{"--format", "text", "-v"},
		{"--format", "json", "--compliance", "cis-aws"},
		{"--format", "text", "--compliance", "cis-aws", "-v"},
		{"--format", "json", "-o", out},
		{"--format", "text", "-v", "-o", out},
	} {
		r := vigil(t, env, append([]string{"scan", "--profile", "leaky", "--profile", "leaky2"}, args...)...).want(t, 1)
		report := r.stdout
		if slices.Contains(args, "-o") {
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			report = string(data)
		}
		// The text compliance view lists controls, not targets.
		shows := !slices.Contains(args, "text") || !slices.Contains(args, "--compliance")
		if shows && (!strings.Contains(report, "parse failed of process output") || !strings.Contains(report, "[REDACTED]")) {
			t.Errorf("%v: the report does not show the redacted gap:\n%s", args, report)
		}
		for _, secret := range []string{secretKey, sessionToken, secretKey[:16], sessionToken[len(sessionToken)-16:]} {
			if strings.Contains(report, secret) {
				t.Errorf("%v: the report holds a credential the SDK quoted:\n%s", args, report)
			}
			if strings.Contains(r.stderr, secret) {
				t.Errorf("%v: stderr holds a credential the SDK quoted:\n%s", args, r.stderr)
			}
		}
	}

	// Nor does it reach a saved snapshot, the logs at any level, or the
	// one-line error of a run that cannot start.
	saved := filepath.Join(dir, "snapshot.json")
	runs := []result{
		vigil(t, env, "scan", "--profile", "leaky", "--profile", "leaky2", "--save", saved, "--log-format", "json", "--log-level", "debug").want(t, 1),
		vigil(t, env, "scan", "--profile", "leaky", "--log-level", "debug").want(t, 1),
		vigil(t, env, "fix", "--profile", "leaky", "--log-level", "debug").want(t, 1),
		vigil(t, env, "prevent", "--plan", "--target", "r-ab12", "--profile", "leaky").want(t, 1),
	}
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "[REDACTED]") {
		t.Errorf("the saved snapshot does not hold the redacted gap:\n%s", data)
	}
	for i, r := range runs {
		if r.stderr == "" {
			t.Errorf("run %d said nothing on stderr", i)
		}
		for _, secret := range []string{secretKey, sessionToken, secretKey[:16], sessionToken[len(sessionToken)-16:]} {
			if strings.Contains(string(data), secret) {
				t.Errorf("the saved snapshot holds a credential the SDK quoted")
			}
			if strings.Contains(r.stderr, secret) || strings.Contains(r.stdout, secret) {
				t.Errorf("run %d printed a credential the SDK quoted:\nstdout:\n%s\nstderr:\n%s", i, r.stdout, r.stderr)
			}
		}
	}
}
