package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the document as indented JSON: the canonical encoding,
// documented in docs/json-report.md, from which every other format can be
// rebuilt. The bytes depend only on the document: results and accounts
// are sorted, maps are sorted by encoding/json, and times are UTC.
//
// It lives with the model, not in a writer package of its own: the
// encoding is the Document's field tags, and whatever reads a saved
// report back (a convert mode, the server's store) belongs beside them.
func WriteJSON(w io.Writer, d *Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// JSONWriter is WriteJSON as a Writer.
type JSONWriter struct{}

// Write calls WriteJSON.
func (JSONWriter) Write(w io.Writer, d *Document) error { return WriteJSON(w, d) }
