//go:build unix

package formats

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
)

var (
	benchOnce sync.Once
	benchDoc  *report.Document
)

// peakWriter discards the output, counting it, and samples the heap every
// MiB written.
type peakWriter struct {
	n, last int
	peak    uint64
}

func (p *peakWriter) Write(b []byte) (int, error) {
	p.n += len(b)
	if p.n-p.last >= 1<<20 {
		p.last = p.n
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		p.peak = max(p.peak, ms.HeapAlloc)
	}
	return len(b), nil
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWrite100k writes a 100,000-result organisation in every
// format: ns/op is the time, B/op what the writer allocates in all, and
// heap-MiB the most the heap held above the document while it wrote
// (sampled every MiB of output, garbage included), MB-out the output,
// cpu-s/op the CPU time of one write.
func BenchmarkWrite100k(b *testing.B) {
	benchOnce.Do(func() { benchDoc = reporttest.Large(reporttest.LargeResults) })
	for _, name := range Names() {
		f, _ := Parse(name)
		b.Run(name, func(b *testing.B) {
			w, err := New(f, Options{Knowledge: benchKnowledge()})
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapAlloc
			p := &peakWriter{peak: base}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			n := 0
			for b.Loop() {
				n++
				p.n, p.last = 0, 0
				if err := w.Write(p, benchDoc); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// On a shared machine the wall clock counts other processes'
			// time too; the CPU this process used (the collector's
			// included) does not.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(n), "cpu-s/op")
			b.ReportMetric(float64(p.peak-base)/(1<<20), "heap-MiB")
			b.ReportMetric(float64(p.n)/1e6, "MB-out")
		})
	}
}

// benchKnowledge is knowledge the size of Vigil's own: every rule of the
// large organisation with a 30 KB page, a paragraph of remediation each
// way and 17 framework controls.
func benchKnowledge() report.Knowledge {
	k := report.Knowledge{}
	for _, id := range []string{"org-root-credentials-management", "org-root-scp-coverage", "root-access-key", "root-hardware-mfa",
		"root-member-password", "root-mfa", "root-recent-use", "root-signing-certificate"} {
		rk := report.RuleKnowledge{Help: strings.Repeat("A line of the knowledge base's page, about forty bytes.\n", 550),
			Summary: strings.Repeat("Why it matters. ", 40), Remediation: strings.Repeat("Do this, then that. ", 50), RemediationMember: strings.Repeat("Centrally: do this. ", 50)}
		for i := range 17 {
			rk.Controls = append(rk.Controls, report.Control{Framework: "fw", FrameworkName: "A Framework With A Long Name", Version: fmt.Sprint(i % 4),
				ID: fmt.Sprintf("%d.%d", i, i), Title: "Ensure that the control's title is as long as titles are", Coverage: "full"})
		}
		k[id] = rk
	}
	return k
}
