package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/vigil-sec/vigil/internal/api"
)

// The OpenAPI document is checked twice over by an outside validator
// (libopenapi-validator): the document against the official OpenAPI 3.1
// JSON Schema that libopenapi embeds, and every answer the tests get
// from the API against the document's response schemas (in do), so that
// a field the server sends and the document does not describe, or a
// type that differs, fails a test.

// routeMux matches a request to the route that serves it.
var routeMux = func() *http.ServeMux {
	m := http.NewServeMux()
	for _, r := range api.Routes {
		m.HandleFunc(r.Method+" "+r.Path, func(http.ResponseWriter, *http.Request) {})
	}
	return m
}()

var (
	specOnce sync.Once
	spec     validator.Validator
	specErr  []error
)

// specValidator is the document served, parsed once for every test.
func specValidator(t *testing.T) validator.Validator {
	t.Helper()
	specOnce.Do(func() {
		raw, err := os.ReadFile("openapi.json")
		if err != nil {
			specErr = []error{err}
			return
		}
		doc, err := libopenapi.NewDocument(raw)
		if err != nil {
			specErr = []error{err}
			return
		}
		spec, specErr = validator.NewValidator(doc)
	})
	if len(specErr) > 0 {
		t.Fatalf("the OpenAPI document does not load: %v", specErr)
	}
	return spec
}

// The document is valid OpenAPI 3.1: the official schema accepts it, and
// rejects it once a required part is taken out (so the check can fail).
func TestOpenAPIValid(t *testing.T) {
	v := specValidator(t)
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("OpenAPI 3.1 schema: %s", e.Error())
			for _, f := range e.SchemaValidationErrors {
				t.Errorf("  at %s: %s", f.FieldPath, f.Reason)
			}
		}
	}
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m["openapi"] != "3.1.0" {
		t.Errorf("openapi: %v, want 3.1.0", m["openapi"])
	}
	delete(m, "info")
	broken, _ := json.Marshal(m)
	doc, err := libopenapi.NewDocument(broken)
	if err != nil {
		t.Fatal(err)
	}
	bv, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ok, _ := bv.ValidateDocument(); ok {
		t.Error("a document without info passed the OpenAPI 3.1 schema: the check cannot fail")
	}
}

// checkResponse validates one answer of the API against the document:
// its status is listed for the operation, and its JSON body matches the
// schema given for that status.
func checkResponse(t *testing.T, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") || resp.StatusCode == http.StatusNoContent {
		return
	}
	// A path the API does not serve (its JSON 404) is in no document.
	if _, pattern := routeMux.Handler(req); pattern == "" {
		return
	}
	// The validator reads the body; the caller has read it already.
	resp.Body = io.NopCloser(bytes.NewReader(body))
	ok, errs := specValidator(t).ValidateHttpResponse(req, resp)
	if ok {
		return
	}
	for _, e := range errs {
		msg := e.Message + ": " + e.Reason
		for _, f := range e.SchemaValidationErrors {
			msg += "; " + f.FieldPath + ": " + f.Reason
		}
		t.Errorf("%s %s → %d does not match the OpenAPI document: %s", req.Method, req.URL.Path, resp.StatusCode, msg)
	}
}

// Every error code the API can answer with is listed in the document's
// Error schema, and every code listed is one the API uses: the codes are
// what clients branch on, so they are stable and all written down.
func TestErrorCodes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct {
									Enum []string
								}
							}
						}
					}
				}
			}
		}
	}
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range doc.Components.Schemas.Error.Properties.Error.Properties.Code.Enum {
		listed[c] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	call := regexp.MustCompile(`writeError\(w, http\.Status[A-Za-z]+, "([a-z_]+)"`)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = true
		}
	}
	if len(used) < 5 {
		t.Fatalf("found only %d error codes in the sources: the pattern no longer matches the calls", len(used))
	}
	for c := range used {
		if !listed[c] {
			t.Errorf("error code %q is answered but not listed in the OpenAPI document", c)
		}
	}
	for c := range listed {
		if !used[c] {
			t.Errorf("error code %q is listed in the OpenAPI document but never answered", c)
		}
	}
}
