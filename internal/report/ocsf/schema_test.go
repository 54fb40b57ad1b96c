package ocsf

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// schema is the OCSF 1.6.0 schema as its repository lays it out, read the
// way the OCSF server compiles it: a class or object is its own
// attributes over those of what it extends and of the files it includes
// ($include, profiles among them); an attribute is its dictionary entry
// with the class's or object's overrides, enums merged.
type schema struct {
	root  string
	dict  map[string]map[string]any
	types map[string]map[string]any
	// events finds a class's file by its name.
	events map[string]string
	// applied are the profiles of the event being validated.
	applied map[string]bool
	// objects are the objects resolved so far.
	objects map[string]def
	// categories are the categories' uids and captions, by name.
	categories map[string]struct {
		UID     int
		Caption string
	}
}

type def struct {
	caption     string
	attrs       map[string]map[string]any
	constraints map[string]any
	uid         int
	category    string
}

func loadSchema(t *testing.T, root string) *schema {
	t.Helper()
	var d struct {
		Attributes map[string]map[string]any `json:"attributes"`
		Types      struct {
			Attributes map[string]map[string]any `json:"attributes"`
		} `json:"types"`
	}
	readJSON(t, filepath.Join(root, "dictionary.json"), &d)
	s := &schema{root: root, dict: d.Attributes, types: d.Types.Attributes, events: map[string]string{}, objects: map[string]def{}}
	var cats struct {
		Attributes map[string]struct {
			UID     int
			Caption string
		}
	}
	readJSON(t, filepath.Join(root, "categories.json"), &cats)
	s.categories = cats.Attributes
	err := filepath.WalkDir(filepath.Join(root, "events"), func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		var head struct{ Name string }
		readJSON(t, p, &head)
		s.events[head.Name] = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// load resolves the definition in file path (relative to the root or
// absolute): what it extends (findParent says where), what it includes,
// then its own attributes over them.
func (s *schema) load(t *testing.T, path string, findParent func(string) string) def {
	t.Helper()
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.root, path)
	}
	var raw struct {
		Extends     string                     `json:"extends"`
		Caption     string                     `json:"caption"`
		UID         int                        `json:"uid"`
		Category    string                     `json:"category"`
		Constraints map[string]any             `json:"constraints"`
		Attributes  map[string]json.RawMessage `json:"attributes"`
	}
	readJSON(t, path, &raw)
	out := def{caption: raw.Caption, attrs: map[string]map[string]any{}, constraints: map[string]any{}, uid: raw.UID, category: raw.Category}
	if raw.Extends != "" {
		parent := s.load(t, findParent(raw.Extends), findParent)
		out.attrs, out.constraints = parent.attrs, parent.constraints
		if out.category == "" {
			out.category = parent.category
		}
	}
	if inc, ok := raw.Attributes["$include"]; ok {
		var files []string
		if err := json.Unmarshal(inc, &files); err != nil {
			t.Fatalf("%s: $include: %v", path, err)
		}
		for _, f := range files {
			included := s.load(t, f, findParent)
			// A profile's attributes belong to the events that apply the
			// profile (metadata.profiles), unless the class says
			// otherwise ("profile": null).
			profile, isProfile := strings.CutPrefix(strings.TrimSuffix(f, ".json"), "profiles/")
			for k, v := range included.attrs {
				if isProfile {
					v = merge(v, map[string]any{"profile": profile})
				}
				out.attrs[k] = merge(out.attrs[k], v)
			}
		}
	}
	for k, v := range raw.Attributes {
		if k == "$include" {
			continue
		}
		var a map[string]any
		if err := json.Unmarshal(v, &a); err != nil {
			t.Fatalf("%s: %s: %v", path, k, err)
		}
		out.attrs[k] = merge(out.attrs[k], a)
	}
	maps.Copy(out.constraints, raw.Constraints)
	return out
}

// merge lays over on base, field by field; enums are merged value by
// value (a class adds to, and recaptions, the dictionary's).
func merge(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		if k == "enum" {
			e := map[string]any{}
			if old, ok := out["enum"].(map[string]any); ok {
				maps.Copy(e, old)
			}
			over, _ := v.(map[string]any)
			maps.Copy(e, over)
			out[k] = e
			continue
		}
		out[k] = v
	}
	return out
}

func (s *schema) class(t *testing.T, name string) def {
	return s.load(t, s.events[name], func(n string) string { return s.events[n] })
}

func (s *schema) object(t *testing.T, name string) def {
	if d, ok := s.objects[name]; ok {
		return d
	}
	d := s.load(t, filepath.Join("objects", name+".json"), func(n string) string { return filepath.Join("objects", n+".json") })
	s.objects[name] = d
	return d
}

// validateEvent validates an event of class: its attributes as validate
// does, with the profiles it applies (metadata.profiles), and its
// category and class, whose uids and captions the class defines (the
// base event's enums of them are placeholders).
func (s *schema) validateEvent(t *testing.T, class def, classUID int, e map[string]any) []string {
	profiles := map[string]bool{}
	if m, ok := e["metadata"].(map[string]any); ok {
		if list, ok := m["profiles"].([]any); ok {
			for _, p := range list {
				profiles[fmt.Sprint(p)] = true
			}
		}
	}
	s.applied = profiles
	d := def{caption: class.caption, attrs: map[string]map[string]any{}, constraints: class.constraints}
	for k, a := range class.attrs {
		if k == "category_uid" || k == "class_uid" {
			a = maps.Clone(a)
			delete(a, "enum")
			delete(a, "sibling")
		}
		d.attrs[k] = a
	}
	errs := s.validate(t, d, e, "event")
	cat := s.categories[class.category]
	for _, c := range []struct {
		id, caption string
		uid         int
		want        string
	}{{"category_uid", "category_name", cat.UID, cat.Caption}, {"class_uid", "class_name", classUID, class.caption}} {
		if fmt.Sprint(e[c.id]) != strconv.Itoa(c.uid) || e[c.caption] != nil && e[c.caption] != c.want {
			errs = append(errs, fmt.Sprintf("event: %s %v (%v), want %d (%s)", c.id, e[c.id], e[c.caption], c.uid, c.want))
		}
	}
	return errs
}

// attribute is an attribute's whole definition: the dictionary's, with
// the class's or object's overrides.
func (s *schema) attribute(d def, name string) (map[string]any, bool) {
	local, ok := d.attrs[name]
	if !ok {
		return nil, false
	}
	return merge(s.dict[name], local), true
}

// baseType follows a scalar type down to the base the dictionary builds
// it on (timestamp_t → long_t).
func (s *schema) baseType(t string) string {
	for range 10 {
		next, _ := s.types[t]["type"].(string)
		if next == "" {
			return t
		}
		t = next
	}
	return t
}

// validate checks value (decoded with UseNumber) against definition d at
// path: every attribute exists with the right type and a valid enum
// value, sibling captions match, nothing deprecated, every required
// attribute present, constraints kept.
func (s *schema) validate(t *testing.T, d def, value map[string]any, path string) []string {
	var errs []string
	for _, name := range slices.Sorted(maps.Keys(value)) {
		v := value[name]
		at := path + "." + name
		a, ok := s.attribute(d, name)
		if !ok {
			errs = append(errs, at+": no such attribute")
			continue
		}
		if p, _ := a["profile"].(string); p != "" && !s.applied[p] {
			errs = append(errs, at+": attribute of the profile "+p+", which the event does not apply")
		}
		if _, dep := a["@deprecated"]; dep {
			errs = append(errs, at+": deprecated")
		}
		typ, _ := a["type"].(string)
		if typ == "" {
			errs = append(errs, at+": the schema gives no type")
			continue
		}
		if a["is_array"] == true {
			list, ok := v.([]any)
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: want an array of %s, have %T", at, typ, v))
				continue
			}
			for i, e := range list {
				errs = append(errs, s.value(t, a, typ, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
			continue
		}
		errs = append(errs, s.value(t, a, typ, v, at)...)
		if sib, _ := a["sibling"].(string); sib != "" {
			if caption, ok := value[sib]; ok {
				key := fmt.Sprint(v)
				enum, _ := a["enum"].(map[string]any)
				entry, _ := enum[key].(map[string]any)
				want, _ := entry["caption"].(string)
				if enum != nil && key != "99" && caption != want {
					errs = append(errs, fmt.Sprintf("%s: %s is %q, the caption of %s %s is %q", at, sib, caption, name, key, want))
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.attrs)) {
		if a, _ := s.attribute(d, name); a["requirement"] == "required" && (a["profile"] == nil || a["profile"] == "" || s.applied[a["profile"].(string)]) {
			if _, ok := value[name]; !ok {
				errs = append(errs, path+"."+name+": required, missing")
			}
		}
	}
	for kind, c := range d.constraints {
		names, _ := c.([]any)
		n := 0
		for _, x := range names {
			if _, ok := value[x.(string)]; ok {
				n++
			}
		}
		if kind == "at_least_one" && n == 0 || kind == "just_one" && n != 1 {
			errs = append(errs, fmt.Sprintf("%s: constraint %s of %v: %d present", path, kind, names, n))
		}
	}
	return errs
}

func (s *schema) value(t *testing.T, a map[string]any, typ string, v any, at string) []string {
	if strings.HasSuffix(typ, "_t") {
		ok := true
		switch s.baseType(typ) {
		case "string_t":
			_, ok = v.(string)
		case "integer_t", "long_t":
			n, isNum := v.(json.Number)
			_, err := strconv.ParseInt(string(n), 10, 64)
			ok = isNum && err == nil
		case "float_t":
			_, ok = v.(json.Number)
		case "boolean_t":
			_, ok = v.(bool)
		case "json_t":
		default:
			return []string{at + ": unknown scalar type " + typ}
		}
		if !ok {
			return []string{fmt.Sprintf("%s: want %s, have %v (%T)", at, typ, v, v)}
		}
		if e, has := a["enum"].(map[string]any); has {
			if _, valid := e[fmt.Sprint(v)]; !valid {
				return []string{fmt.Sprintf("%s: %v is not one of the enum's values %v", at, v, slices.Sorted(maps.Keys(e)))}
			}
		}
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: want the object %s, have %T", at, typ, v)}
	}
	if typ == "object" {
		return nil
	}
	return s.validate(t, s.object(t, typ), obj, at)
}
