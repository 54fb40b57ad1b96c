package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the document as indented JSON. The bytes depend only on
// the document: results and accounts are sorted, maps are sorted by
// encoding/json, and times are UTC.
func WriteJSON(w io.Writer, d *Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}
