package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/vigil-sec/vigil/internal/fleet"
)

// startProgress shows a progress bar on stderr for a run of several
// accounts, unless quiet or stderr is not a terminal, and sets *into to
// it; log lines are written above the bar until stop is called.
func startProgress(app *App, quiet bool, into *fleet.Progress) (stop func()) {
	if quiet || !app.IsTerminal(app.Stderr) {
		return func() {}
	}
	bar := newProgress(app.Stderr)
	app.logs.attach(bar)
	*into = bar
	return func() { app.logs.attach(nil); bar.stop() }
}

// progress shows an organisation scan on a terminal: accounts done out of
// those discovered so far, failures, elapsed time. Discovery runs beside
// scanning, so the total grows until discovery ends; until then the bar
// is held one short of full, so it never looks finished early.
type progress struct {
	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	total  int
	done   int
	failed int
	final  bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{}
	p.bar = progressbar.NewOptions(1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSetDescription("discovering accounts"),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	return p
}

// Add is called as discovery finds accounts to scan.
func (p *progress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += n
	p.resize()
}

// DiscoveryDone fixes the total.
func (p *progress) DiscoveryDone() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.final = true
	if p.total == 0 {
		_ = p.bar.Exit()
		return
	}
	p.resize()
}

// Done counts a finished account.
func (p *progress) Done(_ string, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if failed {
		p.failed++
	}
	p.describe()
	_ = p.bar.Add(1)
}

func (p *progress) resize() {
	max := p.total
	if !p.final {
		max++ // hold the bar open while discovery may add more
	}
	p.describe()
	p.bar.ChangeMax(max)
}

func (p *progress) describe() {
	what := "accounts"
	if !p.final {
		what = "accounts (discovering)"
	}
	if p.failed > 0 {
		what += fmt.Sprintf(", %d failed", p.failed)
	}
	p.bar.Describe(what)
}

// clear erases the bar's line so that a log line can be written; the bar
// redraws itself on its next update.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Clear()
}

// stop leaves the bar as it is (a cancelled run never fills it).
func (p *progress) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Exit()
}

// logSink is where logs go (stderr). While a progress bar is on screen it
// is cleared before each log line, so that lines never run into the bar.
type logSink struct {
	mu  sync.Mutex
	w   io.Writer
	bar *progress
}

func (s *logSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bar != nil {
		s.bar.clear()
	}
	return s.w.Write(b)
}

func (s *logSink) attach(p *progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bar = p
}
