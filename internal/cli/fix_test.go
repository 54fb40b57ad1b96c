package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/testclock"
)

func fixWorld() *awsemu.World {
	w := preventWorld()
	w.Organization.TrustedAccess = []string{"iam.amazonaws.com"}
	w.Organization.RootCredentialsManagement = true
	w.Accounts[1].Root.AccessKeys = []awsemu.AccessKey{{ID: "AKIAMEMBERROOTKEY001",
		LastUsed: &awsemu.KeyLastUsed{Date: testclock.Days(-400), Region: "us-east-1", Service: "s3"}}}
	return w
}

// TestFixConfirmation: on a terminal --apply asks; only "yes" changes
// anything, the question names the caller, the scale and what cannot be
// undone, and goes to stderr.
func TestFixConfirmation(t *testing.T) {
	for _, c := range []struct {
		name, answer string
		code         int
		changes      int
	}{
		{"declined", "no\n", 1, 0},
		{"y is not yes", "y\n", 1, 0},
		{"end of input", "", 1, 0},
		{"yes", "yes\n", 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := awsemutest.Start(t, fixWorld())
			emulatorEnv(t, srv, tMgmtKey)
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			r := runVigil(t, c.answer, true, "fix", "--org", "--apply", "--audit-log", audit)
			if r.code != c.code || len(mutating(srv)) != c.changes {
				t.Fatalf("exit %d, changes %v\nstdout:\n%s\nstderr:\n%s", r.code, mutating(srv), r.stdout, r.stderr)
			}
			// The audit log exists only once a change was made.
			if _, err := os.Stat(audit); (err == nil) != (c.changes > 0) {
				t.Errorf("%d change(s), audit log created: %v", c.changes, err == nil)
			}
			for _, want := range []string{"Apply 1 change(s) in 1 account(s) as arn:aws:iam::" + tMgmt + ":user/admin?", "1 of them delete credentials, which cannot be undone.", "Only 'yes'"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("prompt lacks %q:\n%s", want, r.stderr)
				}
			}
			if c.code != 0 && !strings.Contains(r.stderr, "nothing was changed") {
				t.Errorf("stderr %q", r.stderr)
			}
			if !strings.Contains(r.stdout, "iam:DeleteAccessKey AKIAMEMBERROOTKEY001") || strings.Contains(r.stdout, "This was a dry run") {
				t.Errorf("the plan shown before the question:\n%s", r.stdout)
			}
		})
	}
}
