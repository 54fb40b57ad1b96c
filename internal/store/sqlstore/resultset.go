package sqlstore

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/vigil-sec/vigil/internal/lifecycle"
)

// A result set is one account's results of one scan, kept once per
// content (result_sets, keyed by the first 8 bytes of the SHA-256 of its
// encoding). Three encodings are read:
//
//   - gzip of the JSON array of lifecycle.Observation (written up to
//     schema version 9's builds; gzip's magic bytes 1f 8b start it);
//   - setMagic and setVersion, then raw DEFLATE of the compact body
//     below (a full set);
//   - setMagic and setDelta, then raw DEFLATE of a delta against the
//     compact body of a full set, the row's base (written since schema
//     version 13; packDelta).
//
// Deltas: an hourly scan mostly changes one or two of an account's
// thirty results, and each change stored the whole set again (1.8 KB
// compressed; 750 MB of a 90-day organisation's 869 MB). A delta names
// the results that are the base's by position, so a set costs its
// changed results and their new strings. It works on the parsed body,
// not its bytes: a new string (a first FAIL, a new message) renumbers
// the body's later references, which a byte diff would store again.
// (DEFLATE with the base as preset dictionary took 0.7 ms a set:
// compress/flate allocates a 1 MB compressor per dictionary, and
// BestSpeed, the pooled writers' level, ignores one.) A delta's base is
// always a full set, never another delta: reading a set decompresses
// at most two, and pruning keeps a base while a delta refers to it (one
// level to follow). A set drifts from its base as changes pile up; once
// its delta is more than a quarter of the base's size it is written
// full and becomes the base of the next ones.
//
// The compact body is uvarints: the number of distinct strings, each as
// its length and bytes in order of first use, then the number of results
// and, per result, the string index of its account ID, account name,
// rule, title, resource, status and message, its severity (zigzag) and
// its evidence's string index plus one (0: no evidence). An account's
// results repeat the account's ID, name and root ARN in every result and
// JSON named every field in each; JSON encoding and compressing the
// larger text with gzip were a quarter of the CPU of a first
// 5,000-account recording (pprof). The order of first use makes the
// encoding of the same results always the same bytes, which the key by
// content needs.
const (
	setMagic   = 'V'
	setVersion = 1
	setDelta   = 2
)

// encodeSet is the compact body of obs (uncompressed) appended to buf.
func encodeSet(buf []byte, obs []lifecycle.Observation) []byte {
	index := make(map[string]uint64, 8+len(obs)*3)
	var table []string
	ref := func(s string) uint64 {
		if i, ok := index[s]; ok {
			return i
		}
		i := uint64(len(table))
		index[s] = i
		table = append(table, s)
		return i
	}
	refs := make([]uint64, 0, len(obs)*9)
	for _, o := range obs {
		refs = append(refs, ref(o.AccountID), ref(o.AccountName), ref(o.RuleID), ref(o.Title), ref(o.Resource), ref(o.Status), ref(o.Message))
		ev := uint64(0)
		if o.Evidence != nil {
			ev = ref(string(o.Evidence)) + 1
		}
		refs = append(refs, ev)
	}
	buf = binary.AppendUvarint(buf, uint64(len(table)))
	for _, s := range table {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(obs)))
	for i, o := range obs {
		r := refs[i*8 : i*8+8]
		for _, x := range r[:7] {
			buf = binary.AppendUvarint(buf, x)
		}
		buf = binary.AppendVarint(buf, int64(o.Severity))
		buf = binary.AppendUvarint(buf, r[7])
	}
	return buf
}

// errSet is the error of a result set that does not decode.
var errSet = errors.New("result set: malformed")

// setRows is a compact body parsed: its string table and, per result,
// its references into it.
type setRows struct {
	table []string
	rows  []setRow
}

// setRow is one result of a body: the string indexes of its account
// ID, account name, rule, title, resource, status and message, its
// severity and its evidence's index plus one (0: none).
type setRow struct {
	refs [7]uint64
	sev  int64
	ev   uint64
}

// reader reads a body's varints, any fault an errSet.
type reader struct{ b []byte }

func (r *reader) uvarint() (uint64, error) {
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, errSet
	}
	r.b = r.b[n:]
	return x, nil
}

// strings reads a count and that many strings, each its length and
// bytes, onto table.
func (r *reader) strings(table []string) ([]string, error) {
	count, err := r.uvarint()
	if err != nil || count > uint64(len(r.b)) {
		return nil, errSet
	}
	for range count {
		n, err := r.uvarint()
		if err != nil || n > uint64(len(r.b)) {
			return nil, errSet
		}
		table = append(table, string(r.b[:n]))
		r.b = r.b[n:]
	}
	return table, nil
}

// row reads one result's references, each checked against a table of
// size strings.
func (r *reader) row(size int) (setRow, error) {
	var w setRow
	for k := range w.refs {
		x, err := r.uvarint()
		if err != nil || x >= uint64(size) {
			return w, errSet
		}
		w.refs[k] = x
	}
	sev, n := binary.Varint(r.b)
	if n <= 0 {
		return w, errSet
	}
	r.b = r.b[n:]
	w.sev = sev
	ev, err := r.uvarint()
	if err != nil || ev > uint64(size) {
		return w, errSet
	}
	w.ev = ev
	return w, nil
}

// appendRow is row as row reads it.
func appendRow(buf []byte, w setRow) []byte {
	for _, x := range w.refs {
		buf = binary.AppendUvarint(buf, x)
	}
	buf = binary.AppendVarint(buf, w.sev)
	return binary.AppendUvarint(buf, w.ev)
}

// parseBody reads encodeSet's body into its table and rows.
func parseBody(b []byte) (setRows, error) {
	r := &reader{b}
	var s setRows
	var err error
	if s.table, err = r.strings(nil); err != nil {
		return s, err
	}
	count, err := r.uvarint()
	if err != nil || count > uint64(len(r.b)) {
		return s, errSet
	}
	s.rows = make([]setRow, count)
	for i := range s.rows {
		if s.rows[i], err = r.row(len(s.table)); err != nil {
			return s, err
		}
	}
	if len(r.b) != 0 {
		return s, errSet
	}
	return s, nil
}

// observations are the results s holds.
func (s setRows) observations() []lifecycle.Observation {
	obs := make([]lifecycle.Observation, len(s.rows))
	for i, w := range s.rows {
		o := &obs[i]
		for k, to := range []*string{&o.AccountID, &o.AccountName, &o.RuleID, &o.Title, &o.Resource, &o.Status, &o.Message} {
			*to = s.table[w.refs[k]]
		}
		o.Severity = int(w.sev)
		if w.ev > 0 {
			o.Evidence = []byte(s.table[w.ev-1])
		}
	}
	return obs
}

// decodeSetBody reads encodeSet's body.
func decodeSetBody(b []byte) ([]lifecycle.Observation, error) {
	s, err := parseBody(b)
	if err != nil {
		return nil, err
	}
	return s.observations(), nil
}

// flatePool holds DEFLATE writers: each holds hundreds of kilobytes of
// tables. BestSpeed: the sets are a few kilobytes, written once and kept
// by content; the default level took a fifth of a first recording's CPU.
var flatePool = sync.Pool{New: func() any {
	zw, _ := flate.NewWriter(io.Discard, flate.BestSpeed) // a valid level: no error
	return zw
}}

// setKey is the compact body of a result set and the key it is stored
// under: the first 8 bytes of the body's SHA-256.
func setKey(obs []lifecycle.Observation) (body []byte, hash int64) {
	body = encodeSet(make([]byte, 0, 256+len(obs)*64), obs)
	sum := sha256.Sum256(body)
	return body, int64(binary.BigEndian.Uint64(sum[:8]))
}

// packSet is a result set's body as stored: compressed, after its magic
// and version.
func packSet(body []byte) ([]byte, error) { return pack(setVersion, body) }

// pack is b compressed after the magic and the encoding's version.
func pack(version byte, b []byte) ([]byte, error) {
	out := bytes.NewBuffer(make([]byte, 0, 64+len(b)/3))
	out.WriteByte(setMagic)
	out.WriteByte(version)
	zw := flatePool.Get().(*flate.Writer)
	defer flatePool.Put(zw)
	zw.Reset(out)
	zw.Write(b) // a bytes.Buffer takes every write
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// packDelta is the set of body as a delta of base, the body of a full
// set: the strings base lacks, then the results as runs copied from
// base's (a count and the first's index) and results of their own (0,
// then the row), over base's table followed by the new strings.
func packDelta(body, base []byte) ([]byte, error) {
	b, err := parseBody(base)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	n, err := parseBody(body)
	if err != nil {
		return nil, err
	}
	index := make(map[string]uint64, len(b.table))
	for k, str := range b.table {
		if _, ok := index[str]; !ok {
			index[str] = uint64(k)
		}
	}
	var added []string
	remap := make([]uint64, len(n.table))
	for k, str := range n.table {
		x, ok := index[str]
		if !ok {
			x = uint64(len(b.table) + len(added))
			index[str] = x
			added = append(added, str)
		}
		remap[k] = x
	}
	d := binary.AppendUvarint(make([]byte, 0, 64), uint64(len(added)))
	for _, str := range added {
		d = binary.AppendUvarint(d, uint64(len(str)))
		d = append(d, str...)
	}
	at := make(map[setRow]int, len(b.rows))
	for k := len(b.rows) - 1; k >= 0; k-- {
		at[b.rows[k]] = k
	}
	rows := n.rows
	for i := range rows {
		for k := range rows[i].refs {
			rows[i].refs[k] = remap[rows[i].refs[k]]
		}
		if rows[i].ev > 0 {
			rows[i].ev = remap[rows[i].ev-1] + 1
		}
	}
	d = binary.AppendUvarint(d, uint64(len(rows)))
	for i := 0; i < len(rows); {
		j, ok := at[rows[i]]
		if !ok {
			d = appendRow(append(d, 0), rows[i])
			i++
			continue
		}
		k := 1
		for i+k < len(rows) && j+k < len(b.rows) && rows[i+k] == b.rows[j+k] {
			k++
		}
		d = binary.AppendUvarint(binary.AppendUvarint(d, uint64(k)), uint64(j))
		i += k
	}
	return pack(setDelta, d)
}

// applyDelta is the results a delta (its uncompressed form) makes of
// base, the body of its base.
func applyDelta(d, base []byte) ([]lifecycle.Observation, error) {
	b, err := parseBody(base)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	r := &reader{d}
	var s setRows
	if s.table, err = r.strings(b.table); err != nil {
		return nil, err
	}
	// Each operation takes a byte at least and copies at most the
	// base's rows: a count beyond that is damage, not a set to allocate.
	count, err := r.uvarint()
	if err != nil || count > uint64(len(r.b))*uint64(max(len(b.rows), 1)) {
		return nil, errSet
	}
	s.rows = make([]setRow, 0, count)
	for uint64(len(s.rows)) < count {
		op, err := r.uvarint()
		if err != nil {
			return nil, err
		}
		if op == 0 {
			w, err := r.row(len(s.table))
			if err != nil {
				return nil, err
			}
			s.rows = append(s.rows, w)
			continue
		}
		j, err := r.uvarint()
		if err != nil || j > uint64(len(b.rows)) || op > uint64(len(b.rows))-j || op > count-uint64(len(s.rows)) {
			return nil, errSet
		}
		s.rows = append(s.rows, b.rows[j:j+op]...)
	}
	if len(r.b) != 0 {
		return nil, errSet
	}
	return s.observations(), nil
}

// fullBody is the compact body of a stored full set; false when data is
// no full set of the compact encoding (a gzip set of an earlier build
// serves as no base).
func fullBody(data []byte) ([]byte, bool, error) {
	if len(data) < 2 || data[0] != setMagic || data[1] != setVersion {
		return nil, false, nil
	}
	body, err := io.ReadAll(flate.NewReader(bytes.NewReader(data[2:])))
	if err != nil {
		return nil, false, fmt.Errorf("result set: %w", err)
	}
	return body, true, nil
}

// decodeResults reads a stored result set in any encoding; base is the
// stored data of a delta's base (nil for a full set).
func decodeResults(data, base []byte) ([]lifecycle.Observation, error) {
	if len(data) >= 2 && data[0] == setMagic && data[1] == setDelta {
		if base == nil {
			return nil, errors.New("result set: a delta without its base")
		}
		dict, ok, err := fullBody(base)
		if err != nil {
			return nil, fmt.Errorf("base of a result set: %w", err)
		}
		if !ok {
			return nil, errors.New("result set: a delta whose base is no full set")
		}
		d, err := io.ReadAll(flate.NewReader(bytes.NewReader(data[2:])))
		if err != nil {
			return nil, fmt.Errorf("result set: %w", err)
		}
		return applyDelta(d, dict)
	}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			return nil, err
		}
		var obs []lifecycle.Observation
		return obs, json.Unmarshal(raw, &obs)
	}
	if len(data) < 2 || data[0] != setMagic {
		return nil, errSet
	}
	if data[1] != setVersion {
		return nil, fmt.Errorf("result set of encoding version %d (this Vigil reads 1 and 2): written by a newer Vigil", data[1])
	}
	body, err := io.ReadAll(flate.NewReader(bytes.NewReader(data[2:])))
	if err != nil {
		return nil, fmt.Errorf("result set: %w", err)
	}
	return decodeSetBody(body)
}
