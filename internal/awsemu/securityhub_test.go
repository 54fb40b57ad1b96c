package awsemu_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

func shFinding(account, region, id, compliance string) shtypes.AwsSecurityFinding {
	return shtypes.AwsSecurityFinding{
		SchemaVersion: aws.String("2018-10-08"),
		Id:            aws.String(id),
		ProductArn:    aws.String("arn:aws:securityhub:" + region + ":" + account + ":product/" + account + "/default"),
		GeneratorId:   aws.String("vigil/root-mfa"),
		AwsAccountId:  aws.String(account),
		Types:         []string{"Software and Configuration Checks/AWS Security Best Practices"},
		CreatedAt:     aws.String("2026-11-26T12:00:00Z"),
		UpdatedAt:     aws.String("2026-11-26T12:00:00Z"),
		Severity:      &shtypes.Severity{Label: shtypes.SeverityLabelHigh},
		Title:         aws.String("Root user has no MFA"),
		Description:   aws.String("The root user has no MFA."),
		Resources:     []shtypes.Resource{{Type: aws.String("AwsAccount"), Id: aws.String("arn:aws:iam::" + account + ":root")}},
		Compliance:    &shtypes.Compliance{Status: shtypes.ComplianceStatus(compliance)},
	}
}

func secHub(t *testing.T, srv *awsemu.Server, key string) *securityhub.Client {
	cfg := awsemutest.ConfigFor(t, srv, key)
	cfg.Region = "eu-west-1"
	return securityhub.NewFromConfig(cfg)
}

// TestBatchImportFindings: findings are stored by product and ID, a
// second import updates instead of adding, the workflow status follows
// the compliance status, and refused findings are reported one by one.
func TestBatchImportFindings(t *testing.T) {
	srv := awsemutest.Start(t, testWorld())
	c := secHub(t, srv, mgmtAdminKey)
	ctx := context.Background()
	out, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{
		shFinding(mgmtID, "eu-west-1", "vigil/a", "FAILED"),
		shFinding(mgmtID, "eu-west-1", "vigil/b", "PASSED"),
		shFinding(memberID, "eu-west-1", "vigil/other-account", "FAILED"), // another account: refused
		shFinding(mgmtID, "us-east-1", "vigil/other-region", "FAILED"),    // a product ARN of another Region: refused
	}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.SuccessCount) != 2 || aws.ToInt32(out.FailedCount) != 2 || len(out.FailedFindings) != 2 {
		t.Fatalf("success %d failed %d %+v", aws.ToInt32(out.SuccessCount), aws.ToInt32(out.FailedCount), out.FailedFindings)
	}
	for _, f := range out.FailedFindings {
		if aws.ToString(f.ErrorCode) != "AccessDeniedException" || !strings.HasPrefix(aws.ToString(f.Id), "vigil/other-") {
			t.Errorf("failed finding %s %s %s", aws.ToString(f.Id), aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage))
		}
	}
	got := srv.Findings()
	if len(got) != 2 || got[0].ID != "vigil/a" || got[0].Workflow != "NEW" || got[1].Workflow != "RESOLVED" {
		t.Fatalf("stored %+v", got)
	}
	// The failing one passes now; the passing one fails again.
	if _, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{
		shFinding(mgmtID, "eu-west-1", "vigil/a", "PASSED"),
		shFinding(mgmtID, "eu-west-1", "vigil/b", "FAILED"),
	}}); err != nil {
		t.Fatal(err)
	}
	got = srv.Findings()
	if len(got) != 2 || got[0].Compliance != "PASSED" || got[0].Workflow != "RESOLVED" || got[1].Workflow != "NEW" || got[0].Imports != 2 {
		t.Errorf("after the update %+v", got)
	}
}

// TestBatchImportFindingsLimits: more than 100 findings, a finding over
// 240 KB, invalid values and a throttled call answer as AWS does.
func TestBatchImportFindingsLimits(t *testing.T) {
	srv := awsemutest.Start(t, testWorld())
	c := secHub(t, srv, mgmtAdminKey)
	ctx := context.Background()
	var many []shtypes.AwsSecurityFinding
	for i := range 101 {
		many = append(many, shFinding(mgmtID, "eu-west-1", fmt.Sprintf("vigil/%d", i), "FAILED"))
	}
	_, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: many})
	var invalid *shtypes.InvalidInputException
	if !errors.As(err, &invalid) {
		t.Errorf("101 findings: %v", err)
	}

	big := shFinding(mgmtID, "eu-west-1", "vigil/big", "FAILED")
	big.ProductFields = map[string]string{}
	for i := range 49 {
		big.ProductFields[fmt.Sprintf("k%d", i)] = strings.Repeat("x", 5200)
	}
	bad := shFinding(mgmtID, "eu-west-1", "vigil/bad", "MAYBE")
	out, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{big, bad, shFinding(mgmtID, "eu-west-1", "vigil/ok", "FAILED")}})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, f := range out.FailedFindings {
		codes[aws.ToString(f.Id)] = aws.ToString(f.ErrorCode)
	}
	if codes["vigil/big"] != "FindingSizeExceeded" || codes["vigil/bad"] != "InvalidInput" || aws.ToInt32(out.SuccessCount) != 1 {
		t.Errorf("failed %v, %d imported", codes, aws.ToInt32(out.SuccessCount))
	}

	// The SDK's own validation refuses a finding without its required members.
	_, err = c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{{Id: aws.String("x")}}})
	var params smithy.InvalidParamsError
	if !errors.As(err, &params) {
		t.Errorf("a finding without required members: %v", err)
	}

	// Throttled (429) once: the SDK retries and the import succeeds.
	srv.ResetCalls()
	srv.AddFault(awsemu.Fault{Service: "securityhub", Action: "BatchImportFindings", Code: "LimitExceededException", Times: 1})
	if _, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{shFinding(mgmtID, "eu-west-1", "vigil/t", "FAILED")}}); err != nil {
		t.Fatalf("throttled once: %v", err)
	}
	calls := srv.Calls()
	if len(calls) != 2 || calls[0].ErrorCode != "LimitExceededException" || calls[0].Status != 429 || calls[1].Status != 200 {
		t.Errorf("calls %+v", calls)
	}
	if !awsemu.Mutating("securityhub", "BatchImportFindings") {
		t.Errorf("an import is not counted as mutating")
	}
}
