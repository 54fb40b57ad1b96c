package cli

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
)

// ExitUnknown is the exit code of a gate that could not be decided:
// results at or above --fail-on are UNKNOWN (and none FAIL there).
const ExitUnknown = 4

// unknownError reports results at or above --fail-on that could not be
// decided (exit code 4): a gate must not pass when nothing could be
// verified.
type unknownError struct {
	n      int
	min    string
	causes []report.Cause
}

// maxCauses bounds the causes listed; the report has every result.
const maxCauses = 10

func (e unknownError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d result(s) at or above severity %s could not be decided (UNKNOWN), so the gate cannot pass; --unknown-ok accepts them. What could not be read:", e.n, e.min)
	for i, c := range e.causes {
		if i == maxCauses {
			fmt.Fprintf(&b, "\n  … and %d more causes (see the report)", len(e.causes)-maxCauses)
			break
		}
		fmt.Fprintf(&b, "\n  %s (%s in %s)", c.Text, rule.Plural(c.Results, "result", "results"), rule.Plural(c.Accounts, "account", "accounts"))
	}
	return b.String()
}

// gate decides the exit of a scan with --fail-on: a FAIL at or above
// the severity says the most (exit 3); otherwise an UNKNOWN there means
// the gate could not be decided (exit 4) unless the user accepts that.
func gate(rep *report.Document, failOn rule.Severity, unknownOK bool) error {
	undecided, causes := rep.Undecided(failOn)
	if n := rep.Failures(failOn); n > 0 {
		return findingsError{n: n, min: failOn.String(), undecided: undecided}
	}
	if undecided > 0 && !unknownOK {
		return unknownError{n: undecided, min: failOn.String(), causes: causes}
	}
	return nil
}
