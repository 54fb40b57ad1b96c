// Package report owns Vigil's result document: one versioned, sorted shape
// (Document, built by Build) from which every output format is rendered,
// its canonical JSON encoding (WriteJSON, documented in
// docs/json-report.md), and what the command line reads off it (Failures,
// Undecided).
//
// Every other format is a Writer in a package of its own under report
// (report/text, …), importing this one; report/formats is the one switch
// over them, and report/reporttest the suite every writer passes. This
// package knows no terminal and no AWS SDK: the server stores and sends
// the same Document the command line prints.
package report
