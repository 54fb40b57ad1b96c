package snippets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// InstancesWithoutRole lists, as "region instance-id", the instances of
// every enabled region that run without an IAM instance profile.
// Terminated instances are left out: they run nothing.
func InstancesWithoutRole(ctx context.Context, cfg aws.Config) ([]string, error) {
	client := ec2.NewFromConfig(cfg)
	regions, err := client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("ec2:DescribeRegions: %w", err)
	}
	var out []string
	for _, r := range regions.Regions {
		region := aws.ToString(r.RegionName)
		p := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{
			MaxResults: aws.Int32(1000),
			Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"),
				Values: []string{"pending", "running", "stopping", "stopped"}}},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx, func(o *ec2.Options) { o.Region = region })
			if err != nil {
				return nil, fmt.Errorf("ec2:DescribeInstances in %s: %w", region, err)
			}
			for _, res := range page.Reservations {
				for _, i := range res.Instances {
					if i.IamInstanceProfile == nil {
						out = append(out, region+" "+aws.ToString(i.InstanceId))
					}
				}
			}
		}
	}
	return out, nil
}

// AttachInstanceProfile gives an instance a role, through an instance
// profile that holds it. The instance need not stop: its software picks
// the role's credentials up from the instance metadata service.
func AttachInstanceProfile(ctx context.Context, cfg aws.Config, region, instanceID, profile string) error {
	_, err := ec2.NewFromConfig(cfg).AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{
		InstanceId:         aws.String(instanceID),
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String(profile)},
	}, func(o *ec2.Options) { o.Region = region })
	if err != nil {
		return fmt.Errorf("ec2:AssociateIamInstanceProfile %s: %w", instanceID, err)
	}
	return nil
}
