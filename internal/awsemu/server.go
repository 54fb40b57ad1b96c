package awsemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a running emulator. All methods are safe for concurrent use,
// including the test controls (faults, latency, clock) while requests are
// in flight.
type Server struct {
	url     string
	srv     *http.Server
	handler http.Handler
	// closing ends hung requests when the server shuts down, so Close
	// never waits on a client that does not give up.
	closing   chan struct{}
	closeOnce sync.Once
	// fresh are connections accepted that have not yet sent a request.
	// http.Server.Shutdown waits five seconds before it counts such a
	// connection as idle, and an SDK client often opens one it never
	// uses, so every demo scan would take five seconds longer to exit.
	// They carry no request, so Close closes them at once.
	connMu sync.Mutex
	fresh  map[net.Conn]struct{}

	// mu guards everything below. One lock for the whole world keeps the
	// emulator obviously race-free; requests are cheap, so serialising
	// them costs nothing measurable next to the HTTP round trip.
	mu         sync.Mutex
	world      *World
	accounts   map[string]*Account
	keyOwners  map[string]keyOwner       // long-term keys held in account state
	extra      map[string]Credential     // World.Credentials
	sessions   map[string]*session       // issued by AssumeRole and AssumeRoot
	reports    map[string]*reportState   // per account ID
	trusted    map[string]time.Time      // trusted-access service principal → date enabled
	findings   map[string]*StoredFinding // Security Hub findings by product ARN and ID
	shReject   map[string][2]string      // finding ID → error code and message (RejectFinding)
	shDisabled map[string]bool           // accounts without Security Hub (DisableSecurityHub)
	// The BatchImportFindings quota (WithSecurityHubRate): a token bucket.
	shRate   float64
	shBurst  int
	shTokens float64
	shLast   time.Time
	clock    func() time.Time
	rng      *rand.Rand
	faults   []*faultRule
	latency  time.Duration
	svcLat   map[string]time.Duration
	calls    []Call
	seq      int
	reqs     int // request IDs given; a call read ahead has its ID before its Seq
	// held are the requests held back now (Hang, Delay, latency);
	// heldChanged is closed and replaced whenever one starts, for
	// WaitHeld.
	held        map[*request]Call
	heldChanged chan struct{}
	holds       int

	sns          *snsState              // sns.go
	events       *eventsState           // eventbridge.go
	sqs          *sqsState              // sqs.go
	clockChanged func() <-chan struct{} // WithManualClock: wakes long polls

	// generation counts the mutating requests served (Mutating), so that
	// what is built from IAM state can be kept until it changes: details
	// are GetAccountAuthorizationDetails' lists per account and filter.
	generation uint64
	details    map[string]*detailsSnapshot
}

// keyOwner says whose long-term key an access key ID is; user is empty for root.
type keyOwner struct {
	account string
	user    string
}

// Call is one request as the emulator saw it.
type Call struct {
	Seq           int
	Time          time.Time // the server clock when the request was handled
	Service       string    // "iam", "sts" or "organizations"; empty if the request could not be routed
	Action        string
	CallerAccount string // empty when authentication failed
	Principal     string // the caller's ARN; empty when authentication failed
	AccessKeyID   string
	// Params are the request parameters (awsQuery form fields, or top-level
	// JSON members). Values of secret-bearing parameters (passwords, secret
	// keys, session tokens, MFA codes) are replaced by "REDACTED".
	Params    map[string]string
	Status    int    // HTTP status; 0 if the client went away during injected latency
	ErrorCode string // empty on success
}

// Option configures a Server at construction.
type Option func(*Server)

// WithClock sets the server clock (default time.Now; in Start, the tests'
// reference time running in real time). Report ages, session expiry and
// generated timestamps all follow it; session expiry is stated to clients
// in their own frame (see callerExpiry).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.clock = now } }

// WithSeed seeds the generator used for probabilistic faults and for new
// key IDs, secrets and session tokens (default 1).
func WithSeed(seed uint64) Option {
	return func(s *Server) { s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
}

// WithFaults installs fault rules, as SetFaults does.
func WithFaults(faults ...Fault) Option {
	return func(s *Server) { s.setFaultsLocked(faults) }
}

// WithLatency delays every request by d.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithServiceLatency delays requests to one service ("iam", "sts",
// "organizations") by d, instead of the general latency.
func WithServiceLatency(service string, d time.Duration) Option {
	return func(s *Server) { s.svcLat[service] = d }
}

// NewServer starts an emulator of w on a loopback port. The server works on
// a deep copy of w with defaults filled in, so later changes to w have no
// effect. It panics if w is invalid (see World.Validate): a broken world is
// a bug in the test or scenario, and LoadWorld already reports such errors
// for files. It panics too when no loopback port can be had, which only a
// machine out of ports does. Call Close when done; tests use
// awsemutest.Start, which does both.
//
// It serves with net/http directly rather than httptest, so that the demo,
// which runs this emulator inside the vigil binary, links no test code.
func NewServer(w *World, opts ...Option) *Server {
	s, err := Listen(w, opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Listen is NewServer returning the failure to get a port as an error,
// for the demo, which reports it to the user.
func Listen(w *World, opts ...Option) (*Server, error) {
	s := newServer(w, opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("awsemu: listen on a loopback port: %w", err)
	}
	s.url = "http://" + ln.Addr().String()
	s.fresh = map[net.Conn]struct{}{}
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: time.Minute, ConnState: s.trackConn}
	go s.srv.Serve(ln)
	return s, nil
}

func newServer(w *World, opts ...Option) *Server {
	if w == nil {
		w = &World{}
	}
	if err := w.Validate(); err != nil {
		panic("awsemu: invalid world: " + err.Error())
	}
	world := w.clone()
	world.normalize()
	s := &Server{
		world:      world,
		accounts:   map[string]*Account{},
		keyOwners:  map[string]keyOwner{},
		extra:      map[string]Credential{},
		sessions:   map[string]*session{},
		reports:    map[string]*reportState{},
		trusted:    map[string]time.Time{},
		findings:   map[string]*StoredFinding{},
		shReject:   map[string][2]string{},
		shDisabled: map[string]bool{},
		clock:      time.Now,
		svcLat:     map[string]time.Duration{},
		closing:    make(chan struct{}),

		held:        map[*request]Call{},
		heldChanged: make(chan struct{}),
	}
	WithSeed(1)(s)
	for _, a := range world.Accounts {
		s.accounts[a.ID] = a
		for _, k := range a.Root.AccessKeys {
			s.keyOwners[k.ID] = keyOwner{account: a.ID}
		}
		for _, u := range a.Users {
			for _, k := range u.AccessKeys {
				s.keyOwners[k.ID] = keyOwner{account: a.ID, user: u.Name}
			}
		}
		s.reports[a.ID] = &reportState{}
		if ex := a.Report.Existing; ex != nil && ex.CSV == "" {
			// An existing report without text shows the state at load time.
			ex.CSV = string(renderCredentialReport(world.Partition, a))
		}
	}
	for _, c := range world.Credentials {
		s.extra[c.AccessKeyID] = c
	}
	if o := world.Organization; o != nil {
		if mgmt := s.accounts[o.ManagementAccountID]; mgmt != nil {
			// The world does not say when trusted access was enabled; the
			// day the organization began is a plausible, stable answer.
			for _, sp := range o.TrustedAccess {
				s.trusted[sp] = mgmt.JoinedTimestamp
			}
		}
	}
	for _, opt := range opts {
		opt(s)
	}
	s.handler = http.HandlerFunc(s.serveHTTP)
	return s
}

// URL is the base URL to give the SDK (BaseEndpoint or AWS_ENDPOINT_URL).
func (s *Server) URL() string { return s.url }

// Close shuts the listener down and waits for requests in flight: the
// requests it holds back (Hang, Delay, latency) are released first, so
// none keeps it waiting.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Shutdown first stops new connections; then the fresh ones,
		// which hold no request, are closed instead of waited for.
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := s.srv.Shutdown(ctx); err != nil {
				s.srv.Close()
			}
		}()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			s.closeFresh()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
}

func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if st == http.StateNew {
		s.fresh[c] = struct{}{}
	} else {
		delete(s.fresh, c)
	}
}

func (s *Server) closeFresh() {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for c := range s.fresh {
		c.Close()
		delete(s.fresh, c)
	}
}

// Handler serves the emulator; use it to mount the emulator in another
// server or to call it without a network.
func (s *Server) Handler() http.Handler { return s.handler }

// Partition is the world's partition ("aws" unless the world says otherwise).
func (s *Server) Partition() string { return s.world.Partition }

// SetClock replaces the server clock.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = now
}

// SetLatency delays every request by d (0 turns it off).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetServiceLatency delays requests to one service by d, overriding the
// general latency; a negative d removes the override.
func (s *Server) SetServiceLatency(service string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d < 0 {
		delete(s.svcLat, service)
		return
	}
	s.svcLat[service] = d
}

// Account returns a deep copy of an account's current state, with secret
// keys blanked.
func (s *Server) Account(id string) (*Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return nil, false
	}
	c := a.clone()
	c.stripSecrets()
	return c, true
}

// World returns a deep copy of the whole current state (defaults filled
// in, secret keys blanked). It can be saved and loaded again with LoadWorld.
func (s *Server) World() *World {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.world.clone()
	for _, a := range c.Accounts {
		a.stripSecrets()
	}
	for i := range c.Credentials {
		c.Credentials[i].Secret = ""
	}
	return c
}

// Calls returns a copy of the call log, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		c.Params = copyParams(c.Params)
		out[i] = c
	}
	return out
}

// CallCount counts logged calls of service and action; an empty action
// counts every call to the service.
func (s *Server) CallCount(service, action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Service == service && (action == "" || c.Action == action) {
			n++
		}
	}
	return n
}

// IssuedSecrets returns the secret access key and session token of every
// session AssumeRole and AssumeRoot have issued, so a test can check that
// none of them leaked into logs, snapshots or reports.
func (s *Server) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, 2*len(s.sessions))
	for _, sess := range s.sessions {
		out = append(out, sess.secret, sess.token)
	}
	sort.Strings(out)
	return out
}

// Held returns the calls the server is holding back now (a Hang or Delay
// fault, or latency), in the order they arrived. Each has its caller
// (account, principal, key; empty when the request does not authenticate)
// and no status yet: it enters the call log when it is served, or as
// RequestCanceled when the client gives up first. Tests use it to know
// that a call has reached the server before they let a deadline pass or
// give up on it.
func (s *Server) Held() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heldLocked()
}

func (s *Server) heldLocked() []Call {
	out := make([]Call, 0, len(s.held))
	for _, c := range s.held {
		c.Params = copyParams(c.Params)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// WaitHeld waits until ready is true of the calls held at once (Held), or
// until ctx ends, and returns them. ready is checked whenever a call
// starts being held.
func (s *Server) WaitHeld(ctx context.Context, ready func([]Call) bool) ([]Call, error) {
	for {
		s.mu.Lock()
		held, changed := s.heldLocked(), s.heldChanged
		s.mu.Unlock()
		if ready(held) {
			return held, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return held, ctx.Err()
		}
	}
}

// hold records r as held back. Its Seq orders the held calls only; the
// call log numbers the call when it ends.
func (s *Server) hold(r *request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds++
	c := Call{Seq: s.holds, Time: r.now, Service: r.service, Action: r.action, Params: r.params}
	p := r.heldBy
	if p == nil {
		r.now = s.clock().UTC()
		p, _ = s.authenticate(r)
	}
	if p != nil {
		c.CallerAccount = p.account.ID
		c.Principal = p.arn(s.world.Partition)
		c.AccessKeyID = p.accessKeyID
	}
	s.held[r] = c
	close(s.heldChanged)
	s.heldChanged = make(chan struct{})
}

func (s *Server) release(r *request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held, r)
}

// ResetCalls empties the call log. Sequence numbers keep counting, so
// request IDs stay unique for the server's lifetime.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func copyParams(p map[string]string) map[string]string {
	c := make(map[string]string, len(p))
	for k, v := range p {
		c[k] = v
	}
	return c
}

// request is one decoded API call on its way through the server.
type request struct {
	proto     protocol
	service   string
	action    string
	namespace string     // awsQuery XML namespace
	form      url.Values // awsQuery parameters
	body      []byte     // JSON body
	query     url.Values // restJson1 query parameters (Access Analyzer)
	params    map[string]string
	authKey   string // access key ID from the SigV4 credential scope
	scopeSvc  string // service name from the credential scope
	region    string // region from the credential scope
	token     string // X-Amz-Security-Token
	hasAuth   bool
	caller    *principal
	heldBy    *principal // the caller of a request a fault holds back
	now       time.Time
	requestID string
	// sqsDeadline is when an SQS long poll ends (server clock).
	sqsDeadline time.Time
}

type protocol int

const (
	protoQuery protocol = iota
	protoJSON
	// protoEC2 is EC2's query protocol (ec2.go): awsQuery's requests,
	// answers and errors of its own.
	protoEC2
)

const orgsTargetPrefix = "AWSOrganizationsV20161128."

// CloudTrail's model names its JSON target prefix
// com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101, which is what
// botocore (the AWS CLI) sends; aws-sdk-go-v2 sends the short form
// CloudTrail_20131101. Both reach the same operation.
var trailTargetPrefixes = []string{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.", "CloudTrail_20131101."}

// jsonTarget splits an X-Amz-Target header into service and operation;
// the operation is empty when the target names no service the emulator
// serves.
func jsonTarget(target string) (service, op string) {
	if op, ok := strings.CutPrefix(target, orgsTargetPrefix); ok {
		return "organizations", op
	}
	if op, ok := strings.CutPrefix(target, sqsTargetPrefix); ok {
		return "sqs", op
	}
	if op, ok := strings.CutPrefix(target, eventsTargetPrefix); ok {
		return "events", op
	}
	for _, p := range trailTargetPrefixes {
		if op, ok := strings.CutPrefix(target, p); ok {
			return "cloudtrail", op
		}
	}
	return "", ""
}

// maxBody bounds request bodies; real calls are a few hundred bytes.
const maxBody = 1 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, hr *http.Request) {
	limit := maxBody
	if isSecurityHubImport(hr.Method, hr.URL.Path) {
		limit = shBodyLimit // findings come in requests of up to 6 MB
	}
	body, err := io.ReadAll(io.LimitReader(hr.Body, int64(limit)+1))
	if err != nil {
		return // the client went away
	}
	r, perr := parseRequest(hr, body)
	if perr == nil && len(body) > limit {
		perr = newError("RequestEntityTooLarge", "Request body exceeds %d bytes", limit)
	}

	if perr == nil {
		delay, hang := s.slowness(r)
		wait := s.latencyFor(r.service) + delay
		if !hang && delay == 0 && wait > 0 && answersAhead(r) {
			s.serveAhead(w, hr, r, wait)
			return
		}
		served := true
		if hang || wait > 0 {
			s.hold(r)
			if hang {
				select {
				case <-hr.Context().Done():
				case <-s.closing:
				}
				served = false
			} else {
				served = sleepCtx(hr.Context(), wait)
			}
			s.release(r)
		}
		if !served {
			s.mu.Lock()
			s.seq++
			r.now = s.clock().UTC()
			s.record(r, 0, "RequestCanceled")
			s.mu.Unlock()
			return
		}
	}

	s.answer(w, hr, r, perr, false)
}

// answersAhead reports whether a call's answer may be worked out as soon
// as it arrives and sent when its latency is over: a read (List, Get,
// Describe, Lookup), not SQS, whose long poll waits on its own. A real
// service spends its latency working out the answer; an emulator that
// did its work after sleeping the latency added its own CPU time to
// every round trip, which a scanner's wall time was then measured
// against (GetAccountAuthorizationDetails pages of 1,000 users cost the
// emulator 20 ms each on the bench machine).
func answersAhead(r *request) bool {
	if r.service == "sqs" {
		return false
	}
	for _, read := range []string{"List", "Get", "Describe", "Lookup"} {
		if strings.HasPrefix(r.action, read) {
			return !Mutating(r.service, r.action)
		}
	}
	return false
}

// serveAhead answers r into a buffer, then waits out the rest of its
// latency (held, as any delayed call) and sends the answer; a client that
// gives up meanwhile gets nothing, and the call is logged as cancelled,
// as any call held back is.
func (s *Server) serveAhead(w http.ResponseWriter, hr *http.Request, r *request, wait time.Duration) {
	start := time.Now()
	s.hold(r)
	var buf bufferedAnswer
	status, code := s.answer(&buf, hr, r, nil, true)
	served := sleepCtx(hr.Context(), wait-time.Since(start))
	s.release(r)
	if !served {
		status, code = 0, "RequestCanceled"
	}
	s.mu.Lock()
	s.seq++
	s.record(r, status, code)
	s.mu.Unlock()
	if served {
		buf.writeTo(w)
	}
}

// bufferedAnswer is an answer kept until its latency is over.
type bufferedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedAnswer) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}

func (b *bufferedAnswer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedAnswer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedAnswer) writeTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}

// answer works r out, logs it and writes the answer to w.
//
// ahead (serveAhead) leaves the call out of the log and returns how to log
// it, for the caller to do when the answer is sent or abandoned: the log
// numbers a call when it ends.
func (s *Server) answer(w http.ResponseWriter, hr *http.Request, r *request, perr *apiError, ahead bool) (status int, code string) {
	s.mu.Lock()
	s.reqs++
	r.requestID = requestID(s.reqs)
	r.now = s.clock().UTC()
	var result any
	if perr == nil {
		result, perr = s.handle(r)
		result, perr = s.sqsLongPoll(hr.Context(), r, result, perr)
		if Mutating(r.service, r.action) {
			s.generation++ // failed or not: a failure may have changed something first
		}
	}
	status = http.StatusOK
	if perr != nil {
		status, code = perr.status, perr.code
	}
	if !ahead {
		s.seq++
		s.record(r, status, code)
	}
	s.mu.Unlock()

	w.Header().Set("x-amzn-RequestId", r.requestID)
	switch {
	case r.service == "sqs" && perr != nil:
		writeSQSError(w, perr)
	case r.service == "sqs":
		writeSQSResult(w, result)
	case r.proto == protoJSON && perr != nil:
		writeJSONError(w, perr)
	case r.proto == protoJSON:
		writeJSON(w, http.StatusOK, result)
	case r.proto == protoEC2 && perr != nil:
		writeEC2Error(w, r.requestID, perr)
	case r.proto == protoEC2:
		writeEC2Result(w, r.action, r.requestID, result)
	case perr != nil:
		writeQueryError(w, r.namespace, r.requestID, perr)
	default:
		writeQueryResult(w, r.namespace, r.action, r.requestID, result)
	}
	return status, code
}

// parseRequest works out protocol, service and action. Organizations
// speaks JSON 1.1 and names the operation in X-Amz-Target; IAM and STS
// speak awsQuery, told apart by the API Version (or, failing that, by the
// service in the SigV4 credential scope).
func parseRequest(hr *http.Request, body []byte) (*request, *apiError) {
	r := &request{namespace: iamNamespace, params: map[string]string{}}
	r.authKey, r.region, r.scopeSvc, r.hasAuth = parseCredentialScope(hr)
	r.token = hr.Header.Get("X-Amz-Security-Token")

	if isSecurityHubImport(hr.Method, hr.URL.Path) {
		// restJson1: the path names the operation, the body is JSON.
		r.proto, r.body, r.service, r.action = protoJSON, body, "securityhub", "BatchImportFindings"
		var in struct{ Findings []json.RawMessage }
		if json.Unmarshal(body, &in) == nil {
			r.params["Findings"] = strconv.Itoa(len(in.Findings)) + " findings"
		}
		return r, nil
	}
	if op := analyzerOperation(hr.Method, hr.URL.Path); op != "" && r.scopeSvc == "access-analyzer" {
		// restJson1: the method and path name the operation.
		r.proto, r.body, r.service, r.action, r.query = protoJSON, body, "access-analyzer", op, hr.URL.Query()
		queryParams(r.query, r.params)
		if err := flattenJSONParams(body, r.params); err != nil {
			return r, &apiError{status: 400, code: "SerializationException", message: "Cannot decode request body: " + err.Error()}
		}
		analyzerPathParams(op, hr.URL.Path, r.params)
		return r, nil
	}
	if op := accountOperation(hr.Method, hr.URL.Path); op != "" && r.scopeSvc == "account" {
		// restJson1 again: the path names the operation.
		r.proto, r.body, r.service, r.action = protoJSON, body, "account", op
		if err := flattenJSONParams(body, r.params); err != nil {
			return r, acctError("SerializationException", "Cannot decode request body: "+err.Error())
		}
		return r, nil
	}
	if target := hr.Header.Get("X-Amz-Target"); target != "" {
		r.proto = protoJSON
		r.body = body
		service, op := jsonTarget(target)
		if op == "" {
			r.action = target
			return r, newError("UnknownOperationException", "Unknown target %s", target)
		}
		r.service, r.action = service, op
		if err := flattenJSONParams(body, r.params); err != nil {
			return r, newError("SerializationException", "Cannot decode request body: %v", err)
		}
		return r, nil
	}

	r.proto = protoQuery
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return r, errValidation("Cannot decode form body: %v", err)
	}
	for k, vs := range hr.URL.Query() {
		for _, v := range vs {
			form.Add(k, v)
		}
	}
	r.form = form
	if r.token == "" {
		r.token = form.Get("X-Amz-Security-Token")
	}
	for k := range form {
		switch k {
		case "Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
			"X-Amz-Signature", "X-Amz-Security-Token":
			continue
		}
		r.params[k] = redact(k, form.Get(k))
	}
	r.action = form.Get("Action")
	version := form.Get("Version")
	switch {
	case version == "2010-05-08", version == "" && r.scopeSvc == "iam":
		r.service = "iam"
	case version == "2011-06-15", version == "" && r.scopeSvc == "sts":
		r.service, r.namespace = "sts", stsNamespace
	case version == "2010-03-31", version == "" && r.scopeSvc == "sns":
		r.service, r.namespace = "sns", snsNamespace
	case version == ec2Version, version == "" && r.scopeSvc == "ec2":
		r.service, r.namespace, r.proto = "ec2", ec2Namespace, protoEC2
	default:
		if r.scopeSvc == "sts" {
			r.namespace = stsNamespace
		}
		return r, newError("InvalidAction", "Could not find operation %s for version %s", r.action, version)
	}
	if r.action == "" {
		return r, newError("MissingAction", "Missing Action")
	}
	return r, nil
}

// flattenJSONParams records top-level JSON members for the call log.
func flattenJSONParams(body []byte, into map[string]string) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	for k, raw := range m {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			into[k] = redact(k, str)
		} else {
			into[k] = redact(k, string(raw))
		}
	}
	return nil
}

// redact hides secret-bearing parameter values so they never reach the
// call log (which tests print on failure).
func redact(name, value string) string {
	l := strings.ToLower(name)
	if strings.Contains(l, "password") || strings.Contains(l, "secret") ||
		strings.Contains(l, "sessiontoken") || strings.Contains(l, "authenticationcode") ||
		l == "tokencode" || strings.Contains(l, "privatekey") {
		return "REDACTED"
	}
	return value
}

func (s *Server) record(r *request, status int, code string) {
	c := Call{
		Seq:       s.seq,
		Time:      r.now,
		Service:   r.service,
		Action:    r.action,
		Params:    r.params,
		Status:    status,
		ErrorCode: code,
	}
	if r.caller != nil {
		c.CallerAccount = r.caller.account.ID
		c.Principal = r.caller.arn(s.world.Partition)
		c.AccessKeyID = r.caller.accessKeyID
	} else if r.hasAuth {
		c.AccessKeyID = r.authKey
	}
	s.calls = append(s.calls, c)
}

func (s *Server) latencyFor(service string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.svcLat[service]; ok {
		return d
	}
	return s.latency
}

// sleepCtx waits d unless ctx ends first; it reports whether the wait
// completed. Injected latency must not outlive a client that gave up.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// handle authenticates, applies faults and the caller's restrictions, and
// dispatches. Callers hold s.mu.
func (s *Server) handle(r *request) (any, *apiError) {
	caller, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	r.caller = caller
	h := lookupHandler(r.service, r.action)
	if h == nil {
		if r.proto == protoJSON {
			return nil, newError("UnknownOperationException", "Unknown operation %s", r.action)
		}
		return nil, newError("InvalidAction", "Could not find operation %s for version %s", r.action, r.form.Get("Version"))
	}
	if err := s.injectFault(r); err != nil {
		return nil, err
	}
	if err := s.checkTaskPolicy(r); err != nil {
		return nil, err
	}
	return h(s, r)
}

type handlerFunc func(*Server, *request) (any, *apiError)

// lookupHandler is the emulator's complete list of operations.
func lookupHandler(service, action string) handlerFunc {
	switch service {
	case "sns":
		return snsHandlers[action]
	case "iam":
		return iamHandler(action)
	case "sts":
		return stsHandlers[action]
	case "organizations":
		return orgsHandlers[action]
	case "cloudtrail":
		return trailHandlers[action]
	case "securityhub":
		return secHubHandlers[action]
	case "ec2":
		return ec2Handlers[action]
	case "access-analyzer":
		return analyzerHandlers[action]
	case "account":
		return accountHandlers[action]
	case "sqs":
		return sqsHandlers[action]
	case "events":
		return eventsHandlers[action]
	}
	return nil
}

// Operations returns the operations the emulator implements, sorted, as
// "service:Action" strings.
func Operations() []string {
	var out []string
	for name, table := range map[string]map[string]handlerFunc{"iam": iamHandlers, "sts": stsHandlers, "organizations": orgsHandlers, "cloudtrail": trailHandlers, "sns": snsHandlers, "securityhub": secHubHandlers, "events": eventsHandlers, "sqs": sqsHandlers,
		"ec2": ec2Handlers, "access-analyzer": analyzerHandlers, "account": accountHandlers} {
		for action := range table {
			out = append(out, name+":"+action)
		}
	}
	for _, table := range []map[string]handlerFunc{iamAttachmentHandlers, iamTagHandlers} {
		for action := range table {
			out = append(out, "iam:"+action)
		}
	}
	sort.Strings(out)
	return out
}

// param returns an awsQuery parameter.
func (r *request) param(name string) string { return r.form.Get(name) }

// intParam parses an optional integer parameter; ok is false when absent.
func (r *request) intParam(name string) (v int, ok bool, err *apiError) {
	raw := r.form.Get(name)
	if raw == "" {
		return 0, false, nil
	}
	n, perr := strconv.Atoi(raw)
	if perr != nil {
		return 0, false, errValidation("Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", raw, lowerFirst(name))
	}
	return n, true, nil
}

func (s *Server) org() *Organization { return s.world.Organization }

// inOrg reports whether account a is a member of the organization.
func (s *Server) inOrg(a *Account) bool { return s.world.Organization != nil && !a.Standalone }

func (s *Server) isManagement(accountID string) bool {
	return s.world.Organization != nil && s.world.Organization.ManagementAccountID == accountID
}

func (s *Server) isDelegatedAdmin(accountID string) bool {
	if s.world.Organization == nil {
		return false
	}
	for _, id := range s.world.Organization.DelegatedAdmins {
		if id == accountID {
			return true
		}
	}
	return false
}

func (s *Server) keyInUse(id string) bool {
	if _, ok := s.keyOwners[id]; ok {
		return true
	}
	if _, ok := s.extra[id]; ok {
		return true
	}
	_, ok := s.sessions[id]
	return ok
}
