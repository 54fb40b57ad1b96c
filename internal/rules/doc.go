// Package rules is Vigil's rule catalog: the root-credential family and the
// organisation rules, each a pure check over a snapshot with its metadata
// beside it.
//
// Every check follows the same discipline. It names the sources it trusts,
// in order: an exact inventory read inside an AssumeRoot session, then the
// real-time account summary, then the credential report (which can be four
// hours old). When sources disagree the result says so. When the data it
// needs is missing or was denied it returns UNKNOWN with the failed call as
// evidence, never PASS.
package rules
