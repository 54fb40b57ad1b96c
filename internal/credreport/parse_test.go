package credreport

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigil-sec/vigil/internal/credreport/credreporttest"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

const header = credreporttest.Header

const cleanRoot = "<root_account>,arn:aws:iam::111122223333:root,2019-03-14T09:21:07+00:00,not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"

func ts(s string) snapshot.Stamp {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return snapshot.StampOf(t.UTC())
}

func sentinel(s string) snapshot.Stamp { return snapshot.SentinelStamp(s) }

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRootWithActiveKeyIgnoresUserNamedRoot(t *testing.T) {
	rep, err := Decode(mustRead(t, "testdata/root-active-key.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.AccountID != "210987654321" || rep.Partition != "aws" || rep.Users != 2 {
		t.Fatalf("account %s partition %s users %d", rep.AccountID, rep.Partition, rep.Users)
	}
	want := &snapshot.CredentialRow{
		User:                "<root_account>",
		ARN:                 "arn:aws:iam::210987654321:root",
		CreationTime:        ts("2019-03-14T09:21:07Z"),
		PasswordEnabled:     "not_supported",
		PasswordLastUsed:    ts("2026-10-02T17:40:12Z"),
		PasswordLastChanged: sentinel("not_supported"),
		AccessKeys: [2]snapshot.KeySlot{
			{Active: true, LastRotated: ts("2019-03-14T09:45:51Z"), LastUsedDate: ts("2026-10-30T08:12:00Z"), LastUsedRegion: "us-east-1", LastUsedService: "ec2"},
			{LastRotated: sentinel("N/A"), LastUsedDate: sentinel("N/A")},
		},
		Certificates: [2]snapshot.CertSlot{{LastRotated: sentinel("N/A")}, {LastRotated: sentinel("N/A")}},
	}
	if diff := cmp.Diff(want, rep.Root); diff != "" {
		t.Errorf("root row (-want +got):\n%s", diff)
	}
}

func TestParseOld16ColumnReport(t *testing.T) {
	rep, err := Decode(mustRead(t, "testdata/old-16-columns.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Root
	if r == nil || !r.MFAActive || r.AccessKeys[0].Active || !r.AccessKeys[0].Present() {
		t.Fatalf("root row = %+v; want MFA on and an inactive key 1 present", r)
	}
	if r.AccessKeys[0].LastUsedDate != (snapshot.Stamp{}) {
		t.Errorf("last used date of a 16-column report = %v, want absent", r.AccessKeys[0].LastUsedDate)
	}
	wantMissing := []string{"access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service"}
	if diff := cmp.Diff(wantMissing, r.Missing); diff != "" {
		t.Errorf("missing columns (-want +got):\n%s", diff)
	}
}

func TestColumnsAreFoundByName(t *testing.T) {
	// Same data, columns shuffled: the parser must not care about order.
	cols := strings.Split(header, ",")
	vals := strings.Split(cleanRoot, ",")
	perm := []int{1, 0, 7, 3, 2, 4, 5, 6}
	for i := 8; i < len(cols); i++ {
		perm = append(perm, i)
	}
	var h, v []string
	for _, p := range perm {
		h = append(h, cols[p])
		v = append(v, vals[p])
	}
	rep, err := Parse(strings.NewReader(strings.Join(h, ",") + "\n" + strings.Join(v, ",") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Root.MFAActive || rep.Root.PasswordLastUsed.Sentinel() != snapshot.NoInformation {
		t.Errorf("shuffled columns misread: %+v", rep.Root)
	}
}

func TestInactiveKeyIsPresent(t *testing.T) {
	row := "<root_account>,arn:aws:iam::111122223333:root,2019-03-14T09:21:07+00:00,not_supported,N/A,not_supported,not_supported,false,false,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	rep, err := Parse(strings.NewReader(header + "\n" + row + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	k := rep.Root.AccessKeys[0]
	if k.Active || !k.Present() {
		t.Errorf("slot 1 = %+v: want inactive but present", k)
	}
	if rep.Root.AccessKeys[1].Present() {
		t.Error("slot 2 should be empty")
	}
}

func TestDecodeForms(t *testing.T) {
	csvText := header + "\n" + cleanRoot + "\n"
	b64 := base64.StdEncoding.EncodeToString([]byte(csvText))
	wrapped := ""
	for i := 0; i < len(b64); i += 76 {
		wrapped += b64[i:min(i+76, len(b64))] + "\n"
	}
	cliJSON := fmt.Sprintf(`{"Content": %q, "ReportFormat": "text/csv", "GeneratedTime": "2026-11-20T10:00:00+00:00"}`, b64)
	for name, in := range map[string]string{
		"csv":          csvText,
		"csv with BOM": "\ufeff" + csvText,
		"crlf":         strings.ReplaceAll(csvText, "\n", "\r\n"),
		"base64":       b64 + "\n",
		"base64 lines": wrapped,
		"cli json":     cliJSON,
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := Decode([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if rep.AccountID != "111122223333" || rep.Root == nil || !rep.Root.MFAActive {
				t.Fatalf("got %+v", rep)
			}
			if name == "cli json" {
				if rep.GeneratedTime == nil || !rep.GeneratedTime.Equal(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)) {
					t.Errorf("GeneratedTime = %v", rep.GeneratedTime)
				}
			} else if rep.GeneratedTime != nil {
				t.Errorf("GeneratedTime = %v, want unknown", rep.GeneratedTime)
			}
		})
	}
}

func TestPartitions(t *testing.T) {
	for _, p := range []string{"aws-us-gov", "aws-cn"} {
		row := strings.Replace(cleanRoot, "arn:aws:", "arn:"+p+":", 1)
		rep, err := Parse(strings.NewReader(header + "\n" + row + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Partition != p {
			t.Errorf("partition = %q, want %q", rep.Partition, p)
		}
	}
}

func TestNoRootRowStillGivesAccount(t *testing.T) {
	row := "alice,arn:aws:iam::111122223333:user/alice,2019-03-14T09:21:07+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	rep, err := Parse(strings.NewReader(header + "\n" + row + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Root != nil || rep.AccountID != "111122223333" || rep.Users != 1 {
		t.Errorf("got %+v", rep)
	}
}

func TestErrorsNameLineAndColumn(t *testing.T) {
	badBool := strings.Replace(cleanRoot, "not_supported,true,false", "not_supported,yes,false", 1)
	badTime := strings.Replace(cleanRoot, "2019-03-14T09:21:07+00:00", "14/03/2019", 1)
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"no user column", "arn,foo\nx,y\n", `line 1, column 1: header has no "user" column`},
		{"header only", header + "\n", "no rows"},
		{"bad bool", header + "\n" + badBool + "\n", "line 2, column 130 (mfa_active): \"yes\" is not true or false"},
		{"bad time", header + "\n" + badTime + "\n", "line 2, column 47 (user_creation_time)"},
		{"short row", header + "\n" + "<root_account>,arn:aws:iam::111122223333:root\n", "line 2, column 1: wrong number of fields"},
		{"bad quote", header + "\n" + `"<root_account>,x` + "\n", "line 2"},
		{"two roots", header + "\n" + cleanRoot + "\n" + cleanRoot + "\n", "line 3, column 1: second <root_account> row"},
		{"root row with user arn", header + "\n" + strings.Replace(cleanRoot, ":root,", ":user/root,", 1) + "\n", "line 2, column 16 (arn): <root_account> row has ARN \"arn:aws:iam::111122223333:user/root\", not a root ARN"},
		{"mixed accounts", header + "\n" + cleanRoot + "\n" + strings.Replace(strings.Replace(cleanRoot, "111122223333", "444455556666", 1), "<root_account>", "bob", 1) + "\n", "line 3, column 5 (arn)"},
		{"not an arn", header + "\n" + strings.Replace(cleanRoot, "arn:aws:iam::111122223333:root", "nope", 1) + "\n", "(arn): \"nope\" is not an IAM ARN"},
		{"duplicate column", "user,arn,user\na,b,c\n", "line 1, column 3 (user): column appears twice"},
		{"cli json without content", `{"ReportFormat":"text/csv"}`, `no "Content" field`},
		{"cli json content not a string", `{"Content": 5}`, "line 1, column 13: Content must be a JSON string, not a number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.in))
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestParseErrorUnwraps(t *testing.T) {
	_, err := Parse(strings.NewReader(header + "\n<root_account>\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Fatalf("err = %v, want a *ParseError on line 2", err)
	}
}

func TestFastTimeMatchesTimeParse(t *testing.T) {
	for _, s := range []string{"2026-10-02T17:40:12+00:00", "2026-10-02T17:40:12Z", "2024-02-29T00:00:00+00:00", "2023-02-29T00:00:00+00:00", "2026-13-01T00:00:00Z", "2026-10-02T17:40:12+02:00", "2026-10-02T17:40:12.5Z", "0000-01-01T00:00:00Z", "0000-02-29T12:00:00Z", "0001-01-01T00:00:00Z"} {
		want, werr := time.Parse(time.RFC3339, s)
		got, gerr := parseTime(s)
		if (werr != nil) != (gerr != nil) || (werr == nil && !got.Equal(want)) {
			t.Errorf("%s: got %v, %v; time.Parse says %v, %v", s, got, gerr, want, werr)
		}
	}
}

// TestFastTimeEveryDay: the hand parser agrees with time.Parse on every
// day from 1600 to 2400 (leap years, century rules) and refuses the days
// that do not exist.
func TestFastTimeEveryDay(t *testing.T) {
	for d := time.Date(1600, 1, 1, 23, 59, 58, 0, time.UTC); d.Year() < 2400; d = d.AddDate(0, 0, 1) {
		s := d.Format("2006-01-02T15:04:05+00:00")
		got, ok := fastUTC(s)
		if !ok || got != d {
			t.Fatalf("%s: got %v %v, want %v", s, got, ok, d)
		}
	}
	for _, s := range []string{"2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z"} {
		if _, ok := fastUTC(s); ok {
			t.Errorf("%s accepted", s)
		}
	}
	if _, ok := fastUTC("2000-02-29T00:00:00Z"); !ok {
		t.Error("2000-02-29 refused")
	}
}

// TestFastTimeRefusesNonDigits: any byte but a digit, in any place of a
// digit, makes the hand parser give up (time.Parse then decides).
func TestFastTimeRefusesNonDigits(t *testing.T) {
	for _, good := range []string{"2026-10-02T17:40:12+00:00", "1999-09-19T09:09:09Z"} {
		for i := range 19 {
			if good[i] < '0' || good[i] > '9' {
				continue
			}
			for c := range 256 {
				if c >= '0' && c <= '9' {
					continue
				}
				s := good[:i] + string([]byte{byte(c)}) + good[i+1:]
				if got, ok := fastUTC(s); ok {
					t.Fatalf("%q accepted as %v", s, got)
				}
			}
		}
	}
}

// TestCommaBytes: commaBytes marks exactly the commas of eight bytes,
// whatever their neighbours.
func TestCommaBytes(t *testing.T) {
	var b [8]byte
	for i := range 8 {
		for c := range 256 {
			for _, fill := range []byte{0, ',', '-', 0x2d, 0x2b, 0xac, 0xff, 'a'} {
				for k := range b {
					b[k] = fill
				}
				b[i] = byte(c)
				var want uint64
				for k, x := range b {
					if x == ',' {
						want |= 0x80 << (8 * k)
					}
				}
				if got := commaBytes(binary.LittleEndian.Uint64(b[:])); got != want {
					t.Fatalf("% x: %#x, want %#x", b, got, want)
				}
			}
		}
	}
}

// FuzzPlainMatchesCSV: whatever the input, reading it without
// encoding/csv (when it has nothing quoted) gives what encoding/csv gives.
func FuzzPlainMatchesCSV(f *testing.F) {
	f.Add([]byte(header + "\n" + cleanRoot + "\n"))
	f.Add(mustReadF(f, "testdata/root-active-key.csv"))
	f.Add(mustReadF(f, "testdata/old-16-columns.csv"))
	f.Add(credreporttest.Synthetic(3))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !plainCSV(data) {
			return
		}
		fast, ferr := ParseCSV(data)
		slow, serr := Parse(bytes.NewReader(data))
		if fmt.Sprint(ferr) != fmt.Sprint(serr) {
			t.Fatalf("error %v, encoding/csv gives %v", ferr, serr)
		}
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Fatalf("report differs (-csv +plain):\n%s", diff)
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(header + "\n" + cleanRoot + "\n"))
	f.Add(mustReadF(f, "testdata/root-active-key.csv"))
	f.Add(mustReadF(f, "testdata/old-16-columns.csv"))
	f.Add([]byte(`{"Content":"dXNlcixhcm4K"}`))
	f.Add([]byte("dXNlcixhcm4K"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Decode(data)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) && (pe.Line < 1 || pe.Column < 0) {
				t.Fatalf("error with a bad position: %v", err)
			}
			return
		}
		if !snapshot.IsAccountID(rep.AccountID) {
			t.Fatalf("accepted a report with account %q", rep.AccountID)
		}
		if rep.Root != nil && !strings.HasSuffix(rep.Root.ARN, ":"+rep.AccountID+":root") {
			t.Fatalf("root row %q does not belong to account %s", rep.Root.ARN, rep.AccountID)
		}
	})
}

func mustReadF(f *testing.F, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func TestSyntheticReport(t *testing.T) {
	rep, err := Decode(credreporttest.Synthetic(1000))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Users != 1000 || rep.Root == nil {
		t.Fatalf("users %d root %v", rep.Users, rep.Root)
	}
}

func benchmarkParse(b *testing.B, n int) {
	data := credreporttest.Synthetic(n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse10k(b *testing.B)  { benchmarkParse(b, 10_000) }
func BenchmarkParse100k(b *testing.B) { benchmarkParse(b, 100_000) }

// TestNewestTime: a CSV carries no generation time, but every time it
// records is before it; the newest is kept as a lower bound and named as
// such. A JSON generation time earlier than a recorded time is a lie.
func TestNewestTime(t *testing.T) {
	user := "alice,arn:aws:iam::111122223333:user/alice,2020-01-01T00:00:00+00:00,true,2026-11-20T08:00:00+00:00,2020-01-01T00:00:00+00:00,N/A,false,true,2020-01-01T00:00:00+00:00,2026-11-21T09:30:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	csvText := header + "\n" + cleanRoot + "\n" + user + "\n"
	rep, err := Decode([]byte(csvText))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)
	if rep.Newest == nil || !rep.Newest.Equal(want) {
		t.Fatalf("Newest = %v, want %v", rep.Newest, want)
	}
	cr := rep.Snapshot()
	if cr.GeneratedTime != nil || cr.NewestTime == nil || !cr.NewestTime.Equal(want) || cr.TimeSource != snapshot.TimeFromNewest {
		t.Errorf("snapshot section: %+v", cr)
	}
	if at, exact, ok := cr.AsOf(); !ok || exact || !at.Equal(want) {
		t.Errorf("AsOf = %v, %v, %v", at, exact, ok)
	}

	b64 := base64.StdEncoding.EncodeToString([]byte(csvText))
	if _, err := Decode([]byte(fmt.Sprintf(`{"Content": %q, "GeneratedTime": "2026-11-21T09:00:00Z"}`, b64))); err == nil || !strings.Contains(err.Error(), "GeneratedTime 2026-11-21T09:00:00Z is before 2026-11-21T09:30:00Z") {
		t.Errorf("generation before a recorded time: %v", err)
	}
	rep, err = Decode([]byte(fmt.Sprintf(`{"Content": %q, "GeneratedTime": "2026-11-21T10:00:00Z"}`, b64)))
	if err != nil {
		t.Fatal(err)
	}
	if cr := rep.Snapshot(); cr.GeneratedTime == nil || cr.NewestTime != nil || cr.TimeSource != snapshot.TimeFromFile {
		t.Errorf("with a generation time: %+v", cr)
	}
}

// TestRootRowAnywhere holds that the root row is taken out of the user
// rows wherever it stands (the rows are decoded in the place a user row is
// kept, so a root row in the middle or at the end reuses that place), and
// that every user row is the same as with the root row first.
func TestRootRowAnywhere(t *testing.T) {
	users := []string{
		"alice,arn:aws:iam::111122223333:user/alice,2020-01-01T00:00:00+00:00,true,2026-11-01T00:00:00+00:00,2020-01-01T00:00:00+00:00,N/A,true,true,2020-01-01T00:00:00+00:00,2026-11-20T00:00:00+00:00,us-east-1,iam,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
		"bob,arn:aws:iam::111122223333:user/ops/bob,2021-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
		"carol,arn:aws:iam::111122223333:user/carol,2022-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2022-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
	}
	parse := func(at int) *Report {
		t.Helper()
		lines := append([]string{}, users[:at]...)
		lines = append(lines, cleanRoot)
		lines = append(lines, users[at:]...)
		rep, err := Decode([]byte(header + "\n" + strings.Join(lines, "\n") + "\n"))
		if err != nil {
			t.Fatalf("root at %d: %v", at, err)
		}
		return rep
	}
	first := parse(0)
	if first.Root == nil || first.Root.User != RootUser || len(first.UserRows) != len(users) || first.Users != len(users) {
		t.Fatalf("root first: root %+v, %d user rows", first.Root, len(first.UserRows))
	}
	if got := first.UserRows[1].User; got != "bob" {
		t.Fatalf("user of a pathed ARN is %q", got)
	}
	for at := 1; at <= len(users); at++ {
		rep := parse(at)
		if diff := cmp.Diff(first.Root, rep.Root); diff != "" {
			t.Errorf("root at %d: root row differs (-first +here):\n%s", at, diff)
		}
		if diff := cmp.Diff(first.UserRows, rep.UserRows); diff != "" {
			t.Errorf("root at %d: user rows differ (-first +here):\n%s", at, diff)
		}
	}
}

// fastUnixBytewise is fastUnix as it was before it read eight bytes at a
// time, digit by digit: the reference FuzzFastUnix holds it to.
func fastUnixBytewise(v string) (int64, bool) {
	switch {
	case len(v) == 25 && v[19:] == "+00:00":
	case len(v) == 20 && v[19] == 'Z':
	default:
		return 0, false
	}
	if v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' {
		return 0, false
	}
	var n [14]int
	for i, p := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if v[p] < '0' || v[p] > '9' {
			return 0, false
		}
		n[i] = int(v[p] - '0')
	}
	y := uint(n[0]*1000 + n[1]*100 + n[2]*10 + n[3])
	mo, day := uint(n[4]*10+n[5]), uint(n[6]*10+n[7])
	h, mi, s := n[8]*10+n[9], n[10]*10+n[11], n[12]*10+n[13]
	if mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	if y == 0 || day > daysIn(mo, y) {
		return 0, false
	}
	return daysFromCivil(y, mo, day)*86400 + int64(h*3600+mi*60+s), true
}

// FuzzFastUnix: the stamp reader that takes eight bytes at a time agrees
// with the one that took a digit at a time, and what it accepts
// time.Parse reads as the same second.
func FuzzFastUnix(f *testing.F) {
	for _, s := range []string{"2026-10-02T17:40:12+00:00", "2026-10-02T17:40:12Z", "2024-02-29T00:00:00+00:00", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z", "2026-1O-02T17:40:12Z", "2026-10-02T17:40:1:Z", "2026/10/02T17:40:12Z", "2026-10-02t17:40:12Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := fastUnix(v)
		want, wok := fastUnixBytewise(v)
		if ok != wok || got != want {
			t.Fatalf("%q: fastUnix %d %v, bytewise %d %v", v, got, ok, want, wok)
		}
		if ok {
			tm, err := time.Parse(time.RFC3339, v)
			if err != nil || tm.Unix() != got {
				t.Fatalf("%q: fastUnix %d, time.Parse %v %v", v, got, tm, err)
			}
		}
	})
}

// TestFastUnixEveryByte: every byte in every place of two stamps gives
// the same answer as the bytewise reader (the separators' places too).
func TestFastUnixEveryByte(t *testing.T) {
	for _, good := range []string{"2026-10-02T17:40:12+00:00", "1999-09-19T09:09:09Z", "2000-02-29T23:59:59Z"} {
		for i := range good {
			for c := range 256 {
				s := good[:i] + string([]byte{byte(c)}) + good[i+1:]
				got, ok := fastUnix(s)
				want, wok := fastUnixBytewise(s)
				if ok != wok || got != want {
					t.Fatalf("%q: fastUnix %d %v, bytewise %d %v", s, got, ok, want, wok)
				}
			}
		}
	}
}
