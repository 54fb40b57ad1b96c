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
		var buf []byte
		for k := range d.Results {
			if k > 0 {
				out.Raw(",")
			}
			out.Raw("\n    ")
			var err error
			if buf, err = appendResult(buf[:0], &d.Results[k]); err != nil {
				return err
			}
			out.Bytes(buf)
		}
		out.Raw("\n  ]")
	}
	out.Raw(b.String()[i+len("[]"):])
	return out.Flush()
}

// appendResult appends r as encoding/json writes it at the depth of the
// document's results (rule.Result's MarshalJSON, indented): the same
// bytes, without reflection and a second pass to indent, which made the
// canonical JSON of 100,000 results take seconds. A test holds the two
// encodings together for every field of rule.Result and rule.Evidence.
func appendResult(b []byte, r *rule.Result) ([]byte, error) {
	field := func(name string) { b = append(b, ",\n      \""+name+"\": "...) }
	b = append(b, "{\n      \"rule_id\": "...)
	b = appendString(b, r.RuleID)
	field("title")
	b = appendString(b, r.Title)
	field("status")
	b = appendString(b, string(r.Status))
	field("severity")
	b = appendString(b, r.Severity.String())
	field("rule_severity")
	b = appendString(b, r.RuleSeverity.String())
	field("category")
	b = appendString(b, r.Category)
	field("service")
	b = appendString(b, r.Service)
	field("account_id")
	b = appendString(b, r.AccountID)
	if r.AccountName != "" {
		field("account_name")
		b = appendString(b, r.AccountName)
	}
	if r.Partition != "" {
		field("partition")
		b = appendString(b, r.Partition)
	}
	field("resource")
	b = appendString(b, r.Resource)
	if r.ManagementAccount {
		field("management_account")
		b = append(b, "true"...)
	}
	field("message")
	b = appendString(b, r.Message)
	field("evidence")
	if len(r.Evidence) == 0 {
		b = append(b, "[]"...)
	} else {
		b = append(b, '[')
		for i, e := range r.Evidence {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        {\n          \"source\": "...)
			b = appendString(b, e.Source)
			for _, f := range []struct{ name, value string }{{"key", e.Key}, {"value", e.Value}} {
				if f.value != "" {
					b = append(b, ",\n          \""+f.name+"\": "...)
					b = appendString(b, f.value)
				}
			}
			if e.AsOf != nil {
				t, err := e.AsOf.MarshalJSON()
				if err != nil {
					return nil, err
				}
				b = append(b, ",\n          \"as_of\": "...)
				b = append(b, t...)
			}
			for _, f := range []struct{ name, value string }{{"as_of_source", e.AsOfSource}, {"error", e.Error}} {
				if f.value != "" {
					b = append(b, ",\n          \""+f.name+"\": "...)
					b = appendString(b, f.value)
				}
			}
			b = append(b, "\n        }"...)
		}
		b = append(b, "\n      ]"...)
	}
	if s := r.Suppression; s != nil {
		field("suppression")
		b = append(b, "{\n        \"reason\": "...)
		b = appendString(b, s.Reason)
		b = append(b, ",\n        \"owner\": "...)
		b = appendString(b, s.Owner)
		if s.Ticket != "" {
			b = append(b, ",\n        \"ticket\": "...)
			b = appendString(b, s.Ticket)
		}
		if s.Expires != nil {
			t, err := s.Expires.MarshalJSON()
			if err != nil {
				return nil, err
			}
			b = append(b, ",\n        \"expires\": "...)
			b = append(b, t...)
		}
		if s.Source != "" {
			b = append(b, ",\n        \"source\": "...)
			b = appendString(b, s.Source)
		}
		b = append(b, "\n      }"...)
	}
	return append(b, "\n    }"...), nil
}

// appendString appends s as json.Marshal writes it (rule.Result's
// MarshalJSON uses it, so <, > and & are escaped): as it is when it is
// printable ASCII with nothing to escape, else through json.Marshal.
func appendString(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	if plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// JSONWriter is WriteJSON as a Writer.
type JSONWriter struct{}

// Write calls WriteJSON.
func (JSONWriter) Write(w io.Writer, d *Document) error { return WriteJSON(w, d) }
