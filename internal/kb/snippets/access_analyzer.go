package snippets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	aatypes "github.com/aws/aws-sdk-go-v2/service/accessanalyzer/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// RegionsWithoutExternalAnalyzer lists the account's enabled regions that
// have no ACTIVE external access analyzer (type ACCOUNT or ORGANIZATION;
// an unused-access analyzer does not look for external access). Regions
// the account has not opted into cannot hold resources and are skipped.
func RegionsWithoutExternalAnalyzer(ctx context.Context, cfg aws.Config) ([]string, error) {
	regions, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("ec2:DescribeRegions: %w", err)
	}
	client := accessanalyzer.NewFromConfig(cfg)
	var missing []string
	for _, r := range regions.Regions {
		region := aws.ToString(r.RegionName)
		found := false
		p := accessanalyzer.NewListAnalyzersPaginator(client, &accessanalyzer.ListAnalyzersInput{})
		for p.HasMorePages() && !found {
			page, err := p.NextPage(ctx, func(o *accessanalyzer.Options) { o.Region = region })
			if err != nil {
				// A region that cannot be read is not a region with an
				// analyzer: say so rather than skip it.
				return nil, fmt.Errorf("access-analyzer:ListAnalyzers in %s: %w", region, err)
			}
			for _, a := range page.Analyzers {
				external := a.Type == aatypes.TypeAccount || a.Type == aatypes.TypeOrganization
				if external && a.Status == aatypes.AnalyzerStatusActive {
					found = true
				}
			}
		}
		if !found {
			missing = append(missing, region)
		}
	}
	return missing, nil
}

// CreateExternalAnalyzer creates an account-level external access
// analyzer in one region.
func CreateExternalAnalyzer(ctx context.Context, cfg aws.Config, region, name string) (string, error) {
	out, err := accessanalyzer.NewFromConfig(cfg).CreateAnalyzer(ctx, &accessanalyzer.CreateAnalyzerInput{
		AnalyzerName: aws.String(name), Type: aatypes.TypeAccount,
	}, func(o *accessanalyzer.Options) { o.Region = region })
	if err != nil {
		return "", fmt.Errorf("access-analyzer:CreateAnalyzer in %s: %w", region, err)
	}
	return aws.ToString(out.Arn), nil
}
