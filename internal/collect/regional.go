package collect

import (
	"context"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The regional reads: which regions the account has enabled (one
// ec2:DescribeRegions with AllRegions, so a region not opted into is
// known and judged NOT_APPLICABLE rather than failed), then in every
// enabled region, concurrently, the Access Analyzer analyzers and the EC2
// instances. The calls per account grow with regions and pages, never with
// users, roles or policies (nor with analyzers: their tags come in the
// same ListAnalyzers answer); a region whose call fails is a gap of that
// region alone.

// EC2 is what the scan reads of EC2. Each call is signed for the region
// given in its options.
type EC2 interface {
	DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// AccessAnalyzer is what the scan reads of IAM Access Analyzer (its IAM
// actions are access-analyzer:…).
type AccessAnalyzer interface {
	ListAnalyzers(context.Context, *accessanalyzer.ListAnalyzersInput, ...func(*accessanalyzer.Options)) (*accessanalyzer.ListAnalyzersOutput, error)
}

// ServerCertificatesIAM lists the SSL/TLS certificates stored in IAM; the
// metadata carries each one's expiry, so no per-certificate call follows.
type ServerCertificatesIAM interface {
	ListServerCertificates(context.Context, *iam.ListServerCertificatesInput, ...func(*iam.Options)) (*iam.ListServerCertificatesOutput, error)
}

// regionConcurrency bounds the regional calls of one account in flight at
// once. Every enabled region's two calls start together (17 regions by
// default, 34 calls), so the regional reads cost two round trips
// (DescribeRegions, then the regions) and never lengthen a scan whose
// credential report chain is as long: at 8 at a time they took six and
// tripled the wall time of a scan at 50 ms a call. Each region is its own
// endpoint with its own rate limits, so this is one or two calls per
// endpoint; the bound only stops an account with many more regions (or
// pages) from opening hundreds of connections at once.
const regionConcurrency = 40

// ec2MaxResults is DescribeInstances' largest page.
const ec2MaxResults = 1000

// liveStates are the instance states worth judging: terminated instances
// linger in DescribeInstances for about an hour and run nothing.
var liveStates = []string{"pending", "running", "stopping", "stopped"}

// ServerCertificates reads every server certificate's metadata in pages
// of 1,000. A failure on any page leaves the section unknown: a partial
// list could hide the expired certificate.
func ServerCertificates(ctx context.Context, c ServerCertificatesIAM) (*snapshot.ServerCertificates, *snapshot.Gap) {
	out := &snapshot.ServerCertificates{Certificates: []snapshot.ServerCertificate{}}
	p := iam.NewListServerCertificatesPaginator(c, &iam.ListServerCertificatesInput{MaxItems: aws.Int32(iamMaxItems)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			g := gap(snapshot.SectionServerCertificates, "iam:ListServerCertificates", err)
			return nil, &g
		}
		out.Pages++
		for _, m := range page.ServerCertificateMetadataList {
			out.Certificates = append(out.Certificates, snapshot.ServerCertificate{Name: aws.ToString(m.ServerCertificateName),
				ID: aws.ToString(m.ServerCertificateId), ARN: aws.ToString(m.Arn), Path: aws.ToString(m.Path),
				UploadDate: utc(m.UploadDate), Expiration: utc(m.Expiration)})
		}
	}
	return out, nil
}

// Regions reads the account's regions and what every enabled region
// holds. It returns nil and the gap when the list of regions cannot be
// read; a region whose own calls fail keeps a nil list, with a gap naming
// the region.
func Regions(ctx context.Context, e EC2, aa AccessAnalyzer) ([]snapshot.Region, []snapshot.Gap) {
	out, err := e.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		return nil, []snapshot.Gap{gap(snapshot.SectionRegions, "ec2:DescribeRegions", err)}
	}
	regions := make([]snapshot.Region, 0, len(out.Regions))
	for _, r := range out.Regions {
		regions = append(regions, snapshot.Region{Name: aws.ToString(r.RegionName), OptInStatus: aws.ToString(r.OptInStatus)})
	}
	sort.Slice(regions, func(i, j int) bool { return regions[i].Name < regions[j].Name })

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		gaps []snapshot.Gap
		sem  = make(chan struct{}, regionConcurrency)
	)
	run := func(f func()) {
		wg.Add(1)
		spawn(func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				// The call would fail at once; let it, so the gap says so.
				f()
				return
			}
			defer func() { <-sem }()
			f()
		})
	}
	addGap := func(g snapshot.Gap) {
		mu.Lock()
		gaps = append(gaps, g)
		mu.Unlock()
	}
	for i := range regions {
		reg := &regions[i]
		if !reg.Enabled() {
			continue
		}
		run(func() {
			list, err := analyzers(ctx, aa, reg.Name)
			if err != nil {
				g := gap(snapshot.SectionAccessAnalyzer, "access-analyzer:ListAnalyzers", err)
				g.Region = reg.Name
				addGap(g)
				return
			}
			reg.Analyzers = list
		})
		run(func() {
			list, err := instances(ctx, e, reg.Name)
			if err != nil {
				g := gap(snapshot.SectionInstances, "ec2:DescribeInstances", err)
				g.Region = reg.Name
				addGap(g)
				return
			}
			reg.Instances = list
		})
	}
	wg.Wait()
	// Gaps in region order, so that a snapshot's bytes do not depend on
	// which region answered first.
	sort.SliceStable(gaps, func(i, j int) bool {
		if gaps[i].Region != gaps[j].Region {
			return gaps[i].Region < gaps[j].Region
		}
		return gaps[i].Section < gaps[j].Section
	})
	return regions, gaps
}

func analyzers(ctx context.Context, c AccessAnalyzer, region string) ([]snapshot.Analyzer, error) {
	in := func(o *accessanalyzer.Options) { o.Region = region }
	out := []snapshot.Analyzer{}
	p := accessanalyzer.NewListAnalyzersPaginator(c, &accessanalyzer.ListAnalyzersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Analyzers {
			an := snapshot.Analyzer{Name: aws.ToString(a.Name), ARN: aws.ToString(a.Arn), Type: string(a.Type), Status: string(a.Status), CreatedAt: utc(a.CreatedAt),
				Tags: analyzerTags(a.Tags)}
			if a.StatusReason != nil {
				an.StatusReason = string(a.StatusReason.Code)
			}
			out = append(out, an)
		}
	}
	return out, nil
}

// analyzerTags turns the summary's tag map into the snapshot's list,
// sorted by key so that a snapshot's bytes do not follow map order. The
// tags come with every analyzer in ListAnalyzers, so no
// ListTagsForResource call per analyzer is made; an analyzer AWS sent
// without tags has an empty list, never nil (nil is "not read").
func analyzerTags(m map[string]string) []snapshot.Tag {
	out := make([]snapshot.Tag, 0, len(m))
	for k, v := range m {
		out = append(out, snapshot.Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func instances(ctx context.Context, c EC2, region string) ([]snapshot.Instance, error) {
	in := func(o *ec2.Options) { o.Region = region }
	out := []snapshot.Instance{}
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(ec2MaxResults),
		Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: liveStates}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, res := range page.Reservations {
			owner := aws.ToString(res.OwnerId)
			for _, i := range res.Instances {
				inst := snapshot.Instance{ID: aws.ToString(i.InstanceId), LaunchTime: utc(i.LaunchTime),
					ARN: "arn:" + partitionOfRegion(region) + ":ec2:" + region + ":" + owner + ":instance/" + aws.ToString(i.InstanceId)}
				if i.State != nil {
					inst.State = string(i.State.Name)
				}
				if i.IamInstanceProfile != nil {
					inst.InstanceProfileARN = aws.ToString(i.IamInstanceProfile.Arn)
				}
				for _, t := range i.Tags {
					if aws.ToString(t.Key) == "Name" {
						inst.Name = aws.ToString(t.Value)
					}
				}
				out = append(out, inst)
			}
		}
	}
	return out, nil
}

// partitionOfRegion names the partition a region belongs to, for the
// instance ARNs EC2 does not send.
func partitionOfRegion(region string) string {
	switch {
	case len(region) > 3 && region[:3] == "cn-":
		return "aws-cn"
	case len(region) > 7 && region[:7] == "us-gov-":
		return "aws-us-gov"
	}
	return "aws"
}
