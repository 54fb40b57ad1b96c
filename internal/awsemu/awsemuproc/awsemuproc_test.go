package awsemuproc_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemuproc"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
)

func TestMain(m *testing.M) {
	awsemuproc.Child()
	os.Exit(m.Run())
}

// The child serves what the parent asks and counts what it answered:
// the benchmarks' numbers rest on it, so it is tested like the rest.
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
	// Each member account answered its own reads, under its own ID.
	summaries := map[string]int{}
	for _, c := range rep.Calls {
		if c.Action == "GetAccountSummary" && c.Status == 200 {
			summaries[c.CallerAccount] += c.N
		}
	}
	if len(summaries) != 4 {
		t.Errorf("GetAccountSummary answered for %v, want the 4 accounts", summaries)
	}
	if cpu <= 0 {
		t.Errorf("child CPU time %s", cpu)
	}
}
