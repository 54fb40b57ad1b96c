// Package snippets holds the Go SDK code shown in Vigil's knowledge base
// pages. Each file after its package clause is one snippet, printed in the
// pages verbatim: a test in package kb fails when a page's copy differs from
// the file (go test ./internal/kb -update rewrites the pages), and this
// package's tests run every snippet against the emulator and check the
// account state before and after. So the code a reader copies compiles,
// and does what the page says.
//
// Nothing in Vigil imports this package; it exists for the pages.
package snippets
