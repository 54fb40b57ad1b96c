package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Kind is the kind of policy, which decides the elements it may have.
type Kind int

const (
	// Identity is an identity-based policy (attached to a user or role):
	// no Principal, and Resource or NotResource in every statement.
	Identity Kind = iota
	// SCP is a service control policy: an identity-style policy that
	// Organizations also limits to SCPMaxSize characters.
	SCP
	// ResourceBased is a policy attached to a resource (an SNS topic, an
	// event bus, a role's trust policy): Principal or NotPrincipal in every
	// statement, Resource optional.
	ResourceBased
)

func (k Kind) String() string {
	switch k {
	case Identity:
		return "identity policy"
	case SCP:
		return "service control policy"
	case ResourceBased:
		return "resource-based policy"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Options tune Validate.
type Options struct {
	Kind Kind
	// Intrinsics accepts CloudFormation intrinsic functions ({"Ref": …},
	// {"Fn::Sub": …}, …) wherever the grammar wants a string, for policies
	// embedded in templates, whose final text CloudFormation computes.
	Intrinsics bool
}

// Validate checks a JSON policy against the IAM policy grammar and reports
// every problem found, each with its path (Statement[1].Condition…).
func Validate(data []byte, o Options) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("policy is not valid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("policy: unexpected data after the JSON document")
	}
	if err := ValidateValue(v, o); err != nil {
		return err
	}
	if o.Kind == SCP {
		var buf bytes.Buffer
		if err := json.Compact(&buf, data); err == nil && buf.Len() > SCPMaxSize {
			return fmt.Errorf("policy: %d characters when minified, more than the %d AWS Organizations allows for a service control policy", buf.Len(), SCPMaxSize)
		}
	}
	return nil
}

// ValidateValue is Validate on an already-decoded document (a
// map[string]any as encoding/json or a YAML decoder produces).
func ValidateValue(v any, o Options) error {
	c := &checker{o: o}
	c.document(v)
	return errors.Join(c.errs...)
}

type checker struct {
	o    Options
	errs []error
}

func (c *checker) bad(path, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

var (
	sidPattern       = regexp.MustCompile(`^[A-Za-z0-9]*$`)
	actionPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*:[A-Za-z0-9*?]+$`)
	conditionKeyPatt = regexp.MustCompile(`^[A-Za-z0-9-]+:[A-Za-z0-9_.:/${}*?-]+$`)
)

// The grammar's operators, without IfExists and set prefixes.
var operators = map[string]bool{
	"StringEquals": true, "StringNotEquals": true, "StringEqualsIgnoreCase": true, "StringNotEqualsIgnoreCase": true,
	"StringLike": true, "StringNotLike": true,
	"NumericEquals": true, "NumericNotEquals": true, "NumericLessThan": true, "NumericLessThanEquals": true,
	"NumericGreaterThan": true, "NumericGreaterThanEquals": true,
	"DateEquals": true, "DateNotEquals": true, "DateLessThan": true, "DateLessThanEquals": true,
	"DateGreaterThan": true, "DateGreaterThanEquals": true,
	"Bool": true, "BinaryEquals": true, "IpAddress": true, "NotIpAddress": true,
	"ArnEquals": true, "ArnLike": true, "ArnNotEquals": true, "ArnNotLike": true,
	"Null": true,
}

// splitOperator separates "ForAnyValue:StringLikeIfExists" into its set
// prefix, base operator and IfExists flag.
func splitOperator(op string) (set, base string, ifExists bool) {
	for _, p := range []string{"ForAllValues:", "ForAnyValue:"} {
		if rest, ok := strings.CutPrefix(op, p); ok {
			set, op = strings.TrimSuffix(p, ":"), rest
			break
		}
	}
	if rest, ok := strings.CutSuffix(op, "IfExists"); ok && rest != "" {
		return set, rest, true
	}
	return set, op, false
}

func (c *checker) document(v any) {
	doc, ok := v.(map[string]any)
	if !ok {
		c.bad("policy", "must be a JSON object, not %s", jsonKind(v))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		switch k {
		case "Version":
			if s, ok := doc[k].(string); !ok || (s != Version2012 && s != "2008-10-17") {
				c.bad("Version", "must be %q (or the legacy \"2008-10-17\"), got %v", Version2012, doc[k])
			}
		case "Id":
			if !c.isString(doc[k]) {
				c.bad("Id", "must be a string")
			}
		case "Statement":
		default:
			c.bad(k, "is not a policy element (want Version, Id and Statement; names are case-sensitive)")
		}
	}
	raw, ok := doc["Statement"]
	if !ok {
		c.bad("policy", "has no Statement")
		return
	}
	var stmts []any
	switch t := raw.(type) {
	case []any:
		stmts = t
	case map[string]any:
		stmts = []any{t}
	default:
		c.bad("Statement", "must be an object or a list of objects, not %s", jsonKind(raw))
		return
	}
	if len(stmts) == 0 {
		c.bad("Statement", "is empty")
	}
	sids := map[string]int{}
	for i, s := range stmts {
		path := fmt.Sprintf("Statement[%d]", i)
		c.statement(path, s)
		if m, ok := s.(map[string]any); ok {
			if sid, ok := m["Sid"].(string); ok && sid != "" {
				if prev, dup := sids[sid]; dup {
					c.bad(path+".Sid", "%q is already used by Statement[%d]; Sids must be unique", sid, prev)
				}
				sids[sid] = i
			}
		}
	}
}

func (c *checker) statement(path string, v any) {
	s, ok := v.(map[string]any)
	if !ok {
		c.bad(path, "must be an object, not %s", jsonKind(v))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(s)) {
		switch k {
		case "Sid":
			if str, ok := s[k].(string); !ok || !sidPattern.MatchString(str) {
				c.bad(path+".Sid", "must be a string of ASCII letters and digits, got %v", s[k])
			}
		case "Effect":
			if e, ok := s[k].(string); !ok || (e != Allow && e != Deny) {
				c.bad(path+".Effect", "must be \"Allow\" or \"Deny\", got %v", s[k])
			}
		case "Action", "NotAction":
			c.actions(path+"."+k, s[k])
		case "Resource", "NotResource":
			c.resources(path+"."+k, s[k])
		case "Principal", "NotPrincipal":
			if c.o.Kind != ResourceBased {
				c.bad(path+"."+k, "is not allowed in a %s", c.o.Kind)
				continue
			}
			c.principal(path+"."+k, s[k])
		case "Condition":
			c.condition(path+".Condition", s[k])
		default:
			c.bad(path+"."+k, "is not a statement element (want Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource or Condition)")
		}
	}
	if _, ok := s["Effect"]; !ok {
		c.bad(path, "has no Effect")
	}
	c.exactlyOne(path, s, "Action", "NotAction", true)
	c.exactlyOne(path, s, "Resource", "NotResource", c.o.Kind != ResourceBased)
	if c.o.Kind == ResourceBased {
		c.exactlyOne(path, s, "Principal", "NotPrincipal", true)
	}
}

func (c *checker) exactlyOne(path string, s map[string]any, a, b string, required bool) {
	_, hasA := s[a]
	_, hasB := s[b]
	switch {
	case hasA && hasB:
		c.bad(path, "has both %s and %s", a, b)
	case !hasA && !hasB && required:
		c.bad(path, "needs %s or %s", a, b)
	}
}

// isString accepts a string, or an intrinsic function when allowed.
func (c *checker) isString(v any) bool {
	if _, ok := v.(string); ok {
		return true
	}
	return c.o.Intrinsics && isIntrinsic(v)
}

// isIntrinsic recognises a CloudFormation intrinsic function: an object
// with a single key "Ref" or "Fn::…".
func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// stringList returns the strings of a string-or-list element; intrinsic
// values come back as "" (unknown until CloudFormation resolves them).
func (c *checker) stringList(path string, v any) ([]string, bool) {
	if c.o.Intrinsics && isIntrinsic(v) {
		return []string{""}, true
	}
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		if len(t) == 0 {
			c.bad(path, "is an empty list")
			return nil, false
		}
		out := make([]string, 0, len(t))
		for i, x := range t {
			switch {
			case c.o.Intrinsics && isIntrinsic(x):
				out = append(out, "")
			default:
				s, ok := x.(string)
				if !ok {
					c.bad(fmt.Sprintf("%s[%d]", path, i), "must be a string, not %s", jsonKind(x))
					return nil, false
				}
				out = append(out, s)
			}
		}
		return out, true
	}
	c.bad(path, "must be a string or a list of strings, not %s", jsonKind(v))
	return nil, false
}

func (c *checker) actions(path string, v any) {
	list, ok := c.stringList(path, v)
	if !ok {
		return
	}
	for _, a := range list {
		if a == "" || a == "*" {
			continue
		}
		if !actionPattern.MatchString(a) {
			c.bad(path, "%q is not an action (want \"*\" or service:Action, e.g. iam:CreateAccessKey)", a)
		}
	}
}

func (c *checker) resources(path string, v any) {
	list, ok := c.stringList(path, v)
	if !ok {
		return
	}
	for _, r := range list {
		if r == "" || r == "*" {
			continue
		}
		if !strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5 {
			c.bad(path, "%q is not \"*\" or an ARN (arn:partition:service:region:account:resource)", r)
		}
	}
}

func (c *checker) principal(path string, v any) {
	if s, ok := v.(string); ok {
		if s != "*" {
			c.bad(path, "a string principal must be \"*\", got %q", s)
		}
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.bad(path, "must be \"*\" or an object, not %s", jsonKind(v))
		return
	}
	if len(m) == 0 {
		c.bad(path, "is empty")
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch k {
		case "AWS", "Service", "Federated", "CanonicalUser":
			c.stringList(path+"."+k, m[k])
		default:
			c.bad(path+"."+k, "is not a principal type (want AWS, Service, Federated or CanonicalUser)")
		}
	}
}

func (c *checker) condition(path string, v any) {
	ops, ok := v.(map[string]any)
	if !ok {
		c.bad(path, "must be an object, not %s", jsonKind(v))
		return
	}
	if len(ops) == 0 {
		c.bad(path, "is empty")
	}
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		opPath := path + "." + op
		set, base, ifExists := splitOperator(op)
		if !operators[base] {
			c.bad(opPath, "is not a condition operator")
			continue
		}
		if base == "Null" && (ifExists || set != "") {
			c.bad(opPath, "Null takes neither IfExists nor a set prefix")
		}
		keys, ok := ops[op].(map[string]any)
		if !ok {
			c.bad(opPath, "must be an object of condition keys, not %s", jsonKind(ops[op]))
			continue
		}
		if len(keys) == 0 {
			c.bad(opPath, "has no condition keys")
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			kPath := opPath + "." + k
			if !conditionKeyPatt.MatchString(k) {
				c.bad(kPath, "is not a condition key (want prefix:name, e.g. aws:PrincipalArn)")
			}
			c.conditionValues(kPath, base, keys[k])
		}
	}
}

func (c *checker) conditionValues(path, base string, v any) {
	values := []any{v}
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			c.bad(path, "is an empty list")
			return
		}
		values = list
	}
	for _, x := range values {
		switch t := x.(type) {
		case string:
			if base == "Null" && t != "true" && t != "false" {
				c.bad(path, "Null takes \"true\" or \"false\", got %q", t)
			}
			if strings.HasPrefix(base, "Arn") && t != "*" && !strings.HasPrefix(t, "arn:") {
				c.bad(path, "%s compares ARNs, but %q is not one", base, t)
			}
		case bool:
			if base != "Null" && base != "Bool" {
				c.bad(path, "%s takes strings, not a boolean", base)
			}
		case json.Number, float64, int, int64, uint64:
			if !strings.HasPrefix(base, "Numeric") && !strings.HasPrefix(base, "Date") {
				c.bad(path, "%s takes strings, not a number", base)
			}
		default:
			if c.o.Intrinsics && isIntrinsic(x) {
				continue
			}
			c.bad(path, "condition values must be strings, booleans or numbers, not %s", jsonKind(x))
		}
	}
}
