package rules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// taggedAnalyzer is an analyzer of a region with the given tags (nil: not
// recorded).
func taggedAnalyzer(region, name, typ string, tags []snapshot.Tag) snapshot.Analyzer {
	return snapshot.Analyzer{Name: name, ARN: "arn:aws:access-analyzer:" + region + ":111122223333:analyzer/" + name, Type: typ, Status: "ACTIVE", Tags: tags}
}

func analyzerARN(region, name string) string {
	return "arn:aws:access-analyzer:" + region + ":111122223333:analyzer/" + name
}

func TestIAMAnalyzerTags(t *testing.T) {
	owner := []snapshot.Tag{{Key: "owner", Value: "security"}}
	// Only system tags: Security Hub ignores keys beginning with aws:, in
	// any case.
	system := []snapshot.Tag{{Key: "aws:cloudformation:stack-name", Value: "base"}, {Key: "AWS:Foo", Value: "x"}}
	// An empty value is still a tag.
	emptyValue := []snapshot.Tag{{Key: "temporary", Value: ""}}
	withRegions := func(rs ...snapshot.Region) *snapshot.Account {
		return account(func(a *snapshot.Account) { a.Regions = rs })
	}
	one := func(an snapshot.Analyzer) *snapshot.Account {
		return withRegions(region("us-east-1", snapshot.OptInNotRequired, []snapshot.Analyzer{an}, nil))
	}
	runCases(t, IAMAnalyzerTags, []ruleCase{
		{name: "tagged passes", status: rule.Pass, acct: one(taggedAnalyzer("us-east-1", "ext", "ACCOUNT", owner))},
		{name: "system and own tags pass", status: rule.Pass, acct: one(taggedAnalyzer("us-east-1", "ext", "ACCOUNT", append(append([]snapshot.Tag{}, system...), owner...)))},
		{name: "empty value passes", status: rule.Pass, acct: one(taggedAnalyzer("us-east-1", "ext", "ACCOUNT", emptyValue))},
		{name: "no tags fails", status: rule.Fail, acct: one(taggedAnalyzer("us-east-1", "ext", "ACCOUNT", []snapshot.Tag{}))},
		{name: "only system tags fails", status: rule.Fail, acct: one(taggedAnalyzer("us-east-1", "ext", "ACCOUNT", system))},
		// Every analyzer is judged, whatever it looks for: IAM.23 is about
		// analyzers, not external access.
		{name: "untagged unused-access analyzer fails", status: rule.Fail, acct: one(taggedAnalyzer("us-east-1", "unused", "ACCOUNT_UNUSED_ACCESS", []snapshot.Tag{}))},
		// A snapshot written before the tags were kept: unknown, never
		// judged untagged.
		{name: "tags not recorded is unknown", status: rule.Unknown, acct: one(taggedAnalyzer("us-east-1", "ext", "ACCOUNT", nil))},
		// No analyzer: nothing to tag (iam-access-analyzer fails the
		// region); a region not opted into is not failed either.
		{name: "no analyzer anywhere", status: rule.NotApplicable, contains: []string{"0 analyzers in 2 regions"},
			acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, []snapshot.Analyzer{}, nil), region("af-south-1", snapshot.NotOptedIn, nil, nil))},
		{name: "denied region is unknown", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.Regions = []snapshot.Region{region("us-east-1", snapshot.OptInNotRequired, []snapshot.Analyzer{taggedAnalyzer("us-east-1", "ext", "ACCOUNT", owner)}, nil),
				region("eu-west-1", snapshot.OptInNotRequired, nil, nil)}
			a.AddGap(snapshot.Gap{Section: snapshot.SectionAccessAnalyzer, Call: "access-analyzer:ListAnalyzers", Region: "eu-west-1", Code: "AccessDeniedException", Message: "denied"})
		})},
		{name: "regions unknown", status: rule.Unknown, contains: []string{"ec2:DescribeRegions: UnauthorizedOperation"}, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionRegions, "ec2:DescribeRegions", "UnauthorizedOperation"))
		})},
		{name: "not collected is unknown", status: rule.Unknown, acct: account(nil)},
		{name: "assume-root session", status: rule.NotApplicable, contains: []string{"sts:AssumeRoot"}, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})

	many := []snapshot.Tag{{Key: "g"}, {Key: "f"}, {Key: "e"}, {Key: "d"}, {Key: "c"}, {Key: "b"}, {Key: "a"}, {Key: "aws:x"}}
	a := account(func(a *snapshot.Account) {
		a.Regions = []snapshot.Region{
			region("us-east-1", snapshot.OptInNotRequired, []snapshot.Analyzer{
				taggedAnalyzer("us-east-1", "ext", "ACCOUNT", many),
				taggedAnalyzer("us-east-1", "unused", "ACCOUNT_UNUSED_ACCESS", system),
			}, nil),
			region("eu-west-1", snapshot.OptInNotRequired, nil, nil),
			region("eu-west-2", snapshot.OptInNotRequired, []snapshot.Analyzer{}, nil),
			region("eu-west-3", snapshot.OptInNotRequired, []snapshot.Analyzer{taggedAnalyzer("eu-west-3", "old", "ACCOUNT", nil)}, nil),
			region("af-south-1", snapshot.NotOptedIn, nil, nil),
		}
		a.AddGap(snapshot.Gap{Section: snapshot.SectionAccessAnalyzer, Call: "access-analyzer:ListAnalyzers", Region: "eu-west-1", Code: "AccessDeniedException", Message: "denied"})
	})
	out, got := resourceStatuses(t, IAMAnalyzerTags, a)
	want := map[string]rule.Status{
		analyzerARN("us-east-1", "ext"): rule.Pass, analyzerARN("us-east-1", "unused"): rule.Fail,
		aaARN("eu-west-1"): rule.Unknown, aaARN("eu-west-2"): rule.NotApplicable,
		analyzerARN("eu-west-3", "old"): rule.Unknown, aaARN("af-south-1"): rule.NotApplicable,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("per resource (-want +got):\n%s", diff)
	}
	if out.Status != rule.Fail || !strings.Contains(out.Message, "3 analyzers in 5 regions") {
		t.Errorf("summary = %s: %s", out.Status, out.Message)
	}
	byARN := map[string]rule.ResourceOutcome{}
	for _, ro := range out.PerResource() {
		byARN[ro.Resource] = ro
	}
	// Evidence names keys only, sorted, at most five, never values or
	// system keys for a pass.
	if ev := byARN[analyzerARN("us-east-1", "ext")].Evidence; len(ev) != 1 || ev[0].Value != "a, b, c, d, e and 2 more" {
		t.Errorf("pass evidence = %+v", ev)
	}
	if ev := byARN[analyzerARN("us-east-1", "unused")].Evidence; len(ev) != 1 || ev[0].Value != "only system tags: AWS:Foo, aws:cloudformation:stack-name" {
		t.Errorf("fail evidence = %+v", ev)
	}
	if ev := byARN[aaARN("eu-west-1")].Evidence; len(ev) != 1 || ev[0].Error == "" || !strings.Contains(byARN[aaARN("eu-west-1")].Message, "AccessDeniedException") {
		t.Errorf("denied region = %+v", byARN[aaARN("eu-west-1")])
	}
	for _, ro := range out.PerResource() {
		for _, e := range ro.Evidence {
			if strings.Contains(e.Value, "security") || strings.Contains(e.Value, "base") {
				t.Errorf("%s: evidence quotes a tag value: %+v", ro.Resource, e)
			}
		}
	}
}
