package sqlstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// A packed finding is a row of findings, but for last_seen, as one text
// value in the column packed, which the writers keep (findingArgs) on an
// engine whose dialect asks for it (SQLite), so that a listing reads two
// columns a row across the driver instead of 21. Through
// modernc.org/sqlite every column read costs two calls that take the
// connection's mutex, a type call and a driver value, which made a list
// of 19,000 open findings cost ~125 ms where stepping the rows costs
// ~25 (BENCHMARKS.md, issue 12). last_seen stays out: the recorder
// updates it alone for every finding seen again (batchWrites.write),
// and rewriting the packed value there would cost every recording.
//
// The value is the fields in packedFields order, each
//
//	text or blob:  <byte length> ':' <bytes>   (NULL: no length, ':')
//	integer:       <decimal> ';'               (NULL: nothing, ';')
//
// A length says where a text ends whatever bytes it holds (separators,
// newlines, invalid UTF-8, NUL), and a NULL timestamp is no digits at
// all, never the 0 of the epoch. packFinding writes it in Go;
// PackedExpr, the same in SQL, fills a row written without it (the
// migration, and the listing's fallback for a NULL). A finding read
// back holds nil for empty evidence, as the driver reads an empty blob.
type packedKind uint8

const (
	packedText packedKind = iota
	packedInt
)

// packedFields are the columns of a packed finding, in their order.
var packedFields = []struct {
	col  string
	kind packedKind
}{
	{"id", packedText}, {"account_id", packedText}, {"account_name", packedText}, {"ou", packedText},
	{"rule_id", packedText}, {"title", packedText}, {"resource", packedText}, {"state", packedText},
	{"status", packedText}, {"severity", packedInt}, {"message", packedText}, {"evidence", packedText},
	{"first_seen", packedInt}, {"opened_at", packedInt}, {"resolved_at", packedInt},
	{"regressions", packedInt}, {"resolutions", packedInt}, {"open_seconds", packedInt},
	{"unknown_since", packedInt}, {"gap", packedText},
}

// PackedExpr is a packed finding built from a row's columns in SQLite:
// concat() copies each argument once into one result and reads NULL as
// empty; octet_length() counts bytes, where length() would count
// characters, and a blob's bytes are copied as they are.
var PackedExpr = func() string {
	var b strings.Builder
	b.WriteString("concat(")
	for i, f := range packedFields {
		if i > 0 {
			b.WriteString(", ")
		}
		if f.kind == packedText {
			fmt.Fprintf(&b, "octet_length(%s), ':', %s", f.col, f.col)
		} else {
			fmt.Fprintf(&b, "%s, ';'", f.col)
		}
	}
	b.WriteString(")")
	return b.String()
}()

// packedSelect lists findings packed: the kept value, or one built from
// the columns where a row has none, and last_seen.
var packedSelect = "SELECT coalesce(packed, " + PackedExpr + "), last_seen FROM findings"

// packFinding is the packed value of f, as PackedExpr builds it from the
// row findingArgs writes.
func packFinding(f *lifecycle.Finding, ou string) string {
	n := 20*12 + len(f.ID) + len(f.AccountID) + len(f.AccountName) + len(ou) + len(f.RuleID) + len(f.Title) +
		len(f.Resource) + len(f.State) + len(f.Status) + len(f.Message) + len(f.Evidence) + len(f.Gap)
	b := make([]byte, 0, n)
	text := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	integer := func(v int64) {
		b = strconv.AppendInt(b, v, 10)
		b = append(b, ';')
	}
	optional := func(t *time.Time) {
		if t != nil {
			b = strconv.AppendInt(b, t.UnixMilli(), 10)
		}
		b = append(b, ';')
	}
	text(f.ID)
	text(f.AccountID)
	text(f.AccountName)
	text(ou)
	text(f.RuleID)
	text(f.Title)
	text(f.Resource)
	text(string(f.State))
	text(f.Status)
	integer(int64(f.Severity))
	text(f.Message)
	// A nil slice is bound as NULL, an empty one as an empty blob.
	if f.Evidence != nil {
		b = strconv.AppendInt(b, int64(len(f.Evidence)), 10)
	}
	b = append(b, ':')
	b = append(b, f.Evidence...)
	integer(ms(f.FirstSeen))
	integer(ms(f.OpenedAt))
	optional(f.ResolvedAt)
	integer(int64(f.Regressions))
	integer(int64(f.Resolutions))
	integer(f.OpenSeconds)
	optional(f.UnknownSince)
	text(f.Gap)
	return string(b)
}

var errPacked = errors.New("malformed packed finding")

// packedReader takes a packed finding apart. Its texts are substrings of
// the one string the driver returned for the row: one allocation for
// every text of the finding, kept alive by any of them, all of which
// belong to the same finding.
type packedReader struct {
	s   string
	err error
}

// number reads an integer up to its terminator sep as SQLite writes one
// (an optional minus, then digits without a leading zero but "0"
// itself, within int64), in one pass: anything else (a plus, "-0",
// "007", a space, no terminator) is refused, so that a packed finding
// has one spelling only. null reports no digits at all. After an error
// every call returns zero values.
func (p *packedReader) number(sep byte) (v int64, null bool) {
	if p.err != nil {
		return 0, false
	}
	s := p.s
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		neg, i = true, 1
	}
	start := i
	var u uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c == sep {
			break
		}
		if c < '0' || c > '9' || i-start >= 19 { // 19 digits hold any int64
			p.err = errPacked
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	n := i - start
	switch {
	case i == len(s), // no terminator
		n == 0 && neg,                    // "-"
		n > 1 && s[start] == '0',         // a leading zero
		neg && n == 1 && s[start] == '0', // "-0"
		u > 1<<63, !neg && u == 1<<63:    // beyond int64
		p.err = errPacked
		return 0, false
	}
	p.s = s[i+1:]
	if n == 0 {
		return 0, true
	}
	if neg {
		return -int64(u), false
	}
	return int64(u), false
}

// integer reads an integer field; null reports NULL, an error if the
// column may not be NULL (nullable false).
func (p *packedReader) integer(nullable bool) (v int64, null bool) {
	v, null = p.number(';')
	if null && !nullable {
		p.err = errPacked
	}
	return v, null
}

// text reads a text or blob field.
func (p *packedReader) text() (v string, null bool) {
	n, null := p.number(':')
	if p.err != nil || null {
		return "", null
	}
	if n < 0 || n > int64(len(p.s)) {
		p.err = errPacked
		return "", false
	}
	v, p.s = p.s[:n], p.s[n:]
	return v, false
}

// notNull reads a text that may not be NULL.
func (p *packedReader) notNull() string {
	v, null := p.text()
	if null && p.err == nil {
		p.err = errPacked
	}
	return v
}

// decodePacked fills *f from a packed finding and its last_seen. times holds the
// finding's two optional timestamps, so that pointing at them costs no
// allocation of their own (the listing passes a slot of a block).
func decodePacked(s string, lastSeen int64, f *store.Finding, times *[2]time.Time) error {
	p := packedReader{s: s}
	f.ID = p.notNull()
	f.AccountID = p.notNull()
	f.AccountName = p.notNull()
	f.OU = p.notNull()
	f.RuleID = p.notNull()
	f.Title = p.notNull()
	f.Resource = p.notNull()
	f.State = lifecycle.State(p.notNull())
	f.Status = p.notNull()
	sev, _ := p.integer(false)
	f.Severity = int(sev)
	f.Message = p.notNull()
	// A copy: the finding's bytes are its own to change, and the row's
	// string must stay immutable. Empty evidence is nil, as
	// modernc.org/sqlite reads an empty blob from the column: NULL and
	// empty are told apart in the packed value, not in a Finding.
	if ev, _ := p.text(); ev != "" {
		f.Evidence = []byte(ev)
	} else {
		f.Evidence = nil
	}
	first, _ := p.integer(false)
	opened, _ := p.integer(false)
	f.FirstSeen, f.LastSeen, f.OpenedAt = fromMs(first), fromMs(lastSeen), fromMs(opened)
	f.ResolvedAt = p.optionalTime(&times[0])
	regr, _ := p.integer(false)
	res, _ := p.integer(false)
	f.Regressions, f.Resolutions = int(regr), int(res)
	f.OpenSeconds, _ = p.integer(false)
	f.UnknownSince = p.optionalTime(&times[1])
	f.Gap = p.notNull()
	if p.err == nil && p.s != "" {
		p.err = errPacked
	}
	if p.err != nil {
		return fmt.Errorf("%w (%d bytes)", p.err, len(s))
	}
	return nil
}

// optionalTime reads a nullable timestamp into *slot and points at it.
func (p *packedReader) optionalTime(slot *time.Time) *time.Time {
	v, null := p.integer(true)
	if null || p.err != nil {
		return nil
	}
	*slot = fromMs(v)
	return slot
}
