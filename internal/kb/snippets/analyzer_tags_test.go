package snippets_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
	"github.com/vigil-sec/vigil/internal/kb/snippets"
)

func TestAnalyzerTagsSnippet(t *testing.T) {
	covers(t, "analyzer_tags.go")
	ctx := context.Background()
	srv := start(t, kbtest.Options{})
	cfg := awsemutest.ConfigFor(t, srv, kbtest.StandaloneAuditor)
	// us-east-1's analyzer carries an owner tag; eu-west-1's only a
	// system tag of CloudFormation's, which does not count.
	untagged, err := snippets.UntaggedAnalyzers(ctx, cfg)
	if err != nil || fmt.Sprint(untagged) != "["+kbtest.UntaggedAnalyzer+"]" {
		t.Fatalf("untagged = %v, %v", untagged, err)
	}
	if err := snippets.TagAnalyzer(ctx, cfg, kbtest.UntaggedAnalyzer, map[string]string{"owner": "security", "purpose": "unused-access-review"}); err != nil {
		t.Fatal(err)
	}
	if untagged, err := snippets.UntaggedAnalyzers(ctx, cfg); err != nil || len(untagged) != 0 {
		t.Fatalf("after: %v, %v", untagged, err)
	}
	for _, r := range account(t, srv, kbtest.StandaloneID).Regions {
		if r.Name == "eu-west-1" && fmt.Sprint(r.Analyzers[0].Tags) != fmt.Sprint([]awsemu.Tag{{Key: "aws:cloudformation:stack-name", Value: "access-review"},
			{Key: "owner", Value: "security"}, {Key: "purpose", Value: "unused-access-review"}}) {
			t.Errorf("eu-west-1 tags after the fix: %+v", r.Analyzers[0].Tags)
		}
	}
	if err := snippets.TagAnalyzer(ctx, cfg, "arn:aws:iam::"+kbtest.StandaloneID+":role/x", map[string]string{"owner": "x"}); err == nil {
		t.Error("a role's ARN was accepted")
	}
}
