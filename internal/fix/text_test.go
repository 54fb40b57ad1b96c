package fix_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/fix"
	"github.com/vigil-sec/vigil/internal/fleet"
)

// TestWriteText: the plan says, per account and credential, what the
// guard saw and decided, what each change does and risks, and where the
// manual steps are.
func TestWriteText(t *testing.T) {
	e := start(t)
	p := e.planOrg(func(o *fix.Options) { o.TrailRole = &fleet.Role{Name: trailRole} })
	var b bytes.Buffer
	steps := func(c fix.Case) (string, error) { return "STEPS FOR " + string(c) + "\n", nil }
	if err := fix.WriteText(&b, p, fix.TextOptions{Now: e.now, Steps: steps}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	contains(t, out,
		"Vigil fix — organisation o-aa111bb222",
		"Account "+busyID+" busy · member account · Root",
		"- access key "+busyKey+"  (Active, created",
		"last used", "(3 days ago) in eu-west-1 for ec2  [iam:GetAccessKeyLastUsed]",
		"RunInstances  eu-west-1  from 203.0.113.7  backup-script/1.0",
		"→ REFUSED: used 3 days ago",
		"→ DELETE: idle for 100 days, beyond --min-idle 30d",
		"iam:DeleteAccessKey "+idleKey,
		"WARNING: irreversible",
		"left alone (add --certificates)",
		"No root credentials to remove (1):\n  "+cleanID+" clean",
		"Planned: 3 change(s) in 2 account(s); 1 account(s) need manual steps; 1 credential(s) refused by the guard.",
		"This was a dry run",
		"=== "+mgmtID+": only the account's root user can remove them ===\n\nSTEPS FOR root-user-only",
	)
	b.Reset()
	if err := fix.WriteText(&b, p, fix.TextOptions{Now: e.now, Apply: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "dry run") || strings.Contains(b.String(), "Manual steps") {
		t.Errorf("an applied plan's text:\n%s", b.String())
	}

	// The root-key path: which key signs, and that it goes last.
	rk := e.planAccount(saKey1, func(o *fix.Options) { o.Delete = true })
	b.Reset()
	if err := fix.WriteText(&b, rk, fix.TextOptions{Now: e.now}); err != nil {
		t.Fatal(err)
	}
	contains(t, b.String(), "Via:  root access key "+saKey1+" (the run signs as the root user)", "signs this run",
		"2. iam:DeleteAccessKey "+saKey1, "only after: access-key/"+saKey2, "after this step the run has no access to account "+standalone)
	path := e.apply(rk)
	noSecrets(t, e, render(t, rk)+b.String()+string(mustRead(t, path)))
}
