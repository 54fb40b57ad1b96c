package awsemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	aatypes "github.com/aws/aws-sdk-go-v2/service/accessanalyzer/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

// TestAnalyzerTags: tags set at creation and with TagResource come back
// from ListAnalyzers, GetAnalyzer and ListTagsForResource; UntagResource
// removes them; AWS's system tags stay; an unknown ARN, one of another
// region, and reserved or oversized keys are refused with AWS's errors.
func TestAnalyzerTags(t *testing.T) {
	ctx := context.Background()
	w := regionalWorld()
	w.Accounts[0].Regions[0].Analyzers[0].Tags = []awsemu.Tag{{Key: "aws:cloudformation:stack-name", Value: "base"}}
	srv := awsemutest.Start(t, w)
	c := accessanalyzer.NewFromConfig(awsemutest.ConfigFor(t, srv, regionalKey))
	region := func(r string) func(*accessanalyzer.Options) { return func(o *accessanalyzer.Options) { o.Region = r } }
	arn := func(r, name string) string { return "arn:aws:access-analyzer:" + r + ":123456789012:analyzer/" + name }
	listed := func(r string) map[string]map[string]string {
		t.Helper()
		out, err := c.ListAnalyzers(ctx, &accessanalyzer.ListAnalyzersInput{}, region(r))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]map[string]string{}
		for _, a := range out.Analyzers {
			m[aws.ToString(a.Name)] = a.Tags
		}
		return m
	}

	// An analyzer without tags lists {} (the SDK gives an empty map).
	if diff := cmp.Diff(map[string]map[string]string{"ext": {"aws:cloudformation:stack-name": "base"}, "unused": {}}, listed("us-east-1")); diff != "" {
		t.Errorf("before (-want +got):\n%s", diff)
	}
	if _, err := c.CreateAnalyzer(ctx, &accessanalyzer.CreateAnalyzerInput{AnalyzerName: aws.String("tagged"), Type: aatypes.TypeAccount,
		Tags: map[string]string{"owner": "security", "cost-centre": ""}}, region("eu-west-1")); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetAnalyzer(ctx, &accessanalyzer.GetAnalyzerInput{AnalyzerName: aws.String("tagged")}, region("eu-west-1"))
	if err != nil || aws.ToString(got.Analyzer.Arn) != arn("eu-west-1", "tagged") || !cmp.Equal(got.Analyzer.Tags, map[string]string{"owner": "security", "cost-centre": ""}) {
		t.Fatalf("GetAnalyzer = %+v, %v", got, err)
	}
	if _, err := c.GetAnalyzer(ctx, &accessanalyzer.GetAnalyzerInput{AnalyzerName: aws.String("tagged")}, region("us-east-1")); apiCode(err) != "ResourceNotFoundException" || httpStatus(err) != 404 {
		t.Errorf("GetAnalyzer in another region: %v", err)
	}

	// TagResource adds and overwrites; the system tag stays.
	if _, err := c.TagResource(ctx, &accessanalyzer.TagResourceInput{ResourceArn: aws.String(arn("us-east-1", "ext")),
		Tags: map[string]string{"owner": "platform", "env": "prod"}}, region("us-east-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &accessanalyzer.TagResourceInput{ResourceArn: aws.String(arn("us-east-1", "ext")),
		Tags: map[string]string{"owner": "security"}}, region("us-east-1")); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListTagsForResource(ctx, &accessanalyzer.ListTagsForResourceInput{ResourceArn: aws.String(arn("us-east-1", "ext"))}, region("us-east-1"))
	if err != nil || !cmp.Equal(lt.Tags, map[string]string{"aws:cloudformation:stack-name": "base", "owner": "security", "env": "prod"}) {
		t.Fatalf("ListTagsForResource = %+v, %v", lt, err)
	}
	if _, err := c.UntagResource(ctx, &accessanalyzer.UntagResourceInput{ResourceArn: aws.String(arn("us-east-1", "ext")),
		TagKeys: []string{"env", "absent"}}, region("us-east-1")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]map[string]string{"ext": {"aws:cloudformation:stack-name": "base", "owner": "security"}, "unused": {}}, listed("us-east-1")); diff != "" {
		t.Errorf("after tagging and untagging (-want +got):\n%s", diff)
	}
	if a, _ := srv.Account("123456789012"); !cmp.Equal(a.Regions[0].Analyzers[0].Tags, []awsemu.Tag{{Key: "aws:cloudformation:stack-name", Value: "base"}, {Key: "owner", Value: "security"}}) {
		t.Errorf("stored tags: %+v", a.Regions[0].Analyzers[0].Tags)
	}

	for _, c2 := range []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"unknown analyzer", func() error {
			_, err := c.TagResource(ctx, &accessanalyzer.TagResourceInput{ResourceArn: aws.String(arn("us-east-1", "nope")), Tags: map[string]string{"a": "b"}}, region("us-east-1"))
			return err
		}, "ResourceNotFoundException", 404},
		{"analyzer of another region", func() error {
			_, err := c.ListTagsForResource(ctx, &accessanalyzer.ListTagsForResourceInput{ResourceArn: aws.String(arn("eu-west-1", "tagged"))}, region("us-east-1"))
			return err
		}, "ResourceNotFoundException", 404},
		{"untag unknown", func() error {
			_, err := c.UntagResource(ctx, &accessanalyzer.UntagResourceInput{ResourceArn: aws.String(arn("us-east-1", "nope")), TagKeys: []string{"a"}}, region("us-east-1"))
			return err
		}, "ResourceNotFoundException", 404},
		{"reserved key", func() error {
			_, err := c.TagResource(ctx, &accessanalyzer.TagResourceInput{ResourceArn: aws.String(arn("us-east-1", "ext")), Tags: map[string]string{"AWS:owner": "x"}}, region("us-east-1"))
			return err
		}, "ValidationException", 400},
		{"long key", func() error {
			_, err := c.TagResource(ctx, &accessanalyzer.TagResourceInput{ResourceArn: aws.String(arn("us-east-1", "ext")), Tags: map[string]string{strings.Repeat("k", 129): "x"}}, region("us-east-1"))
			return err
		}, "ValidationException", 400},
		{"long value", func() error {
			_, err := c.TagResource(ctx, &accessanalyzer.TagResourceInput{ResourceArn: aws.String(arn("us-east-1", "ext")), Tags: map[string]string{"k": strings.Repeat("v", 257)}}, region("us-east-1"))
			return err
		}, "ValidationException", 400},
		{"reserved key at creation", func() error {
			_, err := c.CreateAnalyzer(ctx, &accessanalyzer.CreateAnalyzerInput{AnalyzerName: aws.String("bad"), Type: aatypes.TypeAccount, Tags: map[string]string{"aws:x": "y"}}, region("us-east-1"))
			return err
		}, "ValidationException", 400},
		{"region not opted into", func() error {
			_, err := c.ListTagsForResource(ctx, &accessanalyzer.ListTagsForResourceInput{ResourceArn: aws.String(arn("af-south-1", "ext"))}, region("af-south-1"))
			return err
		}, "UnrecognizedClientException", 403},
	} {
		if err := c2.call(); apiCode(err) != c2.code || httpStatus(err) != c2.status {
			t.Errorf("%s: %v, want %s (%d)", c2.name, err, c2.code, c2.status)
		}
	}
	// A refused call changed nothing, and "bad" was not created.
	if diff := cmp.Diff(map[string]map[string]string{"ext": {"aws:cloudformation:stack-name": "base", "owner": "security"}, "unused": {}}, listed("us-east-1")); diff != "" {
		t.Errorf("after refused calls (-want +got):\n%s", diff)
	}
	for _, call := range srv.Calls() {
		if call.Action == "TagResource" && call.Params["resourceArn"] == "" {
			t.Errorf("TagResource logged without its ARN: %+v", call.Params)
		}
	}
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// FuzzAnalyzerRoutes feeds arbitrary methods, paths, queries and bodies to
// Access Analyzer's REST routes, whose path carries the analyzer's name
// or ARN. Whatever arrives, the emulator must not panic and must answer
// JSON, an error with its type.
func FuzzAnalyzerRoutes(f *testing.F) {
	arn := "arn%3Aaws%3Aaccess-analyzer%3Aus-east-1%3A123456789012%3Aanalyzer%2Fext"
	f.Add("GET", "/analyzer", "maxResults=1", "")
	f.Add("PUT", "/analyzer", "", `{"analyzerName":"x","type":"ACCOUNT","tags":{"owner":"a"}}`)
	f.Add("GET", "/analyzer/ext", "", "")
	f.Add("POST", "/tags/"+arn, "", `{"tags":{"owner":"a"}}`)
	f.Add("POST", "/tags/"+arn, "", `{"tags":{"aws:x":"a"}}`)
	f.Add("DELETE", "/tags/"+arn, "tagKeys=owner&tagKeys=env", "")
	f.Add("GET", "/tags/", "", "")
	f.Add("POST", "/tags/"+arn, "", `{"tags":[1]}`)
	srv := awsemu.NewServer(regionalWorld())
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#\r\n") || strings.ContainsAny(method, " /\r\n") || method == "" {
			return // not a request line http.NewRequest would send
		}
		r, err := http.NewRequest(method, "http://emulator"+path+"?"+query, strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+regionalKey+"/20261101/us-east-1/access-analyzer/aws4_request, SignedHeaders=host, Signature=0")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		if !analyzerRoute(method, r.URL.Path) {
			return // another service's route, or none
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s %s: response %q is not a JSON object: %v", method, path, rec.Body, err)
		}
		if rec.Code != 200 && m["__type"] == nil {
			t.Fatalf("%s %s: error %d without a type: %s", method, path, rec.Code, rec.Body)
		}
	})
}

// analyzerRoute is the fuzz test's own account of the routes the emulator
// serves for Access Analyzer.
func analyzerRoute(method, path string) bool {
	name, isOne := strings.CutPrefix(path, "/analyzer/")
	arn, isTags := strings.CutPrefix(path, "/tags/")
	switch {
	case path == "/analyzer":
		return method == "GET" || method == "PUT"
	case isOne:
		return method == "GET" && name != "" && !strings.Contains(name, "/")
	case isTags:
		return arn != "" && (method == "GET" || method == "POST" || method == "DELETE")
	}
	return false
}
