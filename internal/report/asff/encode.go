package asff

import (
	"slices"
	"unicode/utf8"
)

// The writer encodes findings by hand: encoding/json's reflection, map
// sorting and indenting cost more than everything else together, and
// 100,000 findings must take under a second. appendJSON writes exactly
// what encoding/json's Encoder writes for a Finding with HTML escaping
// off and an indent of two spaces (a test holds the two together).

// jb appends indented JSON.
type jb struct {
	b []byte
	// first says, for each open object or array, whether it is still
	// empty.
	first []bool
}

func (j *jb) nl() {
	j.b = append(j.b, '\n')
	for range j.first {
		j.b = append(j.b, ' ', ' ')
	}
}

func (j *jb) open(c byte) {
	j.b = append(j.b, c)
	j.first = append(j.first, true)
}

func (j *jb) close(c byte) {
	empty := j.first[len(j.first)-1]
	j.first = j.first[:len(j.first)-1]
	if !empty {
		j.nl()
	}
	j.b = append(j.b, c)
}

// item starts the next member or element.
func (j *jb) item() {
	if !j.first[len(j.first)-1] {
		j.b = append(j.b, ',')
	}
	j.first[len(j.first)-1] = false
	j.nl()
}

// key starts a member named k, which is Vigil's own (an ASFF name, a
// product field): no character of it needs escaping.
func (j *jb) key(k string) {
	j.item()
	j.b = append(j.b, '"')
	j.b = append(j.b, k...)
	j.b = append(j.b, '"', ':', ' ')
}

func (j *jb) str(k, v string) {
	j.key(k)
	j.b = appendString(j.b, v)
}

func (j *jb) strings(ss []string) {
	if ss == nil {
		j.b = append(j.b, "null"...)
		return
	}
	j.open('[')
	for _, s := range ss {
		j.item()
		j.b = appendString(j.b, s)
	}
	j.close(']')
}

func (j *jb) strMap(m map[string]string) {
	if m == nil {
		j.b = append(j.b, "null"...)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	j.open('{')
	for _, k := range keys {
		j.item()
		j.b = appendString(j.b, k)
		j.b = append(j.b, ':', ' ')
		j.b = appendString(j.b, m[k])
	}
	j.close('}')
}

// list writes a sorted list of entries as an object.
func (j *jb) list(l []kv) {
	j.open('{')
	for _, e := range l {
		j.str(e.k, e.v)
	}
	j.close('}')
}

func (j *jb) severity(k string, s Severity) {
	j.key(k)
	j.open('{')
	j.str("Label", s.Label)
	j.str("Original", s.Original)
	j.close('}')
}

func (f *Finding) appendJSON(b []byte) []byte {
	j := &jb{b: b}
	j.open('{')
	j.str("SchemaVersion", f.SchemaVersion)
	j.str("Id", f.ID)
	j.str("ProductArn", f.ProductArn)
	j.str("ProductName", f.ProductName)
	j.str("CompanyName", f.CompanyName)
	j.str("Region", f.Region)
	j.str("GeneratorId", f.GeneratorID)
	j.str("AwsAccountId", f.AwsAccountID)
	if f.AwsAccountName != "" {
		j.str("AwsAccountName", f.AwsAccountName)
	}
	j.key("Types")
	j.strings(f.Types)
	j.str("LastObservedAt", f.LastObservedAt)
	j.str("CreatedAt", f.CreatedAt)
	j.str("UpdatedAt", f.UpdatedAt)
	j.severity("Severity", f.Severity)
	j.key("FindingProviderFields")
	j.open('{')
	j.severity("Severity", f.FindingProviderFields.Severity)
	j.key("Types")
	j.strings(f.FindingProviderFields.Types)
	j.close('}')
	j.str("Title", f.Title)
	j.str("Description", f.Description)
	j.key("Remediation")
	j.open('{')
	j.key("Recommendation")
	j.open('{')
	j.str("Text", f.Remediation.Recommendation.Text)
	j.close('}')
	j.close('}')
	j.key("ProductFields")
	if f.fields != nil {
		j.list(f.fields)
	} else {
		j.strMap(f.ProductFields)
	}
	j.key("Resources")
	if f.Resources == nil {
		j.b = append(j.b, "null"...)
	} else {
		j.open('[')
		for _, r := range f.Resources {
			j.item()
			j.open('{')
			j.str("Type", r.Type)
			j.str("Id", r.ID)
			if r.Partition != "" {
				j.str("Partition", r.Partition)
			}
			j.str("Region", r.Region)
			if r.Details != nil {
				j.key("Details")
				j.open('{')
				j.key("Other")
				if r.Details.other != nil {
					j.list(r.Details.other)
				} else {
					j.strMap(r.Details.Other)
				}
				j.close('}')
			}
			j.close('}')
		}
		j.close(']')
	}
	j.key("Compliance")
	j.open('{')
	j.str("Status", f.Compliance.Status)
	if len(f.Compliance.RelatedRequirements) > 0 {
		j.key("RelatedRequirements")
		j.strings(f.Compliance.RelatedRequirements)
	}
	j.close('}')
	j.str("RecordState", f.RecordState)
	j.close('}')
	return j.b
}

const hexDigits = "0123456789abcdef"

// plain are the ASCII bytes a JSON string holds as they are.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString quotes s as encoding/json does with HTML escaping off.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// encoder encodes findings into one reused buffer.
type encoder struct{ buf []byte }

// encode is f's JSON, indented by two spaces; valid until the next call.
func (e *encoder) encode(f *Finding) ([]byte, error) {
	e.buf = f.appendJSON(e.buf[:0])
	return e.buf, nil
}
