package jsonout

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

type failing struct{ n int }

var errFail = errors.New("failed")

func (f *failing) Write(p []byte) (int, error) {
	f.n++
	return 0, errFail
}

// TestShapes: Value nests like an indented encoding of the whole; Open
// leaves an object open for members encoded already; the first write
// error is kept and nothing is written after it.
func TestShapes(t *testing.T) {
	v := map[string]any{"a": []int{1, 2}, "b": "s"}
	var b bytes.Buffer
	w := New(&b)
	w.Raw("{\n  \"x\": ")
	w.Value(v, "  ")
	w.Raw(",\n  \"y\": ")
	w.Open(struct {
		C int `json:"c"`
	}{3})
	w.Raw(`,"d":`)
	w.Bytes([]byte(`[true]`))
	w.Raw("},\n  \"z\": ")
	w.Value("<&>", "  ")
	w.Raw("\n}\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(map[string]any{"x": v}, "", "  ")
	if !bytes.HasPrefix(b.Bytes(), bytes.TrimSuffix(want, []byte("\n}"))) {
		t.Errorf("Value does not nest as the whole would:\n%s\n%s", b.String(), want)
	}
	if !bytes.Contains(b.Bytes(), []byte(`"y": {"c":3,"d":[true]}`)) || !bytes.Contains(b.Bytes(), []byte(`"<&>"`)) {
		t.Errorf("got %s", b.String())
	}
	w = New(&b)
	w.Open(3)
	if w.Flush() == nil {
		t.Errorf("Open of a number accepted")
	}
	f := &failing{}
	w = New(f)
	w.Raw("x")
	w.Bytes(make([]byte, 128<<10)) // past the buffer: written through
	w.Line(1)
	if err := w.Flush(); !errors.Is(err, errFail) || f.n != 1 {
		t.Errorf("Flush = %v after %d writes, want the first error after one", err, f.n)
	}
}
