package report_test

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
)

// TestJSONConformance: the canonical JSON keeps the writer contract.
func TestJSONConformance(t *testing.T) {
	reporttest.Run(t, report.JSONWriter{}, reporttest.JSONText)
}
