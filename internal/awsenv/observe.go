package awsenv

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// ObserveInto makes every AWS call made with cfg (and the copies taken
// of it later) report its service, operation and outcome to observe,
// once per operation whatever its retries: what vigil serve's metrics
// count. code is "" for a success, the AWS error code for an error AWS
// returned (AccessDenied, Throttling), and "network" for a call that
// got no answer (a timeout, a refused connection, a cancelled context).
func ObserveInto(cfg *aws.Config, observe func(service, operation, code string)) {
	add := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("VigilObserveCalls", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			observe(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), ErrorCode(err))
			return out, md, err
		}), middleware.After)
	}
	o := cfg.APIOptions
	cfg.APIOptions = append(o[:len(o):len(o)], add)
}

// ErrorCode is the AWS error code of err, "network" when AWS gave no
// answer, "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		return ae.ErrorCode()
	}
	return "network"
}
