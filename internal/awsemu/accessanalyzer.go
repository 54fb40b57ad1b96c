package awsemu

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// IAM Access Analyzer speaks restJson1: the method and path name the
// operation (GET /analyzer lists, PUT /analyzer creates, GET
// /analyzer/{analyzerName} reads one, and /tags/{resourceArn} lists, adds
// and removes tags with GET, POST and DELETE), the query string carries
// list parameters, timestamps are RFC 3339 strings, and an error is its
// type in X-Amzn-ErrorType with {"message": …}. Vigil lists the analyzers
// of every enabled region; the knowledge base creates and tags them.
// ListAnalyzers pages with maxResults (no bound documented; every
// analyzer when absent) and nextToken, and filters by type; every
// analyzer it returns carries its tags.

var analyzerHandlers = map[string]handlerFunc{
	"ListAnalyzers":       (*Server).aaListAnalyzers,
	"CreateAnalyzer":      (*Server).aaCreateAnalyzer,
	"GetAnalyzer":         (*Server).aaGetAnalyzer,
	"TagResource":         (*Server).aaTagResource,
	"UntagResource":       (*Server).aaUntagResource,
	"ListTagsForResource": (*Server).aaListTagsForResource,
}

const (
	analyzerPath = "/analyzer"
	aaTagsPath   = "/tags/"
)

// analyzerOperation names the operation of an Access Analyzer request.
func analyzerOperation(method, path string) string {
	switch {
	case path == analyzerPath:
		switch method {
		case http.MethodGet:
			return "ListAnalyzers"
		case http.MethodPut:
			return "CreateAnalyzer"
		}
	case strings.HasPrefix(path, analyzerPath+"/"):
		if name := path[len(analyzerPath)+1:]; name != "" && !strings.Contains(name, "/") && method == http.MethodGet {
			return "GetAnalyzer"
		}
	case strings.HasPrefix(path, aaTagsPath) && len(path) > len(aaTagsPath):
		switch method {
		case http.MethodGet:
			return "ListTagsForResource"
		case http.MethodPost:
			return "TagResource"
		case http.MethodDelete:
			return "UntagResource"
		}
	}
	return ""
}

// analyzerPathParams records the label of an operation's path (the
// analyzer's name, or the ARN tags are about) among the request's
// parameters, where its handler and the call log find it. It runs after
// the body's parameters so that the path, which names the resource, wins.
func analyzerPathParams(op, path string, into map[string]string) {
	switch op {
	case "GetAnalyzer":
		into["analyzerName"] = path[len(analyzerPath)+1:]
	case "ListTagsForResource", "TagResource", "UntagResource":
		// The Go URL parser has already decoded %2F and %3A in the ARN.
		into["resourceArn"] = path[len(aaTagsPath):]
	}
}

// aaStatus is the HTTP status Access Analyzer answers an error code with.
func aaStatus(code string) int {
	switch code {
	case "AccessDeniedException", "UnrecognizedClientException":
		return 403
	case "ResourceNotFoundException":
		return 404
	case "ConflictException":
		return 409
	case "ThrottlingException":
		return 429
	case "InternalServerException", "ServiceFailure":
		return 500
	}
	return 400
}

type analyzerJSON struct {
	Arn          string            `json:"arn"`
	Name         string            `json:"name"`
	Type         string            `json:"type"`
	CreatedAt    string            `json:"createdAt"`
	Status       string            `json:"status"`
	StatusReason *analyzerReason   `json:"statusReason,omitempty"`
	Tags         map[string]string `json:"tags"`
}

type analyzerReason struct {
	Code string `json:"code"`
}

func (s *Server) analyzerJSON(account, region string, an Analyzer) analyzerJSON {
	out := analyzerJSON{Arn: s.analyzerARN(account, region, an.Name), Name: an.Name, Type: an.Type,
		CreatedAt: an.CreatedAt.UTC().Format(time.RFC3339), Status: an.Status, Tags: tagMap(an.Tags)}
	if an.StatusReason != "" {
		out.StatusReason = &analyzerReason{Code: an.StatusReason}
	}
	return out
}

func (s *Server) aaListAnalyzers(r *request) (any, *apiError) {
	reg, err := s.region(r)
	if err != nil {
		return nil, err
	}
	q := r.query
	typ := q.Get("type")
	if typ != "" && !slices.Contains(analyzerTypes, typ) {
		return nil, &apiError{status: 400, code: "ValidationException", message: "1 validation error detected: Value '" + typ + "' at 'type' failed to satisfy constraint"}
	}
	limit, ok := intOr(q.Get("maxResults"), 0)
	if !ok || q.Get("maxResults") != "" && limit < 1 {
		return nil, &apiError{status: 400, code: "ValidationException", message: "maxResults must be a positive integer"}
	}
	list := append([]Analyzer(nil), reg.Analyzers...)
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	var all []analyzerJSON
	for _, an := range list {
		if typ == "" || an.Type == typ {
			all = append(all, s.analyzerJSON(r.caller.account.ID, reg.Name, an))
		}
	}
	offset := 0
	if tok := q.Get("nextToken"); tok != "" {
		if offset, ok = decodeToken("ListAnalyzers", tok); !ok {
			return nil, &apiError{status: 400, code: "ValidationException", message: "Invalid nextToken"}
		}
	}
	if limit == 0 {
		limit = len(all) + 1
	}
	out, next := page("ListAnalyzers", all, offset, s.pageLimit(limit))
	if out == nil {
		out = []analyzerJSON{}
	}
	return struct {
		Analyzers []analyzerJSON `json:"analyzers"`
		NextToken string         `json:"nextToken,omitempty"`
	}{out, next}, nil
}

func (s *Server) aaCreateAnalyzer(r *request) (any, *apiError) {
	reg, err := s.region(r)
	if err != nil {
		return nil, err
	}
	var in struct {
		AnalyzerName string            `json:"analyzerName"`
		Type         string            `json:"type"`
		Tags         map[string]string `json:"tags"`
	}
	if err := r.decode(&in); err != nil {
		err.code, err.status = "ValidationException", 400
		return nil, err
	}
	if !iamNamePattern.MatchString(in.AnalyzerName) || !slices.Contains(analyzerTypes, in.Type) {
		return nil, &apiError{status: 400, code: "ValidationException", message: "analyzerName and a valid type are required"}
	}
	for _, an := range reg.Analyzers {
		if an.Name == in.AnalyzerName {
			return nil, &apiError{status: 409, code: "ConflictException", message: "Analyzer " + in.AnalyzerName + " already exists"}
		}
	}
	tags, terr := aaTags(in.Tags)
	if terr != nil {
		return nil, terr
	}
	an := Analyzer{Name: in.AnalyzerName, Type: in.Type, Status: "ACTIVE", CreatedAt: r.now, Tags: tags}
	reg.Analyzers = append(reg.Analyzers, an)
	return struct {
		Arn string `json:"arn"`
	}{s.analyzerARN(r.caller.account.ID, reg.Name, an.Name)}, nil
}

// queryParams records a REST request's query parameters for the call log.
func queryParams(q url.Values, into map[string]string) {
	for k := range q {
		into[k] = q.Get(k)
	}
}
