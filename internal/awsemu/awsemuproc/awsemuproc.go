// Package awsemuproc runs the AWS emulator in a process of its own, for
// benchmarks and for tests of several processes: the CPU the scanner
// reports is then its own (on two cores an emulator in the same process
// competes with what it measures), and a process a test kills takes
// nothing of the emulator with it. The child is the test binary itself,
// started again with Env set; the test's TestMain calls Child first,
// which turns that process into the emulator. Test support only: the
// vigil binary never links it.
package awsemuproc

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// Env holds the child's Spec, as JSON.
const Env = "VIGIL_AWSEMU_PROC"

// Spec is what the child serves: a generated organisation
// (awsemu.OrgWorld), the latency of every call and the share throttled.
type Spec struct {
	Accounts int           `json:"accounts"`
	Seed     uint64        `json:"seed"`
	Latency  time.Duration `json:"latency"`
	Throttle float64       `json:"throttle"`
	// Custom, when set, is handed to the Builder the child was given
	// (ChildWith) to make a world of the test's own instead of the
	// organisation.
	Custom json.RawMessage `json:"custom,omitempty"`
}

// Builder makes the world of a Spec whose Custom is set; now is the
// child's clock at start.
type Builder func(custom json.RawMessage, now time.Time) (*awsemu.World, error)

// Call is how many calls of one action from one account the child
// answered with one HTTP status.
type Call struct {
	Service       string `json:"service"`
	Action        string `json:"action"`
	CallerAccount string `json:"caller_account"`
	Status        int    `json:"status"`
	N             int    `json:"n"`
}

// Report is what the child answered, said when it stops.
type Report struct {
	Calls []Call `json:"calls"`
}

// Count is the number of calls of one service (action "" for all of it).
func (r Report) Count(service, action string) int {
	n := 0
	for _, c := range r.Calls {
		if c.Service == service && (action == "" || c.Action == action) {
			n += c.N
		}
	}
	return n
}

// Total is the number of calls answered.
func (r Report) Total() int {
	n := 0
	for _, c := range r.Calls {
		n += c.N
	}
	return n
}

// Child, when this process was started as an emulator child, serves its
// Spec until stdin closes, prints its Report and exits; otherwise it
// returns at once. Call it first in TestMain.
func Child() { ChildWith(nil) }

// ChildWith is Child for a test binary whose children may serve a world
// of its own: build makes it from a Spec's Custom.
func ChildWith(build Builder) {
	raw := os.Getenv(Env)
	if raw == "" {
		return
	}
	os.Exit(serve(raw, build))
}

func serve(raw string, build Builder) int {
	var spec Spec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "emulator child: bad spec:", err)
		return 2
	}
	clock := testclock.Running()
	var w *awsemu.World
	if len(spec.Custom) > 0 {
		if build == nil {
			fmt.Fprintln(os.Stderr, "emulator child: a custom world, but no builder (call ChildWith in TestMain)")
			return 2
		}
		var err error
		if w, err = build(spec.Custom, clock()); err != nil {
			fmt.Fprintln(os.Stderr, "emulator child: custom world:", err)
			return 2
		}
	} else {
		w = awsemu.OrgWorld(spec.Accounts, awsemu.OrgWorldOptions{Now: testclock.Ref(), Seed: spec.Seed})
	}
	opts := []awsemu.Option{awsemu.WithClock(clock), awsemu.WithLatency(spec.Latency)}
	if spec.Throttle > 0 {
		opts = append(opts, awsemu.WithFaults(
			awsemu.Fault{Service: "iam", Code: "Throttling", Probability: spec.Throttle},
			awsemu.Fault{Service: "sts", Code: "Throttling", Probability: spec.Throttle},
			awsemu.Fault{Service: "organizations", Code: "TooManyRequestsException", Probability: spec.Throttle}))
	}
	srv, err := awsemu.Listen(w, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulator child:", err)
		return 1
	}
	fmt.Println(srv.URL())
	// The parent closes our stdin when it is done (or when it dies).
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
	type key struct {
		service, action, caller string
		status                  int
	}
	counts := map[key]int{}
	for _, c := range srv.Calls() {
		counts[key{c.Service, c.Action, c.CallerAccount, c.Status}]++
	}
	rep := Report{Calls: []Call{}}
	for k, n := range counts {
		rep.Calls = append(rep.Calls, Call{Service: k.service, Action: k.action, CallerAccount: k.caller, Status: k.status, N: n})
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 1
	}
	return 0
}

// Proc is a running emulator child.
type Proc struct {
	// URL is where the child listens.
	URL    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	report *Report
}

// Start starts an emulator child serving spec and waits until it
// listens. It is stopped when the test ends, if the test did not.
func Start(tb testing.TB, spec Spec) *Proc {
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
	cmd.Env = append(os.Environ(), Env+"="+string(js))
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
	p := &Proc{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(out)}
	tb.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.stdin.Close()
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	line, err := p.stdout.ReadString('\n')
	if err != nil {
		tb.Fatalf("emulator child did not say where it listens: %v", err)
	}
	p.URL = strings.TrimSpace(line)
	if !strings.HasPrefix(p.URL, "http://127.0.0.1:") {
		tb.Fatalf("emulator child printed %q, want its URL", line)
	}
	return p
}

// Pid is the child's process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Config signs as key against the child.
func (p *Proc) Config(tb testing.TB, key string) aws.Config {
	tb.Helper()
	cfg, err := awsemu.NewAWSConfig(context.Background(), p.URL, "us-east-1", aws.Credentials{AccessKeyID: key, SecretAccessKey: "not-checked"})
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// Stop ends the child and returns what it answered and the CPU time it
// used (user and system).
func (p *Proc) Stop(tb testing.TB) (Report, time.Duration) {
	tb.Helper()
	if p.report == nil {
		p.stdin.Close()
		var rep Report
		if err := json.NewDecoder(p.stdout).Decode(&rep); err != nil {
			tb.Fatalf("emulator child's report: %v", err)
		}
		if err := p.cmd.Wait(); err != nil {
			tb.Fatalf("emulator child: %v", err)
		}
		p.report = &rep
	}
	st := p.cmd.ProcessState
	return *p.report, st.UserTime() + st.SystemTime()
}
