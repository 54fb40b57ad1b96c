package report

import (
	"cmp"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/rule"
)

// Cause is one reason results could not be decided, with how many.
type Cause struct {
	// Text names the reason: the source and its error code
	// ("iam:GetAccountSummary: AccessDenied"), or, when no source failed
	// (a report too old, say), the rule whose message explains it.
	Text     string
	Results  int
	Accounts int
}

// Undecided returns the UNKNOWN results at or above min and why, the
// most common cause first. A result counts once per cause; one with
// several causes (two sources denied) counts under each.
func (d *Document) Undecided(min rule.Severity) (n int, causes []Cause) {
	type tally struct {
		results  int
		accounts map[string]bool
	}
	by := map[string]*tally{}
	for _, r := range d.Results {
		if r.Status != rule.Unknown || r.Severity < min || r.Suppression != nil {
			continue
		}
		n++
		seen := map[string]bool{}
		for _, e := range r.Evidence {
			if e.Error != "" {
				seen[e.Source+": "+errorCode(e.Error)] = true
			}
		}
		if len(seen) == 0 {
			seen[r.RuleID+": no source failed; the result's message says what is missing"] = true
		}
		for c := range seen {
			t := by[c]
			if t == nil {
				t = &tally{accounts: map[string]bool{}}
				by[c] = t
			}
			t.results++
			t.accounts[r.AccountID] = true
		}
	}
	for text, t := range by {
		causes = append(causes, Cause{Text: text, Results: t.results, Accounts: len(t.accounts)})
	}
	slices.SortFunc(causes, func(a, b Cause) int {
		return cmp.Or(cmp.Compare(b.Results, a.Results), strings.Compare(a.Text, b.Text))
	})
	return n, causes
}

// errorCode shortens an evidence error to what groups alike failures: its
// AWS error code ("AccessDenied: User arn:… is not authorized" gives
// "AccessDenied"), or the message itself, cut short, when it has none.
func errorCode(s string) string {
	if code, _, ok := strings.Cut(s, ": "); ok && code != "" && !strings.ContainsAny(code, " \t") {
		return code
	}
	if len(s) > 80 {
		cut := 80
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		return s[:cut] + "…"
	}
	return s
}
