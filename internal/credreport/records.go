package credreport

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"io"
	"math/bits"
	"unsafe"
)

// records is what Parse reads a report through: encoding/csv's reader, or
// plainRecords for a report with nothing quoted, which is every report IAM
// writes (no cell of it can hold a quote or a line break).
type records interface {
	Read() ([]string, error)
	FieldPos(field int) (line, column int)
}

// plainRecords reads CSV without quotes or carriage returns, the same
// records, line and column numbers and errors as encoding/csv with
// ReuseRecord and FieldsPerRecord, without copying a record into a string
// of its own: a report of 100,000 users is 30 MB of records that
// encoding/csv copies line by line before Vigil keeps a few cells of each.
//
// Its cells point into the input (unsafe.String): they are valid only
// until the next Read, like a reused record, and everything Parse keeps
// is copied (cloneRow) or is a constant. The input must not change while
// it is read.
type plainRecords struct {
	data            []byte
	pos             int
	line            int // line of the record last read
	next            int // line of the next record
	fieldsPerRecord int
	fields          []string
	// text is the record last read, without its line break, and ends
	// the end of each of its cells in it: the cells are found without
	// writing a string per cell (a pointer each, which the garbage
	// collector's write barrier records while it marks), and made only
	// when asked for (cell).
	text string
	ends []int32
	// lineAt is where the record last read starts in data: FieldPos,
	// which only errors call, finds a field's column from it rather than
	// every record keeping the offset of each of its cells.
	lineAt int
}

// plainCSV says whether data can be read by plainRecords: nothing quoted
// and no carriage return (which encoding/csv treats in ways of its own).
func plainCSV(data []byte) bool {
	return bytes.IndexByte(data, '"') < 0 && bytes.IndexByte(data, '\r') < 0
}

func newPlainRecords(data []byte) *plainRecords { return &plainRecords{data: data, next: 1} }

// Read returns the next record's cells (scan, then cell for each).
func (p *plainRecords) Read() ([]string, error) {
	if err := p.scan(); err != nil {
		return nil, err
	}
	p.fields = p.fields[:0]
	for i := range p.ends {
		p.fields = append(p.fields, p.cell(i))
	}
	return p.fields, nil
}

// scan finds the next record's cells, which cell then reads: what Read
// does without making the strings.
func (p *plainRecords) scan() error {
	for {
		if p.pos >= len(p.data) {
			return io.EOF
		}
		end := bytes.IndexByte(p.data[p.pos:], '\n')
		var line []byte
		if end < 0 {
			line, p.pos = p.data[p.pos:], len(p.data)
		} else {
			line, p.pos = p.data[p.pos:p.pos+end], p.pos+end+1
		}
		p.line = p.next
		p.next++
		if len(line) == 0 {
			continue // encoding/csv skips empty lines
		}
		p.ends = p.ends[:0]
		p.text = unsafe.String(&line[0], len(line))
		p.lineAt = p.pos - len(line)
		if end >= 0 {
			p.lineAt--
		}
		// Eight bytes at a time: a report of 100,000 users is 30 MB of
		// cells, and a loop over each byte to find the commas was a tenth
		// of parsing it (a call of bytes.IndexByte per cell costs more
		// still: the cells are short, a date, "true", "N/A").
		i := 0
		for ; i+8 <= len(line); i += 8 {
			m := commaBytes(binary.LittleEndian.Uint64(line[i:]))
			for m != 0 {
				p.ends = append(p.ends, int32(i+bits.TrailingZeros64(m)>>3))
				m &= m - 1
			}
		}
		for ; i < len(line); i++ {
			if line[i] == ',' {
				p.ends = append(p.ends, int32(i))
			}
		}
		p.ends = append(p.ends, int32(len(line)))
		if p.fieldsPerRecord > 0 && len(p.ends) != p.fieldsPerRecord {
			return &csv.ParseError{StartLine: p.line, Line: p.line, Column: 1, Err: csv.ErrFieldCount}
		}
		return nil
	}
}

// cell is the i-th cell of the record last scanned. It points into the
// input, valid until the next scan.
func (p *plainRecords) cell(i int) string {
	from := 0
	if i > 0 {
		from = int(p.ends[i-1]) + 1
	}
	to := int(p.ends[i])
	if from == to {
		return ""
	}
	return p.text[from:to]
}

// longCell is the first cell of the record last scanned longer than
// limit, -1 for none.
func (p *plainRecords) longCell(limit int) int {
	if len(p.text) <= limit {
		return -1 // no cell is longer than its line
	}
	from := 0
	for i, e := range p.ends {
		if int(e)-from > limit {
			return i
		}
		from = int(e) + 1
	}
	return -1
}

// commaBytes has the high bit set in each byte of x that is a comma, and
// no other bit: x^commas has a zero byte where x has a comma, and adding
// 0x7f to each byte's low seven bits carries into the high bit of every
// byte but a zero one (without the carry crossing bytes, unlike the
// shorter test that may mark a byte above a zero one).
func commaBytes(x uint64) uint64 {
	const lo7, commas = 0x7f7f7f7f7f7f7f7f, 0x2c2c2c2c2c2c2c2c
	x ^= commas
	return ^((x&lo7 + lo7) | x | lo7)
}

func (p *plainRecords) FieldPos(field int) (int, int) {
	if field < 0 || field >= len(p.ends) {
		panic("out of range index passed to FieldPos")
	}
	// The field's offset in its line: past field commas. A field's cell
	// may be empty, so count commas rather than measure cells.
	col := 0
	for n := 0; n < field; col++ {
		if p.data[p.lineAt+col] == ',' {
			n++
		}
	}
	return p.line, col + 1
}
