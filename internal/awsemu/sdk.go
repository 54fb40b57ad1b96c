package awsemu

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/vigil-sec/vigil/internal/awsreq"
)

// placeholderSecret signs requests for keys whose secret the world does
// not give; the emulator does not check signatures.
const placeholderSecret = "awsemu-placeholder-secret-not-verified"

// NewAWSConfig loads an aws.Config for the real SDK that sends every
// service to endpoint (BaseEndpoint) and signs with static credentials.
// Shared config and credentials files are ignored so a developer's own
// AWS profile cannot leak into a test (AWS_PROFILE, if set, must then be
// "default" or unset); optFns are applied last and may
// override anything (retryer, region, HTTP client…). Service-specific
// endpoint variables such as AWS_ENDPOINT_URL_IAM still win over
// BaseEndpoint, as the SDK defines.
func NewAWSConfig(ctx context.Context, endpoint, region string, creds aws.Credentials, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithBaseEndpoint(endpoint),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	}
	cfg, err := config.LoadDefaultConfig(ctx, append(opts, optFns...)...)
	if err != nil {
		return cfg, err
	}
	// Against the emulator, which answers in microseconds, the SDK breaks
	// the connection its answer is being read from whenever the machine is
	// busy, and retries the answered request (awsreq): an SQS message
	// taken by the first attempt is then lost until its visibility ends.
	awsreq.Install(&cfg)
	return cfg, nil
}

// AWSConfig is NewAWSConfig pointed at this server, in the partition's
// usual region (us-east-1, us-gov-west-1 or cn-north-1).
func (s *Server) AWSConfig(ctx context.Context, creds aws.Credentials, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	return NewAWSConfig(ctx, s.URL(), partitionRegion[s.world.Partition], creds, optFns...)
}

// ConfigAs returns a config that signs as the identity behind
// accessKeyID: a key in account state, a World.Credentials entry or a
// session this server issued (its secret and token are filled in). The
// key need not exist, so tests can sign with unknown or deleted keys.
func (s *Server) ConfigAs(ctx context.Context, accessKeyID string, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	return s.AWSConfig(ctx, s.credentialsFor(accessKeyID), optFns...)
}

func (s *Server) credentialsFor(id string) aws.Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: placeholderSecret, Source: "awsemu"}
	if sess, ok := s.sessions[id]; ok {
		creds.SecretAccessKey, creds.SessionToken = sess.secret, sess.token
		return creds
	}
	if c, ok := s.extra[id]; ok && c.Secret != "" {
		creds.SecretAccessKey = c.Secret
		return creds
	}
	if owner, ok := s.keyOwners[id]; ok {
		a := s.accounts[owner.account]
		keys := a.Root.AccessKeys
		if u := a.user(owner.user); owner.user != "" && u != nil {
			keys = u.AccessKeys
		}
		for _, k := range keys {
			if k.ID == id && k.Secret != "" {
				creds.SecretAccessKey = k.Secret
			}
		}
	}
	return creds
}
