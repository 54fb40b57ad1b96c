package scenario

import "github.com/aws/aws-sdk-go-v2/aws"

func awsCreds(key string) aws.Credentials {
	return aws.Credentials{AccessKeyID: key, SecretAccessKey: "not-checked"}
}
