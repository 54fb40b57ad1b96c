// Package slowtest marks the slowest tiers of Vigil's test suite, so that
// a developer can leave them out of a quick local run: the knowledge
// base's proof that every AWS CLI command of its pages works (hundreds of
// AWS CLI processes, most of the suite's time), and the scale tests that
// scan organisations of hundreds of accounts.
//
// They are skipped when VIGIL_SKIP_SLOW=1 or under go test -short. CI
// never skips them: .ci/run refuses to run with VIGIL_SKIP_SLOW set. Only
// tests import this package.
package slowtest

import (
	"os"
	"testing"
)

// Var is the variable that skips the slow tiers.
const Var = "VIGIL_SKIP_SLOW"

// Skipping reports whether the slow tiers are to be skipped.
func Skipping() bool { return os.Getenv(Var) == "1" || testing.Short() }

// Skip skips t, a test of a slow tier, when the slow tiers are to be
// skipped; what says what it proves, for the skip message.
func Skip(t testing.TB, what string) {
	t.Helper()
	if Skipping() {
		t.Skipf("slow tier skipped (%s=1 or -short): %s", Var, what)
	}
}
