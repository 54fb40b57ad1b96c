// Package awsemutest starts the AWS emulator for tests: a server that the
// test owns (closed when it ends), dated at the tests' reference time, and
// AWS SDK configs that sign as any identity of its world. It is test
// support, kept apart from awsemu so that the vigil binary, which runs the
// emulator for its demo, links neither package testing nor the tests'
// clock.
package awsemutest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// Start starts an emulator of w for the test: an invalid world fails the
// test, the server is closed when the test ends, and its clock, unless an
// option sets one, starts at the tests' reference time (testclock.Ref,
// which VIGIL_TEST_TIME moves) and runs in real time, so that no test
// depends on the day it runs. Worlds are dated from the same reference
// time.
func Start(t testing.TB, w *awsemu.World, opts ...awsemu.Option) *awsemu.Server {
	t.Helper()
	if w == nil {
		w = &awsemu.World{}
	}
	if err := w.Validate(); err != nil {
		t.Fatalf("awsemu: invalid world: %v", err)
	}
	s, err := awsemu.Listen(w, append([]awsemu.Option{awsemu.WithClock(testclock.Running())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// ConfigFor returns a config that signs with s as the identity behind
// accessKeyID (Server.ConfigAs), failing the test when the SDK cannot
// load one.
func ConfigFor(t testing.TB, s *awsemu.Server, accessKeyID string, optFns ...func(*config.LoadOptions) error) aws.Config {
	t.Helper()
	cfg, err := s.ConfigAs(context.Background(), accessKeyID, optFns...)
	if err != nil {
		t.Fatalf("awsemu: load SDK config: %v", err)
	}
	return cfg
}
