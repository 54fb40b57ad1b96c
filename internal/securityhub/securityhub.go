// Package securityhub imports Vigil's results into AWS Security Hub as
// ASFF findings (internal/report/asff), with securityhub:BatchImportFindings
// and nothing else: `vigil scan --to securityhub` and `vigil report send
// --to securityhub`.
//
// Findings are imported into the account of the credentials that send
// them, with that account's default product ARN in the Region the client
// is for: Security Hub takes findings of the default product only for the
// calling account, so an organisation's results are all imported into the
// one account that sends them (its security tooling or delegated
// administrator account), each still naming the scanned account in its
// resource. Calls carry at most 100 findings and 6 MB, a finding over
// 240 KB is reported and not sent, calls are paced to the service's rate
// (10 a second, bursts of 30) and a throttled call is retried; findings
// Security Hub refuses are reported one by one with its error.
//
// Vigil only ever sends findings it made: every ID starts with "vigil/"
// and Send refuses any other, and it never updates, archives or deletes a
// finding by any other call, so no other product's finding is touched.
// A finding whose resource no longer exists in a scan (an account that
// left the organisation) is left as it was.
package securityhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/guide"
	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/report/asff"
)

// The service's limits.
const (
	MaxBatchFindings = 100
	// MaxBatchBytes is 6 MB, less room for the request's envelope.
	MaxBatchBytes = 6*1000*1000 - 4096
	// Rate and Burst are BatchImportFindings' throttling quota: 10
	// requests a second, bursts of 30.
	Rate  = 10
	Burst = 30
)

// API is the one call Vigil makes.
type API interface {
	BatchImportFindings(ctx context.Context, in *sh.BatchImportFindingsInput, optFns ...func(*sh.Options)) (*sh.BatchImportFindingsOutput, error)
}

// Options tune a Send.
type Options struct {
	// Clock paces the calls and waits between retries; the wall clock
	// when nil.
	Clock clock.Clock
	// Rate (calls a second) and Burst override the service's quota, for
	// an account whose quota is lower; 0 keeps Rate and Burst.
	Rate  float64
	Burst int
	// Retries is how many times a batch the SDK gave up on for throttling
	// is sent again (after the SDK's own retries), waiting 2, 4, 8…
	// seconds; 0 means 5.
	Retries int
	Logger  *slog.Logger
}

// Failure is a finding that was not imported.
type Failure struct {
	ID      string
	Code    string
	Message string
}

// Result says what a Send did.
type Result struct {
	// Findings were offered; Imported were accepted by Security Hub.
	Findings int
	Imported int
	// Calls is how many BatchImportFindings requests were answered.
	Calls  int
	Failed []Failure
}

// Send imports findings in batches. It stops at the first error that is
// not about single findings (access denied, Security Hub not enabled, a
// context ended) and returns it with what was done so far.
func Send(ctx context.Context, api API, findings iter.Seq2[asff.Finding, error], o Options) (Result, error) {
	if o.Clock == nil {
		o.Clock = clock.Wall{}
	}
	if o.Rate <= 0 {
		o.Rate = Rate
	}
	if o.Burst <= 0 {
		o.Burst = Burst
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &sender{api: api, o: o, pace: newPacer(o.Clock, o.Rate, o.Burst)}
	var batch []types.AwsSecurityFinding
	size := 0
	for f, err := range findings {
		if err != nil {
			return s.res, err
		}
		s.res.Findings++
		if !strings.HasPrefix(f.ID, "vigil/") || !strings.HasPrefix(f.GeneratorID, "vigil/") {
			return s.res, fmt.Errorf("securityhub: finding %q was not made by Vigil; refusing to send it", f.ID)
		}
		b, err := json.Marshal(f)
		if err != nil {
			return s.res, fmt.Errorf("securityhub: encode finding %s: %w", f.ID, err)
		}
		if len(b) > asff.MaxFindingBytes {
			s.res.Failed = append(s.res.Failed, Failure{ID: f.ID, Code: "FindingTooLarge",
				Message: fmt.Sprintf("the finding is %d bytes, over Security Hub's %d; not sent", len(b), asff.MaxFindingBytes)})
			continue
		}
		if len(batch) == MaxBatchFindings || size+len(b)+1 > MaxBatchBytes {
			if err := s.send(ctx, batch); err != nil {
				return s.res, err
			}
			batch, size = nil, 0
		}
		batch = append(batch, ToSDK(f))
		size += len(b) + 1
	}
	if len(batch) > 0 {
		if err := s.send(ctx, batch); err != nil {
			return s.res, err
		}
	}
	return s.res, nil
}

type sender struct {
	api  API
	o    Options
	pace *pacer
	res  Result
}

func (s *sender) send(ctx context.Context, batch []types.AwsSecurityFinding) error {
	for attempt := 0; ; attempt++ {
		if err := s.pace.wait(ctx); err != nil {
			return err
		}
		out, err := s.api.BatchImportFindings(ctx, &sh.BatchImportFindingsInput{Findings: batch})
		s.pace.done()
		if err == nil {
			s.res.Calls++
			s.res.Imported += int(aws.ToInt32(out.SuccessCount))
			for _, f := range out.FailedFindings {
				s.res.Failed = append(s.res.Failed, Failure{ID: aws.ToString(f.Id), Code: aws.ToString(f.ErrorCode), Message: aws.ToString(f.ErrorMessage)})
			}
			return nil
		}
		if !throttled(err) || attempt >= s.o.Retries {
			err = fmt.Errorf("securityhub:BatchImportFindings (%d findings, from %s): %w", len(batch), aws.ToString(batch[0].Id), err)
			var ia *types.InvalidAccessException
			if errors.As(err, &ia) {
				err = fmt.Errorf("%w (is Security Hub enabled in this account and Region? aws securityhub enable-security-hub)", err)
			}
			return err
		}
		wait := time.Duration(2<<attempt) * time.Second
		s.o.Logger.Warn("Security Hub throttled the import; waiting before sending the batch again", "wait", wait, "attempt", attempt+1)
		if err := sleep(ctx, s.o.Clock, wait); err != nil {
			return err
		}
	}
}

// throttled reports whether err is Security Hub's throttling (429
// LimitExceededException) or another throttling error the SDK gave up on.
func throttled(err error) bool {
	var le *types.LimitExceededException
	if errors.As(err, &le) {
		return true
	}
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

// sleep waits d on c, unless ctx ends first.
func sleep(ctx context.Context, c clock.Clock, d time.Duration) error {
	wctx, cancel := c.WithTimeout(ctx, d)
	defer cancel()
	<-wctx.Done()
	return ctx.Err()
}

// pacer is a token bucket on the clock: burst calls at once, then rate a
// second. It refills only from the end of the previous call (done), not
// from its start, so that it never counts time the service has not seen
// yet: a request that took long to arrive (a new connection) cannot make
// the next one early by the service's count.
type pacer struct {
	c      clock.Clock
	every  time.Duration
	burst  int
	tokens float64
	last   time.Time
}

func newPacer(c clock.Clock, rate float64, burst int) *pacer {
	return &pacer{c: c, every: time.Duration(float64(time.Second) / rate), burst: burst, tokens: float64(burst), last: c.Now()}
}

// done marks the end of a call: refilling starts again from now.
func (p *pacer) done() { p.last = p.c.Now() }

func (p *pacer) wait(ctx context.Context) error {
	for {
		now := p.c.Now()
		if el := now.Sub(p.last); el > 0 {
			p.tokens = min(float64(p.burst), p.tokens+float64(el)/float64(p.every))
		}
		p.last = now
		if p.tokens >= 1 {
			p.tokens--
			return nil
		}
		need := time.Duration((1 - p.tokens) * float64(p.every))
		if err := sleep(ctx, p.c, max(need, time.Millisecond)); err != nil {
			return err
		}
	}
}

// Target is where findings go: the importing account and Region.
type Target struct {
	Account   string
	Partition string
	Region    string
}

// Resolve finds who the config signs as (sts:GetCallerIdentity, which no
// policy can deny) and its Region.
func Resolve(ctx context.Context, cfg aws.Config) (Target, error) {
	if cfg.Region == "" {
		return Target{}, errors.New("securityhub: no Region: give --region or set AWS_REGION; findings are imported into the Security Hub of one Region")
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Target{}, fmt.Errorf("securityhub: sts:GetCallerIdentity: %w", err)
	}
	partition := "aws"
	if parts := strings.SplitN(aws.ToString(out.Arn), ":", 3); len(parts) == 3 {
		partition = parts[1]
	}
	return Target{Account: aws.ToString(out.Account), Partition: partition, Region: cfg.Region}, nil
}

// Import sends every result of d as a finding of t's account and Region:
// Resolve, then Send with the client of cfg.
func Import(ctx context.Context, cfg aws.Config, d *report.Document, guides guide.Guides, o Options) (Target, Result, error) {
	t, err := Resolve(ctx, cfg)
	if err != nil {
		return t, Result{}, err
	}
	findings := asff.Findings(d, asff.Options{Region: t.Region, Importer: t.Account, ImporterPartition: t.Partition, Guides: guides})
	res, err := Send(ctx, sh.NewFromConfig(cfg), findings, o)
	return t, res, err
}

// ToSDK is a finding as the SDK sends it.
func ToSDK(f asff.Finding) types.AwsSecurityFinding {
	sev := func(s asff.Severity) *types.Severity {
		return &types.Severity{Label: types.SeverityLabel(s.Label), Original: aws.String(s.Original)}
	}
	out := types.AwsSecurityFinding{
		SchemaVersion:  aws.String(f.SchemaVersion),
		Id:             aws.String(f.ID),
		ProductArn:     aws.String(f.ProductArn),
		ProductName:    aws.String(f.ProductName),
		CompanyName:    aws.String(f.CompanyName),
		Region:         aws.String(f.Region),
		GeneratorId:    aws.String(f.GeneratorID),
		AwsAccountId:   aws.String(f.AwsAccountID),
		Types:          f.Types,
		LastObservedAt: aws.String(f.LastObservedAt),
		CreatedAt:      aws.String(f.CreatedAt),
		UpdatedAt:      aws.String(f.UpdatedAt),
		Severity:       sev(f.Severity),
		FindingProviderFields: &types.FindingProviderFields{
			Severity: &types.FindingProviderSeverity{Label: types.SeverityLabel(f.FindingProviderFields.Severity.Label), Original: aws.String(f.FindingProviderFields.Severity.Original)},
			Types:    f.FindingProviderFields.Types,
		},
		Title:         aws.String(f.Title),
		Description:   aws.String(f.Description),
		Remediation:   &types.Remediation{Recommendation: &types.Recommendation{Text: aws.String(f.Remediation.Recommendation.Text)}},
		ProductFields: f.ProductFields,
		Compliance:    &types.Compliance{Status: types.ComplianceStatus(f.Compliance.Status), RelatedRequirements: f.Compliance.RelatedRequirements},
		RecordState:   types.RecordState(f.RecordState),
	}
	if f.AwsAccountName != "" {
		out.AwsAccountName = aws.String(f.AwsAccountName)
	}
	for _, r := range f.Resources {
		res := types.Resource{Type: aws.String(r.Type), Id: aws.String(r.ID), Region: aws.String(r.Region)}
		if r.Partition != "" {
			res.Partition = types.Partition(r.Partition)
		}
		if r.Details != nil {
			res.Details = &types.ResourceDetails{Other: r.Details.Other}
		}
		out.Resources = append(out.Resources, res)
	}
	return out
}

// Policy is what importing needs beyond the command's own policy:
// securityhub:BatchImportFindings on the default product of any account
// and Region of the partition (each account can import only its own, so
// the wildcard grants no more). sts:GetCallerIdentity needs no permission.
func Policy(partition string) collect.Policy {
	return collect.Policy{Version: iampolicy.Version2012, Statement: []collect.Statement{{Sid: "VigilSecurityHubImport", Effect: "Allow",
		Action: []string{"securityhub:BatchImportFindings"}, Resource: "arn:" + partition + ":securityhub:*:*:product/*/default"}}}
}
