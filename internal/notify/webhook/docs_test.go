package webhook_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/notify/webhook"
)

const docPath = "../../../docs/webhook.md"

// block returns the first fenced block of lang in docs/webhook.md.
func block(t *testing.T, lang string) string {
	t.Helper()
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatalf("%s has no %s block", docPath, lang)
	}
	return string(m[1])
}

// cases are requests Vigil signed (now, with the wall clock: the
// examples check against the time they run at) and what a receiver must
// say about each.
func cases() []struct {
	name, header string
	body         []byte
	ok           bool
} {
	body := []byte(`{"schema":"vigil.alert","version":1,"delivery_id":"d","transitions":[]}`)
	now := time.Now()
	good := webhook.Sign(secret, now, body)
	return []struct {
		name, header string
		body         []byte
		ok           bool
	}{
		{"valid", good, body, true},
		{"tampered", good, append([]byte(" "), body...), false},
		{"old", webhook.Sign(secret, now.Add(-time.Hour), body), body, false},
		{"wrong secret", webhook.Sign([]byte("x"), now, body), body, false},
		{"no signature", "", body, false},
	}
}

// TestDocPython runs the page's Python verifier on requests Vigil signed.
func TestDocPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed (CI has it: the AWS CLI the kb tests run is Python)")
	}
	code := block(t, "python") + `
import os, sys
body = sys.stdin.buffer.read()
print("ok" if verify_vigil(os.environ["SECRET"].encode(), os.environ["HEADER"], body) else "refused")
`
	for _, tc := range cases() {
		cmd := exec.Command(py, "-c", code)
		cmd.Env = append(os.Environ(), "SECRET="+string(secret), "HEADER="+tc.header)
		cmd.Stdin = strings.NewReader(string(tc.body))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != map[bool]string{true: "ok", false: "refused"}[tc.ok] {
			t.Errorf("%s: python says %s", tc.name, got)
		}
	}
}

// TestDocGo compiles and runs the page's Go verifier.
func TestDocGo(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	src := strings.Replace(block(t, "go"), "package vigilhook", "package main", 1)
	src = strings.Replace(src, "import (", "import (\n\t\"fmt\"\n\t\"io\"\n\t\"os\"", 1) + `
func main() {
	body, _ := io.ReadAll(os.Stdin)
	fmt.Println(VerifyVigil([]byte(os.Getenv("SECRET")), os.Getenv("HEADER"), body, time.Now(), 5*time.Minute))
}
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "verify")
	build := exec.Command(goBin, "build", "-o", bin, "main.go")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the Go example does not build: %v\n%s", err, out)
	}
	for _, tc := range cases() {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "SECRET="+string(secret), "HEADER="+tc.header)
		cmd.Stdin = strings.NewReader(string(tc.body))
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(out)); got != strconv.FormatBool(tc.ok) {
			t.Errorf("%s: the Go example says %s", tc.name, got)
		}
	}
}

// TestDocShell runs the page's openssl line: it prints the v1 value.
func TestDocShell(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	body := []byte(`{"schema":"vigil.alert"}`)
	if err := os.WriteFile(filepath.Join(dir, "body.json"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	header := webhook.Sign(secret, time.Unix(1795694400, 0), body)
	cmd := exec.Command("bash", "-c", block(t, "sh"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HEADER="+header, "VIGIL_WEBHOOK_SECRET="+string(secret))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if want := header[strings.Index(header, "v1=")+3:]; strings.TrimSpace(string(out)) != want {
		t.Errorf("the shell check prints %q, want %q", out, want)
	}
}
