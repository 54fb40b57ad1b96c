package reporttest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/slowtest"
)

// writerFunc adapts a function to report.Writer.
type writerFunc func(io.Writer, *report.Document) error

func (f writerFunc) Write(w io.Writer, d *report.Document) error { return f(w, d) }

// TestCatchesBrokenWriters: each way of breaking the contract is caught
// by the check for it: a suite that passed everything would prove
// nothing. (The canonical JSON writer passes it: report's own tests.)
func TestCatchesBrokenWriters(t *testing.T) {
	var calls atomic.Int64
	cases := []struct {
		name  string
		w     report.Writer
		check string
	}{
		{"a counter in the output", writerFunc(func(w io.Writer, d *report.Document) error {
			return report.WriteJSON(w, &report.Document{Schema: fmt.Sprint(calls.Add(1)), Accounts: d.Accounts, Results: d.Results})
		}), "deterministic"},
		{"the environment printed", writerFunc(func(w io.Writer, d *report.Document) error {
			if _, err := fmt.Fprintln(w, `"`+os.Getenv("AWS_SECRET_ACCESS_KEY")+`"`); err != nil {
				return err
			}
			return nil
		}), "no secret"},
		{"a redacted value put back", writerFunc(func(w io.Writer, d *report.Document) error {
			// A writer that quotes the raw gap of an account it re-reads
			// from elsewhere; here, the canary itself.
			return json.NewEncoder(w).Encode(canarySessionToken)
		}), "no secret"},
		{"the empty document refused", writerFunc(func(w io.Writer, d *report.Document) error {
			if len(d.Accounts) == 0 {
				return fmt.Errorf("no accounts")
			}
			return report.WriteJSON(w, d)
		}), "every document"},
		{"messages cut to 20 bytes", writerFunc(func(w io.Writer, d *report.Document) error {
			c := *d
			c.Results = append(c.Results[:0:0], d.Results...)
			for i := range c.Results {
				if m := c.Results[i].Message; len(m) > 20 {
					c.Results[i].Message = m[:20]
				}
			}
			return report.WriteJSON(w, &c)
		}), "text intact"},
		{"account names left out", writerFunc(func(w io.Writer, d *report.Document) error {
			c := *d
			c.Accounts = nil
			c.Results = append(c.Results[:0:0], d.Results...)
			for i := range c.Results {
				c.Results[i].OwnMeta().AccountName = ""
			}
			return report.WriteJSON(w, &c)
		}), "text intact"},
		{"write errors swallowed", writerFunc(func(w io.Writer, d *report.Document) error {
			_ = report.WriteJSON(w, d)
			return nil
		}), "write errors"},
		{"writing on after an error", writerFunc(func(w io.Writer, d *report.Document) error {
			var first error
			for _, r := range d.Results {
				if _, err := fmt.Fprintln(w, r.Message); err != nil && first == nil {
					first = err
				}
			}
			_, err := io.WriteString(w, "{}\n")
			if first == nil {
				first = err
			}
			return first
		}), "write errors"},
		{"the document sorted in place", writerFunc(func(w io.Writer, d *report.Document) error {
			for i, j := 0, len(d.Results)-1; i < j; i, j = i+1, j-1 {
				d.Results[i], d.Results[j] = d.Results[j], d.Results[i]
			}
			return report.WriteJSON(w, d)
		}), "document unchanged"},
		{"invalid JSON", writerFunc(func(w io.Writer, d *report.Document) error {
			if err := report.WriteJSON(w, d); err != nil {
				return err
			}
			_, err := io.WriteString(w, "}")
			return err
		}), "every document"},
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", envCanaries["AWS_SECRET_ACCESS_KEY"])
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(c.w, JSONText)
			if err == nil {
				t.Fatalf("not caught")
			}
			if !strings.Contains(err.Error(), c.check+": ") {
				t.Errorf("caught, but not by %q: %v", c.check, err)
			}
		})
	}
}

// TestTerminalText: colour is allowed, other control characters are not.
func TestTerminalText(t *testing.T) {
	for in, ok := range map[string]bool{
		"plain\n":                       true,
		"\x1b[1mbold\x1b[0m\n":          true,
		"\x1b[38;5;1mred\x1b[0m\ttab\n": true,
		"clear \x1b[2J screen\n":        false,
		"title \x1b]0;pwned\x07\n":      false,
		"overwrite\rline\n":             false,
		"c1 \u009b31m\n":                false,
		"bad utf-8 \xff\n":              false,
		"עברית · العربية · 中文 · 🚀\n": true,
	} {
		_, err := TerminalText([]byte(in))
		if (err == nil) != ok {
			t.Errorf("TerminalText(%q): error %v, want ok=%v", in, err, ok)
		}
	}
}

// TestCanariesAreShaped: the planted credentials look like the real ones,
// so the redaction is tested on realistic input.
func TestCanariesAreShaped(t *testing.T) {
	if len(canarySecretKey) != 40 || len(envCanaries["AWS_SECRET_ACCESS_KEY"]) != 40 {
		t.Errorf("a secret access key canary is not 40 characters")
	}
	if len(canarySessionToken) < 300 {
		t.Errorf("the session token canary is %d characters", len(canarySessionToken))
	}
}

// TestCatchesUnboundedWriters: a writer that renders everything into
// memory before writing (here, four copies of the canonical JSON) fails
// the bounded-memory check; the canonical JSON itself passes.
func TestCatchesUnboundedWriters(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector multiplies memory")
	}
	slowtest.Skip(t, "a 100,000-result organisation written in bounded memory")
	hoard := writerFunc(func(w io.Writer, d *report.Document) error {
		var copies [][]byte
		for range 4 {
			var b strings.Builder
			if err := report.WriteJSON(&b, d); err != nil {
				return err
			}
			copies = append(copies, []byte(b.String()))
		}
		_, err := w.Write(copies[0])
		// The four copies are held until the write is done, as a writer
		// that renders into memory holds them: without this the compiler
		// may let the last three die before the write, and a collection
		// just then hid them from the heap sample (failed CI once, in the
		// 2034 rerun).
		runtime.KeepAlive(copies)
		return err
	})
	if err := CheckLarge(hoard); err == nil || !strings.Contains(err.Error(), "heap grew") {
		t.Errorf("a writer holding four copies of its output passed: %v", err)
	}
	if err := CheckLarge(report.JSONWriter{}); err != nil {
		t.Errorf("the canonical JSON: %v", err)
	}
}

// TestDuplicateKeys: an object with a member twice is found, at any
// depth; the same key in different objects is not a duplicate.
func TestDuplicateKeys(t *testing.T) {
	for in, dup := range map[string]bool{
		`{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`: false,
		`{"a":1,"a":2}`:                   true,
		`[{"x":{"y":[1,{"z":1,"z":2}]}}]`: true,
		`{"a":"a","b":"a"}`:               false,
		"{\"a\":1}\n{\"a\":2}\n":          false,
		`{"a":{},"a":[]}`:                 true,
	} {
		if err := DuplicateKeys([]byte(in)); (err != nil) != dup {
			t.Errorf("DuplicateKeys(%s) = %v, want a duplicate: %v", in, err, dup)
		}
	}
}
