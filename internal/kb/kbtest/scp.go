package kbtest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// SCPDenies evaluates a service control policy's Deny statements for one
// request, with the condition operators the pages' policies use (ArnLike,
// StringLike, StringEquals, Null; keys ANDed, values ORed, as IAM does).
// ctx holds the request's condition keys; an absent key is absent.
// It reports whether a Deny statement with Action "*" applies.
func SCPDenies(policy string, ctx map[string]string) (bool, error) {
	var doc struct {
		Statement []struct {
			Effect    string
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return false, fmt.Errorf("policy: %w", err)
	}
	for _, st := range doc.Statement {
		if st.Effect != "Deny" || st.Action != "*" || st.Resource != "*" {
			continue
		}
		applies := true
		for op, keys := range st.Condition {
			for key, raw := range keys {
				var values []string
				switch v := raw.(type) {
				case string:
					values = []string{v}
				case []any:
					for _, x := range v {
						values = append(values, fmt.Sprint(x))
					}
				}
				got, present := ctx[key]
				ok := false
				for _, want := range values {
					switch op {
					case "ArnLike":
						ok = ok || (present && arnLike(want, got))
					case "StringLike":
						ok = ok || (present && glob(want, got))
					case "StringEquals":
						ok = ok || (present && got == want)
					case "Null":
						ok = ok || ((want == "true") == !present)
					default:
						return false, fmt.Errorf("condition operator %s is not modelled", op)
					}
				}
				applies = applies && ok
			}
		}
		if applies {
			return true, nil
		}
	}
	return false, nil
}

// arnLike matches IAM's way: each of the six colon-separated parts of the
// ARN separately, so a wildcard never spans a colon.
func arnLike(pattern, arn string) bool {
	p, a := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(p) != 6 || len(a) != 6 {
		return false
	}
	for i := range p {
		if !glob(p[i], a[i]) {
			return false
		}
	}
	return true
}

// glob matches * (any run of characters, slashes included) and ? (one
// character), as IAM's *Like operators do.
func glob(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if glob(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && glob(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && glob(pattern[1:], s[1:])
}
