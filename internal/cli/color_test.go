package cli

import (
	"bytes"
	"io"
	"testing"

	"github.com/muesli/termenv"
)

func TestColorProfile(t *testing.T) {
	for _, c := range []struct {
		name    string
		tty     bool
		noColor string
		flag    bool
		want    termenv.Profile
	}{
		{"terminal", true, "", false, termenv.ANSI256},
		{"pipe", false, "", false, termenv.Ascii},
		{"NO_COLOR", true, "1", false, termenv.Ascii},
		{"--no-color", true, "", true, termenv.Ascii},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := &App{Stdout: &bytes.Buffer{}, Getenv: func(k string) string {
				if k == "NO_COLOR" {
					return c.noColor
				}
				return ""
			}, IsTerminal: func(io.Writer) bool { return c.tty }}
			if got := colorProfile(app, c.flag); got != c.want {
				t.Errorf("profile = %v, want %v", got, c.want)
			}
		})
	}
}
