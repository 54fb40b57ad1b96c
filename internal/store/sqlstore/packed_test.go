package sqlstore

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// randomFinding is a finding with awkward texts and extreme numbers.
func randomFinding(r *rand.Rand) store.Finding {
	texts := []string{"", ":", ";", "12:ab;", "0:", "-1;", "\n", "\x00", "\xff\xfe", "Zürich 🔑", strings.Repeat("x:", 300)}
	text := func() string {
		var b strings.Builder
		for range r.IntN(3) {
			b.WriteString(texts[r.IntN(len(texts))])
		}
		return b.String()
	}
	num := func() int64 {
		return []int64{0, 1, -1, 9, 10, math.MaxInt64, math.MinInt64, r.Int64(), -r.Int64()}[r.IntN(9)]
	}
	at := func() time.Time { return time.UnixMilli(num() / 1e6 * []int64{0, 1}[r.IntN(2)]).UTC() }
	opt := func() *time.Time {
		if r.IntN(3) == 0 {
			return nil
		}
		t := at()
		return &t
	}
	var ev []byte
	switch r.IntN(3) {
	case 1:
		ev = []byte(text() + "x")
	case 2:
		ev = []byte{0xff, 0, ':'}
	}
	f := store.Finding{OU: text()}
	f.Finding = lifecycle.Finding{ID: text(), AccountID: text(), AccountName: text(), RuleID: text(), Title: text(), Resource: text(),
		State: lifecycle.State(text()), Status: text(), Severity: int(num()), Message: text(), Evidence: ev,
		FirstSeen: at(), LastSeen: at(), OpenedAt: at(), ResolvedAt: opt(), Regressions: int(num()), Resolutions: int(num()),
		OpenSeconds: num(), UnknownSince: opt(), Gap: text()}
	return f
}

func TestPackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		f := randomFinding(r)
		var got store.Finding
		var times [2]time.Time
		if err := decodePacked(packFinding(&f.Finding, f.OU), ms(f.LastSeen), &got, &times); err != nil {
			t.Fatalf("%d: %v: %q", i, err, packFinding(&f.Finding, f.OU))
		}
		if !reflect.DeepEqual(got, f) {
			t.Fatalf("%d: packed %+v\nread back %+v", i, f, got)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	f := store.Finding{OU: "ou"}
	f.Finding = lifecycle.Finding{ID: "f-1", AccountID: "111111111111", RuleID: "r", Resource: "arn", State: lifecycle.Open, Status: "FAIL", Severity: 3, Message: "m", Evidence: []byte("[]")}
	good := packFinding(&f.Finding, f.OU)
	var got store.Finding
	var times [2]time.Time
	if err := decodePacked(good, 0, &got, &times); err != nil {
		t.Fatalf("%q: %v", good, err)
	}
	for _, bad := range []string{
		"",
		good[:len(good)-1], // cut short
		good + "x",         // trailing bytes
		strings.Replace(good, "3:f-1", "4:f-1", 1),              // a length past its text
		strings.Replace(good, "3:f-1", "03:f-1", 1),             // a leading zero
		strings.Replace(good, "3:f-1", "+3:f-1", 1),             // a sign
		strings.Replace(good, "3:f-1", ":f-1", 1),               // a NULL ID
		strings.Replace(good, "3;", ";", 1),                     // a NULL severity
		strings.Replace(good, "3;", "-0;", 1),                   // minus zero
		strings.Replace(good, "3;", " 3;", 1),                   // a space
		strings.Replace(good, "3;", "9223372036854775808;", 1),  // past int64
		strings.Replace(good, "3;", "99999999999999999999;", 1), // 20 digits
		strings.Replace(good, "3;", "-9223372036854775809;", 1), // below int64
		strings.Replace(good, "3;", "-;", 1),
	} {
		if err := decodePacked(bad, 0, &got, &times); err == nil {
			t.Errorf("%q decoded: %+v", bad, got)
		}
	}
	min := strings.Replace(good, "3;", "-9223372036854775808;", 1)
	if err := decodePacked(min, 0, &got, &times); err != nil || got.Severity != math.MinInt64 {
		t.Fatalf("%q: %d %v", min, got.Severity, err)
	}
}

// FuzzDecodePacked: a packed value read from the database (written by
// another build, or damaged) never panics the decoder, and what it
// accepts is a finding packed exactly so: one spelling per finding.
func FuzzDecodePacked(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		fd := randomFinding(r)
		f.Add(packFinding(&fd.Finding, fd.OU), int64(0))
	}
	f.Add("", int64(-1))
	f.Add("1:a1:b", int64(1))
	f.Fuzz(func(t *testing.T, s string, last int64) {
		var got store.Finding
		var times [2]time.Time
		if err := decodePacked(s, last, &got, &times); err != nil {
			return
		}
		if !got.LastSeen.Equal(time.UnixMilli(last)) {
			t.Fatalf("last seen %v, want %d", got.LastSeen, last)
		}
		again := packFinding(&got.Finding, got.OU)
		if again != s {
			// The one spelling a Finding cannot tell: empty evidence
			// (read as nil, packed as NULL) from NULL.
			got.Evidence = []byte{}
			if packFinding(&got.Finding, got.OU) != s {
				t.Fatalf("decoded %q, packs again as %q", s, again)
			}
		}
	})
}
