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
//   - setMagic and setDelta, then raw DEFLATE of the compact body with
//     the body of a full set, the row's base, as the preset dictionary
//     (a delta, written since schema version 13).
//
// Deltas: an hourly scan mostly changes one or two of an account's
// thirty results, and each change stored the whole set again (1.8 KB
// compressed; 750 MB of a 90-day organisation's 869 MB). Compressed
// against a set of the same account, the unchanged results become
// back-references, so a changed set costs little more than its changes.
// A delta's base is always a full set, never another delta: reading a
// set decompresses at most two, and pruning keeps a base while a
// delta refers to it (one level to follow). A set drifts from its base
// as changes pile up; once its delta is more than a quarter of the
// base's size it is written full and becomes the base of the next
// ones.
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

// decodeSetBody reads encodeSet's body.
func decodeSetBody(b []byte) ([]lifecycle.Observation, error) {
	next := func() (uint64, error) {
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errSet
		}
		b = b[n:]
		return x, nil
	}
	count, err := next()
	if err != nil || count > uint64(len(b)) {
		return nil, errSet
	}
	table := make([]string, count)
	for i := range table {
		n, err := next()
		if err != nil || n > uint64(len(b)) {
			return nil, errSet
		}
		table[i], b = string(b[:n]), b[n:]
	}
	str := func() (string, error) {
		i, err := next()
		if err != nil || i >= uint64(len(table)) {
			return "", errSet
		}
		return table[i], nil
	}
	count, err = next()
	if err != nil || count > uint64(len(b)) {
		return nil, errSet
	}
	obs := make([]lifecycle.Observation, count)
	for i := range obs {
		o := &obs[i]
		for _, to := range []*string{&o.AccountID, &o.AccountName, &o.RuleID, &o.Title, &o.Resource, &o.Status, &o.Message} {
			if *to, err = str(); err != nil {
				return nil, err
			}
		}
		sev, n := binary.Varint(b)
		if n <= 0 {
			return nil, errSet
		}
		b = b[n:]
		o.Severity = int(sev)
		ev, err := next()
		if err != nil || ev > uint64(len(table)) {
			return nil, errSet
		}
		if ev > 0 {
			o.Evidence = []byte(table[ev-1])
		}
	}
	if len(b) != 0 {
		return nil, errSet
	}
	return obs, nil
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
func packSet(body []byte) ([]byte, error) {
	out := bytes.NewBuffer(make([]byte, 0, 64+len(body)/3))
	out.WriteByte(setMagic)
	out.WriteByte(setVersion)
	zw := flatePool.Get().(*flate.Writer)
	defer flatePool.Put(zw)
	zw.Reset(out)
	zw.Write(body) // a bytes.Buffer takes every write
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// deltaLevel compresses deltas: DEFLATE's BestSpeed ignores a preset
// dictionary (compress/flate fills no window below level 2), and a delta
// is written for a changed set only, a few a scan.
const deltaLevel = 6

// packDelta is body compressed against base, the body of a full set.
func packDelta(body, base []byte) ([]byte, error) {
	out := bytes.NewBuffer(make([]byte, 0, 256))
	out.WriteByte(setMagic)
	out.WriteByte(setDelta)
	zw, err := flate.NewWriterDict(out, deltaLevel, base)
	if err != nil {
		return nil, err
	}
	zw.Write(body) // a bytes.Buffer takes every write
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
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
		body, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(data[2:]), dict))
		if err != nil {
			return nil, fmt.Errorf("result set: %w", err)
		}
		return decodeSetBody(body)
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
