package awsemu

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// EventBridge, the part `vigil prevent --apply` uses: event buses, rules
// and their targets, per account and region. It speaks JSON 1.1 with the
// target prefix AWSEvents. The emulator keeps the configuration for tests
// to read, and a rule's targets are what ListTargetsByRule returns; a
// test hands it a CloudTrail event as CloudTrail hands one to EventBridge
// (DeliverCloudTrailEvent), and the rules that match pass it on to their
// SQS queues and event buses.
//
// What is checked is what AWS checks and Vigil could get wrong: names,
// event patterns that are JSON objects, states, the bus a rule is on
// existing, at most five targets a rule, target IDs and ARNs.

const eventsTargetPrefix = "AWSEvents."

// eventsHandlers lists the EventBridge operations the emulator implements.
var eventsHandlers = map[string]handlerFunc{
	"CreateEventBus":    (*Server).eventsCreateEventBus,
	"DescribeEventBus":  (*Server).eventsDescribeEventBus,
	"PutRule":           (*Server).eventsPutRule,
	"DescribeRule":      (*Server).eventsDescribeRule,
	"PutTargets":        (*Server).eventsPutTargets,
	"ListTargetsByRule": (*Server).eventsListTargetsByRule,
}

// EventRule is a rule as the emulator holds it.
type EventRule struct {
	Account, Region, Bus string
	Name, Arn            string
	EventPattern         string
	State                string
	Description          string
	Targets              []EventTarget
}

// EventTarget is one target of a rule.
type EventTarget struct {
	Id               string            `json:"Id"`
	Arn              string            `json:"Arn"`
	RoleArn          string            `json:"RoleArn,omitempty"`
	Input            string            `json:"Input,omitempty"`
	InputPath        string            `json:"InputPath,omitempty"`
	DeadLetterConfig *EventDeadLetter  `json:"DeadLetterConfig,omitempty"`
	RetryPolicy      *EventRetryPolicy `json:"RetryPolicy,omitempty"`
}

// EventDeadLetter is a target's dead-letter queue.
type EventDeadLetter struct {
	Arn string `json:"Arn,omitempty"`
}

// EventRetryPolicy is a target's retry policy.
type EventRetryPolicy struct {
	MaximumRetryAttempts     *int `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int `json:"MaximumEventAgeInSeconds,omitempty"`
}

type eventBus struct {
	name, arn, description, policy string
	rules                          map[string]*EventRule
}

// eventsState is the EventBridge part of the world, made on first use;
// buses are keyed by account, region and name. Every account's default
// bus exists in every region without being created.
type eventsState struct {
	buses map[string]*eventBus
}

const defaultEventBus = "default"

// maxTargetsPerRule is EventBridge's quota of targets on one rule.
const maxTargetsPerRule = 5

var (
	eventsNamePattern = regexp.MustCompile(`^[\.\-_A-Za-z0-9]{1,64}$`)
	busNamePattern    = regexp.MustCompile(`^[/\.\-_A-Za-z0-9]{1,256}$`)
	ruleStates        = []string{"ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"}
)

// EventRules returns every rule of account in region (every account and
// region when they are empty), sorted by bus and name, targets included.
func (s *Server) EventRules(account, region string) []EventRule {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []EventRule
	if s.events == nil {
		return nil
	}
	for _, b := range s.events.buses {
		for _, r := range b.rules {
			if (account == "" || r.Account == account) && (region == "" || r.Region == region) {
				c := *r
				c.Targets = slices.Clone(r.Targets)
				out = append(out, c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bus != out[j].Bus {
			return out[i].Bus < out[j].Bus
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (s *Server) eventsWorld() *eventsState {
	if s.events == nil {
		s.events = &eventsState{buses: map[string]*eventBus{}}
	}
	return s.events
}

func eventsRegion(r *request) string {
	if r.region != "" {
		return r.region
	}
	return "us-east-1"
}

// busName accepts a bus name or ARN; an ARN must be of the caller's
// account and region (the emulator does not model cross-account rules).
func (s *Server) busName(r *request, nameOrARN string) (string, *apiError) {
	if nameOrARN == "" {
		return defaultEventBus, nil
	}
	if strings.HasPrefix(nameOrARN, "arn:") {
		parts := strings.SplitN(nameOrARN, ":", 6)
		if len(parts) != 6 || parts[2] != "events" || !strings.HasPrefix(parts[5], "event-bus/") {
			return "", errValidation("1 validation error detected: Value '%s' at 'eventBusName' failed to satisfy constraint", nameOrARN)
		}
		if parts[3] != eventsRegion(r) || parts[4] != r.caller.account.ID {
			return "", newError("AccessDeniedException", "The emulator serves only buses of the caller's account and region: %s", nameOrARN)
		}
		nameOrARN = strings.TrimPrefix(parts[5], "event-bus/")
	}
	if !busNamePattern.MatchString(nameOrARN) {
		return "", errValidation("1 validation error detected: Value '%s' at 'eventBusName' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+", nameOrARN)
	}
	return nameOrARN, nil
}

func (s *Server) busARN(r *request, name string) string {
	return fmt.Sprintf("arn:%s:events:%s:%s:event-bus/%s", s.world.Partition, eventsRegion(r), r.caller.account.ID, name)
}

// bus finds a bus of the caller in the request's region; the default bus
// always exists.
func (s *Server) bus(r *request, name string) (*eventBus, *apiError) {
	key := r.caller.account.ID + "/" + eventsRegion(r) + "/" + name
	st := s.eventsWorld()
	b := st.buses[key]
	if b == nil && name == defaultEventBus {
		b = &eventBus{name: name, arn: s.busARN(r, name), rules: map[string]*EventRule{}}
		st.buses[key] = b
	}
	if b == nil {
		return nil, newError("ResourceNotFoundException", "Event bus %s does not exist.", name)
	}
	return b, nil
}

func (s *Server) eventsCreateEventBus(r *request) (any, *apiError) {
	var in struct{ Name, Description, Policy, EventSourceName string }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if !busNamePattern.MatchString(in.Name) || strings.Contains(in.Name, "/") {
		return nil, errValidation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint", in.Name)
	}
	if in.Name == defaultEventBus || strings.HasPrefix(in.Name, "aws.") && in.EventSourceName == "" {
		return nil, errValidation("Event bus name %s is reserved.", in.Name)
	}
	if in.Policy != "" && !json.Valid([]byte(in.Policy)) {
		return nil, errValidation("Policy is not valid JSON.")
	}
	key := r.caller.account.ID + "/" + eventsRegion(r) + "/" + in.Name
	st := s.eventsWorld()
	if st.buses[key] != nil {
		return nil, newError("ResourceAlreadyExistsException", "Event bus %s already exists.", in.Name)
	}
	b := &eventBus{name: in.Name, arn: s.busARN(r, in.Name), description: in.Description, policy: in.Policy, rules: map[string]*EventRule{}}
	st.buses[key] = b
	return struct {
		EventBusArn string `json:"EventBusArn"`
	}{b.arn}, nil
}

func (s *Server) eventsDescribeEventBus(r *request) (any, *apiError) {
	var in struct{ Name string }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	name, err := s.busName(r, in.Name)
	if err != nil {
		return nil, err
	}
	b, err := s.bus(r, name)
	if err != nil {
		return nil, err
	}
	return struct {
		Name        string `json:"Name"`
		Arn         string `json:"Arn"`
		Description string `json:"Description,omitempty"`
		Policy      string `json:"Policy,omitempty"`
	}{b.name, b.arn, b.description, b.policy}, nil
}

// ruleOf finds a rule; the error names the rule and bus as AWS does.
func (s *Server) ruleOf(r *request, name, busNameOrARN string) (*EventRule, *apiError) {
	bn, err := s.busName(r, busNameOrARN)
	if err != nil {
		return nil, err
	}
	b, err := s.bus(r, bn)
	if err != nil {
		return nil, err
	}
	rule := b.rules[name]
	if rule == nil {
		return nil, newError("ResourceNotFoundException", "Rule %s does not exist on EventBus %s.", name, bn)
	}
	return rule, nil
}

func (s *Server) eventsPutRule(r *request) (any, *apiError) {
	var in struct {
		Name, EventBusName, EventPattern, ScheduleExpression, State, Description, RoleArn string
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if !eventsNamePattern.MatchString(in.Name) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", in.Name)
	}
	if in.EventPattern == "" && in.ScheduleExpression == "" {
		return nil, errValidation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	if in.EventPattern != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(in.EventPattern), &m); err != nil || len(m) == 0 {
			return nil, newError("InvalidEventPatternException", "Event pattern is not valid. Reason: it must be a non-empty JSON object")
		}
	}
	if in.State == "" {
		in.State = "ENABLED"
	}
	if !slices.Contains(ruleStates, in.State) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: %v", in.State, ruleStates)
	}
	bn, err := s.busName(r, in.EventBusName)
	if err != nil {
		return nil, err
	}
	b, err := s.bus(r, bn)
	if err != nil {
		return nil, err
	}
	rule := b.rules[in.Name]
	if rule == nil {
		arn := fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", s.world.Partition, eventsRegion(r), r.caller.account.ID, in.Name)
		if bn != defaultEventBus {
			arn = fmt.Sprintf("arn:%s:events:%s:%s:rule/%s/%s", s.world.Partition, eventsRegion(r), r.caller.account.ID, bn, in.Name)
		}
		rule = &EventRule{Account: r.caller.account.ID, Region: eventsRegion(r), Bus: bn, Name: in.Name, Arn: arn}
		b.rules[in.Name] = rule
	}
	// PutRule replaces the rule's settings; its targets stay.
	rule.EventPattern, rule.State, rule.Description = in.EventPattern, in.State, in.Description
	return struct {
		RuleArn string `json:"RuleArn"`
	}{rule.Arn}, nil
}

func (s *Server) eventsDescribeRule(r *request) (any, *apiError) {
	var in struct{ Name, EventBusName string }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	rule, err := s.ruleOf(r, in.Name, in.EventBusName)
	if err != nil {
		return nil, err
	}
	return struct {
		Name         string `json:"Name"`
		Arn          string `json:"Arn"`
		EventPattern string `json:"EventPattern,omitempty"`
		State        string `json:"State"`
		Description  string `json:"Description,omitempty"`
		EventBusName string `json:"EventBusName"`
	}{rule.Name, rule.Arn, rule.EventPattern, rule.State, rule.Description, rule.Bus}, nil
}

func (s *Server) eventsPutTargets(r *request) (any, *apiError) {
	var in struct {
		Rule, EventBusName string
		Targets            []EventTarget
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if len(in.Targets) == 0 || len(in.Targets) > 10 {
		return nil, errValidation("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and 10")
	}
	rule, err := s.ruleOf(r, in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	for i, t := range in.Targets {
		if !eventsNamePattern.MatchString(t.Id) {
			return nil, errValidation("1 validation error detected: Value '%s' at 'targets.%d.member.id' failed to satisfy constraint", t.Id, i+1)
		}
		if !strings.HasPrefix(t.Arn, "arn:") {
			return nil, errValidation("1 validation error detected: Value '%s' at 'targets.%d.member.arn' failed to satisfy constraint", t.Arn, i+1)
		}
		if t.DeadLetterConfig != nil && !strings.Contains(t.DeadLetterConfig.Arn, ":sqs:") {
			return nil, errValidation("The dead-letter queue of target %s must be an SQS queue ARN.", t.Id)
		}
	}
	ids := map[string]bool{}
	for _, t := range rule.Targets {
		ids[t.Id] = true
	}
	added := 0
	for _, t := range in.Targets {
		if !ids[t.Id] {
			added++
		}
	}
	if len(rule.Targets)+added > maxTargetsPerRule {
		return nil, newError("LimitExceededException", "The requested resource exceeds the maximum number allowed.")
	}
	for _, t := range in.Targets {
		if i := slices.IndexFunc(rule.Targets, func(o EventTarget) bool { return o.Id == t.Id }); i >= 0 {
			rule.Targets[i] = t
		} else {
			rule.Targets = append(rule.Targets, t)
		}
	}
	return struct {
		FailedEntryCount int   `json:"FailedEntryCount"`
		FailedEntries    []any `json:"FailedEntries"`
	}{0, []any{}}, nil
}

func (s *Server) eventsListTargetsByRule(r *request) (any, *apiError) {
	var in struct {
		Rule, EventBusName, NextToken string
		Limit                         int
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	rule, err := s.ruleOf(r, in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	limit := in.Limit
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	start := 0
	if in.NextToken != "" {
		n, perr := strconv.Atoi(in.NextToken)
		if perr != nil || n < 0 || n > len(rule.Targets) {
			return nil, errValidation("The NextToken is not valid.")
		}
		start = n
	}
	end := min(start+limit, len(rule.Targets))
	out := struct {
		Targets   []EventTarget `json:"Targets"`
		NextToken string        `json:"NextToken,omitempty"`
	}{Targets: slices.Clone(rule.Targets[start:end])}
	if out.Targets == nil {
		out.Targets = []EventTarget{}
	}
	if end < len(rule.Targets) {
		out.NextToken = strconv.Itoa(end)
	}
	return out, nil
}

// DeliverCloudTrailEvent is CloudTrail handing event (an EventBridge
// event, as the fixtures in testdata/eventbridge) to the default bus of
// the account and region its envelope names. Every enabled rule of that
// bus whose pattern matches passes it on: to an SQS queue as
// events.amazonaws.com acting for the rule (the queue's policy decides),
// or to another event bus, whose rules do the same. A read-only API
// call reaches only rules in the state
// ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, as in AWS. It returns
// the URLs of the queues the event reached; a queue that refused it is
// an error.
func (s *Server) DeliverCloudTrailEvent(event string) ([]string, error) {
	var env map[string]any
	if err := json.Unmarshal([]byte(event), &env); err != nil {
		return nil, fmt.Errorf("deliver event: %w", err)
	}
	account, _ := env["account"].(string)
	region, _ := env["region"].(string)
	return s.deliverEvent(env, event, account, region, defaultEventBus, 0)
}

func (s *Server) deliverEvent(env map[string]any, raw, account, region, bus string, depth int) ([]string, error) {
	if depth > 3 {
		return nil, fmt.Errorf("deliver event: more than %d event buses in a row", depth)
	}
	readOnly := false
	if d, ok := env["detail"].(map[string]any); ok && env["detail-type"] == "AWS API Call via CloudTrail" {
		readOnly, _ = d["readOnly"].(bool)
	}
	type hop struct {
		rule   *EventRule
		target EventTarget
	}
	var hops []hop
	s.mu.Lock()
	if s.events != nil {
		if b := s.events.buses[account+"/"+region+"/"+bus]; b != nil {
			names := slices.Sorted(maps.Keys(b.rules))
			for _, n := range names {
				r := b.rules[n]
				if r.EventPattern == "" || r.State == "DISABLED" || (readOnly && r.State != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") {
					continue
				}
				var pattern map[string]any
				if json.Unmarshal([]byte(r.EventPattern), &pattern) != nil || !eventMatches(pattern, env) {
					continue
				}
				c := *r
				for _, t := range r.Targets {
					hops = append(hops, hop{&c, t})
				}
			}
		}
	}
	s.mu.Unlock()
	var reached []string
	for _, h := range hops {
		parts := strings.SplitN(h.target.Arn, ":", 6)
		if len(parts) != 6 {
			continue
		}
		switch {
		case parts[2] == "sqs":
			url := s.SQSQueueURL(parts[4], parts[5])
			if _, err := s.SendSQSAsService(url, "events.amazonaws.com", h.rule.Arn, h.rule.Account, raw); err != nil {
				return reached, fmt.Errorf("deliver event: rule %s to %s: %w", h.rule.Arn, h.target.Arn, err)
			}
			reached = append(reached, url)
		case parts[2] == "events" && strings.HasPrefix(parts[5], "event-bus/"):
			more, err := s.deliverEvent(env, raw, parts[4], parts[3], strings.TrimPrefix(parts[5], "event-bus/"), depth+1)
			reached = append(reached, more...)
			if err != nil {
				return reached, err
			}
		}
	}
	return reached, nil
}

// eventMatches is EventBridge's matching of an event pattern, for the
// patterns Vigil writes: every field of the pattern is in the event; an
// object matches an object field by field; a list matches a value equal
// to one of its literal values (an array in the event matches when one
// of its elements does). Content filters ({"prefix": …}) match nothing.
func eventMatches(pattern, event map[string]any) bool {
	for k, pv := range pattern {
		ev, ok := event[k]
		if !ok {
			return false
		}
		switch p := pv.(type) {
		case map[string]any:
			m, isObj := ev.(map[string]any)
			if !isObj || !eventMatches(p, m) {
				return false
			}
		case []any:
			if !valueMatches(p, ev) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func valueMatches(allowed []any, v any) bool {
	if vs, ok := v.([]any); ok {
		return slices.ContainsFunc(vs, func(x any) bool { return valueMatches(allowed, x) })
	}
	if _, isObj := v.(map[string]any); isObj {
		return false
	}
	for _, a := range allowed {
		switch a.(type) {
		case map[string]any, []any:
			continue
		}
		if a == v {
			return true
		}
	}
	return false
}
