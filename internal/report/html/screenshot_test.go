package html

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// chromium finds the headless browser: VIGIL_CHROMIUM, else chromium on
// the PATH. Without one the test skips, unless VIGIL_REQUIRE_CHROMIUM=1
// (CI sets it, and installs Debian's chromium), where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VIGIL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("VIGIL_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("no chromium on the PATH and VIGIL_REQUIRE_CHROMIUM=1: install Debian's chromium (apt-get install chromium)")
	}
	t.Skip("no chromium on the PATH (set VIGIL_REQUIRE_CHROMIUM=1 to make this a failure)")
	return ""
}

// trap is a proxy that answers nothing and remembers who called: the
// browser is pointed at it for every request, loopback included, so any
// fetch the report makes shows up here.
type trap struct {
	ln   net.Listener
	mu   sync.Mutex
	hits []string
}

func newTrap(t *testing.T) *trap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &trap{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			tr.mu.Lock()
			tr.hits = append(tr.hits, strings.TrimSpace(line))
			tr.mu.Unlock()
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return tr
}

// browserOwn are the hosts Chromium calls by itself (component updates,
// sign-in) whatever the flags say; a request to one of them is not the
// page's.
var browserOwn = []string{"update.googleapis.com", "accounts.google.com", "clients2.google.com", "clientservices.googleapis.com", "safebrowsingohttpgateway.googleapis.com"}

// pageRequests are the trapped requests that are not the browser's own.
func (tr *trap) pageRequests() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []string
	for _, h := range tr.hits {
		own := false
		for _, host := range browserOwn {
			own = own || strings.Contains(h, " "+host+":") || strings.Contains(h, "//"+host+"/")
		}
		if !own {
			out = append(out, h)
		}
	}
	return out
}

// render screenshots page (1280×2000) with every request sent to a
// fresh trap, and returns the PNG's path and the page's requests.
func render(t *testing.T, bin, page string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	shot := filepath.Join(dir, "shot.png")
	tr := newTrap(t)
	// A generous deadline: Chromium's first start on a loaded machine is slow.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--disable-default-apps", "--no-pings", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
		"--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--proxy-server=http://"+tr.ln.Addr().String(), "--proxy-bypass-list=<-loopback>",
		"--hide-scrollbars", "--screenshot="+shot, "--window-size=1280,2000", "file://"+page)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	return shot, tr.pageRequests()
}

// TestScreenshot renders an organisation's report in headless Chromium,
// as a person would open it, with every network request sent to a trap:
// the page must render (a full-size PNG with the report's colours: the
// failing red, the passing green, the unknown violet and the critical
// and high colours of the heat map, which only the inline CSS and SVG
// produce) and make no request at all. A control page that loads one
// image proves that the trap sees a page's requests.
func TestScreenshot(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	control := filepath.Join(dir, "control.html")
	if err := os.WriteFile(control, []byte(`<!DOCTYPE html><html><body><img src="http://vigil-trap.invalid/pixel.png"></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, hits := render(t, bin, control); !slices.ContainsFunc(hits, func(h string) bool { return strings.Contains(h, "vigil-trap.invalid") }) {
		t.Fatalf("the trap did not see the control page's request (saw %q): it would not see the report's either", hits)
	}

	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := New(Options{Guides: testGuides}).Write(&buf, orgDoc(12, 5)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot, hits := render(t, bin, page)
	if len(hits) > 0 {
		t.Errorf("the report made %d requests: %q", len(hits), hits)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot of %v", b)
	}
	if d := os.Getenv("VIGIL_SCREENSHOT_DIR"); d != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(d, "report.png"), data, 0o644)
	}
	colours := map[string][3]uint8{"fail": {0xc6, 0x28, 0x28}, "pass": {0x2e, 0x7d, 0x32}, "critical": {0x8e, 0x00, 0x00}, "unknown": {0x7c, 0x3a, 0xed}, "high": {0xe6, 0x51, 0x00}}
	for name, n := range count(img, colours) {
		if n < 200 {
			t.Errorf("%d pixels of the %s colour: the styles or the charts did not render", n, name)
		}
	}
	if d := distinct(img); d < 200 {
		t.Errorf("only %d distinct colours: a blank or unstyled page", d)
	}
}

// count counts the pixels of each colour, within a small tolerance
// (anti-aliasing).
func count(img image.Image, colours map[string][3]uint8) map[string]int {
	out := map[string]int{}
	for name := range colours {
		out[name] = 0
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			for name, c := range colours {
				if near(r>>8, c[0]) && near(g>>8, c[1]) && near(bl>>8, c[2]) {
					out[name]++
				}
			}
		}
	}
	return out
}

func near(v uint32, c uint8) bool { return v+6 >= uint32(c) && v <= uint32(c)+6 }

func distinct(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
		}
	}
	return len(seen)
}
