package collect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vigil-sec/vigil/internal/redact"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Kind is what an AWS error means to the collector. Errors are classified
// here, by error code, and nowhere else.
type Kind int

// Error kinds.
const (
	KindOther Kind = iota
	// KindDenied: the caller lacks permission. Data is unknown, not absent.
	KindDenied
	// KindThrottled: the SDK already retried with backoff and gave up.
	KindThrottled
	// KindCredentials: the credentials are missing, invalid or expired; no
	// call in the account can succeed.
	KindCredentials
	// KindNotFound: the thing asked for does not exist (a real answer).
	KindNotFound
	// KindCancelled: the context ended.
	KindCancelled
	// KindTimeout: AWS did not answer any attempt within the call timeout
	// (CallLimits). Data is unknown; nothing was denied.
	KindTimeout
)

var deniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
	"AuthorizationError": true, "Forbidden": true,
}

var credentialCodes = map[string]bool{
	"ExpiredToken": true, "ExpiredTokenException": true, "InvalidClientTokenId": true,
	"UnrecognizedClientException": true, "SignatureDoesNotMatch": true, "MissingAuthenticationToken": true,
	"InvalidAccessKeyId": true, "TokenRefreshRequired": true,
}

var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "TooManyRequestsException": true,
	"RequestLimitExceeded": true, "RequestThrottled": true, "RequestThrottledException": true,
}

// Classify returns the kind and the AWS error code of err.
func Classify(err error) (Kind, string) {
	if err == nil {
		return KindOther, ""
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return KindCancelled, ""
	}
	if te := (*CallTimeoutError)(nil); errors.As(err, &te) {
		return KindTimeout, CodeCallTimeout
	}
	// The SDK wraps a failed credential lookup in a plain error; its text
	// is the only stable marker (aws/credential_cache.go).
	if strings.Contains(err.Error(), "failed to refresh cached credentials") {
		return KindCredentials, "NoCredentials"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		return KindOf(code), code
	}
	return KindOther, ""
}

// KindOf is the kind of an AWS error code, for a code already recorded
// (a gap's) rather than an error in hand.
func KindOf(code string) Kind {
	switch {
	case credentialCodes[code]:
		return KindCredentials
	case deniedCodes[code]:
		return KindDenied
	case throttleCodes[code]:
		return KindThrottled
	case code == "NoSuchEntity" || code == "NoSuchEntityException":
		return KindNotFound
	case code == CodeCallTimeout:
		return KindTimeout
	}
	return KindOther
}

// Gap codes for calls that did not fail but were cut short by the context.
const (
	CodeDeadline  = "DeadlineExceeded"
	CodeCancelled = "Cancelled"
)

// NewGap builds a snapshot gap from a failed call, as the collector does
// for its own calls.
func NewGap(section, call string, err error) snapshot.Gap { return gap(section, call, err) }

// gap builds a snapshot gap from a failed call. The message is the AWS
// message without the SDK's operation prefix; it never holds a secret,
// since AWS error messages carry ARNs, not credentials.
func gap(section, call string, err error) snapshot.Gap {
	_, code := Classify(err)
	switch {
	case code != "":
	case errors.Is(err, context.DeadlineExceeded):
		code = CodeDeadline
	case errors.Is(err, context.Canceled):
		code = CodeCancelled
	}
	// The message may quote what a credential source printed (a
	// credential_process's output, secret key included): it is redacted
	// here, where every gap, log line and report line about a call starts.
	g := snapshot.Gap{Section: section, Call: call, Code: code, Message: redact.Text(errorMessage(err))}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		g.RequestID = re.ServiceRequestID()
	}
	return g
}

// Describe is why a call failed, in one line for people: "Code: message"
// for an AWS error, the transport failure (cannot connect, no answer, an
// answer that is not AWS's) otherwise. It names no call; callers do.
func Describe(err error) string { return gap("", "", err).Text() }

// Explain returns err for people: what was being done, then Describe's
// line. errors.Is and errors.As still reach err.
func Explain(what string, err error) error { return &explained{what: what, err: err} }

type explained struct {
	what string
	err  error
}

func (e *explained) Error() string { return e.what + ": " + Describe(e.err) }
func (e *explained) Unwrap() error { return e.err }

// errorMessage is why a call failed, in one line a user can act on: the
// AWS message for an AWS error, else the cause underneath the SDK's
// wrapping ("operation error …, https response error StatusCode: 0,
// RequestID: , request send failed, Post …"), which names no call (the
// caller does) and says "https" whatever the scheme.
func errorMessage(err error) string {
	if te := (*CallTimeoutError)(nil); errors.As(err, &te) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return timeoutMessage(err, te)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := ae.ErrorMessage(); m != "" {
			return m
		}
		return ae.ErrorCode()
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled before the call finished"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "deadline exceeded before the call finished"
	}
	msg := transportCause(err)
	var tries *retry.MaxAttemptsError
	if errors.As(err, &tries) && tries.Attempt > 1 {
		msg += fmt.Sprintf(" (gave up after %d attempts)", tries.Attempt)
	}
	return msg
}

// transportCause says what went wrong between Vigil and the endpoint.
func transportCause(err error) string {
	var (
		resp   *smithyhttp.ResponseError
		dns    *net.DNSError
		op     *net.OpError
		errno  syscall.Errno
		x509ua x509.UnknownAuthorityError
		x509h  x509.HostnameError
		x509ci x509.CertificateInvalidError
		tlsv   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &resp) && resp.HTTPStatusCode() > 0:
		// An answer came, but not one the SDK could read: a proxy's
		// error page, or an endpoint that is not AWS.
		return fmt.Sprintf("the endpoint answered HTTP %d with something that is not an AWS response", resp.HTTPStatusCode())
	case errors.As(err, &dns):
		why := dns.Err
		if dns.IsNotFound {
			why = "no such host"
		}
		return fmt.Sprintf("cannot resolve %s: %s", dns.Name, why)
	case errors.As(err, &x509ua), errors.As(err, &x509h), errors.As(err, &x509ci), errors.As(err, &tlsv):
		why := innermost(err)
		if tlsv != nil && tlsv.Err != nil {
			why = tlsv.Err.Error()
		}
		return "the endpoint's TLS certificate is not trusted: " + why
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "the endpoint answered an HTTPS request in plain HTTP"
	case errors.As(err, &op) && op.Op == "dial":
		why := innermost(op)
		if errors.As(op.Err, &errno) {
			why = errno.Error()
		}
		if op.Addr != nil {
			return fmt.Sprintf("cannot connect to %s: %s", op.Addr, why)
		}
		return "cannot connect: " + why
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "the endpoint closed the connection without answering"
	}
	return innermost(err)
}

// innermost is the text of the first error under the SDK's and net/http's
// wrappers, which only add the operation, attempt count and URL.
func innermost(err error) string {
	for {
		var next error
		switch e := err.(type) {
		case *smithy.OperationError:
			next = e.Err
		case *retry.MaxAttemptsError:
			next = e.Err
		case *awshttp.ResponseError:
			next = e.ResponseError
		case *smithyhttp.ResponseError:
			next = e.Err
		case *smithyhttp.RequestSendError:
			next = e.Err
		case *smithy.DeserializationError:
			next = e.Err
		case *url.Error:
			next = e.Err
		case *net.OpError:
			next = e.Err
		case *os.SyscallError:
			next = e.Err
		}
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// CredentialError is returned when the account cannot be scanned at all
// because the credentials do not work.
type CredentialError struct {
	Call string
	Code string
	Err  error
}

const credentialHint = "set AWS_PROFILE or --profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or sign in with aws sso login"

func (e *CredentialError) Error() string { return redact.Text(e.text()) }

// text is the error before redaction: the chain's reason can quote what a
// credential source printed.
func (e *CredentialError) text() string {
	switch e.Code {
	case "NoCredentials":
		if e.Err == nil {
			return "no AWS credentials found: " + credentialHint
		}
		// The chain's own reason says which source failed and how (an
		// expired SSO session, a missing credential_process…), which is
		// what the user needs to fix it.
		cause := strings.TrimPrefix(e.Err.Error(), "failed to refresh cached credentials, ")
		if strings.Contains(cause, "no EC2 IMDS role found") || strings.Contains(cause, "failed to retrieve credentials") && !strings.Contains(strings.ToLower(cause), "sso") {
			return "no AWS credentials found: " + credentialHint
		}
		// A source that calls AWS (SSO, STS web identity) failed: its
		// call and cause, without the SDK's wrapping.
		var oe *smithy.OperationError
		if errors.As(e.Err, &oe) {
			cause = strings.ToLower(oe.Service()) + ":" + oe.Operation() + ": " + Describe(oe.Err)
		}
		if strings.Contains(strings.ToLower(cause), "sso") {
			return "no usable AWS credentials: " + cause + " (run aws sso login)"
		}
		return "no usable AWS credentials: " + cause
	case "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired":
		return fmt.Sprintf("the AWS credentials have expired (%s on %s): refresh them, e.g. aws sso login", e.Code, e.Call)
	}
	return fmt.Sprintf("the AWS credentials were rejected (%s on %s): %s", e.Code, e.Call, errorMessage(e.Err))
}

func (e *CredentialError) Unwrap() error { return e.Err }
