// Package scenario holds Vigil's end-to-end scenario tests: each file in
// testdata describes an emulated AWS world, the faults to inject and the
// results a scan must produce. The tests drive the real AWS SDK over HTTP
// against the emulator, then the collector and the rules, exactly as
// 'vigil scan' does, and check on every run that the scan made read-only
// calls only, all of them within the published IAM policy.
package scenario
