package storetest

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/store"
)

// AwkwardTexts are texts every engine stores: separators of any packed
// or delimited encoding, digits where a length could be read, newlines,
// quotes, multi-byte characters, the empty string.
var AwkwardTexts = []string{
	"",
	":",
	";",
	"12:ab;",
	"0:",
	"-1;",
	"line one\nline two\r\n\ttabbed",
	`"quoted" 'single' \back\slash % _`,
	"Zürich 東京 🔑",
	"trailing:",
	"9999999999999999999999:overflow?",
}

// AwkwardEvidence is evidence every engine stores as its bytes: invalid
// UTF-8, NUL, separators, empty, none at all.
var AwkwardEvidence = [][]byte{
	nil,
	{},
	{0},
	{0xff, 0xfe, ':', ';', '\n', 0},
	[]byte(`[{"source":"iam:GetAccountSummary","key":"k:1;2","value":"1"}]`),
}

// written is a finding ListRoundTrip recorded.
type written struct {
	acct, name, ou string
	obs            lifecycle.Observation
}

func testListRoundTrip(t *testing.T, s store.Store) {
	ListRoundTrip(t, s, AwkwardTexts, AwkwardEvidence)
}

// ListRoundTrip records findings carrying each of texts in every text a
// finding keeps (account name, OU, title, resource, message, gap) and
// each of evidence, through new, unknown, resolved at the epoch itself
// (a time of 0, never NULL), regressed and gone, and checks after each
// scan that a listing gives every finding exactly as written and as
// Finding reads it one at a time. An engine's own test passes texts
// only it can store (SQLite: invalid UTF-8, NUL).
func ListRoundTrip(t *testing.T, s store.Store, texts []string, evidence [][]byte) {
	ctx := context.Background()
	// Three findings an account: r1 fails throughout, r2 goes
	// UNKNOWN (its message becomes the gap), r3 resolves and regresses.
	var all []written
	for i, text := range texts {
		acct := fmt.Sprintf("%012d", 400000000000+i)
		w := written{acct: acct, name: text, ou: "Root/" + text}
		for j, r := range []string{"r1", "r2", "r3"} {
			w.obs = lifecycle.Observation{AccountID: acct, AccountName: text, RuleID: "rule-" + r, Title: text, Resource: text + r,
				Status: lifecycle.Fail, Severity: (i + j) % 5, Message: text, Evidence: evidence[(i+j)%len(evidence)]}
			all = append(all, w)
		}
	}
	// The first scan an hour before the epoch: negative times too.
	at := []time.Time{time.UnixMilli(-3600_000).UTC(), time.UnixMilli(0).UTC(), time.UnixMilli(3600_000).UTC()}
	statuses := [][3]string{
		{lifecycle.Fail, lifecycle.Fail, lifecycle.Fail},
		{lifecycle.Fail, lifecycle.Unknown, lifecycle.Pass},
		{lifecycle.Fail, lifecycle.Unknown, lifecycle.Fail},
	}
	var last int64
	for scan, when := range at {
		sc, err := s.StartScan(ctx, store.Scan{Target: "round-trip", StartedAt: when})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(all); i += 3 {
			res := store.AccountResults{AccountID: all[i].acct, AccountName: all[i].name, OU: all[i].ou}
			for j := range 3 {
				o := all[i+j].obs
				o.Status = statuses[scan][j]
				res.Results = append(res.Results, o)
			}
			if _, err := s.RecordAccount(ctx, sc.ID, res, when); err != nil {
				t.Fatalf("scan %d, account %q: %v", scan, all[i].name, err)
			}
		}
		if err := s.FinishScan(ctx, sc.ID, store.End{Outcome: store.Complete, At: when}); err != nil {
			t.Fatal(err)
		}
		last = sc.ID
		checkListed(t, s, when, len(all), func(f store.Finding) {
			w := all[indexOf(t, all, func(w written) bool { return w.obs.Key() == f.ID })]
			if f.AccountID != w.acct || f.AccountName != w.name || f.OU != w.ou || f.RuleID != w.obs.RuleID ||
				f.Title != w.obs.Title || f.Resource != w.obs.Resource || f.Severity != w.obs.Severity ||
				f.Message != w.obs.Message || !bytes.Equal(f.Evidence, w.obs.Evidence) {
				t.Fatalf("scan %d: listed %+v, written %+v", scan, f, w)
			}
			switch {
			case w.obs.RuleID == "rule-r2" && scan > 0:
				if f.UnknownSince == nil || !f.UnknownSince.Equal(at[1]) || f.Gap != w.obs.Message {
					t.Fatalf("scan %d: unknown finding listed %+v", scan, f)
				}
			case w.obs.RuleID == "rule-r3" && scan == 1:
				if f.State != lifecycle.Resolved || f.ResolvedAt == nil || f.ResolvedAt.UnixMilli() != 0 {
					t.Fatalf("resolved at the epoch, listed %+v", f)
				}
			case w.obs.RuleID == "rule-r3" && scan == 2:
				if f.State != lifecycle.Open || f.Regressions != 1 || f.Resolutions != 1 || f.OpenSeconds != 3600 {
					t.Fatalf("regressed, listed %+v", f)
				}
			default:
				if f.UnknownSince != nil || f.Gap != "" || f.State != lifecycle.Open {
					t.Fatalf("scan %d: listed %+v", scan, f)
				}
			}
			if !f.FirstSeen.Equal(at[0]) || !f.LastSeen.Equal(lastFail(at, statuses, w.obs.RuleID, scan)) {
				t.Fatalf("scan %d: first seen %v, last seen %v", scan, f.FirstSeen, f.LastSeen)
			}
		})
	}
	// The first account leaves: its findings are gone, written again.
	if _, err := s.LeaveAccounts(ctx, last, accountsBut(all, all[0].acct), at[2].Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	gone := 0
	checkListed(t, s, at[2], len(all), func(f store.Finding) {
		if (f.AccountID == all[0].acct) != (f.State == lifecycle.Gone) {
			t.Fatalf("account %s left, listed %+v", all[0].acct, f)
		}
		if f.State == lifecycle.Gone {
			gone++
		}
	})
	if gone != 2*3 { // both orders
		t.Fatalf("%d gone listed, want 3 in each order", gone)
	}
}

// lastFail is when rule last failed up to scan.
func lastFail(at []time.Time, statuses [][3]string, rule string, scan int) time.Time {
	j := map[string]int{"rule-r1": 0, "rule-r2": 1, "rule-r3": 2}[rule]
	for i := scan; i > 0; i-- {
		if statuses[i][j] == lifecycle.Fail {
			return at[i]
		}
	}
	return at[0]
}

// accountsBut is every account of all but leaving, once each.
func accountsBut(all []written, leaving string) []string {
	var out []string
	for i := 0; i < len(all); i += 3 {
		if all[i].acct != leaving {
			out = append(out, all[i].acct)
		}
	}
	return out
}

func indexOf[T any](t *testing.T, xs []T, match func(T) bool) int {
	t.Helper()
	for i, x := range xs {
		if match(x) {
			return i
		}
	}
	t.Fatal("not found")
	return -1
}

// checkListed lists every finding, in both orders, and compares each
// with Finding's, the same row read by another query; check sees each.
func checkListed(t *testing.T, s store.Store, now time.Time, want int, check func(store.Finding)) {
	t.Helper()
	ctx := context.Background()
	for _, bySev := range []bool{false, true} {
		fs, err := s.Findings(ctx, store.Filter{Now: now, BySeverity: bySev})
		if err != nil || len(fs) != want {
			t.Fatalf("listed %d findings, want %d: %v", len(fs), want, err)
		}
		for _, f := range fs {
			one, _, err := s.Finding(ctx, f.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f, one) {
				t.Fatalf("listed %+v\nread   %+v", f, one)
			}
			check(f)
		}
	}
}
