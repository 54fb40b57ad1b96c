// Package demo runs Vigil against its built-in emulated organisation, so a
// first scan works on a machine with no AWS account: the emulator listens
// on 127.0.0.1 and the real AWS SDK talks to it over HTTP, exactly as it
// would to AWS.
package demo

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsreq"
)

// ManagementRootKey is the access key of the demo management account's
// root user, for the commands `vigil serve --demo` suggests trying.
const ManagementRootKey = awsemu.DemoManagementRootKey

// Env is a running demo.
type Env struct {
	// Config signs as the demo's auditor in the management account.
	Config aws.Config
	// Server is the emulator, for callers that need other identities.
	Server *awsemu.Server
	// Description says what is being scanned, for the report header.
	Description string
	Stop        func()
}

// Start starts the emulator with the demo organisation dated relative to
// now, and returns a config for its management account's audit user. The
// emulator's clock starts at now and runs in real time, so a pinned clock
// (SOURCE_DATE_EPOCH) gives the same report every run.
func Start(now time.Time) (*Env, error) {
	started := time.Now()
	clock := func() time.Time { return now.Add(time.Since(started)) }
	// Security Hub's import quota holds in the demo as in AWS
	// (--to securityhub).
	srv, err := awsemu.Listen(awsemu.DemoWorld(now), awsemu.WithClock(clock), awsemu.WithSecurityHubRate(10, 30))
	if err != nil {
		return nil, err
	}
	// The config is built by hand rather than loaded: nothing of the
	// user's AWS environment (AWS_PROFILE, AWS_ENDPOINT_URL_IAM, shared
	// files) may leak into the demo or send its calls elsewhere.
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(awsemu.DemoManagementAdminKey, "demo-secret-not-checked", "")),
	}
	// The demo's calls to its emulator must not retry answered requests
	// when the machine is busy (awsreq).
	awsreq.Install(&cfg)
	return &Env{
		Config:      cfg,
		Server:      srv,
		Description: "emulated organisation at " + srv.URL() + ", signed in as the management account's IAM user vigil-admin",
		Stop:        srv.Close,
	}, nil
}
