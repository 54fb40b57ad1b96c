package collect

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// ahead is what a page's raw answer says about the next page, read before
// the SDK decodes the page: whether there is one and from which Marker.
type ahead struct {
	truncated bool
	marker    string
}

// readAheadID names the middleware in one call's stack.
const readAheadID = "VigilReadAheadMarker"

// readAhead is a call option that reads the Marker out of a successful
// answer's raw XML and sends it on ch before the SDK decodes the answer.
// Decoding a page of 1,000 users takes as long as a round trip does, and
// the paginator asks for the next page only after it; with the Marker in
// hand early, the next page is on its way while this one decodes.
//
// Only an answer whose Marker can be read with certainty is sent: an
// awsQuery IAM answer has one Marker element, at the top of its result
// (names cannot hold '<' and policy documents are URL-encoded, so the tag
// cannot appear inside a value). Anything else sends nothing and the
// chain waits for the decoded page, as the paginator would.
func readAhead(ch chan<- ahead) func(*iam.Options) {
	return func(o *iam.Options) {
		o.APIOptions = append(slices.Clip(o.APIOptions), func(st *middleware.Stack) error {
			return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc(readAheadID,
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					if err != nil {
						return out, md, err
					}
					resp, ok := out.RawResponse.(*smithyhttp.Response)
					if !ok || resp.StatusCode != 200 || resp.Body == nil {
						return out, md, err
					}
					body, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					// The SDK decodes what was read, and reports a cut
					// answer itself (as a short read) if there was one.
					resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{rerr}))
					if rerr == nil {
						if a, ok := peekMarker(body); ok {
							select {
							case ch <- a:
							default: // a retried attempt already sent it
							}
						}
					}
					return out, md, err
				}), middleware.After)
		})
	}
}

// errReader returns err once the body before it is read; nil reads EOF.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

var (
	truncatedTrue  = []byte("<IsTruncated>true</IsTruncated>")
	truncatedFalse = []byte("<IsTruncated>false</IsTruncated>")
	markerOpen     = []byte("<Marker>")
	markerClose    = []byte("</Marker>")
)

// peekMarker reads IsTruncated and Marker from an IAM list answer's raw
// XML. ok is false unless both are there exactly once (or IsTruncated is
// false, with no Marker needed) and the Marker's text decodes.
func peekMarker(body []byte) (a ahead, ok bool) {
	t, f := bytes.Count(body, truncatedTrue), bytes.Count(body, truncatedFalse)
	switch {
	case t == 0 && f == 1:
		return ahead{}, true
	case t != 1 || f != 0:
		return ahead{}, false
	}
	if bytes.Count(body, markerOpen) != 1 {
		return ahead{}, false
	}
	i := bytes.Index(body, markerOpen)
	j := bytes.Index(body[i:], markerClose)
	if j < 0 || bytes.IndexByte(body[i+len(markerOpen):i+j], '<') >= 0 {
		return ahead{}, false // a Marker is text alone
	}
	var m string
	if err := xml.Unmarshal(body[i:i+j+len(markerClose)], &m); err != nil || m == "" {
		return ahead{}, false
	}
	return ahead{truncated: true, marker: m}, true
}

// pageResult is one page of a chain, decoded and converted.
type pageResult struct {
	part      *snapshot.IAMDetails
	truncated bool
	marker    string
	err       error
}

// pageCall is one page on its way: early gets the next page's Marker as
// soon as the raw answer is in, done the decoded page.
type pageCall struct {
	marker *string // the Marker it was asked with
	early  chan ahead
	done   chan pageResult
	cancel context.CancelFunc // abandons the call when it is not needed
}

// fetchPage asks for the page after marker (nil: the first) on a goroutine
// of its own, and converts it there too.
func fetchPage(ctx context.Context, c DetailsIAM, in iam.GetAccountAuthorizationDetailsInput, marker *string) *pageCall {
	ctx, cancel := context.WithCancel(ctx)
	pc := &pageCall{marker: marker, early: make(chan ahead, 1), done: make(chan pageResult, 1), cancel: cancel}
	in.Marker = marker
	spawn(func() {
		page, err := c.GetAccountAuthorizationDetails(ctx, &in, readAhead(pc.early))
		if err != nil {
			pc.done <- pageResult{err: err}
			return
		}
		var m string
		if page.Marker != nil {
			m = *page.Marker
		}
		pc.done <- pageResult{part: convertPage(page), truncated: page.IsTruncated, marker: m}
	})
	return pc
}
