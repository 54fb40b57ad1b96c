package input

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadAll(t *testing.T) {
	data, err := ReadAll(strings.NewReader("12345"), "f", 5)
	if err != nil || string(data) != "12345" {
		t.Fatalf("at the limit: %q, %v", data, err)
	}
	_, err = ReadAll(strings.NewReader("123456"), "big.json", 5)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Name != "big.json" || tl.Limit != 5 || !IsTooLarge(err) {
		t.Fatalf("over the limit: %v", err)
	}
	if got := err.Error(); got != "big.json: larger than 5 bytes, the input size limit" {
		t.Errorf("message %q", got)
	}
	// An endless input stops at the limit.
	_, err = ReadAll(iotest.OneByteReader(endless{}), "stdin", 1<<20)
	if !IsTooLarge(err) {
		t.Errorf("endless input: %v", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestQuote(t *testing.T) {
	if got := Quote("eu-west-1"); got != `"eu-west-1"` {
		t.Errorf("short: %s", got)
	}
	long := strings.Repeat("é", 1<<20) // 2 MiB
	got := Quote(long)
	if len(got) > 100 || !strings.HasSuffix(got, "… (2097152 bytes)") || strings.Contains(got, `\x`) {
		t.Errorf("long: %s", got)
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{"64MiB": 64 << 20, "64 mib": 64 << 20, "500MB": 500e6, "1GiB": 1 << 30, "1024": 1024, "10KB": 10000, "0": 0} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1MiB", "+1MiB", "1.5GiB", "64 parsecs", "99999999999GiB", "9999999999999999999999"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
	for n, want := range map[int64]string{64 << 20: "64 MiB", 1536 << 10: "1536 KiB", 1 << 30: "1 GiB", 1000: "1000 bytes"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLongString(t *testing.T) {
	for _, c := range []struct {
		in     string
		off, n int
		found  bool
	}{
		{`{"a":"bcd"}`, 0, 0, false},
		{`{"a":"bcdef"}`, 5, 5, true},
		{`{"a":"b\"\"f"}`, 0, 0, false},
		{`{"a":"b\"\"\"f"}`, 5, 5, true},
		{`{"abcdef":1}`, 1, 6, true},
		{`{"a":"bc\\"}`, 0, 0, false},
		{`{"a":"bcdefgh`, 5, 7, true},
		{`{"a":"\u00e9\u00e9\u00e9"}`, 5, 6, true}, // é is 2 bytes
		{`{"a":"\ud83d\ude00"}`, 0, 0, false},      // one 4-byte emoji
		{`{"a":"\ud83d\ude00x"}`, 5, 5, true},
		{"{\"a\":\"\xff\xff\"}", 5, 6, true}, // invalid bytes become U+FFFD
		{`{"a":"\ud83dx"}`, 0, 0, false},     // lone surrogate: 3 + 1
	} {
		off, n, found := LongString([]byte(c.in), 4)
		if off != c.off || n != c.n && found || found != c.found {
			t.Errorf("LongString(%s) = %d, %d, %v; want %d, %d, %v", c.in, off, n, found, c.off, c.n, c.found)
		}
	}
}

// FuzzLongString: the measured length is the decoded length.
func FuzzLongString(f *testing.F) {
	f.Add(`"abc"`)
	f.Add(`"\u00e9\ud83d\ude00\ud83d\n"`)
	f.Fuzz(func(t *testing.T, lit string) {
		var v string
		if json.Unmarshal([]byte(lit), &v) != nil {
			return
		}
		if _, n, found := LongString([]byte(lit), -1); !found || n != len(v) {
			t.Fatalf("LongString(%s) measured %d (found %v), decoded length %d", lit, n, found, len(v))
		}
	})
}
