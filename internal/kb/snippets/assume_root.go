package snippets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// AssumeRoot opens a centralised root session in a member account and
// returns a copy of cfg that signs as that account's root user, limited to
// what the named root-task policy allows ("IAMAuditRootUserCredentials",
// "IAMDeleteRootUserCredentials", "IAMCreateRootUserPassword", …).
//
// cfg must sign as a principal of the management account or of the IAM
// delegated administrator, and name a Region: AssumeRoot is served only by
// Regional STS endpoints, which the SDK uses by default. The session lasts
// 15 minutes.
func AssumeRoot(ctx context.Context, cfg aws.Config, memberAccountID, taskPolicy string) (aws.Config, error) {
	client := sts.NewFromConfig(cfg)
	// The task policy ARN carries the partition (aws, aws-us-gov, aws-cn),
	// so take it from the caller's own ARN instead of assuming "aws".
	who, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return aws.Config{}, fmt.Errorf("sts:GetCallerIdentity: %w", err)
	}
	caller, err := arn.Parse(aws.ToString(who.Arn))
	if err != nil {
		return aws.Config{}, fmt.Errorf("caller ARN %q: %w", aws.ToString(who.Arn), err)
	}
	out, err := client.AssumeRoot(ctx, &sts.AssumeRootInput{
		TargetPrincipal: aws.String(memberAccountID),
		TaskPolicyArn: &ststypes.PolicyDescriptorType{
			Arn: aws.String("arn:" + caller.Partition + ":iam::aws:policy/root-task/" + taskPolicy),
		},
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		return aws.Config{}, fmt.Errorf("sts:AssumeRoot %s with %s: %w", memberAccountID, taskPolicy, err)
	}
	c := out.Credentials
	session := cfg.Copy()
	session.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
		aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	return session, nil
}
