package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/vigil-sec/vigil/internal/jsonout"
	"github.com/vigil-sec/vigil/internal/rule"
)

// WriteJSON writes the document as indented JSON: the canonical encoding,
// documented in docs/json-report.md, from which every other format can be
// rebuilt. The bytes depend only on the document: results and accounts
// are sorted, maps are sorted by encoding/json, and times are UTC.
//
// The results are streamed one by one into the rest of the document: the
// bytes are those of encoding the whole document at once, without a
// second copy of a 100,000-result organisation in memory.
//
// It lives with the model, not in a writer package of its own: the
// encoding is the Document's field tags, and whatever reads a saved
// report back (ReadJSON, the server's store) belongs beside them.
func WriteJSON(w io.Writer, d *Document) error {
	frame := *d
	frame.Results = []rule.Result{}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&frame); err != nil {
		return err
	}
	// The top level's keys are the only ones indented by two spaces.
	const slot = "\n  \"results\": []"
	i := bytes.Index(b.Bytes(), []byte(slot))
	if i < 0 {
		return errors.New("report: the results are missing from the document's encoding")
	}
	i += len(slot) - len("[]")
	out := jsonout.New(w)
	out.Raw(b.String()[:i])
	if len(d.Results) == 0 {
		out.Raw("[]")
	} else {
		out.Raw("[")
		// A result's own MarshalJSON calls json.Marshal, which escapes
		// <, > and &: the canonical bytes have them escaped in results.
		out.EscapeHTML = true
		for k := range d.Results {
			if k > 0 {
				out.Raw(",")
			}
			out.Raw("\n    ")
			// rule.Result's MarshalJSON only turns nil evidence into [];
			// done here, the encoder need not re-read what it returns.
			r := d.Results[k]
			if r.Evidence == nil {
				r.Evidence = []rule.Evidence{}
			}
			out.Value((*plainResult)(&r), "    ")
		}
		out.EscapeHTML = false
		out.Raw("\n  ]")
	}
	out.Raw(b.String()[i+len("[]"):])
	return out.Flush()
}

// plainResult is rule.Result without its MarshalJSON.
type plainResult rule.Result

// JSONWriter is WriteJSON as a Writer.
type JSONWriter struct{}

// Write calls WriteJSON.
func (JSONWriter) Write(w io.Writer, d *Document) error { return WriteJSON(w, d) }
