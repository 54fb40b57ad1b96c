package reporttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/slowtest"
)

// Read turns a writer's output into the text a reader of it sees, or
// fails when the output is not valid for the writer's format. The checks
// look for the document's strings, and for secrets, in that text: a
// string that JSON escapes or HTML entity-encodes is found once decoded.
type Read func(out []byte) (string, error)

// Run checks w against the report.Writer contract, one subtest per
// promise, on a corpus of documents built through report.Build (one
// account, an organisation, a compliance view, an empty document, one
// whose every target was unreachable, text in many scripts, and one with
// canary credentials planted where error text reaches the model), and a
// 100,000-result organisation written in bounded memory. Run
// also sets AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN to canaries, so a
// writer that prints the environment fails; it cannot run in parallel
// with other tests for that reason (t.Setenv).
func Run(t *testing.T, w report.Writer, read Read) {
	t.Helper()
	for k, v := range envCanaries {
		t.Setenv(k, v)
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if err := c.check(w, read); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run(largeCheck, func(t *testing.T) {
		if raceEnabled {
			t.Skip("the race detector multiplies memory: the bound is checked without it")
		}
		slowtest.Skip(t, "a 100,000-result organisation written in bounded memory")
		if !firstOfType(w) {
			t.Skipf("checked once per writer type (%T) in a test binary: options change what is shown, not how it is written", w)
		}
		if err := checkLargeOrganisation(w, read); err != nil {
			t.Error(err)
		}
	})
}

// largeCheck names the bounded-memory check, which Run runs apart from
// the others (it is skipped under the race detector and in quick runs)
// and Check leaves out (CheckLarge runs it alone).
const largeCheck = "large organisation"

var (
	largeMu      sync.Mutex
	largeChecked = map[string]bool{}
)

// firstOfType reports whether w is the first writer of its type the
// bounded-memory check sees: it takes seconds, and a writer's tests run
// the suite once per set of options.
func firstOfType(w report.Writer) bool {
	largeMu.Lock()
	defer largeMu.Unlock()
	k := fmt.Sprintf("%T", w)
	if largeChecked[k] {
		return false
	}
	largeChecked[k] = true
	return true
}

// CheckLarge is the bounded-memory check alone, without testing.T.
func CheckLarge(w report.Writer) error {
	if err := checkLargeOrganisation(w, nil); err != nil {
		return fmt.Errorf("%s: %w", largeCheck, err)
	}
	return nil
}

// RunStream is Run for a writer of a stream of records (JSON Lines, one
// record per result): a document without results is then no records at
// all, an empty output, which Run would refuse.
func RunStream(t *testing.T, w report.Writer, read Read) {
	t.Helper()
	Run(t, stream{w}, read)
}

// stream marks a writer run by RunStream.
type stream struct{ report.Writer }

// mayBeEmpty: a stream's output for a document without results may be
// empty.
func mayBeEmpty(w report.Writer, d *report.Document) bool {
	_, ok := w.(stream)
	return ok && len(d.Results) == 0
}

// Check is Run without testing.T: every broken promise, joined, or nil.
// It leaves the environment alone.
func Check(w report.Writer, read Read) error {
	var errs []error
	for _, c := range checks {
		if err := c.check(w, read); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// The promises, in the order of the report.Writer contract.
var checks = []struct {
	name  string
	check func(report.Writer, Read) error
}{
	{"deterministic", checkDeterministic},
	{"input order", checkInputOrder},
	{"no secret", checkNoSecret},
	{"every document", checkEveryDocument},
	{"text intact", checkTextIntact},
	{"write errors", checkWriteErrors},
	{"document unchanged", checkUnchanged},
}

func write(w report.Writer, d *report.Document) ([]byte, error) {
	var buf bytes.Buffer
	err := w.Write(&buf, d)
	return buf.Bytes(), err
}

// checkDeterministic: the same document written twice, and the same
// inputs built twice, give the same bytes.
func checkDeterministic(w report.Writer, _ Read) error {
	for _, doc := range corpus() {
		d := doc.build(nil)
		first, err := write(w, d)
		if err != nil {
			return fmt.Errorf("%s: %w", doc.name, err)
		}
		for i, d := range []*report.Document{d, doc.build(nil)} {
			again, err := write(w, d)
			if err != nil {
				return fmt.Errorf("%s: %w", doc.name, err)
			}
			if !bytes.Equal(first, again) {
				what := []string{"the same document", "the same inputs built again"}[i]
				return fmt.Errorf("%s: %s written twice gives different bytes:\n%s", doc.name, what, firstDifference(first, again))
			}
		}
	}
	return nil
}

// checkInputOrder: inputs in any order (accounts, skipped accounts,
// unreached targets, results), built through report.Build, give the same
// bytes.
func checkInputOrder(w report.Writer, _ Read) error {
	for _, doc := range corpus() {
		want, err := write(w, doc.build(nil))
		if err != nil {
			return fmt.Errorf("%s: %w", doc.name, err)
		}
		for seed := range uint64(4) {
			r := rand.New(rand.NewPCG(seed, 17))
			got, err := write(w, doc.build(r.Shuffle))
			if err != nil {
				return fmt.Errorf("%s: %w", doc.name, err)
			}
			if !bytes.Equal(want, got) {
				return fmt.Errorf("%s: inputs shuffled (seed %d) give different bytes:\n%s", doc.name, seed, firstDifference(want, got))
			}
		}
	}
	return nil
}

// checkNoSecret: no canary, nor 16 characters of one, in the bytes or in
// the text read from them (with whitespace removed, so a secret wrapped
// over two lines is found too).
func checkNoSecret(w report.Writer, read Read) error {
	secrets := canaries()
	for _, v := range envCanaries {
		secrets = append(secrets, v)
	}
	for _, doc := range corpus() {
		out, err := write(w, doc.build(nil))
		if err != nil {
			return fmt.Errorf("%s: %w", doc.name, err)
		}
		text, err := read(out)
		if err != nil {
			return fmt.Errorf("%s: the output is not valid: %w", doc.name, err)
		}
		for _, hay := range []string{string(out), text, strings.Join(strings.Fields(text), "")} {
			for _, s := range secrets {
				if frag := leaked(hay, s); frag != "" {
					return fmt.Errorf("%s: the output holds a planted secret (%q of %q…)", doc.name, frag, s[:12])
				}
			}
		}
	}
	return nil
}

// leaked is the first 16-character part of secret found in hay, or "".
func leaked(hay, secret string) string {
	const window = 16
	for i := 0; i+window <= len(secret); i++ {
		if f := secret[i : i+window]; strings.Contains(hay, f) {
			return f
		}
	}
	return ""
}

// checkEveryDocument: every document, the empty ones included, is
// written without error as a non-empty output valid for the format.
func checkEveryDocument(w report.Writer, read Read) error {
	for _, doc := range corpus() {
		d := doc.build(nil)
		out, err := write(w, d)
		if err != nil {
			return fmt.Errorf("%s: %w", doc.name, err)
		}
		if len(out) == 0 && !mayBeEmpty(w, d) {
			return fmt.Errorf("%s: nothing written", doc.name)
		}
		if !utf8.Valid(out) {
			return fmt.Errorf("%s: the output is not valid UTF-8", doc.name)
		}
		if _, err := read(out); err != nil {
			return fmt.Errorf("%s: the output is not valid: %w", doc.name, err)
		}
	}
	return nil
}

// checkTextIntact: the output is valid UTF-8 and, for every document
// without a compliance view, shows each FAIL result's rule ID, account ID,
// account name and message whole (whitespace may be re-flowed, nothing
// else changed).
func checkTextIntact(w report.Writer, read Read) error {
	for _, doc := range corpus() {
		d := doc.build(nil)
		out, err := write(w, d)
		if err != nil {
			return fmt.Errorf("%s: %w", doc.name, err)
		}
		if !utf8.Valid(out) {
			return fmt.Errorf("%s: the output is not valid UTF-8", doc.name)
		}
		text, err := read(out)
		if err != nil {
			return fmt.Errorf("%s: the output is not valid: %w", doc.name, err)
		}
		if d.Compliance != nil {
			continue
		}
		text = flow(text)
		names := map[string]string{}
		for _, a := range d.Accounts {
			names[a.AccountID] = a.Name
		}
		for _, r := range d.Results {
			if r.Status != rule.Fail {
				continue
			}
			for what, s := range map[string]string{"rule ID": r.RuleID, "account ID": r.AccountID, "account name": names[r.AccountID], "message": r.Message} {
				if s != "" && !strings.Contains(text, flow(s)) {
					return fmt.Errorf("%s: the %s of a FAIL result, %q, is not in the output whole:\n%s", doc.name, what, s, text)
				}
			}
		}
	}
	return nil
}

// flow collapses whitespace, as a writer that wraps lines may.
func flow(s string) string { return strings.Join(strings.Fields(s), " ") }

// checkWriteErrors: the first error of the io.Writer is returned, and
// nothing is written after it.
func checkWriteErrors(w report.Writer, _ Read) error {
	for _, doc := range corpus() {
		out, err := write(w, doc.build(nil))
		if err != nil {
			return fmt.Errorf("%s: %w", doc.name, err)
		}
		if len(out) == 0 {
			continue // a stream of no records: nothing to fail
		}
		for _, n := range []int{0, 1, len(out) / 2, len(out) - 1} {
			fw := &failingWriter{budget: n}
			err := w.Write(fw, doc.build(nil))
			switch {
			case !errors.Is(err, errWrite):
				return fmt.Errorf("%s: the io.Writer failed after %d of %d bytes, and Write returned %v", doc.name, n, len(out), err)
			case fw.after > 0:
				return fmt.Errorf("%s: %d more writes after the io.Writer failed (after %d bytes)", doc.name, fw.after, n)
			}
		}
	}
	return nil
}

var errWrite = errors.New("reporttest: the io.Writer failed")

// failingWriter takes budget bytes, then fails every write.
type failingWriter struct {
	budget int
	failed bool
	after  int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.failed {
		f.after++
		return 0, errWrite
	}
	if len(p) > f.budget {
		f.failed = true
		n := f.budget
		f.budget = 0
		return n, errWrite
	}
	f.budget -= len(p)
	return len(p), nil
}

// checkUnchanged: Write leaves the document as it found it, and writers
// rendering the same document at once agree (the race detector sees a
// writer that changes it).
func checkUnchanged(w report.Writer, _ Read) error {
	for _, doc := range corpus() {
		d := doc.build(nil)
		var before bytes.Buffer
		if err := report.WriteJSON(&before, d); err != nil {
			return err
		}
		want, err := write(w, d)
		if err != nil {
			return fmt.Errorf("%s: %w", doc.name, err)
		}
		var after bytes.Buffer
		if err := report.WriteJSON(&after, d); err != nil {
			return err
		}
		if !bytes.Equal(before.Bytes(), after.Bytes()) {
			return fmt.Errorf("%s: Write changed the document:\n%s", doc.name, firstDifference(before.Bytes(), after.Bytes()))
		}
		const n = 4
		outs := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { outs[i], errs[i] = write(w, d) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				return fmt.Errorf("%s: written at once with others: %w", doc.name, errs[i])
			}
			if !bytes.Equal(outs[i], want) {
				return fmt.Errorf("%s: written at once with others, different bytes:\n%s", doc.name, firstDifference(want, outs[i]))
			}
		}
	}
	return nil
}

// firstDifference shows where two outputs part, for a failure message.
func firstDifference(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-60)
	return fmt.Sprintf("at byte %d:\n  %q\n  %q", i, a[from:min(len(a), i+60)], b[from:min(len(b), i+60)])
}

// DuplicateKeys finds an object with a member twice in valid JSON (or in
// JSON Lines), which encoding/json reads without a word, keeping the
// last, and other readers may not.
func DuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{object: t == '{', keys: map[string]bool{}, key: t == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.object && top.key {
				if top.keys[t] {
					return fmt.Errorf("the member %q appears twice in an object (at byte %d)", t, dec.InputOffset())
				}
				top.keys[t] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true
		}
	}
}

// JSONText reads an output that is one JSON value: it must be valid JSON,
// and its text is every string in it (keys and values), one per line, as
// decoded. For report.WriteJSON and the formats built on JSON.
func JSONText(out []byte) (string, error) {
	if !json.Valid(out) {
		return "", errors.New("not one valid JSON value")
	}
	if err := DuplicateKeys(out); err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		return "", err
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v + "\n")
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				b.WriteString(k + "\n")
				walk(v[k])
			}
		}
	}
	walk(v)
	return b.String(), nil
}

// sgr is a Select Graphic Rendition sequence: colour and weight, the only
// escape sequence a terminal report may hold.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TerminalText reads an output meant for a terminal: valid UTF-8 whose
// only control characters are newlines, tabs and SGR colour sequences
// (no other escape sequence, no carriage return that would overwrite a
// line). Its text is the output without the colour.
func TerminalText(out []byte) (string, error) {
	if !utf8.Valid(out) {
		return "", errors.New("not valid UTF-8")
	}
	text := sgr.ReplaceAllString(string(out), "")
	for i, r := range text {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 {
			return "", fmt.Errorf("control character %U at byte %d (colour removed)", r, i)
		}
	}
	return text, nil
}
