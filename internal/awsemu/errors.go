package awsemu

import "fmt"

// apiError is an AWS error response before it is written in the
// protocol's format (XML for IAM and STS, JSON for Organizations).
type apiError struct {
	status  int
	code    string
	message string
	reason  string // Organizations InvalidInputException.Reason; empty elsewhere
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (%d): %s", e.code, e.status, e.message) }

func newError(code, format string, args ...any) *apiError {
	return &apiError{status: defaultStatus(code), code: code, message: fmt.Sprintf(format, args...)}
}

// defaultStatus is the HTTP status AWS uses for an error code. Codes come
// from the service models (see aws-facts §7); unknown codes are client
// errors, which is what AWS uses for nearly every modelled error.
func defaultStatus(code string) int {
	switch code {
	case "AccessDenied", "InvalidClientTokenId", "MissingAuthenticationToken", "SignatureDoesNotMatch",
		"RegionDisabledException":
		return 403
	case "NoSuchEntity", "ReportInProgress":
		return 404
	case "LimitExceeded", "EntityAlreadyExists", "EntityTemporarilyUnmodifiable", "ConcurrentModification",
		"DeleteConflict":
		return 409
	case "ReportNotPresent", "ReportExpired":
		return 410
	case "ServiceFailure", "InternalFailure", "ServiceException", "InternalError":
		return 500
	case "ServiceUnavailable", "ServiceUnavailableException":
		return 503
	case "LimitExceededException": // Security Hub's throttling
		return 429
	}
	return 400
}

// defaultMessage fills in a message for injected faults that give none.
func defaultMessage(code string) string {
	switch code {
	case "Throttling", "ThrottlingException", "LimitExceededException":
		return "Rate exceeded"
	case "TooManyRequestsException":
		return "Too many requests in a short time; slow down and retry."
	case "AccessDenied", "AccessDeniedException":
		return "Access denied by an injected fault."
	case "ServiceFailure", "ServiceException":
		return "The service could not process the request."
	case "LimitExceeded":
		return "Cannot generate another credential report now."
	case "ReportInProgress":
		return "Credential report is being generated."
	}
	return "Injected fault " + code
}

// Common errors. The access-denied message keeps AWS's
// "User: … is not authorized to perform: …" shape because clients and
// humans grep for it.

func errAccessDenied(callerARN, action, resource, why string) *apiError {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", callerARN, action, resource)
	if why != "" {
		msg += " " + why
	}
	return &apiError{status: 403, code: "AccessDenied", message: msg}
}

func errNoSuchUser(name string) *apiError {
	return newError("NoSuchEntity", "The user with name %s cannot be found.", name)
}

func errValidation(format string, args ...any) *apiError {
	return newError("ValidationError", format, args...)
}

func errMissingParam(name string) *apiError {
	return errValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}
