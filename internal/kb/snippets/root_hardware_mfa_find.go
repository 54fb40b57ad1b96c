package snippets

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// RootVirtualMFADevices returns the serial numbers of the virtual MFA
// devices assigned to the account's root user. Combined with
// RootMFAEnabled: MFA enabled and no virtual device means the root user's
// MFA is a hardware token or a FIDO security key.
//
// The root user is recognised by its ARN, arn:PARTITION:iam::ACCOUNT:root,
// never by a user name: an IAM user called "root" has the ARN
// …:user/root and must not count.
func RootVirtualMFADevices(ctx context.Context, cfg aws.Config) ([]string, error) {
	var serials []string
	pages := iam.NewListVirtualMFADevicesPaginator(iam.NewFromConfig(cfg), &iam.ListVirtualMFADevicesInput{
		AssignmentStatus: types.AssignmentStatusTypeAssigned,
		MaxItems:         aws.Int32(1000), // IAM's largest page; the default is 100
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListVirtualMFADevices: %w", err)
		}
		for _, d := range page.VirtualMFADevices {
			if d.User != nil && strings.HasSuffix(aws.ToString(d.User.Arn), ":root") {
				serials = append(serials, aws.ToString(d.SerialNumber))
			}
		}
	}
	return serials, nil
}
