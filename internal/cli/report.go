package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/formats"
	"github.com/vigil-sec/vigil/internal/report/text"
)

// newReportCommand groups what works on a saved JSON report.
func newReportCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Work with a saved JSON report: convert it to another format, send it to Security Hub",
		Args:  noArgs,
	}
	cmd.AddCommand(newReportConvertCommand(app), newReportSendCommand(app))
	return cmd
}

type convertOptions struct {
	from     string
	out      reportOutput
	verbose  bool
	noColor  bool
	show     string
	maxInput int64
}

func newReportConvertCommand(app *App) *cobra.Command {
	o := convertOptions{maxInput: input.DefaultMaxSize}
	cmd := &cobra.Command{
		Use:   "convert",
		Short: "Turn a saved JSON report into any other format, with no AWS call",
		Long: `Turn a JSON report (vigil scan --format json) into any other format: the
JSON is the one source of truth, and every other format is a view of it.
What convert writes is byte for byte what the scan would have written in
that format. No AWS call is made.`,
		Example: `  vigil scan --org --format json -o results.json
  vigil report convert --from results.json --format sarif -o vigil.sarif
  vigil report convert --from results.json --format sarif,ocsf,csv,junit,markdown --output-dir reports
  vigil report convert --from results.json --format markdown >> "$GITHUB_STEP_SUMMARY"
  vigil report convert --from - --format ocsf < results.json   # JSON Lines on stdout`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runConvert(cmd.Context(), app, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "the JSON report to convert (- for stdin)")
	addReportOutputFlags(f, &o.out, formats.Text)
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show the evidence of every result in the text report")
	f.BoolVar(&o.noColor, "no-color", false, "no colour in the text report (NO_COLOR is honoured too)")
	f.StringVar(&o.show, "show", "", "text report detail: all, issues or failures (default: all for one account, issues for more)")
	f.Var(sizeFlag{&o.maxInput}, "max-input-size", maxInputUsage)
	return cmd
}

func runConvert(_ context.Context, app *App, o convertOptions) error {
	if o.from == "" {
		return usagef("--from is required: the JSON report to convert (vigil scan --format json writes one)")
	}
	if o.show != "" {
		if _, err := text.ParseShow(o.show); err != nil {
			return usagef("--show %v", err)
		}
	}
	if err := o.out.validate(fileArg{flag: "from", path: o.from}); err != nil {
		return err
	}
	var r io.Reader = app.Stdin
	name := "stdin"
	if o.from != "-" {
		f, err := os.Open(o.from)
		if err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		defer f.Close()
		r, name = f, o.from
	}
	rep, err := report.ReadJSON(r, name, o.maxInput)
	if err != nil {
		return inputError(err)
	}
	return o.out.write(app, rep, func(toStdout bool) formats.Options {
		show := text.DefaultShow(rep)
		if o.show != "" {
			show, _ = text.ParseShow(o.show) // validated already
		}
		profile := termenv.Ascii
		if toStdout {
			profile = colorProfile(app, o.noColor)
		}
		return formats.Options{Text: text.Options{Profile: profile, Verbose: o.verbose, Show: show}}
	})
}
