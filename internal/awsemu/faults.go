package awsemu

// Fault makes matching requests fail with an AWS error instead of being
// served. Faults are checked after authentication (so AccountID can match
// the caller's account) and before the operation runs, so a faulted call
// changes no state. The first rule that fires wins.
//
// Common faults:
//
//	{Service: "iam", Action: "GetAccountSummary", Code: "Throttling", Times: 1}           // 400 "Rate exceeded"; the SDK retries
//	{Service: "organizations", Action: "ListAccounts", Code: "TooManyRequestsException"}  // 400; the SDK retries
//	{Service: "iam", Action: "GenerateCredentialReport", Code: "LimitExceeded"}           // 409
//	{Service: "iam", Action: "GetCredentialReport", Code: "ReportInProgress"}             // 404
//	{Service: "iam", Code: "AccessDenied", AccountID: "444455556666"}                     // 403 on every IAM call from that account
//	{Service: "iam", Action: "ListAccessKeys", Code: "ServiceFailure", Probability: 0.2}  // 500, one call in five
type Fault struct {
	Service   string // "iam", "sts" or "organizations"; empty matches every service
	Action    string // operation name; empty or "*" matches every operation
	AccountID string // caller's account; empty matches every account

	Code    string // error code on the wire, e.g. Throttling, TooManyRequestsException
	Status  int    // HTTP status; 0 picks AWS's status for Code (400 if unknown)
	Message string // empty picks a stock message for Code

	Skip        int     // let the first Skip matching calls through
	Times       int     // then fail this many calls; 0 fails every later call
	Probability float64 // when in (0,1), fail a matching call with this probability (seeded, so runs repeat)
}

// faultRule is a Fault plus its counters.
type faultRule struct {
	Fault
	matched int
	fired   int
}

// SetFaults replaces all fault rules (and resets their counters).
func (s *Server) SetFaults(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFaultsLocked(faults)
}

func (s *Server) setFaultsLocked(faults []Fault) {
	s.faults = nil
	for _, f := range faults {
		s.faults = append(s.faults, &faultRule{Fault: f})
	}
}

// AddFault appends one fault rule.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultRule{Fault: f})
}

// ClearFaults removes all fault rules.
func (s *Server) ClearFaults() { s.SetFaults() }

// injectFault returns the error of the first rule that fires for r.
// Callers hold s.mu.
func (s *Server) injectFault(r *request) *apiError {
	for _, f := range s.faults {
		if f.Service != "" && f.Service != r.service ||
			f.Action != "" && f.Action != "*" && f.Action != r.action ||
			f.AccountID != "" && f.AccountID != r.caller.account.ID {
			continue
		}
		f.matched++
		if f.matched <= f.Skip {
			continue
		}
		if f.Times > 0 && f.fired >= f.Times {
			continue
		}
		if f.Probability > 0 && f.Probability < 1 && s.rng.Float64() >= f.Probability {
			continue
		}
		f.fired++
		e := &apiError{status: f.Status, code: f.Code, message: f.Message}
		if e.code == "" {
			e.code = "ServiceFailure"
		}
		if e.status == 0 {
			e.status = defaultStatus(e.code)
		}
		if e.message == "" {
			e.message = defaultMessage(e.code)
		}
		return e
	}
	return nil
}
