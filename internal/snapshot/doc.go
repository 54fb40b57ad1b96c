// Package snapshot owns the typed, versioned record of what Vigil learned
// about one or more AWS accounts: the state every rule reads and every
// collector writes.
//
// The package has no AWS SDK types in it, so rules can be evaluated offline
// from a saved file and tests can build state by hand.
//
// Unknown is always explicit. A section that could not be collected is a nil
// pointer plus a Gap naming the API call and the error; it is never a zero
// value, because a zero value reads as "absent" and absent is the answer a
// rule would PASS on.
package snapshot
