package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Error is a failed send, classified. Senders return one (wrapped or
// not) for every failure they can judge; Retryable reads it.
type Error struct {
	// Channel is the channel type ("webhook", "slack", "email", "sns").
	Channel string
	// Retry is true when trying again later can succeed: a 5xx answer, a
	// 429, a timeout, a refused connection, a 4xx SMTP reply.
	Retry bool
	// RetryAfter is the wait the receiver asked for (Retry-After), zero
	// when it did not say.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	kind := "permanent"
	if e.Retry {
		kind = "retryable"
	}
	return fmt.Sprintf("%s: %v (%s)", e.Channel, e.Err, kind)
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary wraps err as a retryable failure of channel.
func Temporary(channel string, err error) error {
	return &Error{Channel: channel, Retry: true, Err: err}
}

// Permanent wraps err as a failure that trying again will not fix.
func Permanent(channel string, err error) error {
	return &Error{Channel: channel, Err: err}
}

// Retryable reports whether a send that failed with err may succeed if
// tried again: an *Error says so itself; a deadline, a cancellation (the
// service is stopping: the job is handed back) and network errors are
// retryable; anything else is not, so that an unclassified failure does
// not retry forever.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Retry
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// RetryAfter is the wait a receiver asked for before the next attempt,
// zero when it did not.
func RetryAfter(err error) time.Duration {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.RetryAfter
	}
	return 0
}

// HTTPStatus classifies an HTTP answer of a receiver: nil for 2xx; for
// 408, 425, 429 and 5xx a retryable error (with the Retry-After delay in
// seconds when retryAfter holds one); for any other status a permanent
// one: a 404 or 403 will not heal by waiting. body is a short excerpt of
// the answer for the message; callers pass it through redaction first.
func HTTPStatus(channel string, status int, retryAfter, body string) error {
	if status >= 200 && status < 300 {
		return nil
	}
	msg := fmt.Errorf("receiver answered HTTP %d", status)
	if body != "" {
		msg = fmt.Errorf("receiver answered HTTP %d: %s", status, body)
	}
	e := &Error{Channel: channel, Err: msg}
	switch {
	case status == 408, status == 425, status == 429, status >= 500:
		e.Retry = true
		if s, err := strconv.Atoi(retryAfter); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
	}
	return e
}
