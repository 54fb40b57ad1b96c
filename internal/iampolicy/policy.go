package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Version2012 is the current policy language version. Policy variables
// such as ${aws:PrincipalAccount} only work with it.
const Version2012 = "2012-10-17"

// SCPMaxSize is the largest service control policy AWS Organizations
// accepts, in characters. Through the API every character counts,
// whitespace included (only the console strips it), so Vigil sends
// minified documents and checks this limit on the minified form.
const SCPMaxSize = 5120

// Document is a policy document.
type Document struct {
	Version   string     `json:"Version,omitempty"`
	ID        string     `json:"Id,omitempty"`
	Statement Statements `json:"Statement"`
}

// Statements is the Statement element: a list, or a single statement
// written as an object.
type Statements []Statement

// UnmarshalJSON accepts an object or a list of objects.
func (s *Statements) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var one Statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = Statements{one}
		return nil
	}
	var list []Statement
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*s = list
	return nil
}

// Statement is one statement. Exactly one of Action and NotAction is set,
// and for identity policies and SCPs exactly one of Resource and
// NotResource.
type Statement struct {
	Sid         string    `json:"Sid,omitempty"`
	Effect      string    `json:"Effect"`
	Action      Strings   `json:"Action,omitempty"`
	NotAction   Strings   `json:"NotAction,omitempty"`
	Resource    Strings   `json:"Resource,omitempty"`
	NotResource Strings   `json:"NotResource,omitempty"`
	Condition   Condition `json:"Condition,omitempty"`
}

// Effects.
const (
	Allow = "Allow"
	Deny  = "Deny"
)

// Strings is a policy element that may be written as one string or as a
// list of strings. It is written back as a string when it holds one value,
// the form AWS's own examples use.
type Strings []string

// MarshalJSON writes one value as a string and several as a list.
func (s Strings) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return json.Marshal(s[0])
	}
	return json.Marshal([]string(s))
}

// UnmarshalJSON accepts a string, a list of strings, and (in condition
// values) booleans and numbers, which IAM compares as their text.
func (s *Strings) UnmarshalJSON(b []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	one := func(x any) (string, error) {
		switch t := x.(type) {
		case string:
			return t, nil
		case bool:
			return strconv.FormatBool(t), nil
		case json.Number:
			return t.String(), nil
		}
		return "", fmt.Errorf("want a string or a list of strings, got %s", jsonKind(x))
	}
	if list, ok := v.([]any); ok {
		out := make(Strings, 0, len(list))
		for _, x := range list {
			str, err := one(x)
			if err != nil {
				return err
			}
			out = append(out, str)
		}
		*s = out
		return nil
	}
	str, err := one(v)
	if err != nil {
		return err
	}
	*s = Strings{str}
	return nil
}

// Condition maps an operator (StringLike, ArnLike, Null, …, possibly with
// IfExists or a ForAllValues:/ForAnyValue: prefix) to condition keys and
// their values. encoding/json writes map keys sorted, so output is stable.
type Condition map[string]map[string]Strings

// Parse checks data against the policy grammar for kind and decodes it.
func Parse(data []byte, kind Kind) (*Document, error) {
	if err := Validate(data, Options{Kind: kind}); err != nil {
		return nil, err
	}
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return &d, nil
}

// Marshal renders a document as indented JSON, for people.
func Marshal(d *Document) ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Minify renders a document in its smallest JSON form, the form Vigil
// sends to AWS Organizations (where whitespace counts against the size
// limit).
func Minify(d *Document) ([]byte, error) {
	return json.Marshal(d)
}

// Canonical returns a form of a JSON policy that ignores what AWS ignores:
// whitespace, the order of object keys, and one string versus a list of
// one. Two policies with the same canonical form mean the same thing.
func Canonical(data []byte) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(canonical(v))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func canonical(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = canonical(x)
		}
		return out
	case []any:
		if len(t) == 1 {
			return canonical(t[0])
		}
		out := make([]any, len(t))
		strs := make([]string, 0, len(t))
		for i, x := range t {
			out[i] = canonical(x)
			if s, ok := x.(string); ok {
				strs = append(strs, s)
			}
		}
		// A list of strings is a set (actions, resources, condition
		// values); statements and other lists keep their order.
		if len(strs) == len(t) {
			sort.Strings(strs)
			for i, s := range strs {
				out[i] = s
			}
		}
		return out
	}
	return v
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64, int, int64, uint64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
