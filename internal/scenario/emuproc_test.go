package scenario

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemuproc"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
)

// The benchmarks run the emulator in a process of its own
// (awsemuproc), so that the CPU they report is the scanner's alone: on
// two cores an in-process emulator competes with the scanner it
// measures. BenchmarkScanLatency's child serves a world of this
// package's own, made by benchIAMWorld.

// emuIAMSpec is the single account of BenchmarkScanLatency: benchWorld
// with bulkIAM's users, roles and policies.
type emuIAMSpec struct {
	ExistingReport         bool `json:"existingReport"`
	Users, Roles, Policies int
}

// customIAM is the awsemuproc Spec.Custom of an emuIAMSpec.
func customIAM(tb testing.TB, s emuIAMSpec) json.RawMessage {
	tb.Helper()
	js, err := json.Marshal(s)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

// benchIAMWorld is the child's Builder of an emuIAMSpec.
func benchIAMWorld(custom json.RawMessage, now time.Time) (*awsemu.World, error) {
	var s emuIAMSpec
	if err := json.Unmarshal(custom, &s); err != nil {
		return nil, err
	}
	w := benchWorld(now, s.ExistingReport)
	bulkIAM(w.Accounts[0], now, s.Users, s.Roles, s.Policies)
	return w, nil
}

func TestMain(m *testing.M) {
	awsemuproc.ChildWith(benchIAMWorld)
	os.Exit(m.Run())
}

// The child serves what the parent asks and counts what it answered:
// the benchmark's numbers rest on it, so it is tested like the rest.
func TestEmulatorChild(t *testing.T) {
	p := awsemuproc.Start(t, awsemuproc.Spec{Accounts: 3, Seed: 1})
	cfg := p.Config(t, awsemu.OrgWorldAdminKey)
	doc, err := fleet.Scan(context.Background(), cfg, fleet.Options{Mode: fleet.ModeRole, Collect: collect.DefaultOptions(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Accounts) != 4 {
		t.Fatalf("scanned %d accounts in the child's organisation of 3 members, want 4", len(doc.Accounts))
	}
	rep, cpu := p.Stop(t)
	if rep.Count("organizations", "ListAccounts") == 0 || rep.Total() < 4 {
		t.Errorf("child counted %v", rep.Calls)
	}
	if cpu <= 0 {
		t.Errorf("child CPU time %s", cpu)
	}
}
