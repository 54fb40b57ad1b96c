package scenario

import (
	"os"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu/awsemuproc"
)

// The organisation benchmark runs the emulator in a process of its own
// (package awsemuproc), so that the CPU the benchmark reports is the
// scanner's alone: on two cores an in-process emulator competes with the
// scanner it measures, and the wall time then says more about the
// machine than about Vigil.
func TestMain(m *testing.M) {
	awsemuproc.Child() // exits when this process is the benchmark's emulator
	os.Exit(m.Run())
}

type emuProcSpec = awsemuproc.Spec

func startEmuProc(tb testing.TB, spec emuProcSpec) *awsemuproc.Proc {
	return awsemuproc.Start(tb, spec)
}
