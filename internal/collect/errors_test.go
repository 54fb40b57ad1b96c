package collect

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestDescribeTransportFailures: a call that fails below AWS (nothing
// listening, a connection closed, an answer that is not AWS's, TLS) reads
// as one line naming the cause, without the SDK's wrapping: no
// "operation error", no "https response error" on plain HTTP, no empty
// "RequestID: ," and no ": :". The real SDK makes each call.
func TestDescribeTransportFailures(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	closer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close()
		}
	}))
	defer closer.Close()
	notAWS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>bad gateway</html>")
	}))
	defer notAWS.Close()
	selfSigned := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	selfSigned.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	selfSigned.StartTLS()
	defer selfSigned.Close()

	cases := []struct {
		name, endpoint string
		want           []string
	}{
		{"nothing listening", "http://" + refused, []string{"cannot connect to " + refused + ": connection refused", "(gave up after 2 attempts)"}},
		{"connection closed", closer.URL, []string{"the endpoint closed the connection without answering"}},
		{"not an AWS answer", notAWS.URL, []string{"the endpoint answered HTTP 502 with something that is not an AWS response"}},
		{"HTTPS to an HTTP server", "https://" + strings.TrimPrefix(notAWS.URL, "http://"), []string{"the endpoint answered an HTTPS request in plain HTTP"}},
		{"untrusted certificate", selfSigned.URL, []string{"the endpoint's TLS certificate is not trusted", "unknown authority"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := aws.Config{
				Region: "us-east-1", BaseEndpoint: aws.String(c.endpoint),
				Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "not-a-secret", ""),
				// Two attempts, no backoff: the retry shows in the text
				// and the test waits for nothing.
				Retryer: func() aws.Retryer {
					return retry.NewStandard(func(o *retry.StandardOptions) {
						o.MaxAttempts = 2
						o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
					})
				},
			}
			_, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			if err == nil {
				t.Fatal("the call succeeded")
			}
			got := Explain("sts:GetCallerIdentity", err).Error()
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, bad := range []string{"operation error", "response error", "RequestID", "StatusCode", ": :", "\n"} {
				if strings.Contains(got, bad) {
					t.Errorf("%q holds %q", got, bad)
				}
			}
			if !strings.HasPrefix(got, "sts:GetCallerIdentity: ") {
				t.Errorf("%q does not start with the call", got)
			}
			if g := NewGap("", "sts:GetCallerIdentity", err); g.Code != "" || !strings.Contains(got, g.Message) {
				t.Errorf("gap %+v", g)
			}
		})
	}
}

// TestExplainKeepsTheError: the worded error still unwraps to the SDK's,
// so classification and errors.Is work on it.
func TestExplainKeepsTheError(t *testing.T) {
	err := Explain("iam:GetAccountSummary", context.DeadlineExceeded)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("Explain hides the cause from errors.Is")
	}
	if kind, _ := Classify(err); kind != KindCancelled {
		t.Errorf("kind %v", kind)
	}
	if got := err.Error(); got != "iam:GetAccountSummary: DeadlineExceeded: deadline exceeded before the call finished" {
		t.Errorf("text %q", got)
	}
}
