package iampolicy

import (
	"maps"
	"slices"
	"strings"
)

// Request is what the evaluator is asked about: one action on one
// resource, with the condition keys the caller knows.
type Request struct {
	// Action is "service:Action", e.g. "iam:CreateAccessKey".
	Action string
	// Resource is the resource's ARN.
	Resource string
	// Context holds the condition keys present in the request and their
	// values. Key names are case-insensitive, as in IAM.
	Context map[string][]string
	// Absent lists keys known to be missing from the request (for a root
	// user's own session, aws:AssumedRoot). Any key neither in Context nor
	// in Absent is unknown, and a condition on it makes the answer Unknown.
	Absent []string
}

// Verdict is a three-valued answer: a statement matches a request, does
// not, or cannot be decided from what the request describes.
type Verdict int

const (
	NoMatch Verdict = iota
	Match
	Unknown
)

func (v Verdict) String() string {
	switch v {
	case Match:
		return "match"
	case Unknown:
		return "unknown"
	}
	return "no match"
}

// Decision is a verdict with the reason for an Unknown: the condition keys
// (or policy variables) the request did not describe.
type Decision struct {
	Verdict Verdict
	// UnknownKeys are the keys that made the verdict Unknown, sorted.
	UnknownKeys []string
}

// Matches evaluates whether the statement applies to the request: its
// action, resource and every condition match. The effect is not
// considered; see Denies.
func (s Statement) Matches(r Request) Decision {
	e := evaluator{r: r}
	return e.statement(s)
}

// Denies evaluates the document's Deny statements against the request. It
// returns Match with the indexes of the statements that deny it, Unknown
// when no statement certainly denies it but one might, and NoMatch when
// none does.
func (d *Document) Denies(r Request) (Decision, []int) {
	var matched []int
	unknown := map[string]bool{}
	for i, s := range d.Statement {
		if s.Effect != Deny {
			continue
		}
		dec := s.Matches(r)
		switch dec.Verdict {
		case Match:
			matched = append(matched, i)
		case Unknown:
			for _, k := range dec.UnknownKeys {
				unknown[k] = true
			}
		}
	}
	if len(matched) > 0 {
		return Decision{Verdict: Match}, matched
	}
	if len(unknown) > 0 {
		return Decision{Verdict: Unknown, UnknownKeys: slices.Sorted(maps.Keys(unknown))}, nil
	}
	return Decision{Verdict: NoMatch}, nil
}

type evaluator struct {
	r       Request
	unknown map[string]bool
}

func (e *evaluator) markUnknown(key string) {
	if e.unknown == nil {
		e.unknown = map[string]bool{}
	}
	e.unknown[key] = true
}

func (e *evaluator) statement(s Statement) Decision {
	v := e.and(e.actionMatches(s), e.resourceMatches(s), e.conditions(s.Condition))
	d := Decision{Verdict: v}
	if v == Unknown {
		d.UnknownKeys = slices.Sorted(maps.Keys(e.unknown))
	}
	return d
}

// and combines verdicts: any NoMatch wins, then any Unknown.
func (e *evaluator) and(vs ...Verdict) Verdict {
	out := Match
	for _, v := range vs {
		switch v {
		case NoMatch:
			return NoMatch
		case Unknown:
			out = Unknown
		}
	}
	return out
}

func (e *evaluator) actionMatches(s Statement) Verdict {
	match := func(patterns []string) bool {
		return slices.ContainsFunc(patterns, func(p string) bool {
			return globMatch(strings.ToLower(p), strings.ToLower(e.r.Action))
		})
	}
	switch {
	case s.Action != nil:
		return verdictOf(match(s.Action))
	case s.NotAction != nil:
		return verdictOf(!match(s.NotAction))
	}
	return NoMatch
}

func (e *evaluator) resourceMatches(s Statement) Verdict {
	list, negate := []string(s.Resource), false
	switch {
	case s.Resource != nil:
	case s.NotResource != nil:
		list, negate = s.NotResource, true
	default:
		return Match // resource-based policies may omit Resource
	}
	any := false
	for _, p := range list {
		p, ok := e.substitute(p)
		if !ok {
			return Unknown
		}
		if p == "*" || arnMatch(p, e.r.Resource) {
			any = true
			break
		}
	}
	return verdictOf(any != negate)
}

func verdictOf(b bool) Verdict {
	if b {
		return Match
	}
	return NoMatch
}

// lookup returns a context key's values, whether it is known to be absent,
// and whether it is known at all.
func (e *evaluator) lookup(key string) (values []string, present, known bool) {
	for k, v := range e.r.Context {
		if strings.EqualFold(k, key) {
			return v, true, true
		}
	}
	for _, k := range e.r.Absent {
		if strings.EqualFold(k, key) {
			return nil, false, true
		}
	}
	return nil, false, false
}

// substitute replaces policy variables (${aws:PrincipalAccount}) with
// their values; ok is false when one is unknown or multi-valued.
func (e *evaluator) substitute(s string) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		switch name {
		case "*", "?", "$":
			// Escapes for a literal *, ? and $. A literal wildcard cannot
			// be told from a glob here, so the caller gets it as is.
			b.WriteString(name)
		default:
			vals, present, known := e.lookup(name)
			if !known || !present || len(vals) != 1 {
				e.markUnknown(name)
				return "", false
			}
			b.WriteString(vals[0])
		}
		s = s[i+j+1:]
	}
}

// negated operators are true when the request value matches none of the
// policy values, and when the key is absent.
var negated = map[string]bool{
	"StringNotEquals": true, "StringNotEqualsIgnoreCase": true, "StringNotLike": true,
	"ArnNotEquals": true, "ArnNotLike": true, "NumericNotEquals": true, "DateNotEquals": true, "NotIpAddress": true,
}

func (e *evaluator) conditions(c Condition) Verdict {
	out := Match
	for _, op := range slices.Sorted(maps.Keys(c)) {
		for _, key := range slices.Sorted(maps.Keys(c[op])) {
			v := e.condition(op, key, c[op][key])
			switch v {
			case NoMatch:
				return NoMatch
			case Unknown:
				out = Unknown
			}
		}
	}
	return out
}

func (e *evaluator) condition(op, key string, want []string) Verdict {
	set, base, ifExists := splitOperator(op)
	got, present, known := e.lookup(key)
	if !known {
		e.markUnknown(key)
		return Unknown
	}
	if base == "Null" {
		// "Null": {"k": "true"} holds when k is absent.
		for _, w := range want {
			if (w == "true") == present {
				return NoMatch
			}
		}
		return Match
	}
	if !present {
		switch {
		case ifExists:
			return Match
		case set == "ForAllValues":
			return Match
		case set == "ForAnyValue":
			return NoMatch
		}
		return verdictOf(negated[base])
	}
	values := make([]string, 0, len(want))
	for _, w := range want {
		w, ok := e.substitute(w)
		if !ok {
			return Unknown
		}
		values = append(values, w)
	}
	match := func(g string) (bool, bool) { return compare(base, g, values) }
	switch set {
	case "ForAllValues":
		for _, g := range got {
			m, ok := match(g)
			if !ok {
				e.markUnknown(key)
				return Unknown
			}
			if !m {
				return NoMatch
			}
		}
		return Match
	case "ForAnyValue":
		for _, g := range got {
			m, ok := match(g)
			if !ok {
				e.markUnknown(key)
				return Unknown
			}
			if m {
				return Match
			}
		}
		return NoMatch
	}
	// A single-valued key: the request carries one value.
	if len(got) != 1 {
		e.markUnknown(key)
		return Unknown
	}
	m, ok := match(got[0])
	if !ok {
		e.markUnknown(key)
		return Unknown
	}
	return verdictOf(m)
}

// compare applies a base operator to one request value; ok is false for
// operators the evaluator does not implement (numbers, dates, addresses,
// binary), whose answer is then Unknown.
func compare(base, got string, want []string) (match, ok bool) {
	var f func(w string) bool
	switch base {
	case "StringEquals", "StringNotEquals":
		f = func(w string) bool { return w == got }
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		f = func(w string) bool { return strings.EqualFold(w, got) }
	case "StringLike", "StringNotLike":
		f = func(w string) bool { return globMatch(w, got) }
	case "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike":
		f = func(w string) bool { return arnMatch(w, got) }
	case "Bool":
		f = func(w string) bool { return strings.EqualFold(w, got) }
	default:
		return false, false
	}
	any := slices.ContainsFunc(want, f)
	if negated[base] {
		return !any, true
	}
	return any, true
}

// globMatch matches s against a pattern where * is any run of characters
// and ? any one character; everything else is literal and case-sensitive.
func globMatch(pattern, s string) bool {
	// Iterative matching with backtracking to the last star: linear in
	// practice, and no regexp compilation per comparison.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// arnMatch compares ARNs the way ArnLike does: each of the six
// colon-separated parts is matched on its own, so a wildcard never spans a
// colon (the resource part, the sixth, keeps its own colons).
func arnMatch(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	pp := strings.SplitN(pattern, ":", 6)
	ap := strings.SplitN(arn, ":", 6)
	if len(pp) != 6 || len(ap) != 6 {
		return false
	}
	for i := range pp {
		if !globMatch(pp[i], ap[i]) {
			return false
		}
	}
	return true
}

// ConditionKeys lists the condition keys a statement uses, lower-cased and
// sorted, for explanations.
func (s Statement) ConditionKeys() []string {
	seen := map[string]bool{}
	for _, keys := range s.Condition {
		for k := range keys {
			seen[strings.ToLower(k)] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
