package collect_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// TestAnalyzerTags: the analyzers' tags come with ListAnalyzers, sorted by
// key whatever order the map arrived in; an analyzer without tags has an
// empty list (read, none), never nil (unknown); and no call is made per
// analyzer.
func TestAnalyzerTags(t *testing.T) {
	const acct, key = "123456789012", "AKIAREGIONALTAGS0001"
	w := &awsemu.World{PageLimit: 1, Accounts: []*awsemu.Account{{ID: acct, Standalone: true,
		Users: []awsemu.User{{Name: "auditor", AccessKeys: []awsemu.AccessKey{{ID: key}}}},
		Regions: []awsemu.Region{
			{Name: "us-east-1", Analyzers: []awsemu.Analyzer{
				{Name: "external", Tags: []awsemu.Tag{{Key: "team", Value: "security"}, {Key: "aws:cloudformation:stack-name", Value: "base"}, {Key: "cost-centre", Value: ""}}},
				{Name: "unused", Type: "ACCOUNT_UNUSED_ACCESS"},
			}},
			{Name: "eu-west-1"},
			{Name: "af-south-1", OptIn: awsemu.NotOptedIn},
		}}}}
	srv := awsemutest.Start(t, w)
	cfg := awsemutest.ConfigFor(t, srv, key)
	regions, gaps := collect.Regions(t.Context(), ec2.NewFromConfig(cfg), accessanalyzer.NewFromConfig(cfg))
	if len(gaps) != 0 {
		t.Fatalf("gaps: %+v", gaps)
	}
	got := map[string][]snapshot.Tag{}
	for _, r := range regions {
		for _, an := range r.Analyzers {
			got[r.Name+"/"+an.Name] = an.Tags
		}
	}
	want := map[string][]snapshot.Tag{
		"us-east-1/external": {{Key: "aws:cloudformation:stack-name", Value: "base"}, {Key: "cost-centre", Value: ""}, {Key: "team", Value: "security"}},
		"us-east-1/unused":   {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tags per analyzer (-want +got):\n%s", diff)
	}
	if got["us-east-1/unused"] == nil {
		t.Error("an analyzer without tags read as unknown (nil)")
	}
	// Pages of one analyzer: two calls in us-east-1, one in eu-west-1,
	// none in the region not opted into, and nothing else of Access
	// Analyzer.
	if n := srv.CallCount("access-analyzer", "ListAnalyzers"); n != 3 {
		t.Errorf("ListAnalyzers called %d times, want 3", n)
	}
	for _, c := range srv.Calls() {
		if c.Service == "access-analyzer" && c.Action != "ListAnalyzers" {
			t.Errorf("unexpected call %s:%s", c.Service, c.Action)
		}
	}
}
