// Package reporttest is the conformance suite every report.Writer passes,
// as log/slog's slogtest is for slog handlers: each writer's tests call
// Run, so a new format cannot be added without keeping the promises of
// the report.Writer contract (deterministic bytes whatever order the
// inputs came in, no secret, any document including an empty one, text in
// any script intact, write errors returned, the document left unchanged).
//
// It is test support: only tests import it, never the binary.
package reporttest
