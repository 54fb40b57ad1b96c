package scenario

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemuproc"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// BenchmarkOrgScan scans generated organisations through the real SDK,
// with the emulator answering every call after 50 ms, and reports for
// each size and access mode:
//
//	wall-ms       the scan's wall time (fleet.Run, discovery to snapshot)
//	bound-ms      the lower bound the round trips and the worker limit imply (orgLowerBound)
//	wall/bound    the ratio; the target is at most 1.25
//	calls/acct    API calls made in or for each scanned account (its session and its reads); it must not grow with the size
//	disc-calls    calls made to discover the organisation (Organizations, the caller's identity and features)
//	cpu-us/acct   the scanner's CPU time (user and system) per account
//	emu-cpu-us/acct the emulator's CPU time per account, for comparison
//	alloc-KiB/acct  heap allocated by the scanner per account
//	peak-heap-MiB the scanner's largest live heap (sampled every 10 ms)
//	maxrss-MiB    the benchmark process's peak resident set (getrusage)
//
// The emulator runs in a child process (emuproc_test.go), so the CPU,
// heap and wall time measured here are the scanner's own: in one process
// the two competed for the same two cores.
//
// The throttled variants answer 20% of all calls (every service) with a
// throttling error and use the SDK's default retry timing; every account
// must still complete. Run with
//
//	go test -run XXX -bench OrgScan -benchtime 1x ./internal/scenario/
func BenchmarkOrgScan(b *testing.B) {
	const latency = 50 * time.Millisecond
	sizes := []int{10, 100, 1000, 5000}
	for _, mode := range []fleet.Mode{fleet.ModeRole, fleet.ModeRoot} {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("mode=%s/accounts=%d", modeName(mode), n), func(b *testing.B) {
				benchOrg(b, mode, n, latency, 0)
			})
		}
	}
	for _, mode := range []fleet.Mode{fleet.ModeRole, fleet.ModeRoot} {
		b.Run(fmt.Sprintf("mode=%s/accounts=1000/throttled=20%%", modeName(mode)), func(b *testing.B) {
			benchOrg(b, mode, 1000, latency, 0.2)
		})
	}
}

func modeName(m fleet.Mode) string {
	if m == fleet.ModeRoot {
		return "assume-root"
	}
	return "role"
}

func benchOrg(b *testing.B, mode fleet.Mode, n int, latency time.Duration, throttle float64) {
	const seed = 42
	var wall, bound, calls, disc, accounts, cpu, emuCPU, allocs float64
	var peak uint64
	// The world the child serves, built here too for the lower bound
	// (the same size, seed and reference time give the same world).
	w := awsemu.OrgWorld(n, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: seed})
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		emu := awsemuproc.Start(b, awsemuproc.Spec{Accounts: n, Seed: seed, Latency: latency, Throttle: throttle})
		// The SDK's own retryer and timing; only the attempt count is
		// raised, as 'vigil scan --org' does by default.
		cfg := emu.Config(b, awsemu.OrgWorldAdminKey)
		cfg.RetryMaxAttempts = fleet.DefaultMaxAttempts
		// The scan runs on the tests' clock, as the emulator child does:
		// on the wall clock its hour-old credential reports would look
		// as old as the days since the reference time, and every account
		// would have one generated.
		o := fleet.Options{Mode: mode, Clock: clock.Func(testclock.Running()), Collect: collect.DefaultOptions(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		stop := sampleHeap(&peak)
		cpu0, alloc0 := processCPU(), allocatedBytes()
		b.StartTimer()
		start := time.Now()
		doc, err := fleet.Scan(context.Background(), cfg, o)
		took := time.Since(start)
		b.StopTimer()
		cpu += float64(processCPU() - cpu0)
		allocs += float64(allocatedBytes() - alloc0)
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if len(doc.Accounts) != n+1 || doc.Incomplete != nil {
			b.Fatalf("%d accounts scanned of %d, incomplete %+v", len(doc.Accounts), n+1, doc.Incomplete)
		}
		for _, a := range doc.Accounts {
			for _, g := range a.Gaps {
				if g.Code != fleet.CodeNotCollected {
					b.Fatalf("account %s did not complete: %+v", a.ID, g)
				}
			}
		}
		rep, used := emu.Stop(b)
		emuCPU += float64(used)
		wall += float64(took)
		bound += float64(orgLowerBound(w, mode, seed, fleet.DefaultParallel, latency))
		// Discovery is every Organizations call, the features, and the
		// scan's first question (sts:GetCallerIdentity: who am I); the
		// rest was made in or for an account.
		d := rep.Count("organizations", "") + rep.Count("iam", "ListOrganizationsFeatures") + 1
		disc += float64(d)
		calls += float64(rep.Total() - d)
		accounts += float64(len(doc.Accounts))
		b.StartTimer()
	}
	runs := float64(b.N)
	b.ReportMetric(wall/runs/1e6, "wall-ms")
	b.ReportMetric(bound/runs/1e6, "bound-ms")
	b.ReportMetric(wall/bound, "wall/bound")
	b.ReportMetric(calls/accounts, "calls/acct")
	b.ReportMetric(disc/runs, "disc-calls")
	b.ReportMetric(cpu/accounts/1e3, "cpu-us/acct")
	b.ReportMetric(emuCPU/accounts/1e3, "emu-cpu-us/acct")
	b.ReportMetric(allocs/accounts/1024, "alloc-KiB/acct")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB") // Linux reports KiB
	}
}

// processCPU is the CPU time this process has used, user and system: the
// scanner's alone, since the emulator runs in a child.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// allocatedBytes is the heap allocated so far, cumulative.
func allocatedBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap records the largest live heap until stopped.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			*peak = max(*peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// orgLowerBound is the least wall time any scanner could take on this
// world with the same round trips, latency and worker limit.
//
//   - Discovery: an account can be known no earlier than the first of
//     its two listings delivers it. ListAccounts pages come one after the
//     other (each needs the previous NextToken), twenty accounts a page:
//     account i of that listing at (⌊i/20⌋+1)·L. The OU walk reaches an
//     OU at depth d after ListRoots and d levels of OU listings, and its
//     j-th account on page ⌊j/20⌋+1 of ListAccountsForParent: at
//     (1+d+⌊j/20⌋+1)·L, ignoring the walk's own concurrency limit (which
//     only makes the bound lower, never wrong).
//   - Each account's own critical path, in round trips: through a role,
//     AssumeRole then the collection's longest chain, the regional reads
//     (ec2:DescribeRegions, then every enabled Region's calls at once;
//     the credential report is fresh, one call), 3·L; through AssumeRoot,
//     AssumeRoot then ListAccessKeys → GetAccessKeyLastUsed when root
//     holds keys (3·L) or one round of parallel calls when it does not
//     (2·L), as the session may not read Regions; the account the scan
//     runs from needs no session (2·L, its regional reads).
//   - Workers: at most W accounts are in progress at once. Whatever
//     work is released at or after time r cannot finish before
//     r + (its total)/W, even if it were perfectly divisible.
//
// The bound is the largest of, over every page release r: r plus the
// work released from r on divided by W; and over every account: its
// release plus its own path. The OU tree walk, which runs beside all
// this, is a floor of its own: its longest chain (ListRoots, one
// ListOrganizationalUnitsForParent per level down to the deepest OU,
// then that OU's ListAccountsForParent pages), and its calls divided by
// the OrgConcurrency it is limited to (one OU listing and at least one
// account listing per parent). Pipelining is what lets a scanner approach
// this bound: it scans page one while page two is in flight.
func orgLowerBound(w *awsemu.World, mode fleet.Mode, seed uint64, workers int, L time.Duration) time.Duration {
	type job struct{ release, cost time.Duration }
	parentOf := map[string]string{}
	for _, ou := range w.Organization.OUs {
		parentOf[ou.ID] = ou.ParentID
	}
	depthOf := func(id string) int {
		d := 0
		for ; id != w.Organization.RootID; id = parentOf[id] {
			d++
		}
		return d
	}
	indexInParent := map[string]int{}
	var jobs []job
	for i, a := range w.Accounts {
		p := a.ParentID
		if p == "" {
			p = w.Organization.RootID
		}
		j := indexInParent[p]
		indexInParent[p]++
		release := min(time.Duration(i/20+1)*L, time.Duration(1+depthOf(p)+j/20+1)*L)
		// The reads after the session: one round (the credential report
		// is fresh), or two where the regional reads run (DescribeRegions,
		// then every enabled Region at once). An AssumeRoot session's task
		// policy allows no EC2 or Access Analyzer call, so only a role's
		// session or the caller's own account reads Regions.
		reads := L
		if regional(a) && (mode == fleet.ModeRole || a.ID == awsemu.OrgWorldManagementID) {
			reads = 2 * L
		}
		cost := L + reads
		switch {
		case a.ID == awsemu.OrgWorldManagementID:
			cost = reads // the caller's own account: no session to open
		case mode == fleet.ModeRoot:
			p := awsemu.OrgWorldProfile(seed, i-1)
			if p == "active-key" || p == "inactive-key" {
				cost = max(cost, 3*L)
			}
		}
		jobs = append(jobs, job{release, cost})
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].release < jobs[j].release })
	var bound time.Duration
	suffix := time.Duration(0)
	for i := len(jobs) - 1; i >= 0; i-- {
		suffix += jobs[i].cost
		if i == 0 || jobs[i-1].release != jobs[i].release {
			bound = max(bound, jobs[i].release+suffix/time.Duration(workers))
		}
		bound = max(bound, jobs[i].release+jobs[i].cost)
	}
	// The OU tree walk.
	perParent := map[string]int{w.Organization.RootID: 0}
	for _, ou := range w.Organization.OUs {
		perParent[ou.ID] = 0
	}
	for _, a := range w.Accounts {
		p := a.ParentID
		if p == "" {
			p = w.Organization.RootID
		}
		perParent[p]++
	}
	longest, treeCalls := 0, 1 // ListRoots
	for _, n := range perParent {
		pages := max(1, (n+19)/20)
		longest = max(longest, pages)
		treeCalls += 1 + pages // its OUs, its accounts
	}
	depth := 0
	for _, ou := range w.Organization.OUs {
		depth = max(depth, depthOf(ou.ID))
	}
	chain := time.Duration(1+depth+longest) * L // ListRoots, the levels down to the deepest OU, the longest account run
	limited := time.Duration((treeCalls+fleet.OrgConcurrency-1)/fleet.OrgConcurrency) * L
	return max(bound, chain, limited)
}

// regional reports whether the account has a Region enabled, so that its
// scan reads Regions: two round trips after its session.
func regional(a *awsemu.Account) bool {
	for _, r := range a.Regions {
		if r.OptIn != awsemu.NotOptedIn {
			return true
		}
	}
	return false
}
