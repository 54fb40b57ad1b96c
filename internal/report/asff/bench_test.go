package asff

import (
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/guide"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// big is a document of n accounts × 8 rules, with evidence as a real
// scan gives it.
func big(accounts int) *report.Document {
	snap := snapshot.New(testclock.Ref(), "test", snapshot.Source{Kind: snapshot.SourceAWS})
	asOf := testclock.Ref().Add(-time.Hour)
	var results []rule.Result
	for i := range accounts {
		id := fmt.Sprintf("%012d", 100000000000+i)
		snap.Accounts = append(snap.Accounts, snapshot.Account{ID: id, Name: fmt.Sprintf("workload-%05d", i), Partition: "aws"})
		for k := range 8 {
			st := []rule.Status{rule.Pass, rule.Fail, rule.Unknown, rule.NotApplicable}[(i+k)%4]
			results = append(results, rule.Result{Meta: &rule.Meta{RuleID: fmt.Sprintf("rule-%d", k), Title: "The title of a rule", RuleSeverity: rule.High, AccountID: id, AccountName: fmt.Sprintf("workload-%05d", i), Partition: "aws"},
				Status: st, Severity: rule.High, Resource: "arn:aws:iam::" + id + ":root",
				Message: "The root user of this account has an active access key, last used 2026-11-20T08:12:00Z in us-east-1 for ec2.",
				Evidence: []rule.Evidence{{Source: "iam:GetAccountSummary", Key: "AccountAccessKeysPresent", Value: "1"},
					{Source: "credential report", Key: "access_key_1_active", Value: "true", AsOf: &asOf}}})
		}
	}
	return report.Build(snap, results, report.Tool{Name: "vigil", Version: "t"}, testclock.Ref())
}

// BenchmarkWrite100k: 100,000 findings (12,500 accounts × 8 rules).
// Target (BENCHMARKS.md): under 1 s and 200 MB.
func BenchmarkWrite100k(b *testing.B) {
	d := big(12500)
	g := guide.Guides{}
	for k := range 8 {
		g[fmt.Sprintf("rule-%d", k)] = guide.Guide{Fix: "Delete the root user's access keys from the console's Security credentials page.", Requirements: []string{"CIS AWS 5.0.0/1.3", "PCI DSS 4.0/8.2.2"}}
	}
	w := New(Options{Guides: g})
	measure(b, func() {
		if err := w.Write(io.Discard, d); err != nil {
			b.Fatal(err)
		}
	})
}

// measure runs write b.N times and reports, besides time and
// allocations, the CPU time a write takes (the machine is shared, so
// wall time alone says little) and the peak of live heap above what was
// live before (the document itself), sampled every millisecond.
func measure(b *testing.B, write func()) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		write()
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	close(stop)
	<-done
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(float64(cpu.Milliseconds()), "cpu-ms/op")
	if p := peak.Load(); p > base {
		b.ReportMetric(float64(p-base)/1e6, "peak-heap-MB")
	}
}
