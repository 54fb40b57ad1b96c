package cli

import (
	"bytes"
	"encoding/json"
	"io"
)

// writeOut renders to memory first, then writes to stdout: a failure half
// way must not leave half an output behind.
func writeOut(app *App, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	_, err := app.Stdout.Write(buf.Bytes())
	return err
}

// encodeJSON is the one JSON set-up of the command line's own documents
// (vigil fix, prevent, rules): indented for people and diffs, and with
// "<", ">" and "&" left as they are, since policies and ARNs are read,
// not embedded in HTML.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeJSON writes v to stdout as JSON.
func writeJSON(app *App, v any) error {
	return writeOut(app, func(w io.Writer) error { return encodeJSON(w, v) })
}

// preventSchema names the JSON documents of vigil prevent, as "vigil.report"
// and "vigil.fix" name scan's and fix's; Mode says which of its outputs a
// document is.
const (
	preventSchema  = "vigil.prevent"
	preventVersion = 1
)
