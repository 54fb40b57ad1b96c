package awsenv

import (
	"context"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// CountCalls makes every AWS call signed with the environment's configs
// (each target's too) add one to the returned counter, once per
// operation whatever its retries: what `vigil scans` reports as a scan's
// calls.
func (e *Env) CountCalls() *atomic.Int64 {
	n := new(atomic.Int64)
	CountInto(&e.Config, n)
	for i := range e.Targets {
		CountInto(&e.Targets[i].Config, n)
	}
	return n
}

// CountInto makes every AWS call made with cfg (and the copies taken of
// it later) add one to n.
func CountInto(cfg *aws.Config, n *atomic.Int64) {
	count := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("VigilCountCalls", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			n.Add(1)
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	}
	o := cfg.APIOptions
	cfg.APIOptions = append(o[:len(o):len(o)], count)
}
