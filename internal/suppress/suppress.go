// Package suppress reads a suppressions file (YAML) and applies it to a
// one-shot scan's results: each entry mutes one rule in one account (or
// one resource of it), names who accepted the risk, why and until when.
// A muted result keeps its status and carries its suppression, so the
// report still shows it; it does not count for --fail-on. An expired
// entry is ignored with a warning, so that an accepted risk comes back on
// its own.
package suppress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/rule"
)

// MaxAhead is the furthest an expiry may be: an accepted risk is reviewed
// at least once a year, or says no_expiry with its reason.
const MaxAhead = 366 * 24 * time.Hour

// Entry is one suppression of the file.
type Entry struct {
	Rule     string `yaml:"rule"`
	Account  string `yaml:"account"`
	Resource string `yaml:"resource"`
	Reason   string `yaml:"reason"`
	Owner    string `yaml:"owner"`
	Ticket   string `yaml:"ticket"`
	Expires  string `yaml:"expires"`
	NoExpiry bool   `yaml:"no_expiry"`

	line    int
	expires *time.Time
}

// File is a parsed suppressions file: the entries in force and warnings
// about the others.
type File struct {
	Entries  []Entry
	Warnings []string
	name     string
}

var accountPattern = regexp.MustCompile(`^[0-9]{12}$`)

// Parse reads a suppressions file named name. knownRule says whether a
// rule ID exists. Entries that expired before now are dropped with a
// warning; every mistake is an error naming the file and line.
func Parse(data []byte, name string, now time.Time, knownRule func(string) bool) (*File, error) {
	var doc struct {
		Version      int         `yaml:"version"`
		Suppressions []yaml.Node `yaml:"suppressions"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &File{name: name}, nil
		}
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Version != 1 {
		return nil, fmt.Errorf("%s: version: want 1, got %d", name, doc.Version)
	}
	f := &File{name: name}
	for _, n := range doc.Suppressions {
		var e Entry
		if err := n.Decode(&e); err != nil {
			return nil, fmt.Errorf("%s:%d: %s", name, n.Line, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		e.line = n.Line
		at := fmt.Sprintf("%s:%d", name, n.Line)
		switch {
		case e.Rule == "":
			return nil, fmt.Errorf("%s: rule is required", at)
		case knownRule != nil && !knownRule(e.Rule):
			return nil, fmt.Errorf("%s: rule %q does not exist ('vigil rules' lists them)", at, e.Rule)
		case !accountPattern.MatchString(e.Account):
			return nil, fmt.Errorf("%s: account: want a 12-digit account ID (quote it in YAML), got %q", at, e.Account)
		case strings.TrimSpace(e.Reason) == "":
			return nil, fmt.Errorf("%s: reason is required: say why the risk is accepted", at)
		case strings.TrimSpace(e.Owner) == "":
			return nil, fmt.Errorf("%s: owner is required: say who accepted the risk", at)
		}
		switch {
		case e.NoExpiry && e.Expires != "":
			return nil, fmt.Errorf("%s: expires and no_expiry cannot both be set", at)
		case e.NoExpiry:
		case e.Expires == "":
			return nil, fmt.Errorf("%s: expires is required (at most a year out), or no_expiry: true with a reason that says why", at)
		default:
			t, err := parseTime(e.Expires)
			if err != nil {
				return nil, fmt.Errorf("%s: expires %q: %v", at, e.Expires, err)
			}
			if !t.After(now) {
				f.Warnings = append(f.Warnings, fmt.Sprintf("%s: the suppression of %s in %s expired on %s; ignored", at, e.Rule, e.Account, t.Format(time.RFC3339)))
				continue
			}
			if t.Sub(now) > MaxAhead {
				return nil, fmt.Errorf("%s: expires %s is more than a year out; review accepted risks at least yearly, or set no_expiry: true with a reason", at, t.Format(time.DateOnly))
			}
			e.expires = &t
		}
		f.Entries = append(f.Entries, e)
	}
	return f, nil
}

func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, errors.New("want a date (2027-03-31) or an RFC 3339 time")
}

// Apply marks the results the file's entries cover and returns how many
// it muted.
func (f *File) Apply(results []rule.Result) int {
	n := 0
	for i := range results {
		r := &results[i]
		for _, e := range f.Entries {
			if e.Rule != r.RuleID || e.Account != r.AccountID || (e.Resource != "" && e.Resource != r.Resource) {
				continue
			}
			r.Suppression = &rule.Suppression{Reason: printable(e.Reason), Owner: printable(e.Owner), Ticket: printable(e.Ticket), Expires: e.expires,
				Source: fmt.Sprintf("%s:%d", f.name, e.line)}
			n++
			break
		}
	}
	return n
}

// printable keeps text from the file from driving a terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '\uFFFD'
		}
		return r
	}, strings.TrimSpace(s))
}
