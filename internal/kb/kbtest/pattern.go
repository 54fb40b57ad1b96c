package kbtest

import (
	"encoding/json"
	"errors"
	"fmt"
)

// checkPattern accepts the part of EventBridge's pattern language the pages
// use: nested objects whose leaves are arrays of strings (exact matches).
// Anything else is rejected, so a page cannot rely on matching the tests
// do not understand.
func checkPattern(pattern string) error {
	var p map[string]any
	if err := json.Unmarshal([]byte(pattern), &p); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	return checkNode(p)
}

func checkNode(n map[string]any) error {
	if len(n) == 0 {
		return errors.New("empty object")
	}
	for k, v := range n {
		switch v := v.(type) {
		case map[string]any:
			if err := checkNode(v); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		case []any:
			if len(v) == 0 {
				return fmt.Errorf("%s: empty array", k)
			}
			for _, x := range v {
				if _, ok := x.(string); !ok {
					return fmt.Errorf("%s: only string values are modelled", k)
				}
			}
		default:
			return fmt.Errorf("%s: a leaf must be an array", k)
		}
	}
	return nil
}

// PatternMatches reports whether an EventBridge event matches a pattern, by
// EventBridge's rules for exact-match patterns: every field of the pattern
// must be present in the event, and a leaf matches when the event's value
// (or one of its values, for an array) equals one of the pattern's.
func PatternMatches(pattern string, event map[string]any) (bool, error) {
	if err := checkPattern(pattern); err != nil {
		return false, err
	}
	var p map[string]any
	_ = json.Unmarshal([]byte(pattern), &p)
	return matchNode(p, event), nil
}

func matchNode(p map[string]any, e map[string]any) bool {
	for k, want := range p {
		got, ok := e[k]
		if !ok {
			return false
		}
		switch want := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matchNode(want, sub) {
				return false
			}
		case []any:
			if !matchLeaf(want, got) {
				return false
			}
		}
	}
	return true
}

func matchLeaf(want []any, got any) bool {
	values := []any{got}
	if list, ok := got.([]any); ok {
		values = list
	}
	for _, v := range values {
		for _, w := range want {
			if v == w {
				return true
			}
		}
	}
	return false
}
