package credreport

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/vigil-sec/vigil/internal/credreport/credreporttest"
)

// TestPlainRecordsMatchCSV: a report read by plainRecords gives the same
// report, or the same error at the same line and column, as encoding/csv.
func TestPlainRecordsMatchCSV(t *testing.T) {
	badBool := strings.Replace(cleanRoot, "not_supported,true,false", "not_supported,yes,false", 1)
	user := func(name, arn string) string {
		return strings.Replace(strings.Replace(cleanRoot, "<root_account>", name, 1), "arn:aws:iam::111122223333:root", arn, 1)
	}
	inputs := map[string]string{
		"synthetic":         string(credreporttest.Synthetic(50)),
		"no final newline":  header + "\n" + cleanRoot,
		"empty lines":       "\n" + header + "\n\n" + cleanRoot + "\n\n\n" + user("bob", "arn:aws:iam::111122223333:user/bob") + "\n",
		"user not at end":   header + "\n" + user("bob", "arn:aws:iam::111122223333:user/x/alice"),
		"user in a path":    header + "\n" + user("bob", "arn:aws:iam::111122223333:user/team/bob") + "\n" + cleanRoot,
		"names alike":       header + "\n" + user("ob", "arn:aws:iam::111122223333:user/bob"),
		"bad bool":          header + "\n" + badBool + "\n",
		"short row":         header + "\n<root_account>,arn:aws:iam::111122223333:root\n",
		"long row":          header + "\n" + cleanRoot + ",extra\n",
		"header only":       header + "\n",
		"no user column":    "arn,foo\nx,y\n",
		"duplicate column":  "user,arn,user\na,b,c\n",
		"empty cells":       header + "\n" + strings.Replace(cleanRoot, "N/A", "", 1) + "\n",
		"spaces":            header + "\n " + strings.ReplaceAll(cleanRoot, ",", " , ") + "\n",
		"old report":        string(mustRead(t, "testdata/old-16-columns.csv")),
		"root with key":     string(mustRead(t, "testdata/root-active-key.csv")),
		"regions repeat":    header + "\n" + cleanRoot + "\n" + strings.Repeat(user("u", "arn:aws:iam::111122223333:user/u")+"\n", 3),
		"only a line break": "\n",
		"long cell":         header + "\n" + strings.Replace(cleanRoot, "<root_account>", strings.Repeat("x", maxCell+1), 1) + "\n",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			data := []byte(in)
			if !plainCSV(data) {
				t.Fatal("input is not plain; the test would compare encoding/csv with itself")
			}
			fast, ferr := ParseCSV(data)
			slow, serr := Parse(bytes.NewReader(data))
			if fmt.Sprint(ferr) != fmt.Sprint(serr) {
				t.Fatalf("error %v, encoding/csv gives %v", ferr, serr)
			}
			if diff := cmp.Diff(slow, fast); diff != "" {
				t.Errorf("report differs from encoding/csv's (-csv +plain):\n%s", diff)
			}
		})
	}
	// What plainRecords must not read goes to encoding/csv.
	for _, in := range []string{header + "\n\"<root_account>\",x\n", header + "\r\n" + cleanRoot + "\r\n"} {
		if plainCSV([]byte(in)) {
			t.Errorf("%q is not plain", in)
		}
	}
}

// TestParsedRowsOwnTheirStrings: nothing the report keeps points into the
// input, which the caller may reuse.
func TestParsedRowsOwnTheirStrings(t *testing.T) {
	data := credreporttest.Synthetic(3)
	rep, err := ParseCSV(data)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%+v %v", rep.UserRows, rep.Columns)
	for i := range data {
		data[i] = 'X'
	}
	if got := fmt.Sprintf("%+v %v", rep.UserRows, rep.Columns); got != want {
		t.Errorf("the report changed with its input:\n%s\nwas\n%s", got, want)
	}
}

// TestInternerSharesCopies: the regions and services of the rows are
// copies of the input (not the input's bytes), one copy per distinct
// text whether a row repeats the row above or a text comes back later.
func TestInternerSharesCopies(t *testing.T) {
	in := []byte("eu-west-1 ec2 eu-west-1 s3 us-east-1 ec2 eu-west-1 ec2 eu-west-1 ec2")
	words := strings.Fields(string(in))
	var seen interner
	first := map[string]string{}
	for i, w := range words {
		cell := unsafe.String(&in[strings.Index(string(in), w)], len(w)) // the input's own bytes
		got := seen.get(i%4, cell)
		if got != w {
			t.Fatalf("get(%q) = %q", w, got)
		}
		if unsafe.StringData(got) == unsafe.StringData(cell) {
			t.Fatalf("get(%q) returned the input's bytes", w)
		}
		if f, ok := first[w]; ok && unsafe.StringData(f) != unsafe.StringData(got) {
			t.Errorf("%q copied twice", w)
		}
		first[w] = got
	}
	if seen.get(0, "") != "" {
		t.Error("empty text not empty")
	}
}

// TestCellsTrimmed: spaces, tabs and a non-ASCII byte at either end of a
// cell are trimmed as strings.TrimSpace trims them, so a report padded
// with them reads as the report without.
func TestCellsTrimmed(t *testing.T) {
	clean := credreporttest.Synthetic(3)
	want, err := ParseCSV(clean)
	if err != nil {
		t.Fatal(err)
	}
	for _, pad := range []string{" ", "\t", "\u00a0", " \t "} {
		lines := strings.Split(strings.TrimSuffix(string(clean), "\n"), "\n")
		for i := 1; i < len(lines); i++ {
			cells := strings.Split(lines[i], ",")
			for k := range cells {
				switch k % 3 {
				case 0:
					cells[k] = pad + cells[k]
				case 1:
					cells[k] += pad
				}
			}
			lines[i] = strings.Join(cells, ",")
		}
		got, err := ParseCSV([]byte(strings.Join(lines, "\n") + "\n"))
		if err != nil {
			t.Fatalf("padded with %q: %v", pad, err)
		}
		if diff := cmp.Diff(want.UserRows, got.UserRows); diff != "" || !cmp.Equal(want.Root, got.Root) {
			t.Errorf("padded with %q, rows differ:\n%s", pad, diff)
		}
	}
}
