package awsreq

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// middlewareID names the step in the SDK's stack, once per stack.
const middlewareID = "VigilReadOnlyRequestBody"

// Install makes every call made with cfg, with any client built from it
// and any copy of it, send its request body through a reader without
// WriteTo (see the package comment). Calling it again on the same config
// adds nothing.
func Install(cfg *aws.Config) {
	// Clipped, so that the config's copies, which share the slice, never
	// append into spare capacity left here (collect.ForAccount).
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), AddToStack)
}

// AddToStack puts the bridge in one operation's stack, last in the
// Deserialize step, so that it is the last to touch the request before
// smithy-go's ClientHandler builds it; the retry loop (Finalize) keeps its
// own seekable stream for the next attempt. It is an SDK API option.
func AddToStack(st *middleware.Stack) error {
	if _, ok := st.Deserialize.Get(middlewareID); ok {
		return nil
	}
	return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc(middlewareID, readOnlyBody), middleware.After)
}

// readOnly exposes Read alone: it is the body's only method that net/http
// copies through.
type readOnly struct{ r io.Reader }

func (b readOnly) Read(p []byte) (int, error) { return b.r.Read(p) }

func readOnlyBody(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return next.HandleDeserialize(ctx, in)
	}
	// Only a WriterTo body takes the path that fails; a streaming body
	// (an io.Pipe) keeps its own handling in smithy-go.
	if _, ok := req.GetStream().(io.WriterTo); !ok {
		return next.HandleDeserialize(ctx, in)
	}
	// SetStream works on a copy: the original request, with its seekable
	// stream, stays with the retry loop for the next attempt. The
	// Content-Length is already set, and stays.
	n := req.ContentLength
	cp, err := req.SetStream(readOnly{req.GetStream()})
	if err != nil {
		return middleware.DeserializeOutput{}, middleware.Metadata{}, fmt.Errorf("awsreq: wrap the request body: %w", err)
	}
	cp.ContentLength = n
	in.Request = cp
	return next.HandleDeserialize(ctx, in)
}
