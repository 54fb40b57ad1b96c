// Package input owns the bounds on what Vigil reads from files and streams
// it does not control (snapshots, credential reports, targets files): how
// large an input may be, and how a value from it is quoted in an error
// message without echoing megabytes back at the user.
//
// A hostile or mistaken input must cost a bounded amount of memory and
// produce a short error that names the file, the limit and the flag that
// raises it.
package input
