package awsenv

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/vigil-sec/vigil/internal/awsreq"
	"github.com/vigil-sec/vigil/internal/collect"
)

// ConfigOptions are the user's choices about how to reach AWS. Anything
// unset falls through to the SDK's normal chain: environment, shared config
// and credentials files, SSO profiles, web identity, container and instance
// roles, and the AWS_ENDPOINT_URL* variables.
type ConfigOptions struct {
	Profile string
	Region  string
	// RetryMode is "standard" or "adaptive"; empty keeps the SDK default
	// (which AWS_RETRY_MODE and the profile can also set).
	RetryMode   string
	MaxAttempts int
}

// ErrNoRegion is returned when no region is configured anywhere.
var ErrNoRegion = errors.New("no AWS region configured: pass --region, set AWS_REGION, or set region in the profile")

// LoadConfig loads an SDK config and checks that a region is set. STS is
// regional, and the region also tells the SDK which partition's endpoints
// to use, so a scan refuses to guess one.
func LoadConfig(ctx context.Context, o ConfigOptions) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	switch o.RetryMode {
	case "":
	case string(aws.RetryModeStandard), string(aws.RetryModeAdaptive):
		opts = append(opts, config.WithRetryMode(aws.RetryMode(o.RetryMode)))
	default:
		return aws.Config{}, fmt.Errorf("retry mode %q: want standard or adaptive", o.RetryMode)
	}
	if o.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryMaxAttempts(o.MaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		// The SDK says "failed to get shared config profile, NAME".
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return aws.Config{}, fmt.Errorf("AWS profile %q is in neither the AWS config file nor the credentials file", missing.Profile)
		}
		if o.Profile != "" {
			return aws.Config{}, fmt.Errorf("load AWS profile %q: %w", o.Profile, err)
		}
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	// The SDK can break the connection its own answer is being read
	// from, and retry an answered request (awsreq).
	awsreq.Install(&cfg)
	return cfg, nil
}

// HaveCredentials reports whether the credential chain yields credentials,
// and the error when it does not. It makes no AWS API call beyond what the
// chain itself needs (an SSO token exchange or an instance metadata read).
func HaveCredentials(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return &collect.CredentialError{Code: "NoCredentials", Call: "credential chain"}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return &collect.CredentialError{Code: "NoCredentials", Call: "credential chain", Err: err}
	}
	return nil
}
