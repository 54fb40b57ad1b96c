package awsemu

import (
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// The tags of Access Analyzer analyzers: what ListAnalyzers and
// GetAnalyzer return beside each analyzer (Security Hub IAM.23 reads
// them), what CreateAnalyzer accepts, and TagResource, UntagResource and
// ListTagsForResource, the calls the knowledge base's fix uses. Tags are a
// JSON map of key to value on the wire. A tag key is 1 to 128 characters
// and may not begin with aws:, a value 0 to 256 (CreateAnalyzer's API
// reference). The count is held to 50, AWS's general limit of tags per
// resource; Access Analyzer's reference states none of its own.

const (
	maxAnalyzerTags  = 50
	maxTagKeyChars   = 128
	maxTagValueChars = 256
)

// tagMap is the wire form of a tag list; never nil, as AWS sends {}.
func tagMap(tags []Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// aaTags checks tags a caller sends and returns them as a list sorted by
// key, the order the emulator keeps them in.
func aaTags(in map[string]string) ([]Tag, *apiError) {
	out := make([]Tag, 0, len(in))
	for k, v := range in {
		if err := aaTagKey(k); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(v) > maxTagValueChars {
			return nil, aaValidation("The value of tag %q is longer than %d characters.", k, maxTagValueChars)
		}
		out = append(out, Tag{Key: k, Value: v})
	}
	if len(out) > maxAnalyzerTags {
		return nil, aaValidation("At most %d tags can be applied to a resource.", maxAnalyzerTags)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func aaTagKey(k string) *apiError {
	if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKeyChars {
		return aaValidation("A tag key must be 1 to %d characters long.", maxTagKeyChars)
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return aaValidation("Tag keys beginning with aws: are reserved for AWS use.")
	}
	return nil
}

func aaValidation(format string, args ...any) *apiError {
	e := newError("ValidationException", format, args...)
	e.status = 400
	return e
}

// taggedAnalyzer finds the analyzer an ARN names among those of the
// region the request is signed for; any other ARN, an analyzer of another
// region or account included, is not found there.
func (s *Server) taggedAnalyzer(r *request) (*Analyzer, *apiError) {
	reg, err := s.region(r)
	if err != nil {
		return nil, err
	}
	arn := r.params["resourceArn"]
	for i := range reg.Analyzers {
		if s.analyzerARN(r.caller.account.ID, reg.Name, reg.Analyzers[i].Name) == arn {
			return &reg.Analyzers[i], nil
		}
	}
	return nil, &apiError{status: 404, code: "ResourceNotFoundException", message: "Resource " + arn + " does not exist in " + reg.Name}
}

func (s *Server) aaGetAnalyzer(r *request) (any, *apiError) {
	reg, err := s.region(r)
	if err != nil {
		return nil, err
	}
	name := r.params["analyzerName"]
	for _, an := range reg.Analyzers {
		if an.Name == name {
			return struct {
				Analyzer analyzerJSON `json:"analyzer"`
			}{s.analyzerJSON(r.caller.account.ID, reg.Name, an)}, nil
		}
	}
	return nil, &apiError{status: 404, code: "ResourceNotFoundException", message: "Analyzer " + name + " not found"}
}

func (s *Server) aaListTagsForResource(r *request) (any, *apiError) {
	an, err := s.taggedAnalyzer(r)
	if err != nil {
		return nil, err
	}
	return struct {
		Tags map[string]string `json:"tags"`
	}{tagMap(an.Tags)}, nil
}

// aaTagResource adds tags, a key already present taking the new value.
func (s *Server) aaTagResource(r *request) (any, *apiError) {
	an, err := s.taggedAnalyzer(r)
	if err != nil {
		return nil, err
	}
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := r.decode(&in); err != nil {
		err.code, err.status = "ValidationException", 400
		return nil, err
	}
	if in.Tags == nil {
		return nil, aaValidation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	add, terr := aaTags(in.Tags)
	if terr != nil {
		return nil, terr
	}
	// Only the caller's keys are checked: system tags AWS set itself
	// (aws:cloudformation:…) stay as they are.
	merged := tagMap(an.Tags)
	for _, t := range add {
		merged[t.Key] = t.Value
	}
	if len(merged) > maxAnalyzerTags {
		return nil, aaValidation("At most %d tags can be applied to a resource.", maxAnalyzerTags)
	}
	next := make([]Tag, 0, len(merged))
	for k, v := range merged {
		next = append(next, Tag{Key: k, Value: v})
	}
	sort.Slice(next, func(i, j int) bool { return next[i].Key < next[j].Key })
	an.Tags = next
	return struct{}{}, nil
}

func (s *Server) aaUntagResource(r *request) (any, *apiError) {
	an, err := s.taggedAnalyzer(r)
	if err != nil {
		return nil, err
	}
	keys := r.query["tagKeys"]
	if len(keys) == 0 {
		return nil, aaValidation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	kept := make([]Tag, 0, len(an.Tags))
	for _, t := range an.Tags {
		if !slices.Contains(keys, t.Key) {
			kept = append(kept, t)
		}
	}
	an.Tags = kept
	return struct{}{}, nil
}
