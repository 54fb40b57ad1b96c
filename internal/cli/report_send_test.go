package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/asff"
)

// TestDecodeResult: a result written by the JSON writer reads back whole;
// a snapshot, another version, two values or broken JSON are refused
// with the file's name.
func TestDecodeResult(t *testing.T) {
	data, err := os.ReadFile("../../cmd/vigil/testdata/golden/scan.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeResult(data, "scan.json")
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := report.WriteJSON(&again, d); err != nil || again.String() != string(data) {
		t.Errorf("the result does not read back whole (%v)", err)
	}
	snap, _ := os.ReadFile("../../cmd/vigil/testdata/snapshot.json")
	for name, in := range map[string]string{
		"snapshot":   string(snap),
		"version 9":  strings.Replace(string(data), `"version": 1`, `"version": 9`, 1),
		"two values": string(data) + string(data),
		"broken":     string(data[:len(data)/2]),
		"array":      "[]",
	} {
		if _, err := decodeResult([]byte(in), "in.json"); err == nil || !strings.Contains(err.Error(), "in.json") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzDecodeResult: any bytes are refused or read; what is read, the
// ASFF writer writes without panicking.
func FuzzDecodeResult(f *testing.F) {
	if data, err := os.ReadFile("../../cmd/vigil/testdata/golden/scan.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"schema":"vigil.report","version":1,"results":[{"rule_id":"x","severity":"high","status":"FAIL","partition":"aws-cn"}]}`))
	f.Add([]byte(`{"schema":"vigil.report","version":1,"results":[{"severity":"nope"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := decodeResult(data, "fuzz.json")
		if err != nil {
			return
		}
		var out bytes.Buffer
		_ = asff.New(asff.Options{}).Write(&out, d)
	})
}
