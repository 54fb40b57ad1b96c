package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// The team tests run the emulator in a process of its own, as the issue
// asks: replicas, emulator and PostgreSQL are separate processes, so the
// CPU each uses can be told apart, and a replica killed -9 takes nothing
// of the emulator with it. The child is this test binary started again
// with emuProcEnv set; TestMain turns it into an emulator (emulatorChild)
// before anything else.
const emuProcEnv = "VIGIL_TEST_EMULATOR"

// emuProcSpec is what the child serves: a generated organisation and the
// latency of every call.
type emuProcSpec struct {
	Accounts int           `json:"accounts"`
	Seed     uint64        `json:"seed"`
	Latency  time.Duration `json:"latency"`
}

// emulatorChild serves the organisation until stdin closes when this
// process was started as an emulator child, then exits; otherwise it
// returns.
func emulatorChild() {
	spec := os.Getenv(emuProcEnv)
	if spec == "" {
		return
	}
	var s emuProcSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, "emulator child: bad spec:", err)
		os.Exit(2)
	}
	w := awsemu.OrgWorld(s.Accounts, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: s.Seed})
	srv, err := awsemu.Listen(w, awsemu.WithClock(testclock.Running()), awsemu.WithLatency(s.Latency))
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulator child:", err)
		os.Exit(1)
	}
	fmt.Println(srv.URL())
	// The parent closes our stdin when it is done (or when it dies).
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
	os.Exit(0)
}

// emuProc is a running emulator child.
type emuProc struct {
	URL   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startEmuProc starts an emulator child serving spec and waits until it
// listens; it is stopped when the test ends.
func startEmuProc(tb testing.TB, spec emuProcSpec) *emuProc {
	tb.Helper()
	js, err := json.Marshal(spec)
	if err != nil {
		tb.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), emuProcEnv+"="+string(js))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &emuProc{cmd: cmd, stdin: stdin}
	tb.Cleanup(func() { p.stop() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		tb.Fatalf("emulator child did not say where it listens: %v", err)
	}
	p.URL = strings.TrimSpace(line)
	if !strings.HasPrefix(p.URL, "http://127.0.0.1:") {
		tb.Fatalf("emulator child printed %q, want its URL", line)
	}
	return p
}

// stop ends the child and returns the CPU time it used.
func (p *emuProc) stop() time.Duration {
	if p.cmd.ProcessState == nil {
		p.stdin.Close()
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = p.cmd.Process.Kill()
			}
		}()
		_ = p.cmd.Wait()
		close(done)
	}
	return p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
}
