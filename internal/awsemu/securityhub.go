package awsemu

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Security Hub's BatchImportFindings, the one Security Hub call Vigil
// makes (restJson1: POST /findings/import), with the limits AWS documents:
// at most 100 findings a call (InvalidInputException otherwise), a request
// of at most 6 MB, a finding of at most 240 KB, the required ASFF members,
// and, for the default product ARN, findings only for the calling account
// in the Region the request is signed for. Throttling is a fault:
//
//	{Service: "securityhub", Action: "BatchImportFindings", Code: "LimitExceededException", Times: 1} // 429; the SDK retries
//
// Findings are stored by product ARN and ID, so an import of a finding
// that exists updates it (its workflow status belongs to the customer and
// is kept, moved only as Security Hub moves it: RESOLVED when the
// compliance status becomes PASSED, NEW again when it leaves PASSED or the
// record becomes ACTIVE again).
//
// UNVERIFIED (not documented by AWS, chosen here): the error codes of
// per-finding refusals in FailedFindings (InvalidInput, FindingSizeExceeded,
// AccessDeniedException), InvalidInputException for an empty or oversized
// list, and 413 RequestEntityTooLargeException for a request over 6 MB.

const (
	shMaxFindings     = 100
	shMaxRequestBytes = 6 * 1000 * 1000
	shMaxFindingBytes = 240 * 1024
	// shBodyLimit is what the server reads of an import, to answer a
	// request over 6 MB with the right error rather than a cut body.
	shBodyLimit  = 8 << 20
	shImportPath = "/findings/import"
)

var secHubHandlers = map[string]handlerFunc{
	"BatchImportFindings": (*Server).batchImportFindings,
}

// StoredFinding is a finding as Security Hub holds it after imports.
type StoredFinding struct {
	ProductArn   string
	ID           string
	AwsAccountID string
	Region       string
	// Compliance, Severity, RecordState and Workflow are the finding's
	// Compliance.Status, Severity.Label, RecordState and Workflow.Status.
	Compliance  string
	Severity    string
	RecordState string
	Workflow    string
	UpdatedAt   string
	// Imports counts the imports that created or updated it.
	Imports int
	// JSON is the finding as last imported.
	JSON json.RawMessage
}

// Findings returns the stored Security Hub findings, sorted by product
// ARN and ID.
func (s *Server) Findings() []StoredFinding {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StoredFinding, 0, len(s.findings))
	for _, f := range s.findings {
		c := *f
		c.JSON = append(json.RawMessage(nil), f.JSON...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ProductArn != out[j].ProductArn {
			return out[i].ProductArn < out[j].ProductArn
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// AddFinding stores a finding as another product would have imported it
// (a test shows that Vigil leaves it alone).
func (s *Server) AddFinding(f StoredFinding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := f
	s.findings[f.ProductArn+"\x00"+f.ID] = &c
}

// WithSecurityHubRate makes BatchImportFindings enforce a request quota,
// as Security Hub does (10 a second, bursts of 30): a call beyond it is
// throttled with 429 LimitExceededException. Off by default, so that
// tests that do not pace are not throttled; on the server clock.
func WithSecurityHubRate(perSecond float64, burst int) Option {
	return func(s *Server) { s.shRate, s.shBurst, s.shTokens = perSecond, burst, float64(burst) }
}

// shThrottle takes a token of the quota, or reports the call throttled.
// Callers hold s.mu.
func (s *Server) shThrottle(now time.Time) *apiError {
	if s.shRate <= 0 {
		return nil
	}
	if !s.shLast.IsZero() && now.After(s.shLast) {
		s.shTokens = min(float64(s.shBurst), s.shTokens+now.Sub(s.shLast).Seconds()*s.shRate)
	}
	if s.shLast.IsZero() || now.After(s.shLast) {
		s.shLast = now
	}
	// A hair of slack for rounding: a client pacing at exactly the
	// quota must not be throttled.
	if s.shTokens < 0.999 {
		return &apiError{status: 429, code: "LimitExceededException", message: "Rate exceeded"}
	}
	s.shTokens--
	return nil
}

// DisableSecurityHub makes Security Hub not enabled in an account (every
// account has it enabled otherwise): its imports answer 401
// InvalidAccessException, as AWS answers an account that has not
// subscribed.
func (s *Server) DisableSecurityHub(accountID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shDisabled[accountID] = true
}

// RejectFinding makes later imports refuse the finding with this ID with
// code and message in FailedFindings, as Security Hub refuses a finding
// for reasons a test cannot otherwise stage.
func (s *Server) RejectFinding(id, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shReject[id] = [2]string{code, message}
}

// shFinding is what the emulator reads of a finding.
type shFinding struct {
	SchemaVersion *string
	ID            *string `json:"Id"`
	ProductArn    *string
	GeneratorID   *string `json:"GeneratorId"`
	AwsAccountID  *string `json:"AwsAccountId"`
	CreatedAt     *string
	UpdatedAt     *string
	Title         *string
	Description   *string
	Region        string
	Types         []string
	Resources     []struct {
		Type *string
		ID   *string `json:"Id"`
	}
	Severity *struct {
		Label    string
		Original string
	}
	Compliance  *struct{ Status string }
	RecordState string
	Remediation *struct {
		Recommendation *struct{ Text string }
	}
	ProductFields map[string]string
}

type shFailed struct {
	ID           string `json:"Id"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

func (s *Server) batchImportFindings(r *request) (any, *apiError) {
	if err := s.shThrottle(r.now); err != nil {
		return nil, err
	}
	if s.shDisabled[r.caller.account.ID] {
		return nil, &apiError{status: 401, code: "InvalidAccessException",
			message: fmt.Sprintf("Account %s is not subscribed to AWS Security Hub", r.caller.account.ID)}
	}
	if len(r.body) > shMaxRequestBytes {
		return nil, &apiError{status: 413, code: "RequestEntityTooLargeException", message: fmt.Sprintf("Request size %d exceeds the limit of %d bytes", len(r.body), shMaxRequestBytes)}
	}
	var in struct{ Findings []json.RawMessage }
	if err := json.Unmarshal(r.body, &in); err != nil {
		return nil, newError("InvalidInputException", "Cannot decode request: %v", err)
	}
	switch {
	case in.Findings == nil:
		return nil, newError("InvalidInputException", "Findings is required")
	case len(in.Findings) == 0 || len(in.Findings) > shMaxFindings:
		return nil, newError("InvalidInputException", "Findings must contain between 1 and %d findings, got %d", shMaxFindings, len(in.Findings))
	}
	failed := []shFailed{}
	ok := 0
	for _, raw := range in.Findings {
		var f shFinding
		err := json.Unmarshal(raw, &f)
		id := ""
		if err == nil && f.ID != nil {
			id = *f.ID
		}
		switch {
		case err != nil:
			failed = append(failed, shFailed{ID: id, ErrorCode: "InvalidInput", ErrorMessage: "Cannot decode finding: " + err.Error()})
		case len(raw) > shMaxFindingBytes:
			failed = append(failed, shFailed{ID: id, ErrorCode: "FindingSizeExceeded", ErrorMessage: fmt.Sprintf("Finding size %d exceeds the limit of %d bytes", len(raw), shMaxFindingBytes)})
		default:
			if rej, ok := s.shReject[id]; ok {
				failed = append(failed, shFailed{ID: id, ErrorCode: rej[0], ErrorMessage: rej[1]})
				continue
			}
			if e := s.checkFinding(r, &f); e != nil {
				failed = append(failed, shFailed{ID: id, ErrorCode: e.code, ErrorMessage: e.message})
				continue
			}
			s.storeFinding(&f, raw)
			ok++
		}
	}
	return map[string]any{"FailedCount": len(failed), "SuccessCount": ok, "FailedFindings": failed}, nil
}

var (
	shSeverityLabels = []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
	shCompliance     = []string{"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"}
	shRecordStates   = []string{"ACTIVE", "ARCHIVED"}
)

// checkFinding is what Security Hub refuses of one finding.
func (s *Server) checkFinding(r *request, f *shFinding) *apiError {
	invalid := func(format string, args ...any) *apiError { return newError("InvalidInput", format, args...) }
	for name, v := range map[string]*string{"SchemaVersion": f.SchemaVersion, "Id": f.ID, "ProductArn": f.ProductArn, "GeneratorId": f.GeneratorID,
		"AwsAccountId": f.AwsAccountID, "CreatedAt": f.CreatedAt, "UpdatedAt": f.UpdatedAt, "Title": f.Title, "Description": f.Description} {
		if v == nil || *v == "" {
			return invalid("Finding is missing required field %s", name)
		}
	}
	switch {
	case *f.SchemaVersion != "2018-10-08":
		return invalid("Unsupported SchemaVersion %s", *f.SchemaVersion)
	case len(*f.ID) > 512:
		return invalid("Id exceeds 512 characters")
	case len([]rune(*f.Title)) > 256:
		return invalid("Title exceeds 256 characters")
	case len([]rune(*f.Description)) > 1024:
		return invalid("Description exceeds 1024 characters")
	case len(f.Resources) == 0:
		return invalid("Finding is missing required field Resources")
	case f.Severity == nil || f.Severity.Label == "":
		return invalid("Finding is missing required field Severity.Label")
	case !contains(shSeverityLabels, f.Severity.Label):
		return invalid("Invalid Severity.Label %s", f.Severity.Label)
	case f.Compliance != nil && !contains(shCompliance, f.Compliance.Status):
		return invalid("Invalid Compliance.Status %s", f.Compliance.Status)
	case f.RecordState != "" && !contains(shRecordStates, f.RecordState):
		return invalid("Invalid RecordState %s", f.RecordState)
	case len(f.ProductFields) > 50:
		return invalid("ProductFields has more than 50 entries")
	case f.Remediation != nil && f.Remediation.Recommendation != nil && len([]rune(f.Remediation.Recommendation.Text)) > 512:
		return invalid("Remediation.Recommendation.Text exceeds 512 characters")
	}
	if len(f.Types) == 0 {
		return invalid("Finding is missing required field Types")
	}
	for _, res := range f.Resources {
		if res.Type == nil || *res.Type == "" || res.ID == nil || *res.ID == "" {
			return invalid("Each resource needs Type and Id")
		}
	}
	for _, t := range []string{*f.CreatedAt, *f.UpdatedAt} {
		if _, err := time.Parse(time.RFC3339Nano, t); err != nil {
			return invalid("Invalid timestamp %s", t)
		}
	}
	caller := r.caller.account.ID
	want := "arn:" + s.world.Partition + ":securityhub:" + r.region + ":" + caller + ":product/" + caller + "/default"
	if *f.ProductArn != want {
		return &apiError{code: "AccessDeniedException", message: fmt.Sprintf("Account %s is not allowed to import findings for product %s in %s", caller, *f.ProductArn, r.region)}
	}
	if *f.AwsAccountID != caller {
		return &apiError{code: "AccessDeniedException", message: fmt.Sprintf("Account %s cannot import findings for account %s with the default product", caller, *f.AwsAccountID)}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// storeFinding creates or updates a finding, moving its workflow status
// as Security Hub does.
func (s *Server) storeFinding(f *shFinding, raw json.RawMessage) {
	key := *f.ProductArn + "\x00" + *f.ID
	compliance := ""
	if f.Compliance != nil {
		compliance = f.Compliance.Status
	}
	record := f.RecordState
	if record == "" {
		record = "ACTIVE"
	}
	old := s.findings[key]
	nf := &StoredFinding{ProductArn: *f.ProductArn, ID: *f.ID, AwsAccountID: *f.AwsAccountID, Region: f.Region, Compliance: compliance,
		Severity: f.Severity.Label, RecordState: record, UpdatedAt: *f.UpdatedAt, JSON: append(json.RawMessage(nil), raw...), Workflow: "NEW", Imports: 1}
	if old != nil {
		nf.Workflow, nf.Imports = old.Workflow, old.Imports+1
		if old.Compliance == "PASSED" && compliance != "PASSED" && compliance != "" || old.RecordState == "ARCHIVED" && record == "ACTIVE" {
			if nf.Workflow == "RESOLVED" {
				nf.Workflow = "NEW"
			}
		}
	}
	if compliance == "PASSED" && (nf.Workflow == "NEW" || nf.Workflow == "NOTIFIED") {
		nf.Workflow = "RESOLVED"
	}
	s.findings[key] = nf
}

// isSecurityHubImport tells a Security Hub import (restJson1, routed by
// its path) from the awsQuery and JSON 1.1 calls.
func isSecurityHubImport(method, path string) bool {
	return method == "POST" && strings.TrimSuffix(path, "/") == shImportPath
}
