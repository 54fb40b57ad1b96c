package report

import "io"

// A Writer renders a Document in one output format. Every format Vigil
// writes is a Writer, in a package of its own under report (the canonical
// JSON excepted, which is this package's JSONWriter); report/formats picks
// one by name, and report/reporttest checks the contract below, which
// every writer's tests run.
//
// Write writes d to w as one complete output of the format, and:
//
//   - Is deterministic. The bytes depend only on d and the writer's own
//     options: never on the clock, the environment, the terminal, the
//     locale, map iteration order or earlier calls. Build sorts the
//     document; a writer that groups or reorders sorts with a total order
//     (ties broken by ID).
//   - Writes no secret. It writes what d holds and nothing from anywhere
//     else (no environment, no configuration, no credentials). A Document
//     from Build holds no credential (internal/redact), so a writer
//     redacts nothing itself, and never undoes Build's redaction by
//     decoding, unescaping or reassembling a value.
//   - Writes every document. One with no account and no result (every
//     target unreachable, say) is a valid, complete output like any other.
//   - Keeps text intact. Strings are UTF-8 in any script (right to left
//     and emoji included); a writer writes each whole, escaped only as its
//     format requires (JSON, HTML, CSV quoting), never cut inside a
//     character, and the output is valid for its format. A writer that
//     wraps lines may break them at whitespace and collapse runs of it.
//   - Returns the write error. The first error w returns ends the write;
//     Write returns it (wrapped or not, errors.Is finds it) and writes
//     nothing more. A writer need not buffer: the caller renders to memory
//     or writes atomically (internal/atomicfile), so half a report is
//     never left behind.
//   - Leaves d unchanged. Write only reads d, so several writers may render
//     one document, in turn or at once.
//
// What a writer shows is its own choice (the text writer's --show leaves
// passes out; its compliance view lists controls, not accounts), with one
// floor: of a document without a compliance view, every writer shows each
// FAIL result's rule ID, account ID, account name and message.
type Writer interface {
	Write(w io.Writer, d *Document) error
}
