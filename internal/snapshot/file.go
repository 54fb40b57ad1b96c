package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/input"
)

// New returns an empty document of the current version.
func New(collectedAt time.Time, toolVersion string, src Source) *Document {
	return &Document{
		Schema:      Schema,
		Version:     Version,
		ToolVersion: toolVersion,
		CollectedAt: collectedAt.UTC(),
		Source:      src,
		Accounts:    []Account{},
	}
}

// Load reads and validates a snapshot file of at most input.DefaultMaxSize
// bytes. Errors name the file and, for syntax and type errors, the line and
// column.
func Load(path string) (*Document, error) { return LoadLimit(path, input.DefaultMaxSize) }

// LoadLimit is Load with a size limit: a larger file is refused with an
// error wrapping *input.TooLargeError before it is decoded.
func LoadLimit(path string, limit int64) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	defer f.Close()
	return DecodeLimit(f, path, limit)
}

// Decode reads and validates a snapshot of at most input.DefaultMaxSize
// bytes; name is used in error messages.
func Decode(r io.Reader, name string) (*Document, error) {
	return DecodeLimit(r, name, input.DefaultMaxSize)
}

// DecodeLimit is Decode with a size limit.
func DecodeLimit(r io.Reader, name string, limit int64) (*Document, error) {
	data, err := input.ReadAll(r, name, limit)
	if input.IsTooLarge(err) {
		return nil, fmt.Errorf("snapshot %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", name, err)
	}
	// Every string of a snapshot can end up in a report or a message; a
	// string of megabytes is no account name, ARN or error.
	if off, n, long := input.LongString(data, input.MaxString); long {
		return nil, fmt.Errorf("snapshot %s: %s: a string of %d bytes; no value of a snapshot is longer than %s", name, position(data, int64(off)), n, input.FormatSize(input.MaxString))
	}
	// Check the header first, so a file of another version gets a message
	// about the version rather than about a field that moved.
	var head struct {
		Schema  string `json:"schema"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("snapshot %s: %s", name, describeJSONError(data, err, -1))
	}
	if head.Schema != Schema {
		return nil, fmt.Errorf("snapshot %s: not a Vigil snapshot (schema %s, want %q)", name, input.Quote(head.Schema), Schema)
	}
	if head.Version != Version {
		return nil, fmt.Errorf("snapshot %s: version %d is not supported (this Vigil reads version %d)", name, head.Version, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc Document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("snapshot %s: %s", name, describeJSONError(data, err, dec.InputOffset()))
	}
	if dec.More() {
		return nil, fmt.Errorf("snapshot %s: %s: unexpected data after the document", name, position(data, dec.InputOffset()))
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", name, err)
	}
	return &doc, nil
}

// Encode writes the document as indented JSON with accounts sorted by ID,
// so the same state always gives the same bytes.
func Encode(w io.Writer, d *Document) error {
	d.Sort()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// Sort orders accounts and skipped accounts by account ID, and unreached
// targets by name.
func (d *Document) Sort() {
	sort.SliceStable(d.Accounts, func(i, j int) bool { return d.Accounts[i].ID < d.Accounts[j].ID })
	if d.Organization != nil {
		s := d.Organization.Skipped
		sort.SliceStable(s, func(i, j int) bool { return s[i].AccountID < s[j].AccountID })
	}
	sort.SliceStable(d.Unreached, func(i, j int) bool { return d.Unreached[i].Target < d.Unreached[j].Target })
}

var (
	knownPartitions = map[string]bool{"": true, "aws": true, "aws-us-gov": true, "aws-cn": true, "aws-iso": true, "aws-iso-b": true, "aws-iso-e": true, "aws-iso-f": true, "aws-eusc": true}
)

// IsAccountID reports whether s is a 12-digit AWS account ID. Written by
// hand because the credential report parser calls it once per row.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// KnownPartition reports whether p is an AWS partition Vigil knows.
func KnownPartition(p string) bool { return knownPartitions[p] }

// maxLabel bounds an account's name, email and OU names.
const maxLabel = 256

// Validate checks what the JSON decoder cannot: identifiers and uniqueness.
func (d *Document) Validate() error {
	if d.Schema != Schema || d.Version != Version {
		return fmt.Errorf("schema %s version %d, want %q version %d", input.Quote(d.Schema), d.Version, Schema, Version)
	}
	if d.Accounts == nil {
		return errors.New(`"accounts" is missing`)
	}
	seen := map[string]bool{}
	for i, a := range d.Accounts {
		if !IsAccountID(a.ID) {
			return fmt.Errorf("accounts[%d]: account_id %s is not a 12-digit AWS account ID", i, input.Quote(a.ID))
		}
		if !KnownPartition(a.Partition) {
			return fmt.Errorf("accounts[%d] (%s): unknown partition %s", i, a.ID, input.Quote(a.Partition))
		}
		if seen[a.ID] {
			return fmt.Errorf("accounts[%d]: account %s appears more than once", i, a.ID)
		}
		// What heads an account in every report is held to AWS's own
		// limits, with room to spare: a name of 50 characters, an email
		// address of 64, OU names of 128.
		for _, f := range []struct{ field, value string }{{"name", a.Name}, {"email", a.Email}} {
			if len(f.value) > maxLabel {
				return fmt.Errorf("accounts[%d] (%s): %s is %d bytes long; at most %d are allowed", i, a.ID, f.field, len(f.value), maxLabel)
			}
		}
		for j, ou := range a.OUPath {
			if len(ou) > maxLabel {
				return fmt.Errorf("accounts[%d] (%s): ou_path[%d] is %d bytes long; at most %d are allowed", i, a.ID, j, len(ou), maxLabel)
			}
		}
		seen[a.ID] = true
		for j, g := range a.Gaps {
			if g.Section == "" || g.Call == "" {
				return fmt.Errorf("accounts[%d] (%s): gaps[%d] needs a section and a call", i, a.ID, j)
			}
		}
		if o := a.Org; o != nil {
			switch o.Role {
			case RoleStandalone, RoleManagement, RoleMember:
			default:
				return fmt.Errorf("accounts[%d] (%s): organization role %s is not standalone, management or member", i, a.ID, input.Quote(string(o.Role)))
			}
		}
	}
	if o := d.Organization; o != nil {
		if o.ManagementAccountID != "" && !IsAccountID(o.ManagementAccountID) {
			return fmt.Errorf("organization: management_account_id %s is not a 12-digit AWS account ID", input.Quote(o.ManagementAccountID))
		}
		for i, s := range o.Skipped {
			if !IsAccountID(s.AccountID) {
				return fmt.Errorf("organization: skipped[%d]: account_id %s is not a 12-digit AWS account ID", i, input.Quote(s.AccountID))
			}
			if seen[s.AccountID] {
				return fmt.Errorf("organization: skipped[%d]: account %s is also among the scanned accounts", i, s.AccountID)
			}
			seen[s.AccountID] = true
			if s.Reason == "" {
				return fmt.Errorf("organization: skipped[%d] (%s) needs a reason", i, s.AccountID)
			}
		}
	}
	for i, u := range d.Unreached {
		if u.Target == "" || u.Gap.Call == "" {
			return fmt.Errorf("unreached[%d] needs a target and a gap with a call", i)
		}
	}
	if o := d.Organization; o != nil && o.Controls != nil {
		if err := o.Controls.validate(); err != nil {
			return err
		}
	}
	// Rules judge the state as of its collection; without that time a
	// credential report's age and "recent" root use mean nothing.
	if d.CollectedAt.IsZero() {
		return errors.New(`"collected_at" is missing: rules judge a snapshot as of when it was collected`)
	}
	// A snapshot of nothing would evaluate to no results, and a gate
	// would pass on it. A run that scanned no account says why it is
	// incomplete.
	if len(d.Accounts) == 0 && d.Incomplete == nil {
		return errors.New(`it holds no account ("accounts" is empty), so there is nothing to evaluate`)
	}
	return nil
}

// JSONError describes an error of json.Unmarshal(data, …) for people:
// its line and column, in JSON's terms rather than Go's types. Other
// readers of JSON input use it too.
func JSONError(data []byte, err error) string { return describeJSONError(data, err, -1) }

// describeJSONError turns a decoding error into "line L, column C: what",
// in the terms of JSON rather than of Go's types.
func describeJSONError(data []byte, err error, fallback int64) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tp *time.ParseError
	switch {
	case errors.As(err, &syn):
		// Offset counts the bytes read, the bad one included.
		return fmt.Sprintf("%s: %s", position(data, syn.Offset-1), syn.Error())
	case errors.As(err, &typ):
		field := strings.TrimPrefix(typ.Field, ".")
		if field == "" {
			field = "the value"
		}
		return fmt.Sprintf("%s: %s must be %s, not %s", position(data, typ.Offset-1), field, jsonKind(typ.Type), jsonValue(typ.Value))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("%s: unexpected end of file", position(data, int64(len(data))))
	}
	// time.Time's own decoder names neither the field nor JSON.
	msg := strings.TrimPrefix(err.Error(), "json: ")
	switch {
	case errors.As(err, &tp):
		msg = fmt.Sprintf("%q is not an RFC 3339 time (such as 2026-11-26T12:00:00Z)", tp.Value)
	case strings.HasPrefix(msg, "Time.UnmarshalJSON: "):
		msg = "a time must be a JSON string in RFC 3339 form (such as \"2026-11-26T12:00:00Z\")"
	}
	if fallback >= 0 {
		return fmt.Sprintf("%s: %s", position(data, fallback), msg)
	}
	return msg
}

// jsonKind names what a Go type accepts, in JSON's words.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "a JSON string in RFC 3339 form (such as \"2026-11-26T12:00:00Z\")"
	}
	switch t.Kind() {
	case reflect.String:
		return "a JSON string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a JSON array"
	case reflect.Map, reflect.Struct:
		return "a JSON object"
	}
	return "another kind of value"
}

// jsonValue names the kind of value found, as UnmarshalTypeError reports
// it ("string", "number", "number 1.5", "bool", "array", "object").
func jsonValue(v string) string {
	kind, literal, _ := strings.Cut(v, " ")
	switch kind {
	case "string":
		return "a string"
	case "number":
		if literal != "" {
			return literal
		}
		return "a number"
	case "bool":
		return "true or false"
	case "array":
		return "an array"
	case "object":
		return "an object"
	}
	return v
}

// position converts a byte offset to a 1-based "line L, column C".
func position(data []byte, offset int64) string {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}
