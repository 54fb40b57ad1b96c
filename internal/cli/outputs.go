package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/internal/atomicfile"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/formats"
)

// reportOutput is where a report goes and in which formats: --format
// (one, or several comma-separated with --output-dir), --output FILE or
// --output-dir DIR. vigil scan and vigil report convert share it, so a
// converted report is written exactly as a scan writes it.
type reportOutput struct {
	format    string
	output    string
	outputDir string

	formats []formats.Format // validated
	// region is the Region ASFF findings are dated in (the scan's).
	region string
}

func addReportOutputFlags(f *pflag.FlagSet, o *reportOutput, def formats.Format) {
	o.format = string(def)
	f.StringVar(&o.format, "format", o.format, "output format: "+formats.List()+"; several, comma-separated, with --output-dir")
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file (atomically) instead of stdout")
	f.StringVar(&o.outputDir, "output-dir", "", "write one file per --format into this directory (created if missing): vigil.json, vigil.sarif, vigil.ocsf.json, vigil.asff.json, vigil.csv, vigil.junit.xml, vigil.html, vigil.md…, each atomically")
}

// validate parses --format and checks the destinations; inputs are the
// command's input files, which no output may overwrite.
func (o *reportOutput) validate(inputs ...fileArg) error {
	fs, err := formats.ParseList(o.format)
	if err != nil {
		return usagef("--format %v", err)
	}
	o.formats = fs
	if o.output != "" && o.outputDir != "" {
		return usagef("--output and --output-dir cannot be combined: --output writes one format to one file, --output-dir one file per format")
	}
	if len(fs) > 1 && o.outputDir == "" {
		return usagef("--format %s: several formats need --output-dir DIR, where each gets its own file", o.format)
	}
	// The report's own files first: a clash is reported as theirs.
	files := []fileArg{{flag: "output", path: o.output, output: true}}
	if o.outputDir != "" {
		if st, err := os.Stat(o.outputDir); err == nil && !st.IsDir() {
			return usagef("--output-dir %s: is not a directory", o.outputDir)
		}
		if err := os.MkdirAll(o.outputDir, 0o755); err != nil {
			return fmt.Errorf("--output-dir %s: %w", o.outputDir, err)
		}
		for _, f := range fs {
			files = append(files, fileArg{flag: "output-dir", path: filepath.Join(o.outputDir, f.FileName()), output: true})
		}
	}
	return checkFiles(append(files, inputs...)...)
}

// write renders rep in every format asked for. options gives each
// format's options for a destination: a terminal (stdout) or a file.
// Files are written atomically, one after the other; stdout is rendered
// to memory first, so a failure half way leaves no half report.
func (o *reportOutput) write(app *App, rep *report.Document, options func(toStdout bool) formats.Options) error {
	var knowledge report.Knowledge
	if slices.ContainsFunc(o.formats, formats.Format.UsesKnowledge) {
		k, err := reportKnowledge()
		if err != nil {
			return err
		}
		knowledge = k
	}
	// The ASFF and HTML writers carry each rule's fix and compliance
	// requirements (guides), loaded once for whichever of them is asked.
	var extra formats.Options
	for _, f := range o.formats {
		if f == formats.ASFF || f == formats.HTML {
			e, err := writerOptions(f, o.region)
			if err != nil {
				return err
			}
			extra = e
			break
		}
	}
	opts := func(toStdout bool) formats.Options {
		op := options(toStdout)
		op.Knowledge, op.Stream = knowledge, toStdout
		op.ASFF, op.HTML = extra.ASFF, extra.HTML
		return op
	}
	switch {
	case o.outputDir != "":
		for _, f := range o.formats {
			path := filepath.Join(o.outputDir, f.FileName())
			if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return formats.Write(w, f, rep, opts(false)) }); err != nil {
				return fmt.Errorf("write the %s report: %w", f, err)
			}
		}
		return nil
	case o.output != "":
		if err := atomicfile.Write(o.output, 0o644, func(w io.Writer) error { return formats.Write(w, o.formats[0], rep, opts(false)) }); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	var buf bytes.Buffer
	if err := formats.Write(&buf, o.formats[0], rep, opts(true)); err != nil {
		return err
	}
	_, err := app.Stdout.Write(buf.Bytes())
	return err
}
