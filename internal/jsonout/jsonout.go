// Package jsonout streams a large JSON document: the report and the writers that
// emit JSON (SARIF, OCSF) write a fixed frame by hand and encode one
// result at a time into it, so a 100,000-result organisation is never
// held as a second copy in memory, and the bytes are the same as an
// indented encoding of the whole would be.
//
// A Writer buffers, and remembers the first error of the writer under it:
// everything after that error is dropped, and Flush returns it, so a
// writer built on it keeps report.Writer's promise to stop at the first
// write error without checking every call.
package jsonout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// Writer is a buffered JSON stream.
type Writer struct {
	bw  *bufio.Writer
	buf bytes.Buffer
	err error
}

// New returns a Writer onto w.
func New(w io.Writer) *Writer { return &Writer{bw: bufio.NewWriterSize(w, 64<<10)} }

// Raw writes s as it is: the hand-written frame around the values.
func (w *Writer) Raw(s string) {
	if w.err != nil {
		return
	}
	_, w.err = w.bw.WriteString(s)
}

// Bytes writes b as it is: JSON encoded already.
func (w *Writer) Bytes(b []byte) {
	if w.err != nil {
		return
	}
	_, w.err = w.bw.Write(b)
}

// Value writes v as indented JSON (two spaces), every line after the
// first prefixed with prefix so it nests at that depth.
func (w *Writer) Value(v any, prefix string) {
	if w.err != nil {
		return
	}
	w.buf.Reset()
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		w.err = err
		return
	}
	b := bytes.TrimSuffix(w.buf.Bytes(), []byte("\n"))
	_, w.err = w.bw.Write(b)
}

// Compact writes v as compact JSON: a record of a large array on a line
// of its own, which indenting would make several times larger and
// slower to write.
func (w *Writer) Compact(v any) {
	if w.err != nil {
		return
	}
	w.buf.Reset()
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.err = err
		return
	}
	_, w.err = w.bw.Write(bytes.TrimSuffix(w.buf.Bytes(), []byte("\n")))
}

// Open writes v, which encodes as a JSON object, compact and without its
// closing brace, so that the caller can append members it encoded
// already (json.RawMessage members are re-read and compacted by the
// encoder: members shared by many records are cheaper written so) and
// close it.
func (w *Writer) Open(v any) {
	if w.err != nil {
		return
	}
	w.buf.Reset()
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.err = err
		return
	}
	b := bytes.TrimSuffix(w.buf.Bytes(), []byte("\n"))
	if len(b) < 2 || b[len(b)-1] != '}' {
		w.err = errors.New("jsonout: Open of a value that is not a JSON object")
		return
	}
	_, w.err = w.bw.Write(b[:len(b)-1])
}

// Line writes v as compact JSON and a newline: one line of a JSON Lines
// stream.
func (w *Writer) Line(v any) {
	if w.err != nil {
		return
	}
	w.buf.Reset()
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.err = err
		return
	}
	_, w.err = w.bw.Write(w.buf.Bytes())
}

// Flush writes what is buffered and returns the first error met.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.bw.Flush()
}
