package fleet

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// A run that names its account and finds the shared reading being made
// by another run describes its account itself, rather than idle until
// the organisation is listed; it lists nothing.
func TestSharedReadingBusy(t *testing.T) {
	w := awsemu.OrgWorld(45, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 2})
	srv := awsemutest.Start(t, w)
	cfg := awsemutest.ConfigFor(t, srv, awsemu.OrgWorldAdminKey)
	sh := &SharedReading{call: &readingCall{done: make(chan struct{})}} // being made, never done
	id := w.Accounts[9].ID
	doc, err := Scan(context.Background(), cfg, Options{Mode: ModeRole, Collect: collect.DefaultOptions(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Accounts: []string{id}, Parallel: 1, Structure: StructureNone, Shared: sh})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Accounts) != 1 || doc.Accounts[0].ID != id || len(doc.Accounts[0].Gaps) != 0 || doc.Accounts[0].OUPath == nil {
		t.Fatalf("scanned %+v", doc.Accounts)
	}
	if n := srv.CallCount("organizations", "ListAccounts"); n != 0 {
		t.Errorf("listed %d pages of accounts, want none", n)
	}
	if n := srv.CallCount("organizations", "DescribeAccount"); n != 1 {
		t.Errorf("organizations:DescribeAccount called %d times, want once", n)
	}
}
