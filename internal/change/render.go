package change

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// Terminal asks on a terminal and reads the answer: only "yes" goes ahead,
// as with terraform apply, so a stray Enter or "y" changes nothing.
type Terminal struct {
	In  io.Reader
	Out io.Writer
}

// Confirm writes the prompt and reads one line.
func (t Terminal) Confirm(ctx context.Context, prompt string) (bool, error) {
	if _, err := fmt.Fprintf(t.Out, "%s\nOnly 'yes' will be accepted: ", prompt); err != nil {
		return false, err
	}
	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(t.In).ReadString('\n')
		ch <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case a := <-ch:
		if a.err != nil && a.line == "" {
			if a.err == io.EOF {
				return false, nil
			}
			return false, a.err
		}
		return strings.TrimSpace(a.line) == "yes", nil
	}
}

// WritePlan renders a plan for people.
func WritePlan(w io.Writer, p *Plan) error {
	pw := &printer{w: w}
	pw.printf("%s — %s\n", p.Title, p.Scope)
	if len(p.InPlace) > 0 {
		pw.printf("\nAlready in place:\n")
		for _, s := range p.InPlace {
			pw.printf("  ✓ %s\n", s)
		}
	}
	if len(p.Steps) == 0 {
		pw.printf("\nNothing to change.\n")
	} else {
		pw.printf("\nPlanned changes (%d):\n", len(p.Steps))
		for i, s := range p.Steps {
			pw.printf("  %d. %s  %s\n", i+1, s.Action, s.Target)
			pw.printf("     %s\n", s.Description)
			if len(s.DependsOn) > 0 {
				pw.printf("     after: %s\n", strings.Join(s.DependsOn, ", "))
			}
			if s.Warning != "" {
				pw.printf("     WARNING: %s\n", s.Warning)
			}
		}
	}
	if len(p.Blocked) > 0 {
		pw.printf("\nCannot be done:\n")
		for _, b := range p.Blocked {
			pw.printf("  ✗ %s\n", b)
		}
	}
	if len(p.Warnings) > 0 {
		pw.printf("\n")
		for _, wn := range p.Warnings {
			pw.printf("WARNING: %s\n", wn)
		}
	}
	return pw.err
}

// WriteReport renders the results of Apply.
func WriteReport(w io.Writer, r *Report) error {
	pw := &printer{w: w}
	for _, res := range r.Results {
		mark := map[Status]string{Succeeded: "ok     ", Failed: "FAILED ", Skipped: "skipped"}[res.Status]
		pw.printf("  %s %s  %s", mark, res.Action, res.Target)
		if res.Detail != "" {
			pw.printf("  (%s)", res.Detail)
		}
		pw.printf("\n")
		if res.Error != "" {
			pw.printf("          %s\n", res.Error)
		}
	}
	return pw.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
