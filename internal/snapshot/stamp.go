package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/input"
)

// Stamp is a timestamp cell of the credential report: either a time or the
// sentinel AWS wrote instead of one. The sentinels mean different things
// ("N/A": nothing to date; "no_information": never used, or used before
// tracking began; "not_supported": the field does not apply to root), and
// none of them is the zero time.
type Stamp struct {
	Time time.Time
	// Sentinel is the literal cell text when it was not a time. Empty
	// together with a zero Time means the column was absent.
	Sentinel string
}

// Credential report sentinels.
const (
	NotApplicable = "N/A"
	NoInformation = "no_information"
	NotSupported  = "not_supported"
)

// IsSet reports whether the stamp holds a time.
func (s Stamp) IsSet() bool { return !s.Time.IsZero() }

// String renders the time in RFC 3339, or the sentinel.
func (s Stamp) String() string {
	if s.IsSet() {
		return s.Time.UTC().Format(time.RFC3339)
	}
	if s.Sentinel != "" {
		return s.Sentinel
	}
	return "absent"
}

// MarshalJSON writes a time string, the sentinel string, or null.
func (s Stamp) MarshalJSON() ([]byte, error) {
	if s.IsSet() {
		return json.Marshal(s.Time.UTC().Format(time.RFC3339))
	}
	if s.Sentinel != "" {
		return json.Marshal(s.Sentinel)
	}
	return []byte("null"), nil
}

// UnmarshalJSON accepts what MarshalJSON writes and nothing else.
func (s *Stamp) UnmarshalJSON(b []byte) error {
	*s = Stamp{}
	if string(b) == "null" {
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		// Not wrapped: the decoder's error names Go types, and its offset
		// is within this value, not the file.
		return errors.New("a timestamp must be a JSON string or null")
	}
	switch v {
	case NotApplicable, NoInformation, NotSupported:
		s.Sentinel = v
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("timestamp %s is neither RFC 3339 nor one of N/A, no_information, not_supported", input.Quote(v))
	}
	s.Time = t
	return nil
}
