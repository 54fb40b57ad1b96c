package awsemu_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

// A root user with an inactive access key still has one: the account
// summary counts it.
func Example() {
	world := &awsemu.World{Accounts: []*awsemu.Account{{
		ID: "123456789012",
		Root: awsemu.Root{AccessKeys: []awsemu.AccessKey{
			{ID: "AKIAEXAMPLEROOT00001", Status: awsemu.StatusInactive},
		}},
		Users: []awsemu.User{{Name: "auditor", AccessKeys: []awsemu.AccessKey{{ID: "AKIAEXAMPLEAUDITOR01"}}}},
	}}}
	srv := awsemu.NewServer(world)
	defer srv.Close()

	ctx := context.Background()
	cfg, err := srv.AWSConfig(ctx, aws.Credentials{AccessKeyID: "AKIAEXAMPLEAUDITOR01", SecretAccessKey: "unchecked"})
	if err != nil {
		panic(err)
	}
	out, err := iam.NewFromConfig(cfg).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		panic(err)
	}
	fmt.Println("AccountAccessKeysPresent:", out.SummaryMap["AccountAccessKeysPresent"])
	fmt.Println("calls:", srv.CallCount("iam", "GetAccountSummary"))
	// Output:
	// AccountAccessKeysPresent: 1
	// calls: 1
}
