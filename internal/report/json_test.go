package report_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
)

// TestJSONConformance: the canonical JSON keeps the writer contract.
func TestJSONConformance(t *testing.T) {
	reporttest.Run(t, report.JSONWriter{}, reporttest.JSONText)
}

// TestJSONStreamsTheWholeEncoding: streaming the results gives the bytes
// of encoding the whole document at once, for every document of the
// suite and a thousand-result organisation.
func TestJSONStreamsTheWholeEncoding(t *testing.T) {
	docs := append(reporttest.Documents(), reporttest.Document{Name: "large", Doc: reporttest.Large(1000)})
	for _, d := range docs {
		var whole, streamed bytes.Buffer
		enc := json.NewEncoder(&whole)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d.Doc); err != nil {
			t.Fatal(err)
		}
		if err := report.WriteJSON(&streamed, d.Doc); err != nil {
			t.Fatal(err)
		}
		if whole.String() != streamed.String() {
			t.Errorf("%s: the streamed JSON differs from the whole encoding", d.Name)
		}
	}
}
