package fleet

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// sessionProvider hands out the credentials of a session the scan has
// already opened, then opens a new one whenever the cache finds them
// expired. Opening the first session explicitly, before any call in the
// account, is what lets a denied role be reported as the denial it is
// (sts:AssumeRole: AccessDenied) rather than as every later call failing.
// Renewing instead of reusing matters for AssumeRoot, whose sessions last
// fifteen minutes at most.
type sessionProvider struct {
	mu     sync.Mutex
	first  *aws.Credentials
	assume func(context.Context) (aws.Credentials, error)
}

func (p *sessionProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	p.mu.Lock()
	first := p.first
	p.first = nil
	p.mu.Unlock()
	if first != nil && (!first.CanExpire || time.Now().Before(first.Expires)) {
		return *first, nil
	}
	return p.assume(ctx)
}

// sessionCredentials converts STS credentials; the secret goes to the
// credential cache and nowhere else (never to a log, snapshot or error).
func sessionCredentials(c *ststypes.Credentials, source string) (aws.Credentials, error) {
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil {
		return aws.Credentials{}, fmt.Errorf("%s returned no credentials", source)
	}
	out := aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken, Source: source}
	if c.Expiration != nil {
		out.CanExpire, out.Expires = true, *c.Expiration
	}
	return out, nil
}

// openSession opens the first session in an account and returns a config
// that signs with it and renews it. On failure the gap names the call.
func openSession(ctx context.Context, base aws.Config, call string, assume func(context.Context) (aws.Credentials, error)) (aws.Config, *snapshot.Gap) {
	creds, err := assume(ctx)
	if err != nil {
		g := collect.NewGap(snapshot.SectionAccess, call, err)
		return aws.Config{}, &g
	}
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(&sessionProvider{first: &creds, assume: assume}, func(o *aws.CredentialsCacheOptions) {
		// Renew a minute early, so no call is signed with credentials
		// that expire in flight.
		o.ExpiryWindow = time.Minute
	})
	return cfg, nil
}

func assumeRole(c RoleAssumer, r Role, roleARN string) func(context.Context) (aws.Credentials, error) {
	return assumeRoleAs(c, r, roleARN, nil)
}

// assumeRoleAs is assumeRole that also keeps, in *first, the assumed-role
// user of the first session (who the session signs as), so that the
// account's scan need not ask sts:GetCallerIdentity.
func assumeRoleAs(c RoleAssumer, r Role, roleARN string, first **ststypes.AssumedRoleUser) func(context.Context) (aws.Credentials, error) {
	return func(ctx context.Context) (aws.Credentials, error) {
		in := &sts.AssumeRoleInput{
			RoleArn:         aws.String(roleARN),
			RoleSessionName: aws.String(r.SessionName),
			DurationSeconds: aws.Int32(int32(r.Duration / time.Second)),
		}
		if r.ExternalID != "" {
			in.ExternalId = aws.String(r.ExternalID)
		}
		out, err := c.AssumeRole(ctx, in)
		if err != nil {
			return aws.Credentials{}, err
		}
		if first != nil && *first == nil {
			*first = out.AssumedRoleUser
		}
		return sessionCredentials(out.Credentials, "vigil sts:AssumeRole")
	}
}

func assumeRoot(c RootAssumer, partition, accountID string, d time.Duration) func(context.Context) (aws.Credentials, error) {
	return assumeRootWith(c, partition, accountID, collect.AuditTaskPolicy, d)
}

func assumeRootWith(c RootAssumer, partition, accountID, taskPolicy string, d time.Duration) func(context.Context) (aws.Credentials, error) {
	return func(ctx context.Context) (aws.Credentials, error) {
		out, err := c.AssumeRoot(ctx, &sts.AssumeRootInput{
			TargetPrincipal: aws.String(accountID),
			TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(collect.TaskPolicyARN(partition, taskPolicy))},
			DurationSeconds: aws.Int32(int32(d / time.Second)),
		})
		if err != nil {
			return aws.Credentials{}, err
		}
		creds, err := sessionCredentials(out.Credentials, "vigil sts:AssumeRoot")
		if err == nil {
			observeRootSession(ctx, OpenedRootSession{AccountID: accountID, AccessKeyID: creds.AccessKeyID, TaskPolicy: taskPolicy, Expires: creds.Expires})
		}
		return creds, err
	}
}

// TuneHTTP shares one connection pool, sized for the scan, between every
// client of every account. Each account's clients are built from copies
// of the same config, so they share its HTTP client; what needs changing
// is the pool size. The SDK's default keeps 10 idle connections per host,
// while a scan of 32 accounts at once has about 32 × 5 requests in flight
// to the same IAM endpoint: beyond 10, every request would close its
// connection and the next would pay a new TCP and TLS handshake (several
// round trips, more than the call itself). A pool as large as the
// concurrency keeps them alive. A custom HTTP client is left alone.
func TuneHTTP(cfg *aws.Config, parallel int) {
	bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok && cfg.HTTPClient != nil {
		return
	}
	if bc == nil {
		bc = awshttp.NewBuildableClient()
	}
	conns := max(parallel*8, 100)
	cfg.HTTPClient = bc.WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = conns * 3 // IAM, STS and Organizations hosts
		t.MaxIdleConnsPerHost = conns
	})
}
