package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanDBAlerts: `vigil scan --db` from cron, with no server, alerts
// through the channels of its --config. A delivery the receiver refuses
// stays pending, said on stderr; the next run sends it, to a receiver
// that checks signatures, as one delivery naming the member's root key;
// a run that changes nothing sends nothing; a secret that cannot be read
// stops the scan before it starts.
func TestScanDBAlerts(t *testing.T) {
	recv, hook := newReceiver(t, "cron-secret")
	dir := t.TempDir()
	db, cfg := filepath.Join(dir, "vigil.db"), filepath.Join(dir, "vigil.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 1
database: %s
public_url: https://vigil.example.com
alerts:
  - name: hook
    type: webhook
    url: %s
    secret_env: HOOK_SECRET
    on: [new, resolved]
    min_severity: high
`, db, hook.URL)), 0o600)
	env := map[string]string{"HOOK_SECRET": "cron-secret"}
	const member = "333333333333"
	scan := func(n int) result {
		return vigil(t, env, "scan", "--org", "--demo", "--config", cfg, "--format", "json", "--output", filepath.Join(dir, fmt.Sprintf("%d.json", n))).want(t, 0)
	}

	recv.mu.Lock()
	recv.fail = true
	recv.mu.Unlock()
	r := scan(1)
	if !strings.Contains(r.stderr, "1 alert(s) not delivered (hook); they stay pending") || len(recv.got) != 0 {
		t.Fatalf("a refused delivery: %+v\nstderr: %s", recv.got, r.stderr)
	}
	recv.mu.Lock()
	recv.fail = false
	recv.mu.Unlock()
	r = scan(2)
	if !recv.has("new", member, "root-access-key") || !strings.Contains(r.stderr, "vigil: alerts sent: hook (1)") {
		t.Fatalf("the pending delivery: %+v\nstderr: %s", recv.got, r.stderr)
	}
	if len(recv.bodies) != 1 {
		t.Errorf("%d deliveries, want the one kept from the first run", len(recv.bodies))
	}
	link := `"link":"https://vigil.example.com/findings/` + lifecycleID(member, "root-access-key", "arn:aws:iam::"+member+":root") + `"`
	for _, b := range recv.bodies {
		if !strings.Contains(b, link) {
			t.Errorf("the delivery does not link the finding (%s):\n%s", link, b)
		}
	}
	got := len(recv.got)
	r = scan(3)
	if len(recv.got) != got || strings.Contains(r.stderr, "alerts sent") {
		t.Errorf("a run that changed nothing alerted: %d transitions, stderr %s", len(recv.got)-got, r.stderr)
	}
	r = vigil(t, nil, "scan", "--org", "--demo", "--config", cfg).want(t, 2)
	if !strings.Contains(r.stderr, "HOOK_SECRET") {
		t.Errorf("a secret that cannot be read: %s", r.stderr)
	}
	if n, _ := recordedScans(t, db); n != 3 {
		t.Errorf("%d scans recorded, want 3 (none for the run refused at the start)", n)
	}
}
