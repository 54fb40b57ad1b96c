package fleet_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// Runs of one account each, as vigil serve's account jobs are, read the
// organisation once when they share a reading, and each sees what a run
// of its own would: the account's OU path, the organisation and its
// controls.
func TestSharedReadingReadsTheOrganisationOnce(t *testing.T) {
	w := awsemu.OrgWorld(45, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 2})
	srv := awsemutest.Start(t, w)
	cfg := awsemutest.ConfigFor(t, srv, awsemu.OrgWorldAdminKey)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := func(id string, sh *fleet.SharedReading) fleet.Options {
		return fleet.Options{Mode: fleet.ModeRole, Collect: collect.DefaultOptions(), Logger: quiet, Accounts: []string{id}, Parallel: 1, Shared: sh}
	}
	ctx := context.Background()

	// What an unshared run of one account reads, and sees, when it lists
	// the organisation (a run naming its accounts describes only those
	// unless told to read the whole structure).
	whole := opts(w.Accounts[7].ID, nil)
	whole.Structure = fleet.StructureWhole
	own, err := fleet.Scan(ctx, cfg, whole)
	if err != nil {
		t.Fatal(err)
	}
	listPages := srv.CallCount("organizations", "ListAccounts")
	if listPages < 2 {
		t.Fatalf("one run listed %d pages of accounts; the test wants an organisation of several pages", listPages)
	}

	sh := &fleet.SharedReading{}
	docs := make([]*snapshot.Document, len(w.Accounts))
	// The first run makes the reading; the others, together, use it (a
	// run that comes while the reading is being made describes its own
	// account instead: TestSharedReadingBusy).
	first, err := fleet.Scan(ctx, cfg, opts(w.Accounts[0].ID, sh))
	if err != nil {
		t.Fatal(err)
	}
	docs[0] = first
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, a := range w.Accounts[1:] {
		i := i + 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			doc, err := fleet.Scan(ctx, cfg, opts(a.ID, sh))
			if err != nil {
				t.Errorf("%s: %v", a.ID, err)
				return
			}
			docs[i] = doc
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if n := srv.CallCount("organizations", "ListAccounts"); n != 2*listPages {
		t.Errorf("%d runs sharing a reading listed %d pages of accounts, want %d (one listing)", len(w.Accounts), n-listPages, listPages)
	}
	if n := srv.CallCount("organizations", "DescribeOrganization"); n != 2 {
		t.Errorf("organizations:DescribeOrganization called %d times by the shared runs, want once", n-1)
	}
	for i, doc := range docs {
		if len(doc.Accounts) != 1 || doc.Accounts[0].ID != w.Accounts[i].ID {
			t.Fatalf("run of %s scanned %+v", w.Accounts[i].ID, doc.Accounts)
		}
		if len(doc.Accounts[0].Gaps) != 0 {
			t.Errorf("%s: gaps %+v", doc.Accounts[0].ID, doc.Accounts[0].Gaps)
		}
		if doc.Accounts[0].OUPath == nil {
			t.Errorf("%s: no OU path", doc.Accounts[0].ID)
		}
	}
	shared := docs[7]
	if !reflect.DeepEqual(shared.Accounts[0].OUPath, own.Accounts[0].OUPath) {
		t.Errorf("OU path %v on the shared reading, %v on its own", shared.Accounts[0].OUPath, own.Accounts[0].OUPath)
	}
	// The same organisation, but for the accounts the run of one did not
	// select: listed as skipped on its own, left out on the shared reading.
	if len(shared.Organization.Skipped) != 0 || len(own.Organization.Skipped) != len(w.Accounts)-1 {
		t.Errorf("skipped: %d on the shared reading, %d on its own; want 0 and %d", len(shared.Organization.Skipped), len(own.Organization.Skipped), len(w.Accounts)-1)
	}
	so, oo := *shared.Organization, *own.Organization
	so.Skipped, oo.Skipped = nil, nil
	if !reflect.DeepEqual(so, oo) {
		t.Errorf("the organisation differs on the shared reading:\n%+v\n%+v", so, oo)
	}
	if len(so.Controls.Accounts) != len(w.Accounts) {
		t.Errorf("the controls of a run on the shared reading list %d accounts, want all %d", len(so.Controls.Accounts), len(w.Accounts))
	}
}
