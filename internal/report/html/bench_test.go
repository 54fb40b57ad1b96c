package html

import (
	"io"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWrite100k: the HTML report of 100,000 results (14,286
// accounts × 7 rules, one result in six failing). Target (BENCHMARKS.md):
// under 1 s and 200 MB.
func BenchmarkWrite100k(b *testing.B) {
	d := orgDoc(14286, 6)
	w := New(Options{Guides: testGuides})
	measure(b, func() {
		if err := w.Write(io.Discard, d); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkOrganisation5000: the size of a 5,000-account organisation's
// report. Target: under 5 MB.
func BenchmarkOrganisation5000(b *testing.B) {
	d := orgDoc(5000, 6)
	w := New(Options{Guides: testGuides})
	var n countWriter
	for b.Loop() {
		n = 0
		if err := w.Write(&n, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/1e6, "MB")
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

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
