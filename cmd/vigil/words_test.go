package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

// rawSDK are fragments of the AWS SDK's error wrapping that must never
// reach a user: they name no cause a user can act on, and "https" is
// wrong on plain HTTP.
var rawSDK = []string{"operation error", "https response error", "RequestID: ,", "StatusCode:", ": :", "request send failed"}

// oneCleanLine checks a runtime error: one line, the wanted fragments,
// none of the SDK's wrapping and none of the unwanted fragments.
func oneCleanLine(t *testing.T, stderr string, want, unwanted []string) {
	t.Helper()
	var errs []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "vigil: ") && !strings.HasPrefix(l, "vigil: using the built-in demo") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("want one error line, got:\n%s", stderr)
	}
	for _, w := range want {
		if !strings.Contains(errs[0], w) {
			t.Errorf("%q lacks %q", errs[0], w)
		}
	}
	for _, bad := range append(unwanted, rawSDK...) {
		if strings.Contains(errs[0], bad) {
			t.Errorf("%q holds %q", errs[0], bad)
		}
	}
}

// refusedEndpoint is an address nothing listens on.
func refusedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestNetworkErrorsReadClean: an endpoint nothing listens on gives one
// line naming the call and the cause, with no advice about permissions
// (no policy cures a refused connection) and none of the SDK's wrapping.
func TestNetworkErrorsReadClean(t *testing.T) {
	addr := refusedEndpoint(t)
	env := map[string]string{"AWS_ENDPOINT_URL": "http://" + addr, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE01", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"scan", []string{"scan", "--max-attempts", "1"}, []string{"sts:GetCallerIdentity", "cannot connect to " + addr + ": connection refused"}},
		{"fix", []string{"fix", "--max-attempts", "1"}, []string{"sts:GetCallerIdentity", "cannot connect to " + addr + ": connection refused"}},
		{"scan --org", []string{"scan", "--org", "--max-attempts", "1"}, []string{"cannot scan the organisation", "cannot connect to " + addr + ": connection refused"}},
		{"fix --org", []string{"fix", "--org", "--max-attempts", "1"}, []string{"cannot connect to " + addr + ": connection refused"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := vigil(t, env, c.args...).want(t, 1)
			oneCleanLine(t, r.stderr, c.want, []string{"vigil policy", "management account or a delegated administrator"})
		})
	}
}

// TestPermissionHintOnlyOnDenial: organizations:ListAccounts refused
// with AccessDenied gets the hint about who may call it; the same call
// failing on the server's side does not.
func TestPermissionHintOnlyOnDenial(t *testing.T) {
	for _, c := range []struct {
		code string
		hint bool
	}{
		{"AccessDeniedException", true},
		{"ServiceException", false},
	} {
		t.Run(c.code, func(t *testing.T) {
			srv, env := demoEmulator(t)
			srv.AddFault(awsemu.Fault{Service: "organizations", Action: "ListAccounts", Code: c.code})
			r := vigil(t, env, "scan", "--org", "--max-attempts", "1").want(t, 1)
			hint := []string{"see 'vigil policy --org'"}
			if c.hint {
				oneCleanLine(t, r.stderr, append(hint, "organizations:ListAccounts", c.code), nil)
			} else {
				oneCleanLine(t, r.stderr, []string{"organizations:ListAccounts", c.code}, hint)
			}
		})
	}
}

// TestScanFromNamesTheFile: a report of a saved snapshot says it came
// from that file, and only then where the snapshot was collected: the
// demo's emulator that served it is gone once the scan that saved it
// ended.
func TestScanFromNamesTheFile(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "demo-snapshot.json")
	vigil(t, nil, "scan", "--org", "--demo", "--save", snap, "--format", "json").want(t, 0)
	r := vigil(t, nil, "scan", "--from", snap).want(t, 0)
	head, _, _ := strings.Cut(r.stdout, "\n\n")
	source := ""
	for _, l := range strings.Split(head, "\n") {
		if strings.HasPrefix(l, "source: ") {
			source = l
		}
	}
	if !strings.HasPrefix(source, "source: snapshot "+snap+", saved from built-in demo (emulated organisation at http://127.0.0.1:") {
		t.Errorf("source line %q does not name the snapshot file first", source)
	}
	var j struct {
		SnapshotFile string `json:"snapshot_file"`
		Source       struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(vigil(t, nil, "scan", "--from", snap, "--format", "json").want(t, 0).stdout), &j); err != nil {
		t.Fatal(err)
	}
	if j.SnapshotFile != snap || j.Source.Kind != "demo" {
		t.Errorf("JSON: snapshot_file %q, source kind %q", j.SnapshotFile, j.Source.Kind)
	}
}

// TestSnapshotErrorsSpeakJSON: a snapshot with a value of the wrong kind
// is refused in JSON's words, with no Go type in sight.
func TestSnapshotErrorsSpeakJSON(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"schema":"vigil.snapshot","version":1,"collected_at":"2026-11-26T12:00:00Z","source":{"kind":"aws"},"accounts":"none"}`), 0o644)
	r := vigil(t, nil, "scan", "--from", bad).want(t, 1)
	oneCleanLine(t, r.stderr, []string{bad, "line 1, column", "accounts must be a JSON array, not a string"}, []string{"[]snapshot.Account", "Go "})
}

// TestRefusedRoleNotReached: a role target that cannot be assumed is
// reported as not reached, with the call and the code, never as "reached
// through sts:AssumeRole".
func TestRefusedRoleNotReached(t *testing.T) {
	_, env, home := targetsWorld(t)
	acct2 := awsemu.OrgWorldAccountID(1)
	arn := "arn:aws:iam::" + acct2 + ":role/NoSuchRole"
	file := filepath.Join(home, "targets.yaml")
	os.WriteFile(file, []byte("targets:\n  - profile: mgmt\n  - role_arn: "+arn+"\n    source_profile: mgmt\n"), 0o644)
	r := vigil(t, env, "scan", "--targets", file).want(t, 0)
	if strings.Contains(r.stdout, "  reached through sts:AssumeRole "+arn) || !strings.Contains(r.stdout, "not reached through sts:AssumeRole "+arn+" from profile mgmt (sts:AssumeRole: AccessDenied)") {
		t.Errorf("report:\n%s", r.stdout)
	}
}

// TestDefaultAuditLogIgnored: the audit log fix and prevent write by
// default lands in the working directory, so a run from a checkout of
// this repository must not leave it for git to pick up.
func TestDefaultAuditLogIgnored(t *testing.T) {
	ignore, err := os.ReadFile("../../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"fix", "prevent"} {
		help := vigil(t, nil, cmd, "--help").want(t, 0).stdout
		m := regexp.MustCompile(`--audit-log string .*\(default "([^"]+)"\)`).FindStringSubmatch(help)
		if m == nil {
			t.Fatalf("%s --help names no default audit log:\n%s", cmd, help)
		}
		if !slices.Contains(strings.Split(string(ignore), "\n"), m[1]) {
			t.Errorf(".gitignore does not list %s, the default audit log of %s", m[1], cmd)
		}
	}
}

// TestMissingProfileSaysSo: a profile that is nowhere is named as such,
// not in the SDK's "failed to get shared config profile, NAME".
func TestMissingProfileSaysSo(t *testing.T) {
	r := vigil(t, map[string]string{"AWS_REGION": "us-east-1"}, "scan", "--profile", "nope").want(t, 1)
	oneCleanLine(t, r.stderr, []string{`AWS profile "nope" is in neither the AWS config file nor the credentials file`}, []string{"failed to get shared config"})
}
