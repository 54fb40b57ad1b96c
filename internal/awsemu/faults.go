package awsemu

import "time"

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
//	{AccountID: "444455556666", Delay: 2 * time.Second}                                   // a slow account: served late
//	{AccountID: "444455556666", Hang: true}                                               // a dead account: never answers
//
// A rule with Delay or Hang only slows calls down; it never makes one fail
// (add a second rule for that), and its Code is ignored.
type Fault struct {
	Service   string // "iam", "sts" or "organizations"; empty matches every service
	Action    string // operation name; empty or "*" matches every operation
	AccountID string // caller's account; empty matches every account
	Region    string // region the request is signed for; empty matches every region

	Code    string // error code on the wire, e.g. Throttling, TooManyRequestsException
	Status  int    // HTTP status; 0 picks AWS's status for Code (400 if unknown)
	Message string // empty picks a stock message for Code

	Skip        int     // let the first Skip matching calls through
	Times       int     // then fail this many calls; 0 fails every later call
	Probability float64 // when in (0,1), fail a matching call with this probability (seeded, so runs repeat)

	// Delay answers matching calls this much later (on top of the
	// server's latency), honouring the client's context.
	Delay time.Duration
	// Hang never answers matching calls: they wait until the client gives
	// up (its context ends), as with an endpoint that swallows requests.
	Hang bool
}

// slows reports whether the rule delays calls rather than failing them.
func (f *Fault) slows() bool { return f.Hang || f.Delay > 0 }

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

// fires counts a matching call against f and reports whether f fires for
// it. Callers hold s.mu.
func (s *Server) fires(f *faultRule, r *request, account string) bool {
	service, action := r.service, r.action
	if f.Region != "" && f.Region != r.region ||
		f.Service != "" && f.Service != service ||
		f.Action != "" && f.Action != "*" && f.Action != action ||
		f.AccountID != "" && f.AccountID != account {
		return false
	}
	f.matched++
	if f.matched <= f.Skip {
		return false
	}
	if f.Times > 0 && f.fired >= f.Times {
		return false
	}
	if f.Probability > 0 && f.Probability < 1 && s.rng.Float64() >= f.Probability {
		return false
	}
	f.fired++
	return true
}

// slowness is the extra wait the Delay and Hang rules put on r. It runs
// before the request is served, outside the server lock for the wait
// itself, so a slow or dead account never holds up the others. The caller
// is authenticated here only to match AccountID; an unauthenticated
// request is never slowed (it fails at once, as with AWS).
func (s *Server) slowness(r *request) (delay time.Duration, hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	has := false
	for _, f := range s.faults {
		has = has || f.slows()
	}
	if !has {
		return 0, false
	}
	r.now = s.clock().UTC()
	p, err := s.authenticate(r)
	if err != nil {
		return 0, false
	}
	for _, f := range s.faults {
		if f.slows() && s.fires(f, r, p.account.ID) {
			r.heldBy = p
			return f.Delay, f.Hang
		}
	}
	return 0, false
}

// injectFault returns the error of the first rule that fires for r.
// Callers hold s.mu.
func (s *Server) injectFault(r *request) *apiError {
	for _, f := range s.faults {
		if f.slows() || !s.fires(f, r, r.caller.account.ID) {
			continue
		}
		e := &apiError{status: f.Status, code: f.Code, message: f.Message}
		if e.code == "" {
			e.code = "ServiceFailure"
		}
		if e.status == 0 {
			switch r.service {
			case "ec2":
				e.status = ec2Status(e.code)
			case "access-analyzer":
				e.status = aaStatus(e.code)
			case "account":
				e.status = acctStatus(e.code)
			default:
				e.status = defaultStatus(e.code)
			}
		}
		if e.message == "" {
			e.message = defaultMessage(e.code)
		}
		return e
	}
	return nil
}
