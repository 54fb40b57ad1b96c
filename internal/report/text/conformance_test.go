package text

import (
	"testing"

	"github.com/muesli/termenv"

	"github.com/vigil-sec/vigil/internal/report/reporttest"
)

// TestConformance: the text writer keeps the writer contract with every
// detail level, with and without colour.
func TestConformance(t *testing.T) {
	for name, o := range map[string]Options{
		"plain":       {},
		"colour":      {Profile: termenv.ANSI256},
		"issues":      {Show: ShowIssues},
		"failures":    {Show: ShowFailures, Profile: termenv.ANSI256},
		"verbose":     {Verbose: true},
		"narrow":      {Width: 40},
		"true colour": {Profile: termenv.TrueColor, Verbose: true},
	} {
		t.Run(name, func(t *testing.T) {
			reporttest.Run(t, New(o), reporttest.TerminalText)
		})
	}
}
