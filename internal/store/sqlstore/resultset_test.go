package sqlstore

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/lifecycle"
)

func sampleSet() []lifecycle.Observation {
	return []lifecycle.Observation{
		{AccountID: "111111111111", AccountName: "prod", RuleID: "root-access-key", Title: "Root access keys", Resource: "arn:aws:iam::111111111111:root",
			Status: "FAIL", Severity: 4, Message: "key 1 active", Evidence: []byte(`[{"source":"iam"}]`)},
		// No evidence (nil) and empty evidence are different results.
		{AccountID: "111111111111", AccountName: "prod", RuleID: "root-mfa", Title: "Root MFA", Resource: "arn:aws:iam::111111111111:root", Status: "PASS", Severity: 3},
		{AccountID: "111111111111", AccountName: "prod", RuleID: "root-mfa", Title: "Root MFA", Resource: "", Status: "UNKNOWN", Severity: -1, Message: "é ∑", Evidence: []byte{}},
	}
}

// A result set reads back as written, and the same results always make
// the same bytes and key (the key by content depends on it).
func TestResultSetRoundTrip(t *testing.T) {
	for _, obs := range [][]lifecycle.Observation{sampleSet(), nil, {}} {
		body, hash := setKey(obs)
		again, hash2 := setKey(obs)
		if !bytes.Equal(body, again) || hash != hash2 {
			t.Fatalf("two encodings of the same results differ")
		}
		data, err := packSet(body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeResults(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(obs) == 0 && len(got) == 0 {
			continue
		}
		if diff := cmp.Diff(obs, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if got[1].Evidence != nil || got[2].Evidence == nil {
			t.Errorf("nil and empty evidence not kept apart: %q %q", got[1].Evidence, got[2].Evidence)
		}
	}
	a, _ := setKey(sampleSet())
	other := sampleSet()
	other[0].Status = "PASS"
	if b, _ := setKey(other); bytes.Equal(a, b) {
		t.Error("different results encode the same")
	}
}

// Result sets written by earlier builds (gzip of JSON) still read.
func TestResultSetGzipJSON(t *testing.T) {
	raw, err := json.Marshal(sampleSet())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	got, err := decodeResults(buf.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sampleSet(), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A damaged or unknown set is an error, never a panic or a short list.
func TestResultSetMalformed(t *testing.T) {
	body, _ := setKey(sampleSet())
	data, _ := packSet(body)
	if _, err := decodeResults(append([]byte{'V', 9}, data[2:]...), nil); err == nil || !strings.Contains(err.Error(), "newer Vigil") {
		t.Errorf("a newer encoding: %v", err)
	}
	for _, bad := range [][]byte{nil, {'x'}, {'V'}, data[:len(data)/2]} {
		if _, err := decodeResults(bad, nil); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
	for n := range len(body) {
		if _, err := decodeSetBody(body[:n]); err == nil {
			t.Errorf("a body cut at %d of %d decoded", n, len(body))
		}
	}
	if _, err := decodeSetBody(append(body[:len(body):len(body)], 0)); err == nil {
		t.Error("a body with a trailing byte decoded")
	}
}

// A set changed in one result, compressed against the set it changed
// from, reads back exactly with that base, is a fraction of the full
// set's size, and is an error without its base or with a wrong one.
func TestResultSetDelta(t *testing.T) {
	var obs []lifecycle.Observation
	for range 10 {
		obs = append(obs, sampleSet()...)
	}
	for i := range obs {
		obs[i].Resource += string(rune('a' + i))
	}
	baseBody, _ := setKey(obs)
	base, err := packSet(baseBody)
	if err != nil {
		t.Fatal(err)
	}
	next := append([]lifecycle.Observation(nil), obs...)
	next[17].Status = "FAIL"
	body, _ := setKey(next)
	delta, err := packDelta(body, baseBody)
	if err != nil {
		t.Fatal(err)
	}
	if len(delta) > len(base)/4 {
		t.Errorf("delta of one changed result: %d bytes, the full set %d", len(delta), len(base))
	}
	got, err := decodeResults(delta, base)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(next, got); diff != "" {
		t.Errorf("delta round trip (-want +got):\n%s", diff)
	}
	if _, err := decodeResults(delta, nil); err == nil {
		t.Error("a delta decoded without its base")
	}
	if _, err := decodeResults(delta, delta); err == nil {
		t.Error("a delta decoded with a delta as its base")
	}
	otherBody, _ := setKey(sampleSet())
	other, _ := packSet(otherBody)
	if got, err := decodeResults(delta, other); err == nil && cmp.Equal(next, got) {
		t.Error("a delta decoded the same against another base")
	}
	// packNew writes the delta when it pays and the full set when the
	// base is not a full set of the compact encoding.
	data, b, err := packNew(body, storedSet{hash: 5, data: base})
	if err != nil || b != int64(5) || !bytes.Equal(data, delta) {
		t.Errorf("packNew with a base: base %v, %d bytes (delta %d), %v", b, len(data), len(delta), err)
	}
	data, b, err = packNew(body, storedSet{hash: 5, data: []byte{0x1f, 0x8b}})
	if err != nil || b != nil || data[1] != setVersion {
		t.Errorf("packNew on a gzip base: base %v, %v", b, err)
	}
	// A damaged base: the set is written full, readable on its own.
	data, b, err = packNew(body, storedSet{hash: 5, data: base[:len(base)/2]})
	if err != nil || b != nil || data[1] != setVersion {
		t.Errorf("packNew on a damaged base: base %v, %v", b, err)
	}
	// A delta cut short, or with a byte more, is an error.
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(delta[2:])))
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(raw) {
		if _, err := applyDelta(raw[:n], baseBody); err == nil {
			t.Errorf("a delta cut at %d of %d applied", n, len(raw))
		}
	}
	if _, err := applyDelta(append(raw[:len(raw):len(raw)], 0), baseBody); err == nil {
		t.Error("a delta with a trailing byte applied")
	}
}

// Whatever changed between two sets, the delta makes the new one
// exactly: new strings (which renumber the body's references), results
// removed, added, moved, and none in common.
func TestResultSetDeltaChanges(t *testing.T) {
	var base []lifecycle.Observation
	for range 10 {
		base = append(base, sampleSet()...)
	}
	for i := range base {
		base[i].Resource += string(rune('a' + i))
	}
	baseBody, _ := setKey(base)
	edit := func(f func(o []lifecycle.Observation) []lifecycle.Observation) []lifecycle.Observation {
		return f(append([]lifecycle.Observation(nil), base...))
	}
	for name, next := range map[string][]lifecycle.Observation{
		"new status": edit(func(o []lifecycle.Observation) []lifecycle.Observation {
			o[3].Status, o[3].Message, o[3].Evidence = "NOT_APPLICABLE", "a message never seen", []byte("{}")
			return o
		}),
		"removed":   edit(func(o []lifecycle.Observation) []lifecycle.Observation { return append(o[:5], o[9:]...) }),
		"added":     edit(func(o []lifecycle.Observation) []lifecycle.Observation { return append(o, sampleSet()...) }),
		"moved":     edit(func(o []lifecycle.Observation) []lifecycle.Observation { o[0], o[29] = o[29], o[0]; return o }),
		"reversed":  edit(func(o []lifecycle.Observation) []lifecycle.Observation { slices.Reverse(o); return o }),
		"empty":     {},
		"unrelated": sampleSet(),
	} {
		body, _ := setKey(next)
		delta, err := packDelta(body, baseBody)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		base, _ := packSet(baseBody)
		got, err := decodeResults(delta, base)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(next) == 0 && len(got) == 0 {
			continue
		}
		if diff := cmp.Diff(next, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}
