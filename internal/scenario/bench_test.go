package scenario

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemuproc"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/credreport"
	"github.com/vigil-sec/vigil/internal/credreport/credreporttest"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// BenchmarkReportEvaluate parses a credential report of N users, builds the
// snapshot and runs every rule: the whole of 'vigil scan
// --credential-report' but reading the file. Target for 100,000 users:
// under 100 ms and under 100 MB (B/op is every byte allocated, an upper
// bound on the live heap; heap-inuse-MiB is the largest HeapInuse seen,
// spans included, which holds the input too; cpu-ms/op is the process's
// CPU time, user and system, the garbage collector's included: on a
// shared machine the figure to compare with the target, as wall time
// counts other processes).
func BenchmarkReportEvaluate(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			data := credreporttest.Synthetic(n)
			now := testclock.Ref()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var peak uint64
			cpu0 := processCPU()
			for b.Loop() {
				rep, err := credreport.Decode(data)
				if err != nil {
					b.Fatal(err)
				}
				doc := snapshot.New(now, "bench", snapshot.Source{Kind: snapshot.SourceCredentialReport})
				cr := rep.Snapshot()
				cr.FileTime = &now
				doc.Accounts = append(doc.Accounts, snapshot.Account{ID: rep.AccountID, Partition: rep.Partition, CredentialReport: cr})
				res := rule.Evaluate(rules.All(), doc, now, rule.DefaultOptions())
				// Every account rule answers, the IAM user rules once per
				// user. The results come sorted by rule (one account), so
				// counting where the rule changes counts the rules: a map
				// of 500,000 look-ups cost a tenth of what is measured.
				rulesSeen := 0
				for i := range res {
					if res[i].Status == "" {
						b.Fatalf("%s %s has no status", res[i].RuleID, res[i].Resource)
					}
					if i == 0 || res[i].RuleID != res[i-1].RuleID {
						rulesSeen++
					}
				}
				if rulesSeen != accountRules() {
					b.Fatalf("%d rules answered, want %d", rulesSeen, accountRules())
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
			b.ReportMetric(float64(peak)/(1<<20), "heap-inuse-MiB")
		})
	}
}

// BenchmarkScanLatency scans one account through the real SDK against the
// emulator answering every call after 50 ms, and reports the API calls made
// and the wall time against the lower bound: the chain of credential report
// calls that must follow one another (each a full round trip) plus the
// polling waits IAM imposes, or the chain of authorization details pages,
// whichever is longer. Everything else runs in parallel beside that chain.
// Target: wall time ≤ 1.2 × bound (≤ 1.25 × for the IAM section in bulk).
//
// The emulator runs in a child process (emuproc_test.go), as in the
// organisation benchmark: in one process on two cores, building and
// encoding 13,000 entities of XML competed with the scanner it served.
// cpu-ms/scan is the scanner's own CPU time, emu-cpu-ms/scan the child's
// (its start included), B/op the scanner's allocations.
func BenchmarkScanLatency(b *testing.B) {
	const latency = 50 * time.Millisecond
	for _, c := range []struct {
		name     string
		existing bool
		// users, roles and policies grow the IAM estate read in bulk.
		users, roles, policies int
	}{{"fresh-report", true, 0, 0, 0}, {"report-to-generate", false, 0, 0, 0},
		{"iam-100-users", true, 100, 2000, 1000}, {"iam-10000-users", true, 10000, 2000, 1000}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var totalCalls, totalBound, totalWall, totalCPU, totalEmuCPU float64
			for b.Loop() {
				b.StopTimer()
				p := awsemuproc.Start(b, awsemuproc.Spec{Latency: latency, Custom: customIAM(b, emuIAMSpec{ExistingReport: c.existing, Users: c.users, Roles: c.roles, Policies: c.policies})})
				cfg := p.Config(b, "AKIAAUDITOR000000001")
				var slept atomic.Int64
				opts := collect.DefaultOptions()
				opts.Now = testclock.Running()
				opts.Sleep = func(ctx context.Context, d time.Duration) error {
					slept.Add(int64(d))
					t := time.NewTimer(d)
					defer t.Stop()
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-t.C:
						return nil
					}
				}
				cpu0 := processCPU()
				b.StartTimer()
				start := time.Now()
				acct, err := collect.Account(context.Background(), collect.NewClients(cfg), opts)
				wall := time.Since(start)
				b.StopTimer()
				cpu := processCPU() - cpu0
				if err != nil || len(acct.Gaps) > 0 || acct.CredentialReport == nil {
					b.Fatalf("scan failed: %v gaps %+v", err, acct.Gaps)
				}
				rep, emuCPU := p.Stop(b)
				chain := rep.Count("iam", "GetCredentialReport") + rep.Count("iam", "GenerateCredentialReport")
				bound := time.Duration(chain)*latency + time.Duration(slept.Load())
				// The authorization details pages follow one another too,
				// in three chains side by side (users, roles, the rest:
				// collect.IAMDetails); the longest chain bounds the scan.
				// The world has one user besides the generated ones and no
				// group or AWS-managed policy in use.
				pages := func(n int) int { return max(1, (n+999)/1000) }
				users, roles, rest := pages(c.users+1), pages(c.roles), pages(c.policies)
				if got := rep.Count("iam", "GetAccountAuthorizationDetails"); got != users+roles+rest {
					b.Fatalf("GetAccountAuthorizationDetails called %d times, want %d+%d+%d pages", got, users, roles, rest)
				}
				bound = max(bound, time.Duration(max(users, roles, rest))*latency)
				// So do ec2:DescribeRegions and the regions' own calls (one
				// page each here), all regions at once.
				bound = max(bound, 2*latency)
				totalCalls += float64(rep.Total())
				totalBound += float64(bound)
				totalWall += float64(wall)
				totalCPU += float64(cpu)
				totalEmuCPU += float64(emuCPU)
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(totalCalls/n, "calls/scan")
			b.ReportMetric(totalBound/n/1e6, "bound-ms")
			b.ReportMetric(totalWall/n/1e6, "wall-ms")
			b.ReportMetric(totalWall/totalBound, "wall/bound")
			b.ReportMetric(totalCPU/n/1e6, "cpu-ms/scan")
			b.ReportMetric(totalEmuCPU/n/1e6, "emu-cpu-ms/scan")
			// The scanner process's resident high-water mark so far (the
			// emulator runs apart): the largest any scan of this run or
			// an earlier one in the same process needed, so run one case
			// alone to read it for that case.
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MB")
			}
		})
	}
}

// bulkIAM adds users (a third with a key and policies of their own),
// roles and customer-managed policies to an account.
func bulkIAM(a *awsemu.Account, now time.Time, users, roles, policies int) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket/*"}]}`
	for i := range policies {
		a.Policies = append(a.Policies, awsemu.IAMPolicy{Name: fmt.Sprintf("policy-%04d", i), Document: doc})
	}
	for i := range roles {
		r := awsemu.Role{Name: fmt.Sprintf("role-%04d", i)}
		if policies > 0 {
			r.AttachedPolicies = []string{"arn:aws:iam::" + a.ID + ":policy/" + fmt.Sprintf("policy-%04d", i%policies)}
		}
		a.Roles = append(a.Roles, r)
	}
	for i := range users {
		u := awsemu.User{Name: fmt.Sprintf("user-%05d", i), CreateDate: now.AddDate(-1, 0, 0), Password: i%2 == 0}
		if i%3 == 0 {
			u.AccessKeys = []awsemu.AccessKey{{ID: fmt.Sprintf("AKIABENCHUSER%07d", i), CreateDate: now.AddDate(0, -3, 0)}}
			u.InlinePolicies = []awsemu.InlinePolicy{{Name: "own", Document: doc}}
		}
		a.Users = append(a.Users, u)
	}
}

func benchWorld(now time.Time, existingReport bool) *awsemu.World {
	a := &awsemu.Account{
		ID: "111122223333", Name: "bench",
		Root: awsemu.Root{CreateDate: now.AddDate(-5, 0, 0), Password: true,
			AccessKeys: []awsemu.AccessKey{{ID: "AKIAROOTKEY000000001", CreateDate: now.AddDate(-5, 0, 0)}},
			MFADevices: []awsemu.MFADevice{{Type: awsemu.MFAVirtual, EnableDate: now.AddDate(-5, 0, 0)}}},
		Users: []awsemu.User{{Name: "auditor", AccessKeys: []awsemu.AccessKey{{ID: "AKIAAUDITOR000000001"}}}},
	}
	if existingReport {
		a.Report.Existing = &awsemu.ExistingReport{GeneratedAt: now.Add(-time.Hour)}
	}
	return &awsemu.World{Accounts: []*awsemu.Account{a}}
}

// accountRules counts the rules evaluated per account; organisation rules
// need an organisation, which a credential report file does not have.
func accountRules() int {
	n := 0
	for _, r := range rules.All() {
		if r.Scope == rule.AccountScope {
			n++
		}
	}
	return n
}
