package awsemu_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	aatypes "github.com/aws/aws-sdk-go-v2/service/accessanalyzer/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

const regionalKey = "AKIAREGIONALADMIN001"

func regionalWorld() *awsemu.World {
	exp := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var certs []awsemu.ServerCertificate
	for i := range 5 {
		certs = append(certs, awsemu.ServerCertificate{Name: fmt.Sprintf("cert-%d", i), Expiration: exp.AddDate(0, i, 0)})
	}
	var insts []awsemu.Instance
	for i := range 12 {
		inst := awsemu.Instance{ID: fmt.Sprintf("i-%017x", i), Name: fmt.Sprintf("web-%d", i)}
		if i%2 == 0 {
			inst.InstanceProfile = "app"
		}
		if i == 11 {
			inst.State = "terminated"
		}
		insts = append(insts, inst)
	}
	return &awsemu.World{Accounts: []*awsemu.Account{{
		ID: "123456789012", Standalone: true,
		Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: regionalKey}}}},
		Regions: []awsemu.Region{
			{Name: "us-east-1", Analyzers: []awsemu.Analyzer{{Name: "ext"}, {Name: "unused", Type: "ACCOUNT_UNUSED_ACCESS"}}, Instances: insts},
			{Name: "eu-west-1"},
			{Name: "af-south-1", OptIn: awsemu.NotOptedIn},
			{Name: "ap-east-1", OptIn: awsemu.OptedIn},
		},
		ServerCertificates: certs,
	}}}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func inRegion(r string) func(*ec2.Options) { return func(o *ec2.Options) { o.Region = r } }

func TestEC2RegionsAndInstances(t *testing.T) {
	srv := awsemutest.Start(t, regionalWorld())
	ctx := context.Background()
	c := ec2.NewFromConfig(awsemutest.ConfigFor(t, srv, regionalKey))

	all, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range all.Regions {
		got[aws.ToString(r.RegionName)] = aws.ToString(r.OptInStatus)
	}
	want := map[string]string{"us-east-1": "opt-in-not-required", "eu-west-1": "opt-in-not-required", "af-south-1": "not-opted-in", "ap-east-1": "opted-in"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("regions = %v, want %v", got, want)
	}
	enabled, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil || len(enabled.Regions) != 3 {
		t.Errorf("enabled regions = %v, %v; want 3", enabled, err)
	}

	// Pages of 5, terminated instances filtered out.
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5),
		Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}}})
	var n, withRole, pages int
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, res := range page.Reservations {
			for _, in := range res.Instances {
				n++
				if in.IamInstanceProfile != nil && aws.ToString(in.IamInstanceProfile.Arn) == "arn:aws:iam::123456789012:instance-profile/app" {
					withRole++
				}
				if in.State == nil || in.State.Name != ec2types.InstanceStateNameRunning || len(in.Tags) != 1 {
					t.Errorf("instance %+v", in)
				}
			}
		}
	}
	if n != 11 || withRole != 6 || pages != 3 {
		t.Errorf("instances %d (with role %d) in %d pages, want 11 (6) in 3", n, withRole, pages)
	}
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("MaxResults 2: %v", err)
	}
	// Another region holds its own instances; a region not opted into refuses.
	if out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}, inRegion("eu-west-1")); err != nil || len(out.Reservations) != 0 {
		t.Errorf("eu-west-1: %v, %v", out, err)
	}
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}, inRegion("af-south-1")); apiCode(err) != "AuthFailure" {
		t.Errorf("af-south-1: %v, want AuthFailure", err)
	}

	// Attach a role, then the instance reports it; twice is refused.
	id := fmt.Sprintf("i-%017x", 1)
	if _, err := c.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(id),
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("app")}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || out.Reservations[0].Instances[0].IamInstanceProfile == nil {
		t.Errorf("after associate: %+v, %v", out, err)
	}
	if _, err := c.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(id),
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("app")}}); apiCode(err) != "IncorrectState" {
		t.Errorf("second associate: %v", err)
	}
	if !awsemu.Mutating("ec2", "AssociateIamInstanceProfile") || awsemu.Mutating("ec2", "DescribeInstances") {
		t.Error("Mutating misclassifies EC2")
	}

	// A denied region: a fault limited to one region.
	srv.SetFaults(awsemu.Fault{Service: "ec2", Action: "DescribeInstances", Region: "eu-west-1", Code: "UnauthorizedOperation"})
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}, inRegion("eu-west-1")); apiCode(err) != "UnauthorizedOperation" {
		t.Errorf("faulted eu-west-1: %v", err)
	}
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("us-east-1 with a fault for eu-west-1: %v", err)
	}
}

func TestAccessAnalyzer(t *testing.T) {
	srv := awsemutest.Start(t, regionalWorld())
	ctx := context.Background()
	c := accessanalyzer.NewFromConfig(awsemutest.ConfigFor(t, srv, regionalKey))
	region := func(r string) func(*accessanalyzer.Options) { return func(o *accessanalyzer.Options) { o.Region = r } }

	var names []string
	p := accessanalyzer.NewListAnalyzersPaginator(c, &accessanalyzer.ListAnalyzersInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Analyzers {
			names = append(names, aws.ToString(a.Name)+" "+string(a.Type)+" "+string(a.Status))
			if a.CreatedAt == nil || aws.ToString(a.Arn) != "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/"+aws.ToString(a.Name) {
				t.Errorf("analyzer %+v", a)
			}
		}
	}
	if fmt.Sprint(names) != "[ext ACCOUNT ACTIVE unused ACCOUNT_UNUSED_ACCESS ACTIVE]" {
		t.Errorf("analyzers = %v", names)
	}
	if out, err := c.ListAnalyzers(ctx, &accessanalyzer.ListAnalyzersInput{Type: aatypes.TypeAccount}); err != nil || len(out.Analyzers) != 1 {
		t.Errorf("type filter: %v, %v", out, err)
	}
	if out, err := c.ListAnalyzers(ctx, &accessanalyzer.ListAnalyzersInput{}, region("eu-west-1")); err != nil || len(out.Analyzers) != 0 {
		t.Errorf("eu-west-1: %v, %v", out, err)
	}
	if _, err := c.ListAnalyzers(ctx, &accessanalyzer.ListAnalyzersInput{}, region("af-south-1")); apiCode(err) != "UnrecognizedClientException" {
		t.Errorf("af-south-1: %v", err)
	}
	if _, err := c.CreateAnalyzer(ctx, &accessanalyzer.CreateAnalyzerInput{AnalyzerName: aws.String("ext"), Type: aatypes.TypeAccount}, region("eu-west-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAnalyzer(ctx, &accessanalyzer.CreateAnalyzerInput{AnalyzerName: aws.String("ext"), Type: aatypes.TypeAccount}, region("eu-west-1")); apiCode(err) != "ConflictException" {
		t.Errorf("duplicate: %v", err)
	}
	if out, err := c.ListAnalyzers(ctx, &accessanalyzer.ListAnalyzersInput{}, region("eu-west-1")); err != nil || len(out.Analyzers) != 1 {
		t.Errorf("eu-west-1 after create: %v, %v", out, err)
	}
	srv.SetFaults(awsemu.Fault{Service: "access-analyzer", Region: "eu-west-1", Code: "AccessDeniedException"})
	_, err := c.ListAnalyzers(ctx, &accessanalyzer.ListAnalyzersInput{}, region("eu-west-1"))
	var denied *aatypes.AccessDeniedException
	if !errors.As(err, &denied) {
		t.Errorf("denied region: %v, want AccessDeniedException", err)
	}
	if calls := srv.Calls(); calls[len(calls)-1].Service != "access-analyzer" || calls[len(calls)-1].Status != 403 {
		t.Errorf("last call %+v", calls[len(calls)-1])
	}
}

func TestListServerCertificates(t *testing.T) {
	srv := awsemutest.Start(t, regionalWorld())
	ctx := context.Background()
	c := iam.NewFromConfig(awsemutest.ConfigFor(t, srv, regionalKey))
	p := iam.NewListServerCertificatesPaginator(c, &iam.ListServerCertificatesInput{MaxItems: aws.Int32(2)})
	var got []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.ServerCertificateMetadataList {
			got = append(got, aws.ToString(m.ServerCertificateName)+" "+m.Expiration.Format("2006-01"))
			if aws.ToString(m.Arn) != "arn:aws:iam::123456789012:server-certificate/"+aws.ToString(m.ServerCertificateName) || aws.ToString(m.ServerCertificateId) == "" {
				t.Errorf("metadata %+v", m)
			}
		}
	}
	if fmt.Sprint(got) != "[cert-0 2026-01 cert-1 2026-02 cert-2 2026-03 cert-3 2026-04 cert-4 2026-05]" {
		t.Errorf("certificates = %v", got)
	}
	if n := srv.CallCount("iam", "ListServerCertificates"); n != 3 {
		t.Errorf("%d calls for 5 certificates in pages of 2, want 3", n)
	}
	if _, err := c.DeleteServerCertificate(ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String("cert-0")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteServerCertificate(ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String("cert-0")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("second delete: %v", err)
	}
	if a, _ := srv.Account("123456789012"); len(a.ServerCertificates) != 4 {
		t.Errorf("%d certificates left, want 4", len(a.ServerCertificates))
	}
}
