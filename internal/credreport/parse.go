package credreport

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// RootUser is the user column of the root row.
const RootUser = "<root_account>"

// Report is a parsed credential report.
type Report struct {
	// Columns is the header as read.
	Columns []string
	// Users counts IAM user rows (root excluded).
	Users int
	// Root is the root row, nil when the report has none.
	Root *snapshot.CredentialRow
	// UserRows are the IAM user rows, in report order.
	UserRows []snapshot.CredentialRow
	// AccountID and Partition come from the root row's ARN, or from the
	// first user's ARN when there is no root row.
	AccountID string
	Partition string
	// GeneratedTime is known only when the input was the CLI's JSON output.
	GeneratedTime *time.Time
	// Newest is the newest time in any row, nil when the report records
	// none. IAM generated the report at or after it.
	Newest *time.Time
}

// Snapshot converts the report into the snapshot section. Without a
// generation time, the newest time the report records stands in as its
// lower bound.
func (r *Report) Snapshot() *snapshot.CredentialReport {
	cr := &snapshot.CredentialReport{Columns: len(r.Columns), Users: r.Users, Root: r.Root, UserRows: r.UserRows}
	switch {
	case r.GeneratedTime != nil:
		t := r.GeneratedTime.UTC()
		cr.GeneratedTime = &t
		cr.TimeSource = snapshot.TimeFromFile
	case r.Newest != nil:
		t := r.Newest.UTC()
		cr.NewestTime = &t
		cr.TimeSource = snapshot.TimeFromNewest
	}
	return cr
}

// columns Vigil reads. Only user and arn are required; the rest are recorded
// as missing when absent.
const (
	colUser = iota
	colARN
	colCreation
	colPasswordEnabled
	colPasswordLastUsed
	colPasswordLastChanged
	colMFAActive
	colKey1Active
	colKey1Rotated
	colKey1UsedDate
	colKey1UsedRegion
	colKey1UsedService
	colKey2Active
	colKey2Rotated
	colKey2UsedDate
	colKey2UsedRegion
	colKey2UsedService
	colCert1Active
	colCert1Rotated
	colCert2Active
	colCert2Rotated
	numCols
)

var columnNames = [numCols]string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// Decode reads a credential report in any of the forms users have: the CSV
// itself, the base64 text of `aws iam get-credential-report --query Content
// --output text`, or the JSON that the same command prints by default (which
// also carries GeneratedTime).
func Decode(data []byte) (*Report, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, errors.New("the file is empty")
	case trimmed[0] == '{':
		return decodeCLIJSON(trimmed)
	case looksLikeBase64(trimmed):
		raw, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(trimmed), nil)))
		if err == nil {
			rep, perr := parseBytes(raw)
			if perr != nil {
				return nil, fmt.Errorf("base64-decoded content: %w", perr)
			}
			return rep, nil
		}
	}
	return parseBytes(data)
}

// rowsIn estimates the rows of a CSV from its line breaks, so that the
// user rows are allocated once: a report of 100,000 users grown by append
// allocates about five times its final size (large slices grow by a
// quarter). A quoted cell with a line break only makes it an over-estimate.
func rowsIn(data []byte) int {
	return bytes.Count(data, []byte{'\n'}) + 1
}

// looksLikeBase64 is true when the first line cannot be a CSV header: no
// comma, and only base64 characters.
func looksLikeBase64(b []byte) bool {
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	}
	if bytes.IndexByte(line, ',') >= 0 {
		return false
	}
	for _, c := range bytes.TrimSpace(line) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

func decodeCLIJSON(b []byte) (*Report, error) {
	var out struct {
		Content       *string `json:"Content"`
		ReportFormat  string  `json:"ReportFormat"`
		GeneratedTime string  `json:"GeneratedTime"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("JSON input (as printed by aws iam get-credential-report): %s", snapshot.JSONError(b, err))
	}
	if out.Content == nil {
		return nil, errors.New(`JSON input has no "Content" field; expected the output of aws iam get-credential-report`)
	}
	if out.ReportFormat != "" && out.ReportFormat != "text/csv" {
		return nil, fmt.Errorf("JSON input: ReportFormat %s is not text/csv", input.Quote(out.ReportFormat))
	}
	raw, err := base64.StdEncoding.DecodeString(*out.Content)
	if err != nil {
		return nil, fmt.Errorf("JSON input: Content is not base64: %w", err)
	}
	rep, err := parseBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("JSON input, decoded Content: %w", err)
	}
	if out.GeneratedTime != "" {
		t, err := parseTime(out.GeneratedTime)
		if err != nil {
			return nil, fmt.Errorf("JSON input: GeneratedTime %s is not an ISO 8601 time", input.Quote(out.GeneratedTime))
		}
		rep.GeneratedTime = &t
		if rep.Newest != nil && rep.Newest.After(t.Add(snapshot.ClockSkew)) {
			return nil, fmt.Errorf("JSON input: GeneratedTime %s is before %s, a time the report records; it cannot have been generated then", t.Format(time.RFC3339), rep.Newest.Format(time.RFC3339))
		}
	}
	return rep, nil
}

// ParseError is a problem at a place in the CSV.
type ParseError struct {
	Line, Column int
	Field        string // column name, when known
	Err          error
}

func (e *ParseError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("line %d, column %d (%s): %v", e.Line, e.Column, e.Field, e.Err)
	}
	return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Column, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a credential report CSV. Every row is decoded and checked,
// so a damaged report is rejected with the line and column of the damage.
func Parse(r io.Reader) (*Report, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	return parse(cr, func(n int) { cr.FieldsPerRecord = n }, 0)
}

// ParseCSV is Parse of a report held in memory: prefer it when the bytes
// are at hand. It sizes the rows before reading them, and reads a report
// with nothing quoted (every report IAM writes) without encoding/csv's
// copy of each line.
func ParseCSV(data []byte) (*Report, error) { return parseBytes(data) }

func parseBytes(data []byte) (*Report, error) {
	if plainCSV(data) {
		p := newPlainRecords(data)
		return parse(p, func(n int) { p.fieldsPerRecord = n }, rowsIn(data))
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.ReuseRecord = true
	return parse(cr, func(n int) { cr.FieldsPerRecord = n }, rowsIn(data))
}

// parse reads a report's records; fieldsPerRecord makes the reader refuse
// a record whose length differs from the header's, and rows is the number
// of rows expected (0 when unknown). The records' cells may point into a
// buffer the next Read reuses: what the report keeps is copied.
func parse(cr records, fieldsPerRecord func(int), rows int) (*Report, error) {
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("the report is empty: no header line")
	}
	if err != nil {
		return nil, csvError(err)
	}
	if err := checkCells(cr, header); err != nil {
		return nil, err
	}
	rep := &Report{Columns: make([]string, len(header))}
	for i, h := range header {
		rep.Columns[i] = strings.Clone(h)
	}
	if rows > 1 {
		rep.UserRows = make([]snapshot.CredentialRow, 0, rows-1)
	}
	var idx [numCols]int
	for i := range idx {
		idx[i] = -1
	}
	for pos, name := range header {
		name = strings.TrimSpace(name)
		if pos == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		for c, want := range columnNames {
			if name == want {
				if idx[c] >= 0 {
					return nil, &ParseError{Line: 1, Column: pos + 1, Field: name, Err: errors.New("column appears twice in the header")}
				}
				idx[c] = pos
			}
		}
	}
	for _, c := range []int{colUser, colARN} {
		if idx[c] < 0 {
			return nil, &ParseError{Line: 1, Column: 1, Err: fmt.Errorf("header has no %q column; is this an IAM credential report?", columnNames[c])}
		}
	}
	var missing []string
	for c, name := range columnNames {
		if idx[c] < 0 {
			missing = append(missing, name)
		}
	}
	fieldsPerRecord(len(header))

	var seen interner
	var arns arena
	var newest snapshot.Stamp
	// A plain report's rows are scanned without a string per cell (see
	// plainRecords.text); the same cells, the same checks.
	plain, _ := cr.(*plainRecords)
	for {
		var rec []string
		var err error
		if plain != nil {
			err = plain.scan()
		} else {
			rec, err = cr.Read()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		if plain != nil {
			if i := plain.longCell(maxCell); i >= 0 {
				return nil, longCellError(cr, i, len(plain.cell(i)))
			}
		} else if err := checkCells(cr, rec); err != nil {
			return nil, err
		}
		// Decoded in the place a user row is kept, not into a row that
		// is then copied there: a row is 320 bytes, and 100,000 users
		// made two copies of each. The root row is taken out again.
		n := len(rep.UserRows)
		if n < cap(rep.UserRows) {
			rep.UserRows = rep.UserRows[:n+1]
		} else {
			rep.UserRows = append(rep.UserRows, snapshot.CredentialRow{})
		}
		row := &rep.UserRows[n]
		// decodeRow raises newest to the row's newest time as it reads
		// the stamps (row.Newest without reading the row again), in a
		// local: taking the address of each row's newest time made it
		// escape, one allocation per user.
		if err := decodeRow(cr, plain, rec, &idx, row, &newest); err != nil {
			return nil, err
		}
		part, acct, isRoot, err := parseARN(row.ARN, rep.AccountID, rep.Partition)
		if err != nil {
			line, col := cr.FieldPos(idx[colARN])
			return nil, &ParseError{Line: line, Column: col, Field: "arn", Err: err}
		}
		if rep.AccountID == "" {
			// Copies: the cells may be the input's own bytes, which the
			// report must not keep alive.
			rep.AccountID, rep.Partition = strings.Clone(acct), strings.Clone(part)
		} else if acct != rep.AccountID || part != rep.Partition {
			line, col := cr.FieldPos(idx[colARN])
			return nil, &ParseError{Line: line, Column: col, Field: "arn", Err: fmt.Errorf("account %s differs from account %s of the rows above; a report covers one account", acct, rep.AccountID)}
		}
		if row.User != RootUser {
			if isRoot {
				line, col := cr.FieldPos(idx[colUser])
				return nil, &ParseError{Line: line, Column: col, Field: "user", Err: fmt.Errorf("row has the root ARN but user %s instead of %s", input.Quote(row.User), RootUser)}
			}
			rep.Users++
			keepRow(row, missing, &seen, &arns)
			continue
		}
		root := *row
		*row = snapshot.CredentialRow{} // the next row is decoded here
		rep.UserRows = rep.UserRows[:n]
		if !isRoot {
			line, col := cr.FieldPos(idx[colARN])
			return nil, &ParseError{Line: line, Column: col, Field: "arn", Err: fmt.Errorf("%s row has ARN %s, not a root ARN", RootUser, input.Quote(root.ARN))}
		}
		if rep.Root != nil {
			line, _ := cr.FieldPos(0)
			return nil, &ParseError{Line: line, Column: 1, Err: fmt.Errorf("second %s row", RootUser)}
		}
		keepRow(&root, missing, &seen, &arns)
		rep.Root = &root
	}
	if rep.AccountID == "" {
		return nil, errors.New("the report has a header but no rows")
	}
	if newest.IsSet() {
		t := newest.Time()
		rep.Newest = &t
	}
	if len(rep.UserRows) == 0 {
		rep.UserRows = nil // as without the rows sized beforehand
	}
	if rep.Root == nil {
		// Keep going: the report still tells us the account, and the caller
		// records the missing root row as a gap.
		return rep, nil
	}
	return rep, nil
}

// maxCell bounds a cell: the longest an IAM report holds is an ARN, at
// most 2,048 characters. A longer cell is damage, or an attempt to get a
// huge string into a report or an error message.
const maxCell = 4096

// checkCells refuses a record with a cell longer than maxCell, naming the
// cell by its place, never by its content.
func checkCells(cr records, rec []string) error {
	for i, c := range rec {
		if len(c) > maxCell {
			return longCellError(cr, i, len(c))
		}
	}
	return nil
}

func longCellError(cr records, i, n int) error {
	line, col := cr.FieldPos(i)
	return &ParseError{Line: line, Column: col, Err: fmt.Errorf("a cell of %d bytes; no cell of a credential report is longer than %d", n, maxCell)}
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Line: pe.Line, Column: pe.Column, Err: pe.Err}
	}
	return err
}

// decodeRow fills row from rec; every cell is validated even though only
// the root row is kept, because a damaged row means a damaged report. It is
// written without closures or per-row slices: it runs once per IAM user.
//
// row must be zero: it is a new slot of the rows, which make and append
// zero already (writing its bytes again per user cost 4% of a parse).
//
// plain, when not nil, is cr, whose record last scanned is the row's
// cells; rec is then nil.
func decodeRow(cr records, plain *plainRecords, rec []string, idx *[numCols]int, row *snapshot.CredentialRow, newest *snapshot.Stamp) error {
	d := rowDecoder{cr: cr, plain: plain, rec: rec, idx: idx, newest: newest}
	d.load()
	row.User = d.cell(colUser)
	row.ARN = d.cell(colARN)
	if row.User == "" {
		return d.fail(colUser, errors.New("user is empty"))
	}
	if idx[colPasswordEnabled] >= 0 {
		// Constants, not the cell: the cell is in a buffer the next row
		// reuses.
		switch v := d.cell(colPasswordEnabled); {
		case strings.EqualFold(v, "true"):
			row.PasswordEnabled = "true"
		case strings.EqualFold(v, "false"):
			row.PasswordEnabled = "false"
		case v == snapshot.NotSupported:
			row.PasswordEnabled = snapshot.NotSupported
		case v == snapshot.NotApplicable:
			row.PasswordEnabled = snapshot.NotApplicable
		default:
			return d.fail(colPasswordEnabled, fmt.Errorf("%s is not true, false or not_supported", input.Quote(v)))
		}
	}
	d.stamp(colCreation, &row.CreationTime)
	d.stamp(colPasswordLastUsed, &row.PasswordLastUsed)
	d.stamp(colPasswordLastChanged, &row.PasswordLastChanged)
	d.boolean(colMFAActive, &row.MFAActive)
	for i, c := range [2][5]int{
		{colKey1Active, colKey1Rotated, colKey1UsedDate, colKey1UsedRegion, colKey1UsedService},
		{colKey2Active, colKey2Rotated, colKey2UsedDate, colKey2UsedRegion, colKey2UsedService},
	} {
		k := &row.AccessKeys[i]
		d.boolean(c[0], &k.Active)
		d.stamp(c[1], &k.LastRotated)
		d.stamp(c[2], &k.LastUsedDate)
		k.LastUsedRegion = d.text(c[3])
		k.LastUsedService = d.text(c[4])
	}
	for i, c := range [2][2]int{{colCert1Active, colCert1Rotated}, {colCert2Active, colCert2Rotated}} {
		d.boolean(c[0], &row.Certificates[i].Active)
		d.stamp(c[1], &row.Certificates[i].LastRotated)
	}
	return d.err
}

// rowDecoder reads typed cells of one record and keeps the first error.
type rowDecoder struct {
	cr    records
	plain *plainRecords // the cells, when not nil; rec otherwise
	rec   []string
	idx   *[numCols]int
	err   error
	// newest is the newest time of the stamps read so far, the report's.
	newest *snapshot.Stamp
	// cells are the row's cells by column, trimmed, "" for a column
	// the report lacks: found in one loop (load) rather than a call per
	// cell, 21 per user.
	cells [numCols]string
}

// load finds the row's cells.
func (d *rowDecoder) load() {
	for c, i := range d.idx {
		var v string
		switch {
		case i < 0:
		case d.plain != nil:
			v = d.plain.cell(i)
		default:
			v = d.rec[i]
		}
		// Cells IAM writes have no space around them: checked here
		// (first and last byte printable ASCII, 0x21-0x7f), as calling
		// TrimSpace for each of a report's millions of cells cost more
		// than the check.
		if v != "" && (v[0]-0x21 >= 0x5f || v[len(v)-1]-0x21 >= 0x5f) {
			v = strings.TrimSpace(v)
		}
		d.cells[c] = v
	}
}

// cell is the row's cell of column c (load).
func (d *rowDecoder) cell(c int) string { return d.cells[c] }

func (d *rowDecoder) fail(c int, err error) error {
	line, col := d.cr.FieldPos(d.idx[c])
	return &ParseError{Line: line, Column: col, Field: columnNames[c], Err: err}
}

func (d *rowDecoder) stamp(c int, dst *snapshot.Stamp) {
	if d.err != nil || d.idx[c] < 0 {
		return
	}
	s, err := parseStamp(d.cell(c))
	if err != nil {
		d.err = d.fail(c, err)
		return
	}
	*dst = s
	if s.After(*d.newest) {
		*d.newest = s
	}
}

func (d *rowDecoder) boolean(c int, dst *bool) {
	if d.err != nil || d.idx[c] < 0 {
		return
	}
	b, err := parseBool(d.cell(c))
	if err != nil {
		d.err = d.fail(c, err)
		return
	}
	*dst = b
}

// text reads a free-text cell; N/A becomes empty.
func (d *rowDecoder) text(c int) string {
	v := d.cell(c)
	if v == snapshot.NotApplicable {
		return ""
	}
	return v
}

func parseBool(v string) (bool, error) {
	switch {
	case v == "true":
		return true, nil
	case v == "false":
		return false, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	}
	return false, fmt.Errorf("%s is not true or false", input.Quote(v))
}

func parseStamp(v string) (snapshot.Stamp, error) {
	switch v {
	case snapshot.NotApplicable:
		return snapshot.SentinelStamp(snapshot.NotApplicable), nil
	case snapshot.NoInformation:
		return snapshot.SentinelStamp(snapshot.NoInformation), nil
	case snapshot.NotSupported:
		return snapshot.SentinelStamp(snapshot.NotSupported), nil
	case "":
		return snapshot.Stamp{}, errors.New("empty; expected a time, N/A, no_information or not_supported")
	}
	if sec, ok := fastUnix(v); ok {
		return snapshot.StampOfUnix(sec), nil
	}
	t, err := parseTime(v)
	if err != nil {
		return snapshot.Stamp{}, fmt.Errorf("%s is not an ISO 8601 time, N/A, no_information or not_supported", input.Quote(v))
	}
	return snapshot.StampOf(t), nil
}

// parseTime reads the report's timestamps. The common form
// 2006-01-02T15:04:05+00:00 is parsed by hand because a report of 100,000
// users holds close to a million of them; anything else goes to time.Parse.
func parseTime(v string) (time.Time, error) {
	if t, ok := fastUTC(v); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func fastUTC(v string) (time.Time, bool) {
	sec, ok := fastUnix(v)
	if !ok {
		return time.Time{}, false
	}
	// time.Unix of the date's seconds is time.Date's result without its
	// normalisation, which costs as much as the rest of a row.
	return time.Unix(sec, 0).UTC(), true
}

// fastUnix is fastUTC's time in seconds since 1970, for the stamps of the
// rows, which keep seconds and need no time.Time.
func fastUnix(v string) (int64, bool) {
	switch {
	case len(v) == 25 && v[19:] == "+00:00":
	case len(v) == 20 && v[19] == 'Z':
	default:
		return 0, false
	}
	// Eight bytes at a time, "YYYY-MM-" and "hh:mm:ss", the day's two
	// digits apart: a report of 100,000 users holds about 900,000 stamps,
	// and reading their fourteen digits one by one was most of the time
	// to read one.
	ymd, hms := le64(v), le64(v[11:])
	const (
		ymdSep = 0x2d_00_00_2d_00_00_00_00 // '-' at bytes 4 and 7
		ymdDig = 0x00_ff_ff_00_ff_ff_ff_ff
		hmsSep = 0x00_00_3a_00_00_3a_00_00 // ':' at bytes 2 and 5
		hmsDig = 0xff_ff_00_ff_ff_00_ff_ff
	)
	if ymd&^ymdDig != ymdSep || hms&^hmsDig != hmsSep || v[10] != 'T' || !digits(ymd, ymdDig) || !digits(hms, hmsDig) {
		return 0, false
	}
	d0, d1 := v[8]-'0', v[9]-'0'
	if d0 > 9 || d1 > 9 {
		return 0, false
	}
	// Each byte of p is ten times a digit plus the next byte's digit:
	// the two-digit fields read at the byte of their first digit. No
	// byte carries into the next: 9*10+9 is less than 256, and so is
	// what a separator's low four bits make.
	yp, tp := pairs(ymd), pairs(hms)
	y := uint(yp&0xff)*100 + uint(yp>>16&0xff)
	mo, day := uint(yp>>40&0xff), uint(d0)*10+uint(d1)
	h, mi, s := uint(tp&0xff), uint(tp>>24&0xff), uint(tp>>48&0xff)
	if mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	if y == 0 || day > daysIn(mo, y) {
		return 0, false // 31 February and friends
	}
	return daysFromCivil(y, mo, day)*86400 + int64(h*3600+mi*60+s), true
}

// le64 is the first eight bytes of s, the first the lowest (the compiler
// makes it one load).
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// digits reports whether every byte of x that mask selects is an ASCII
// digit: its high four bits are 3, and adding 6 leaves them 3 (the low
// four bits are at most 9). No byte carries into the next: the first test
// passes only for bytes 0x30-0x3f, which 6 takes to 0x3f at most.
func digits(x, mask uint64) bool {
	const hi, three, six = 0xf0f0f0f0f0f0f0f0, 0x3030303030303030, 0x0606060606060606
	return x&hi&mask == three&mask && (x&mask+six&mask)&hi&mask == three&mask
}

// pairs reads the two-digit numbers of x, digits in ASCII: byte i of the
// result is ten times byte i's digit plus byte i+1's.
func pairs(x uint64) uint64 {
	n := x & 0x0f0f0f0f0f0f0f0f
	return n*10 + n>>8
}

func daysIn(month, year uint) uint {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to the date in the
// proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
// y >= 1 (four digits, not 0), so the year before it is not negative.
func daysFromCivil(y, m, d uint) int64 {
	mp := m - 3 // the month counted from March
	if m <= 2 {
		y--
		mp = m + 9
	}
	era := y / 400
	yoe := y - era*400
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097+doe) - 719468
}

// parseARN splits an IAM ARN of the report into partition and account, and
// says whether it is the root user's. knownAccount and knownPartition
// are the rows' above, which passed the same checks ("" for none): a
// row that repeats them is not checked again (looking the partition up
// in a map for each of 100,000 users was a tenth of reading their ARNs).
func parseARN(arn, knownAccount, knownPartition string) (partition, account string, root bool, err error) {
	var parts [6]string // strings.SplitN(arn, ":", 6) without its slice: once per user
	rest, n := arn, 0
	for ; n < 5; n++ {
		i := strings.IndexByte(rest, ':')
		if i < 0 {
			break
		}
		parts[n], rest = rest[:i], rest[i+1:]
	}
	parts[n] = rest
	if n != 5 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" {
		return "", "", false, fmt.Errorf("%s is not an IAM ARN", input.Quote(arn))
	}
	if (parts[4] != knownAccount || knownAccount == "") && !snapshot.IsAccountID(parts[4]) {
		return "", "", false, fmt.Errorf("%s does not hold a 12-digit account ID", input.Quote(arn))
	}
	if (parts[1] != knownPartition || knownPartition == "") && (!snapshot.KnownPartition(parts[1]) || parts[1] == "") {
		return "", "", false, fmt.Errorf("%s has unknown partition %s", input.Quote(arn), input.Quote(parts[1]))
	}
	return parts[1], parts[4], parts[5] == "root", nil
}

// keepRow copies what a decoded row holds of the reader's reused record
// buffer (PasswordEnabled and the stamps' sentinels are constants
// already) into strings of its own. The user name is the end of the ARN
// (arn:aws:iam::…:user/path/NAME), so it shares the ARN's copy; regions
// and services repeat from row to row, so each is copied once. The ARNs
// are copied into blocks they share (arena).
func keepRow(row *snapshot.CredentialRow, missing []string, seen *interner, arns *arena) {
	user := row.User
	row.ARN = arns.clone(row.ARN)
	if n := len(row.ARN) - len(user); n > 0 && row.ARN[n-1] == '/' && row.ARN[n:] == user {
		row.User = row.ARN[n:]
	} else {
		row.User = strings.Clone(user)
	}
	for i := range row.AccessKeys {
		row.AccessKeys[i].LastUsedRegion = seen.get(2*i, row.AccessKeys[i].LastUsedRegion)
		row.AccessKeys[i].LastUsedService = seen.get(2*i+1, row.AccessKeys[i].LastUsedService)
	}
	row.Missing = missing
}

// interner copies each distinct short string once. It stops adding at a
// few hundred entries (there are a few dozen regions and services) so that
// a crafted report cannot grow it without bound.
//
// last is the string given last for each of the four cells it reads per
// row (the keys' regions and services): users in a row mostly repeat
// them, and comparing with the last costs less than hashing the string
// for the map, 200,000 times for 100,000 users.
type interner struct {
	m    map[string]string
	last [4]string
}

func (in *interner) get(slot int, s string) string {
	if s == "" {
		return ""
	}
	if s == in.last[slot] {
		return in.last[slot]
	}
	v, ok := in.m[s]
	if !ok {
		v = strings.Clone(s)
		if in.m == nil {
			in.m = map[string]string{}
		}
		if len(in.m) < 512 {
			in.m[v] = v
		}
	}
	in.last[slot] = v
	return v
}

// arena copies strings into blocks of arenaBlock bytes that many strings
// share: one allocation per block rather than one per user's ARN (100,000
// of the 200,000 allocations of parsing a report of 100,000 users). A
// block lives as long as any string in it, so a caller that keeps one ARN
// of the report keeps at most arenaBlock bytes with it.
type arena struct{ block []byte }

const arenaBlock = 32 << 10

func (a *arena) clone(s string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > cap(a.block)-len(a.block) {
		if len(s) > arenaBlock/8 {
			return strings.Clone(s)
		}
		a.block = make([]byte, 0, arenaBlock)
	}
	n := len(a.block)
	a.block = append(a.block, s...)
	// The bytes are never written again: the block is only appended to,
	// past them, and then dropped for a new one.
	return unsafe.String(&a.block[n], len(s))
}
