package kbtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

// Services serves, on one URL, the emulator (which also answers CloudTrail
// LookupEvents over each account's event history) and EventBridge PutRule
// and PutTargets, which the pages' alerting commands call. EventBridge
// speaks JSON 1.1 like the real service, told apart by its X-Amz-Target
// prefix; everything else goes to the emulator, SNS included (sns.go has
// the helpers for the pages' scheduled check).
type Services struct {
	emu      *awsemu.Server
	ts       *httptest.Server
	accounts map[string]string // access key ID → account, for rule ARNs

	mu    sync.Mutex
	rules map[string]*EventRule // by Region and name
	calls []string
}

// EventRule is an EventBridge rule as PutRule and PutTargets left it.
type EventRule struct {
	Region, Name, Description, Pattern, State string
	Targets                                   map[string]string // target ID → ARN
}

const eventsTarget = "AWSEvents."

// Serve starts the services in front of emu. Access keys of the world's
// accounts are mapped to their accounts so rule ARNs name the right one.
func Serve(t testing.TB, emu *awsemu.Server) *Services {
	s := &Services{emu: emu, accounts: map[string]string{}, rules: map[string]*EventRule{}}
	for _, a := range emu.World().Accounts {
		for _, k := range a.Root.AccessKeys {
			s.accounts[k.ID] = a.ID
		}
		for _, u := range a.Users {
			for _, k := range u.AccessKeys {
				s.accounts[k.ID] = a.ID
			}
		}
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.ts.Close)
	return s
}

// URL is the endpoint to give the AWS CLI (--endpoint-url).
func (s *Services) URL() string { return s.ts.URL }

// Seed adds CloudTrail events to their accounts' event history in the
// emulator, for LookupEvents to find. A malformed event is a bug in the
// test, and panics.
func (s *Services) Seed(events ...Event) {
	for _, e := range events {
		if err := s.emu.AddTrailEvents(e.Account, e.TrailEvent); err != nil {
			panic("kbtest: seed CloudTrail: " + err.Error())
		}
	}
}

// Rule returns a rule as it was stored.
func (s *Services) Rule(region, name string) (EventRule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rules[region+"/"+name]
	if !ok {
		return EventRule{}, false
	}
	c := *r
	c.Targets = map[string]string{}
	for k, v := range r.Targets {
		c.Targets[k] = v
	}
	return c, true
}

// Calls lists the EventBridge operations served, as "events:Action".
func (s *Services) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

var scopeRegion = regexp.MustCompile(`Credential=([^/]+)/[0-9]{8}/([a-z0-9-]+)/`)

func (s *Services) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	var handle func(keyID, region string, body []byte) (any, *jsonError)
	var service, op string
	switch {
	case strings.HasPrefix(target, eventsTarget):
		service, op = "events", strings.TrimPrefix(target, eventsTarget)
		switch op {
		case "PutRule":
			handle = s.putRule
		case "PutTargets":
			handle = s.putTargets
		default:
			// The rest of EventBridge (vigil prevent's reads of its
			// rule) is the emulator's.
			s.emu.Handler().ServeHTTP(w, r)
			return
		}
	default:
		s.emu.Handler().ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	m := scopeRegion.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		writeJSON(w, 400, jsonError{"MissingAuthenticationTokenException", "Missing Authentication Token"})
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, service+":"+op)
	s.mu.Unlock()
	if handle == nil {
		writeJSON(w, 400, jsonError{"UnknownOperationException", "kbtest serves " + service + " " + op + " nowhere"})
		return
	}
	out, err := handle(m[1], m[2], body)
	if err != nil {
		writeJSON(w, 400, err)
		return
	}
	writeJSON(w, 200, out)
}

type jsonError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	w.Write(data)
}

func (s *Services) putRule(keyID, region string, body []byte) (any, *jsonError) {
	var in struct{ Name, EventPattern, State, Description, ScheduleExpression string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &jsonError{"SerializationException", err.Error()}
	}
	if in.Name == "" || (in.EventPattern == "" && in.ScheduleExpression == "") {
		return nil, &jsonError{"ValidationException", "Name and an EventPattern or ScheduleExpression are required."}
	}
	if in.EventPattern != "" {
		if err := checkPattern(in.EventPattern); err != nil {
			return nil, &jsonError{"InvalidEventPatternException", "Event pattern is not valid. Reason: " + err.Error()}
		}
	}
	if in.State == "" {
		in.State = "ENABLED"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules[region+"/"+in.Name] = &EventRule{Region: region, Name: in.Name, Description: in.Description, Pattern: in.EventPattern, State: in.State, Targets: map[string]string{}}
	account := s.accounts[keyID]
	if account == "" {
		account = "000000000000"
	}
	return struct {
		RuleArn string `json:"RuleArn"`
	}{"arn:aws:events:" + region + ":" + account + ":rule/" + in.Name}, nil
}

func (s *Services) putTargets(_, region string, body []byte) (any, *jsonError) {
	var in struct {
		Rule    string
		Targets []struct{ Id, Arn string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &jsonError{"SerializationException", err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rules[region+"/"+in.Rule]
	if !ok {
		return nil, &jsonError{"ResourceNotFoundException", "Rule " + in.Rule + " does not exist on EventBus default."}
	}
	for _, t := range in.Targets {
		if t.Id == "" || !strings.HasPrefix(t.Arn, "arn:") {
			return nil, &jsonError{"ValidationException", "Each target needs an Id and an ARN."}
		}
		r.Targets[t.Id] = t.Arn
	}
	return struct {
		FailedEntryCount int   `json:"FailedEntryCount"`
		FailedEntries    []any `json:"FailedEntries"`
	}{0, []any{}}, nil
}
