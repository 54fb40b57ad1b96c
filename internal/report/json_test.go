package report_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/reporttest"
	"github.com/vigil-sec/vigil/internal/rule"
)

// TestJSONConformance: the canonical JSON keeps the writer contract.
func TestJSONConformance(t *testing.T) {
	reporttest.Run(t, report.JSONWriter{}, reporttest.JSONText)
}

// TestJSONStreamsTheWholeEncoding: streaming the results gives the bytes
// of encoding the whole document at once, for every document of the
// suite and a thousand-result organisation.
func TestJSONStreamsTheWholeEncoding(t *testing.T) {
	docs := append(reporttest.Documents(), reporttest.Document{Name: "large", Doc: reporttest.Large(1000)})
	for _, d := range docs {
		var whole, streamed bytes.Buffer
		enc := json.NewEncoder(&whole)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d.Doc); err != nil {
			t.Fatal(err)
		}
		if err := report.WriteJSON(&streamed, d.Doc); err != nil {
			t.Fatal(err)
		}
		if whole.String() != streamed.String() {
			t.Errorf("%s: the streamed JSON differs from the whole encoding", d.Name)
		}
	}
}

// TestJSONResultsEveryField: the hand-written encoding of results is
// encoding/json's for every field of rule.Result and rule.Evidence (set
// by reflection, so a field added later is covered) and for strings
// that need escaping of every kind.
func TestJSONResultsEveryField(t *testing.T) {
	tricky := []string{"plain", "a<b & c>d", "<&> \"quoted\" \\ back", "tab\tnew\nline\r\x01\x7f", "é 中文 🇪🇺 \u2028\u2029", "bad \xff utf-8", ""}
	asOf := time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	var results []rule.Result
	for i, s := range tricky {
		r := rule.Result{Meta: &rule.Meta{}}
		fill(reflect.ValueOf(&r).Elem(), s, i)
		fill(reflect.ValueOf(r.Meta).Elem(), s, i)
		ev := rule.Evidence{}
		fill(reflect.ValueOf(&ev).Elem(), s, i)
		ev.AsOf = &asOf
		r.Evidence = []rule.Evidence{ev, {Source: s}}
		sup := rule.Suppression{}
		fill(reflect.ValueOf(&sup).Elem(), s, i)
		if i%2 == 0 {
			sup.Expires = &asOf
		}
		if i%3 == 0 {
			sup.Ticket, sup.Source = "", ""
		}
		r.Suppression = &sup
		// fill leaves pointers alone: a pointer field added to rule.Result
		// must be set above, or its encoding goes untested.
		rv := reflect.ValueOf(r)
		for k := range rv.NumField() {
			if f := rv.Field(k); f.Kind() == reflect.Pointer && f.IsNil() {
				t.Fatalf("rule.Result.%s is a pointer this test does not set: set it, and encode it in appendResult", rv.Type().Field(k).Name)
			}
		}
		results = append(results, r, rule.Result{Meta: &rule.Meta{RuleID: s, AccountID: s}})
	}
	d := &report.Document{Schema: report.Schema, Version: report.Version, Accounts: []report.Account{}, Results: results}
	var whole, streamed bytes.Buffer
	enc := json.NewEncoder(&whole)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJSON(&streamed, d); err != nil {
		t.Fatal(err)
	}
	if whole.String() != streamed.String() {
		w, s := whole.String(), streamed.String()
		i := 0
		for i < len(w) && i < len(s) && w[i] == s[i] {
			i++
		}
		t.Errorf("the results' encoding differs from encoding/json's at byte %d:\n%q\n%q", i, w[max(0, i-80):min(len(w), i+80)], s[max(0, i-80):min(len(s), i+80)])
	}
}

// fill sets every field of a struct: strings to s and the field's name,
// bools to true, integers to i, pointers left alone.
func fill(v reflect.Value, s string, i int) {
	for k := range v.NumField() {
		f := v.Field(k)
		switch f.Kind() {
		case reflect.String:
			f.SetString(s + " " + v.Type().Field(k).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int:
			f.SetInt(int64(i % 5))
		}
	}
}
