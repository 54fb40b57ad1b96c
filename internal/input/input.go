package input

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// DefaultMaxSize is the largest input read unless the user raises it.
// Generous for real estates, measured: a snapshot of a 10,000-account
// organisation is about 23 MB (and takes some 470 MB of memory to
// evaluate), and a credential report of 100,000 IAM users 23 MB as CSV,
// 30 MB in base64 or the CLI's JSON.
const DefaultMaxSize int64 = 64 << 20

// MaxString is the longest string a structured input (a snapshot) may
// hold: far above any AWS identifier (an ARN is at most 2,048 characters,
// an SCP 5,120) or error message, far below what would flood a report.
const MaxString = 64 << 10

// TooLargeError is an input larger than the limit it was read with.
type TooLargeError struct {
	// Name is the file, or "stdin".
	Name  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than %s, the input size limit", e.Name, FormatSize(e.Limit))
}

// ReadAll reads r to the end, or fails with a *TooLargeError as soon as it
// has read more than limit bytes: it never holds more than limit+1 bytes
// of a larger input. A limit of 0 or less means DefaultMaxSize.
func ReadAll(r io.Reader, name string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Name: name, Limit: limit}
	}
	return data, nil
}

// IsTooLarge reports whether err is, or wraps, a *TooLargeError.
func IsTooLarge(err error) bool {
	var tl *TooLargeError
	return errors.As(err, &tl)
}

// quoteMax is how much of a value an error message shows.
const quoteMax = 64

// Quote quotes a value from an input for an error message, as %q does,
// but shows at most its first 64 bytes (cut on a character boundary) and
// then how long it is.
func Quote(s string) string {
	if len(s) <= quoteMax {
		return strconv.Quote(s)
	}
	cut := quoteMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// FormatSize writes a byte count in the largest binary unit it fills
// exactly ("64 MiB", "1536 KiB"), or in bytes.
func FormatSize(n int64) string {
	for _, u := range []struct {
		name  string
		shift uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// ParseSize reads a size: a number of bytes, or a number with a unit
// (KiB, MiB, GiB, or KB, MB, GB as powers of 1000; case does not matter;
// "64MiB" or "64 MiB").
func ParseSize(s string) (int64, error) {
	v := strings.TrimSpace(s)
	num := strings.TrimRightFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(v[len(num):]))
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("%s is not a size such as 64MiB, 500MB or 1GiB", Quote(s))
	}
	mult := map[string]int64{"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "kb": 1e3, "mb": 1e6, "gb": 1e9}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%s: unknown unit %s (want KiB, MiB, GiB, KB, MB or GB)", Quote(s), Quote(unit))
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%s is too large", Quote(s))
	}
	return n * mult, nil
}

// LongString finds the first JSON string literal in data whose value is
// longer than max bytes, without decoding the document, and returns its
// offset (at its opening quote) and the value's length. The length is
// that of the decoded UTF-8 string, counted as encoding/json decodes it
// (escapes as the bytes they stand for, invalid bytes as U+FFFD), so a
// document that passes still passes once decoded and encoded again.
//
// Every string of a structured input can end up in a report or a message,
// so one that is absurdly long is refused.
func LongString(data []byte, max int) (offset, n int, found bool) {
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		start := i
		n, i = stringLen(data, i+1)
		if n > max {
			return start, n, true
		}
	}
	return 0, 0, false
}

// stringLen measures the string literal whose body starts at data[i] and
// returns its decoded length and the index of its closing quote (or
// len(data) when it has none).
func stringLen(data []byte, i int) (n, end int) {
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return n, i
		case c == '\\' && i+1 < len(data) && data[i+1] == 'u':
			r, ok := hex4(data, i+2)
			if !ok {
				n, i = n+1, i+2
				continue
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(data, i+2); ok && i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' && utf16.DecodeRune(r, r2) != utf8.RuneError {
					n, i = n+4, i+6
					continue
				}
				n += 3 // a lone surrogate decodes to U+FFFD
				continue
			}
			n += utf8.RuneLen(r)
		case c == '\\':
			n, i = n+1, i+2
		case c < utf8.RuneSelf:
			n, i = n+1, i+1
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				n += 3 // decoded as U+FFFD
			} else {
				n += size
			}
			i += size
		}
	}
	return n, len(data)
}

// hex4 reads the four hex digits of a \u escape at data[i:].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[i:i+4]), 16, 32)
	return rune(v), err == nil
}
