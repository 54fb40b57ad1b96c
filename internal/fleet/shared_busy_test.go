package fleet

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// A run that names its account and finds the shared reading being made
// by another run describes its account itself, rather than idle until
// the organisation is listed; it lists nothing.
func TestSharedReadingBusy(t *testing.T) {
	w := awsemu.OrgWorld(45, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 2})
	srv := awsemutest.Start(t, w)
	cfg := awsemutest.ConfigFor(t, srv, awsemu.OrgWorldAdminKey)
	// Being made, never done, and with no run whose listing the run
	// could take its account from (as when that run's setup failed).
	busy := &readingCall{done: make(chan struct{}), liveReady: make(chan struct{})}
	busy.publish(nil)
	sh := &SharedReading{call: busy}
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

// A run that names its account and finds the shared reading being made
// takes its account from that reading as soon as the reading has listed
// it and placed it in the OU tree, long before the serial listing ends:
// it describes nothing itself, and sees what a run on the finished
// reading sees.
func TestSharedReadingEarly(t *testing.T) {
	w := awsemu.OrgWorld(400, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: 2})
	srv := awsemutest.Start(t, w)
	cfg := awsemutest.ConfigFor(t, srv, awsemu.OrgWorldAdminKey)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := func(id string, sh *SharedReading, st Structure) Options {
		return Options{Mode: ModeRole, Collect: collect.DefaultOptions(), Logger: quiet, Accounts: []string{id}, Parallel: 1, Structure: st, Shared: sh}
	}
	ctx := context.Background()
	// The serial listing is 20 pages one after another; the tree walk,
	// 21 parents 8 at a time, places every account in a few rounds.
	srv.SetServiceLatency("organizations", 30*time.Millisecond)
	sh := &SharedReading{}
	readerDone := make(chan error, 1)
	go func() {
		_, err := Scan(ctx, cfg, opts(w.Accounts[0].ID, sh, StructureWhole))
		readerDone <- err
	}()
	var c *readingCall
	var live *orgRun
	for deadline := time.Now().Add(time.Minute); live == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the reading did not start")
		}
		sh.mu.Lock()
		c = sh.call
		sh.mu.Unlock()
		if c != nil {
			select {
			case <-c.liveReady:
				if live = c.live.Load(); live == nil {
					t.Fatal("the reading ended before the test could see it")
				}
			default:
			}
		}
	}
	<-live.placed
	select {
	case <-c.done:
		t.Fatal("the reading ended with its walk; the test wants the serial listing slower")
	default:
	}
	before := func(action string) int { return srv.CallCount("organizations", action) }
	described, parents := before("DescribeAccount"), before("ListParents")
	ids := []string{w.Accounts[150].ID, w.Accounts[399].ID}
	early := map[string]*snapshot.Document{}
	for _, id := range ids {
		doc, err := Scan(ctx, cfg, opts(id, sh, StructureNone))
		if err != nil {
			t.Fatal(err)
		}
		early[id] = doc
	}
	select {
	case <-c.done:
		t.Fatal("the reading ended before the runs did: they may have waited for it")
	default:
	}
	if n := before("DescribeAccount") - described; n != 0 {
		t.Errorf("organizations:DescribeAccount called %d times, want none: the reading had the accounts", n)
	}
	if n := before("ListParents") - parents; n != 0 {
		t.Errorf("organizations:ListParents called %d times, want none: the reading had placed the accounts", n)
	}
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		// The same run on the finished reading.
		done, err := Scan(ctx, cfg, opts(id, sh, StructureNone))
		if err != nil {
			t.Fatal(err)
		}
		got, want := early[id], done
		if len(got.Accounts) != 1 || got.Accounts[0].ID != id || len(got.Accounts[0].Gaps) != 0 || got.Incomplete != nil {
			t.Fatalf("early run of %s: accounts %+v, incomplete %+v", id, got.Accounts, got.Incomplete)
		}
		if !slices.Equal(got.Accounts[0].OUPath, want.Accounts[0].OUPath) || len(got.Accounts[0].OUPath) == 0 {
			t.Errorf("%s: OU path %q early, %q on the finished reading", id, got.Accounts[0].OUPath, want.Accounts[0].OUPath)
		}
		if got.Accounts[0].Name != want.Accounts[0].Name || got.Organization.ManagementAccountID != want.Organization.ManagementAccountID ||
			got.Organization.Caller != want.Organization.Caller || (got.Organization.Features == nil) != (want.Organization.Features == nil) {
			t.Errorf("%s: early run %+v / %+v, on the finished reading %+v / %+v", id, got.Accounts[0], got.Organization, want.Accounts[0], want.Organization)
		}
	}
}
