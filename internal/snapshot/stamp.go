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
//
// It is 16 bytes, a Unix time and which of the five a cell is, where a
// time.Time and the sentinel's text were 40: a report of 100,000 users
// holds 900,000 stamps, and the rows it keeps were two-thirds stamps.
type Stamp struct {
	sec  int64
	nsec int32
	kind stampKind
}

type stampKind uint8

// The zero kind is an absent column.
const (
	stampAbsent stampKind = iota
	stampTime
	stampNotApplicable
	stampNoInformation
	stampNotSupported
)

// Credential report sentinels.
const (
	NotApplicable = "N/A"
	NoInformation = "no_information"
	NotSupported  = "not_supported"
)

// StampOf is the stamp of a time; the zero time, like an absent column,
// holds none.
func StampOf(t time.Time) Stamp {
	if t.IsZero() {
		return Stamp{}
	}
	return Stamp{sec: t.Unix(), nsec: int32(t.Nanosecond()), kind: stampTime}
}

// StampOfUnix is StampOf(time.Unix(sec, 0)) without building the time:
// a credential report of 100,000 users holds about 900,000 stamps, and the
// time.Time made and taken apart again for each was a third of reading one.
func StampOfUnix(sec int64) Stamp {
	if sec == zeroTimeUnix {
		return Stamp{} // StampOf's zero time, 0001-01-01T00:00:00Z
	}
	return Stamp{sec: sec, kind: stampTime}
}

// zeroTimeUnix is time.Time{}.Unix().
const zeroTimeUnix = -62135596800

// SentinelStamp is the stamp of a sentinel cell: NotApplicable,
// NoInformation or NotSupported. Any other text is an absent column's.
func SentinelStamp(s string) Stamp {
	switch s {
	case NotApplicable:
		return Stamp{kind: stampNotApplicable}
	case NoInformation:
		return Stamp{kind: stampNoInformation}
	case NotSupported:
		return Stamp{kind: stampNotSupported}
	}
	return Stamp{}
}

// IsSet reports whether the stamp holds a time.
func (s Stamp) IsSet() bool { return s.kind == stampTime }

// Time is the stamp's time in UTC, the zero time when it holds none.
func (s Stamp) Time() time.Time {
	if s.kind != stampTime {
		return time.Time{}
	}
	return time.Unix(s.sec, int64(s.nsec)).UTC()
}

// Sentinel is the sentinel the cell held instead of a time, "" for a time
// or an absent column.
func (s Stamp) Sentinel() string {
	switch s.kind {
	case stampNotApplicable:
		return NotApplicable
	case stampNoInformation:
		return NoInformation
	case stampNotSupported:
		return NotSupported
	}
	return ""
}

// After reports whether s holds a time later than u's, or a time where u
// holds none.
func (s Stamp) After(u Stamp) bool {
	return s.kind == stampTime && (u.kind != stampTime || s.sec > u.sec || s.sec == u.sec && s.nsec > u.nsec)
}

// Before reports whether s holds a time before t: t.Sub(s.Time()) > 0
// without building the time, for rules that compare every user's stamps
// with a limit computed once (100,000 users, several stamps each).
func (s Stamp) Before(t time.Time) bool {
	if s.kind != stampTime {
		return false
	}
	sec := t.Unix()
	return s.sec < sec || s.sec == sec && int(s.nsec) < t.Nanosecond()
}

// AtOrBefore reports whether s holds a time at or before t.
func (s Stamp) AtOrBefore(t time.Time) bool {
	if s.kind != stampTime {
		return false
	}
	sec := t.Unix()
	return s.sec < sec || s.sec == sec && int(s.nsec) <= t.Nanosecond()
}

// Unix is the stamp's time in seconds since 1970 (s.Time().Unix()), 0
// when it holds none.
func (s Stamp) Unix() int64 {
	if s.kind != stampTime {
		return 0
	}
	return s.sec
}

// Equal reports whether s and u hold the same instant or the same
// sentinel (go-cmp compares stamps with it).
func (s Stamp) Equal(u Stamp) bool { return s == u }

// String renders the time in RFC 3339, or the sentinel.
func (s Stamp) String() string {
	if s.IsSet() {
		return s.Time().Format(time.RFC3339)
	}
	if v := s.Sentinel(); v != "" {
		return v
	}
	return "absent"
}

// MarshalJSON writes a time string, the sentinel string, or null.
func (s Stamp) MarshalJSON() ([]byte, error) {
	if s.IsSet() {
		return json.Marshal(s.Time().Format(time.RFC3339))
	}
	if v := s.Sentinel(); v != "" {
		return json.Marshal(v)
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
		*s = SentinelStamp(v)
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("timestamp %s is neither RFC 3339 nor one of N/A, no_information, not_supported", input.Quote(v))
	}
	*s = StampOf(t)
	return nil
}
