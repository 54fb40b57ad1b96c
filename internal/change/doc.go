// Package change owns how Vigil changes AWS accounts safely: a Plan of
// Steps that is shown before anything happens, an explicit confirmation,
// ordered execution where a failed step skips only the steps that depend
// on it, and an append-only audit log with one JSON line per action.
//
// The package knows nothing of AWS: a Step's Run does the call. What it
// guarantees is the discipline around the calls — a dry run is simply a
// plan that is printed and never applied, so it cannot make a call; Apply
// asks its Confirmer first and changes nothing when the answer is no; and
// every attempted action is logged, with who ran it, before the next one
// starts. `vigil prevent --apply` uses it, and `vigil fix` is meant to.
package change
