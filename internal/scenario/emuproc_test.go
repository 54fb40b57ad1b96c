package scenario

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// The organisation benchmark runs the emulator in a process of its own,
// so that the CPU the benchmark reports is the scanner's alone: on two
// cores an in-process emulator competes with the scanner it measures, and
// the wall time then says more about the machine than about Vigil. The
// child is this test binary started again with emuProcEnv set; TestMain
// turns it into an emulator before any test runs.
const emuProcEnv = "VIGIL_BENCH_EMULATOR"

// emuProcSpec is what the child serves: a generated organisation, the
// latency of every call and the throttled share.
type emuProcSpec struct {
	Accounts int           `json:"accounts"`
	Seed     uint64        `json:"seed"`
	Latency  time.Duration `json:"latency"`
	Throttle float64       `json:"throttle"`
	// IAM, when set, makes the child serve BenchmarkScanLatency's one
	// account instead of an organisation.
	IAM *emuIAMSpec `json:"iam,omitempty"`
}

// emuIAMSpec is the single account of BenchmarkScanLatency: benchWorld
// with bulkIAM's users, roles and policies.
type emuIAMSpec struct {
	ExistingReport         bool `json:"existingReport"`
	Users, Roles, Policies int
}

// emuProcReport is what the child says when told to stop: how many calls
// of each service:action it answered, and its own CPU time.
type emuProcReport struct {
	Calls map[string]int `json:"calls"`
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(emuProcEnv); spec != "" {
		os.Exit(runEmulatorChild(spec))
	}
	os.Exit(m.Run())
}

// runEmulatorChild serves the organisation until stdin closes, then
// prints the call counts on stdout.
func runEmulatorChild(specJSON string) int {
	var spec emuProcSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "emulator child: bad spec:", err)
		return 2
	}
	clock := testclock.Running()
	var w *awsemu.World
	if iam := spec.IAM; iam != nil {
		w = benchWorld(clock(), iam.ExistingReport)
		bulkIAM(w.Accounts[0], clock(), iam.Users, iam.Roles, iam.Policies)
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
	// The parent closes our stdin when its scan is done (or when it dies).
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
	rep := emuProcReport{Calls: map[string]int{}}
	for _, c := range srv.Calls() {
		rep.Calls[c.Service+":"+c.Action]++
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 1
	}
	return 0
}

// emuProc is a running emulator child.
type emuProc struct {
	URL    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// startEmuProc starts the emulator child and waits until it listens.
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
	p := &emuProc{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(out)}
	tb.Cleanup(func() {
		p.stdin.Close()
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
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

// config signs as key against the child.
func (p *emuProc) config(tb testing.TB, key string) aws.Config {
	tb.Helper()
	cfg, err := awsemu.NewAWSConfig(context.Background(), p.URL, "us-east-1", awsCreds(key))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// stop ends the child and returns its call counts and the CPU time it
// used (user and system).
func (p *emuProc) stop(tb testing.TB) (emuProcReport, time.Duration) {
	tb.Helper()
	p.stdin.Close()
	var rep emuProcReport
	if err := json.NewDecoder(p.stdout).Decode(&rep); err != nil {
		tb.Fatalf("emulator child's report: %v", err)
	}
	if err := p.cmd.Wait(); err != nil {
		tb.Fatalf("emulator child: %v", err)
	}
	st := p.cmd.ProcessState
	return rep, st.UserTime() + st.SystemTime()
}

// count is the number of calls of one service (action "" for all of it).
func (r emuProcReport) count(service, action string) int {
	n := 0
	for k, v := range r.Calls {
		s, a, _ := strings.Cut(k, ":")
		if s == service && (action == "" || a == action) {
			n += v
		}
	}
	return n
}

func (r emuProcReport) total() int {
	n := 0
	for _, v := range r.Calls {
		n += v
	}
	return n
}

// The child serves what the parent asks and counts what it answered:
// the benchmark's numbers rest on it, so it is tested like the rest.
func TestEmulatorChild(t *testing.T) {
	p := startEmuProc(t, emuProcSpec{Accounts: 3, Seed: 1})
	cfg := p.config(t, awsemu.OrgWorldAdminKey)
	doc, err := fleet.Scan(context.Background(), cfg, fleet.Options{Mode: fleet.ModeRole, Collect: collect.DefaultOptions(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Accounts) != 4 {
		t.Fatalf("scanned %d accounts in the child's organisation of 3 members, want 4", len(doc.Accounts))
	}
	rep, cpu := p.stop(t)
	if rep.count("organizations", "ListAccounts") == 0 || rep.total() < 4 {
		t.Errorf("child counted %v", rep.Calls)
	}
	if cpu <= 0 {
		t.Errorf("child CPU time %s", cpu)
	}
}
