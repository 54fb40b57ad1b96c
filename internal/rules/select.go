package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/rule"
)

// Select returns the rules a run evaluates: every rule when only is
// empty, else the rules named in only, less those named in skip, in
// catalog order. A name that is no rule's ID is an error that lists the
// valid ones, so a typo never silently drops a rule (or keeps one); so is
// a selection that leaves no rule at all.
func Select(only, skip []string) ([]rule.Rule, error) {
	all := All()
	ids := make([]string, len(all))
	for i, r := range all {
		ids[i] = r.ID
	}
	var unknown []string
	for _, n := range append(append([]string(nil), only...), skip...) {
		if !slices.Contains(ids, n) && !slices.Contains(unknown, n) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		what := "rule"
		if len(unknown) > 1 {
			what = "rules"
		}
		return nil, fmt.Errorf("unknown %s %s; valid rules: %s", what, strings.Join(quoteAll(unknown), ", "), strings.Join(ids, ", "))
	}
	var out []rule.Rule
	for _, r := range all {
		if (len(only) == 0 || slices.Contains(only, r.ID)) && !slices.Contains(skip, r.ID) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the selection leaves no rule to run")
	}
	return out, nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
