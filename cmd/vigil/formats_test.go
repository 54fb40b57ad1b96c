package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// reportFormats are the formats of issue 10, part A, with their files
// under --output-dir.
var reportFormats = []struct{ name, file string }{
	{"sarif", "vigil.sarif"}, {"ocsf", "vigil.ocsf.json"}, {"csv", "vigil.csv"}, {"junit", "vigil.junit.xml"}, {"markdown", "vigil.md"},
}

func formatList() string {
	var names []string
	for _, f := range reportFormats {
		names = append(names, f.name)
	}
	return strings.Join(names, ",")
}

// millis is an OCSF timestamp (milliseconds since the epoch): the golden
// comparison sees it as the date it is, so it moves with the reference
// time like every other date.
var millis = regexp.MustCompile(`"(time|created_time)":(\d{13})`)

func datesReadable(s string) string {
	return millis.ReplaceAllStringFunc(s, func(m string) string {
		sub := millis.FindStringSubmatch(m)
		n, _ := strconv.ParseInt(sub[2], 10, 64)
		return `"` + sub[1] + `":"` + time.UnixMilli(n).UTC().Format(time.RFC3339) + `"`
	})
}

// TestGoldenFormats: every format, written by vigil scan for the demo
// organisation, a saved single-account snapshot and a credential report,
// is its golden file; vigil report convert, from the scan's JSON, writes
// every one byte for byte the same.
func TestGoldenFormats(t *testing.T) {
	report := filepath.Join(t.TempDir(), "credential-report.csv")
	data, err := os.ReadFile("testdata/credential-report.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(report, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		// replace names a temporary path the output quotes.
		replace string
	}{
		{"org-demo", nil, []string{"scan", "--org", "--demo"}, ""},
		{"single-account", nil, []string{"scan", "--from", "testdata/snapshot.json"}, ""},
		{"credential-report", map[string]string{clock.SourceDateEpoch: testclock.EpochAt(testclock.Default)},
			[]string{"scan", "--credential-report", report, "--report-time", testclock.Default.Add(-time.Hour).Format(time.RFC3339), "--max-report-age", "0"}, report},
	} {
		t.Run(c.name, func(t *testing.T) {
			direct, converted := t.TempDir(), t.TempDir()
			args := append(c.args, "--format", "json,"+formatList(), "--output-dir", direct)
			vigil(t, c.env, args...).want(t, 0)
			saved := filepath.Join(direct, "vigil.json")
			vigil(t, c.env, "report", "convert", "--from", saved, "--format", formatList(), "--output-dir", converted).want(t, 0)
			for _, f := range reportFormats {
				got, err := os.ReadFile(filepath.Join(direct, f.file))
				if err != nil {
					t.Fatal(err)
				}
				conv, err := os.ReadFile(filepath.Join(converted, f.file))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, conv) {
					t.Errorf("%s: vigil report convert wrote different bytes from the scan's", f.file)
				}
				out := string(got)
				if c.replace != "" {
					out = strings.ReplaceAll(out, c.replace, "FILE")
				}
				out = datesReadable(out)
				if c.name == "org-demo" {
					if demoHistoryPredatesSCPs() {
						continue // as in TestOrgDemo: the demo's history then tells another story
					}
					out = demoSecond.ReplaceAllString(demoURL.ReplaceAllString(out, "http://127.0.0.1:PORT"), demoSecondMask)
				}
				golden(t, filepath.Join("formats", c.name, f.file), out)
			}
			// One format on stdout is the same as in a file, except OCSF,
			// which is JSON Lines there: the same events, one a line.
			r := vigil(t, c.env, "report", "convert", "--from", saved, "--format", "ocsf").want(t, 0)
			var array []json.RawMessage
			file, _ := os.ReadFile(filepath.Join(direct, "vigil.ocsf.json"))
			if err := json.Unmarshal(file, &array); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(strings.NewReader(r.stdout))
			sc.Buffer(nil, 1<<20)
			n := 0
			for ; sc.Scan(); n++ {
				var line, elem bytes.Buffer
				if err := json.Compact(&line, sc.Bytes()); err != nil {
					t.Fatalf("line %d is not JSON: %v", n+1, err)
				}
				if n < len(array) {
					json.Compact(&elem, array[n])
				}
				if line.String() != elem.String() || line.String() != sc.Text() {
					t.Errorf("JSON Lines event %d is not the file's event %d", n+1, n+1)
				}
			}
			if n != len(array) || n == 0 {
				t.Errorf("%d JSON Lines events, the file has %d", n, len(array))
			}
			md := vigil(t, c.env, "report", "convert", "--from", saved, "--format", "markdown").want(t, 0)
			if want, _ := os.ReadFile(filepath.Join(direct, "vigil.md")); md.stdout != string(want) {
				t.Errorf("markdown on stdout differs from the file")
			}
		})
	}
}

// TestFormatUsage: the output flags' mistakes are usage errors, before
// anything is read or written.
func TestFormatUsage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"several formats to stdout", []string{"scan", "--from", "testdata/snapshot.json", "--format", "json,sarif"}, "several formats need --output-dir"},
		{"several formats to one file", []string{"scan", "--from", "testdata/snapshot.json", "--format", "json,sarif", "-o", filepath.Join(dir, "x")}, "--output and --output-dir cannot be combined"},
		{"a format twice", []string{"scan", "--from", "testdata/snapshot.json", "--format", "csv,csv", "--output-dir", dir}, "given twice"},
		{"an unknown format in a list", []string{"scan", "--from", "testdata/snapshot.json", "--format", "csv,xml", "--output-dir", dir}, `"xml": want text, json`},
		{"output dir is a file", []string{"scan", "--from", "testdata/snapshot.json", "--format", "csv", "--output-dir", file}, "is not a directory"},
		{"convert without --from", []string{"report", "convert", "--format", "csv"}, "--from is required"},
		{"convert a snapshot", []string{"report", "convert", "--from", "testdata/snapshot.json", "--format", "csv"}, "this is a snapshot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "several formats to one file" {
				c.args = append(c.args, "--output-dir", dir)
			}
			r := vigil(t, nil, c.args...)
			if r.code != 2 && !(c.name == "convert a snapshot" && r.code == 1) {
				t.Errorf("exit code %d, want 2\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q, want %q", r.stderr, c.want)
			}
		})
	}
}
