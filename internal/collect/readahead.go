package collect

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
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

// readAhead is a call option that takes the place of the SDK's decoder of
// one GetAccountAuthorizationDetails answer (the stack's
// OperationDeserializer), with the SDK's decoder kept for what it hands
// on. It reads the Marker out of a successful answer's raw XML and sends
// it on ch first: decoding a page of 1,000 users takes as long as a round
// trip does, and the paginator asks for the next page only after it; with
// the Marker in hand early, the next page is on its way while this one
// decodes. It then decodes the answer itself (decodeDetails) into *page,
// and the SDK's output carries only IsTruncated and Marker; an answer it
// does not read with certainty, an error or a failed read goes to the
// SDK's decoder as if nothing had been in between.
//
// Only an answer whose Marker can be read with certainty is sent: an
// awsQuery IAM answer has one Marker element, at the top of its result
// (names cannot hold '<' and policy documents are URL-encoded, so the tag
// cannot appear inside a value). Anything else sends nothing and the
// chain waits for the decoded page, as the paginator would.
func readAhead(ch chan<- ahead, page **detailsPage) func(*iam.Options) {
	return fastDecoder(func(body []byte) (any, bool) {
		if a, ok := peekMarker(body); ok {
			select {
			case ch <- a:
			default: // a retried attempt already sent it
			}
		}
		p, err := decodeDetails(body)
		if err != nil {
			return nil, false
		}
		*page = &p
		res := &iam.GetAccountAuthorizationDetailsOutput{IsTruncated: p.truncated}
		if p.marker != "" {
			res.Marker = &p.marker
		}
		return res, true
	})
}

// fastReport is a call option that decodes a GetCredentialReport answer
// with decodeReport instead of the SDK's decoder, which it keeps for what
// decodeReport does not read.
func fastReport() func(*iam.Options) {
	return fastDecoder(func(body []byte) (any, bool) {
		out, err := decodeReport(body)
		return out, err == nil
	})
}

// fastDecoder is a call option that puts decode in the place of the SDK's
// decoder of the call's answer (the stack's OperationDeserializer). decode
// sees the raw body of a 200 answer and returns the operation's output,
// or false to leave the answer to the SDK's decoder, which also gets
// every error and every body that could not be read in full, as if
// nothing had been in between.
func fastDecoder(decode func([]byte) (any, bool)) func(*iam.Options) {
	return func(o *iam.Options) {
		o.APIOptions = append(slices.Clip(o.APIOptions), func(st *middleware.Stack) error {
			sdk, ok := st.Deserialize.Get(sdkDeserializerID)
			if !ok {
				return fmt.Errorf("the SDK's %s is not in the call's stack", sdkDeserializerID)
			}
			_, err := st.Deserialize.Swap(sdkDeserializerID, &rawDecoder{sdk: sdk, decode: decode})
			return err
		})
	}
}

// sdkDeserializerID names the SDK's decoder in an operation's stack.
const sdkDeserializerID = "OperationDeserializer"

type rawDecoder struct {
	sdk    middleware.DeserializeMiddleware
	decode func([]byte) (any, bool)
}

func (*rawDecoder) ID() string { return sdkDeserializerID }

func (m *rawDecoder) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err != nil || !ok || resp.StatusCode != 200 || resp.Body == nil {
		return m.sdk.HandleDeserialize(ctx, in, received{out, md, err})
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if rerr == nil {
		if res, ok := m.decode(body); ok {
			out.Result = res
			return out, md, nil
		}
	}
	// The SDK decodes what was read, and reports a cut answer itself (as
	// a short read) if there was one.
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{rerr}))
	return m.sdk.HandleDeserialize(ctx, in, received{out, md, nil})
}

// received hands the SDK's decoder the answer already received.
type received struct {
	out middleware.DeserializeOutput
	md  middleware.Metadata
	err error
}

func (r received) HandleDeserialize(context.Context, middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
	return r.out, r.md, r.err
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
	// One pass over the tags, not a bytes.Count per pattern: the page of
	// 1,000 users is a megabyte, and four passes over it were a tenth of
	// the scanner's CPU once the SDK no longer decoded it.
	t, f, markers, i := 0, 0, 0, -1
	for at := 0; ; at++ {
		lt := bytes.IndexByte(body[at:], '<')
		if lt < 0 {
			break
		}
		at += lt
		switch rest := body[at:]; {
		case bytes.HasPrefix(rest, truncatedTrue):
			t++
		case bytes.HasPrefix(rest, truncatedFalse):
			f++
		case bytes.HasPrefix(rest, markerOpen):
			markers, i = markers+1, at
		}
	}
	switch {
	case t == 0 && f == 1:
		return ahead{}, true
	case t != 1 || f != 0:
		return ahead{}, false
	}
	if markers != 1 {
		return ahead{}, false
	}
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
		var fast *detailsPage
		page, err := c.GetAccountAuthorizationDetails(ctx, &in, readAhead(pc.early, &fast))
		if err != nil {
			pc.done <- pageResult{err: err}
			return
		}
		if fast != nil {
			pc.done <- pageResult{part: fast.part, truncated: fast.truncated, marker: fast.marker}
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
