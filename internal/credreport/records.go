package credreport

import (
	"bytes"
	"encoding/csv"
	"io"
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
	starts          []int // each field's byte offset in its line
}

// plainCSV says whether data can be read by plainRecords: nothing quoted
// and no carriage return (which encoding/csv treats in ways of its own).
func plainCSV(data []byte) bool {
	return bytes.IndexByte(data, '"') < 0 && bytes.IndexByte(data, '\r') < 0
}

func newPlainRecords(data []byte) *plainRecords { return &plainRecords{data: data, next: 1} }

func (p *plainRecords) Read() ([]string, error) {
	for {
		if p.pos >= len(p.data) {
			return nil, io.EOF
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
		p.fields, p.starts = p.fields[:0], p.starts[:0]
		// A byte loop, not bytes.IndexByte per cell: the cells are short
		// (a date, "true", "N/A") and a call each cost more than the scan.
		start := 0
		for i, c := range line {
			if c == ',' {
				p.add(line, start, i)
				start = i + 1
			}
		}
		p.add(line, start, len(line))
		if p.fieldsPerRecord > 0 && len(p.fields) != p.fieldsPerRecord {
			return nil, &csv.ParseError{StartLine: p.line, Line: p.line, Column: 1, Err: csv.ErrFieldCount}
		}
		return p.fields, nil
	}
}

func (p *plainRecords) add(line []byte, from, to int) {
	p.starts = append(p.starts, from)
	if from == to {
		p.fields = append(p.fields, "")
		return
	}
	p.fields = append(p.fields, unsafe.String(&line[from], to-from))
}

func (p *plainRecords) FieldPos(field int) (int, int) {
	if field < 0 || field >= len(p.starts) {
		panic("out of range index passed to FieldPos")
	}
	return p.line, p.starts[field] + 1
}
