package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/vigil-sec/vigil/internal/atomicfile"
)

// startCPUProfile writes a CPU profile to path until stop: where a
// replica's time goes, for the team benchmark (serve's hidden
// --cpu-profile).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// startHeapProfile keeps at path the heap profile taken when the live
// heap was largest, checked every second until stop: what holds memory
// at the service's peak, for the memory benchmark (serve's hidden
// --heap-profile). A profile at the end would show the heap after the
// tick, not at its height.
func startHeapProfile(ctx context.Context, path string) (stop func(), err error) {
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return pprof.Lookup("heap").WriteTo(w, 0) }); err != nil {
		return nil, fmt.Errorf("heap profile: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if live := sample[0].Value.Uint64(); live > peak+peak/20 {
				peak = live
				// A failed write keeps the previous profile; the next peak
				// tries again.
				_ = atomicfile.Write(path, 0o644, func(w io.Writer) error { return pprof.Lookup("heap").WriteTo(w, 0) })
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}
