package snippets

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// UntaggedAnalyzers lists the ARNs of the analyzers, in every region the
// account has enabled, that carry no tag of their own: keys beginning
// with "aws:" are set by AWS and do not count. The tags come with each
// analyzer in ListAnalyzers, so no call per analyzer is needed.
func UntaggedAnalyzers(ctx context.Context, cfg aws.Config) ([]string, error) {
	regions, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("ec2:DescribeRegions: %w", err)
	}
	client := accessanalyzer.NewFromConfig(cfg)
	var untagged []string
	for _, r := range regions.Regions {
		region := aws.ToString(r.RegionName)
		p := accessanalyzer.NewListAnalyzersPaginator(client, &accessanalyzer.ListAnalyzersInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx, func(o *accessanalyzer.Options) { o.Region = region })
			if err != nil {
				// An unreadable region is not a region whose analyzers
				// are tagged: say so rather than skip it.
				return nil, fmt.Errorf("access-analyzer:ListAnalyzers in %s: %w", region, err)
			}
			for _, a := range page.Analyzers {
				if !hasOwnTag(a.Tags) {
					untagged = append(untagged, aws.ToString(a.Arn))
				}
			}
		}
	}
	sort.Strings(untagged)
	return untagged, nil
}

func hasOwnTag(tags map[string]string) bool {
	for k := range tags {
		if !strings.HasPrefix(strings.ToLower(k), "aws:") {
			return true
		}
	}
	return false
}

// TagAnalyzer adds tags to the analyzer an ARN names, calling the region
// the ARN names (analyzers are regional). A key already present takes the
// new value.
func TagAnalyzer(ctx context.Context, cfg aws.Config, arn string, tags map[string]string) error {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "access-analyzer" {
		return fmt.Errorf("%q is not an analyzer ARN", arn)
	}
	_, err := accessanalyzer.NewFromConfig(cfg).TagResource(ctx, &accessanalyzer.TagResourceInput{
		ResourceArn: aws.String(arn), Tags: tags,
	}, func(o *accessanalyzer.Options) { o.Region = parts[3] })
	if err != nil {
		return fmt.Errorf("access-analyzer:TagResource on %s: %w", arn, err)
	}
	return nil
}
