// Package report owns Vigil's result document — one versioned, sorted JSON
// shape from which every output format is rendered — and its writers.
//
// Each writer is a plain function of (io.Writer, *Document): the document
// is built once, so formats cannot disagree about what was found.
package report
