package awsemu

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CloudTrail speaks JSON 1.1 like Organizations. Only the event history is
// served: LookupEvents over each account's World events. What the
// emulator models of it (CloudTrail API Reference, LookupEvents; CloudTrail
// User Guide, "Working with CloudTrail Event history"):
//
//   - the history is per account and per Region: a call signed for
//     eu-west-1 sees the caller's account's events recorded in eu-west-1
//     (IAM, STS global and sign-in events are recorded in us-east-1);
//   - it holds management events of the last 90 days, newest first;
//   - at most one lookup attribute, of AccessKeyId, EventId, EventName,
//     EventSource, ReadOnly, ResourceName, ResourceType or Username;
//   - MaxResults 1 to 50 (default 50), NextToken paging, StartTime and
//     EndTime bounds (inclusive);
//   - EventCategory "insight" answers Insights events, of which there are
//     none here.
//
// Not modelled: the two lookups per second per account and Region that
// AWS allows (inject ThrottlingException with a Fault to test throttling),
// and events that the emulator's own API calls would produce: a test
// seeds the history it needs.

var trailHandlers = map[string]handlerFunc{
	"LookupEvents": (*Server).trailLookupEvents,
}

// TrailRetention is how far back the event history reaches.
const TrailRetention = 90 * 24 * time.Hour

// TrailEvent is a CloudTrail management event in an account's event
// history. Only Time, Region, Source and Name are required; the emulator
// fills in the rest, and builds the CloudTrail record LookupEvents returns
// as CloudTrailEvent when Record is empty.
type TrailEvent struct {
	// ID is the event ID (a UUID in AWS); derived from the event when empty.
	ID     string    `json:"id,omitempty"`
	Time   time.Time `json:"time"`
	Region string    `json:"region"`
	// Source is the eventSource, e.g. ec2.amazonaws.com or signin.amazonaws.com.
	Source string `json:"source"`
	// Name is the eventName, e.g. RunInstances or ConsoleLogin.
	Name string `json:"name"`
	// AccessKeyID signed the request: a root or IAM user key of the
	// account, a session key (ASIA…), or empty (console sign-in).
	AccessKeyID string `json:"accessKeyId,omitempty"`
	// IdentityType is userIdentity.type: Root, IAMUser, AssumedRole…;
	// Root or IAMUser when AccessKeyID is one of the account's keys and
	// this is empty.
	IdentityType string `json:"identityType,omitempty"`
	// IdentityARN is userIdentity.arn; derived like IdentityType.
	IdentityARN string `json:"identityArn,omitempty"`
	// Username is the event's user name as LookupEvents reports it: the
	// IAM user or role session name; "root" for the root user.
	Username  string          `json:"username,omitempty"`
	ReadOnly  bool            `json:"readOnly,omitempty"`
	SourceIP  string          `json:"sourceIp,omitempty"`
	UserAgent string          `json:"userAgent,omitempty"`
	ErrorCode string          `json:"errorCode,omitempty"`
	Resources []TrailResource `json:"resources,omitempty"`
	// Record is the whole CloudTrail record, served byte for byte.
	Record json.RawMessage `json:"record,omitempty"`
}

// TrailResource is a resource an event names.
type TrailResource struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// validateTrail checks an account's events.
func validateTrail(bad func(string, ...any), where string, events []TrailEvent) {
	ids := map[string]bool{}
	for i, e := range events {
		ew := fmt.Sprintf("%s cloudTrail[%d]", where, i)
		if e.Time.IsZero() {
			bad("%s: time is required", ew)
		}
		if !regionPattern.MatchString(e.Region) {
			bad("%s: region %q: want a region such as us-east-1", ew, e.Region)
		}
		if !strings.HasSuffix(e.Source, ".amazonaws.com") {
			bad("%s: source %q: want a service host such as ec2.amazonaws.com", ew, e.Source)
		}
		if e.Name == "" {
			bad("%s: name is required", ew)
		}
		if e.ID != "" {
			if ids[e.ID] {
				bad("%s: duplicate event id %s", ew, e.ID)
			}
			ids[e.ID] = true
		}
		var obj map[string]json.RawMessage
		if len(e.Record) > 0 && json.Unmarshal(e.Record, &obj) != nil {
			bad("%s: record is not a JSON object", ew)
		}
	}
}

// normalizeTrail fills in what an event leaves out, from the account's
// own keys. Callers hold s.mu or run before the server starts.
func normalizeTrail(partition string, a *Account, events []TrailEvent) {
	for i := range events {
		e := &events[i]
		e.Time = e.Time.UTC().Truncate(time.Second)
		if e.ID == "" {
			e.ID = derivedUUID(a.ID + "/" + e.Region + "/" + e.Time.Format(time.RFC3339) + "/" + e.Source + "/" + e.Name + "/" + e.AccessKeyID + "/" + strconv.Itoa(i))
		}
		if e.IdentityType == "" || e.IdentityARN == "" || e.Username == "" {
			typ, arn, user := identityOfKey(partition, a, e.AccessKeyID)
			if e.IdentityType == "" {
				e.IdentityType = typ
			}
			if e.IdentityARN == "" {
				e.IdentityARN = arn
			}
			if e.Username == "" {
				e.Username = user
			}
		}
		if e.SourceIP == "" {
			e.SourceIP = "192.0.2.10"
		}
		if e.UserAgent == "" {
			e.UserAgent = "aws-cli/2.22.0 md/command#" + e.Name
		}
		if len(e.Record) == 0 {
			e.Record = trailRecord(a.ID, e)
		}
	}
}

// identityOfKey says whose an access key is, for the event's userIdentity.
func identityOfKey(partition string, a *Account, keyID string) (typ, arn, user string) {
	for _, k := range a.Root.AccessKeys {
		if k.ID == keyID {
			return "Root", rootARN(partition, a.ID), "root"
		}
	}
	for _, u := range a.Users {
		for _, k := range u.AccessKeys {
			if k.ID == keyID {
				return "IAMUser", userARN(partition, a.ID, u.Path, u.Name), u.Name
			}
		}
	}
	return "Unknown", "", ""
}

// trailRecord is the CloudTrail record of an event, in the record format's
// field names (CloudTrail User Guide, "CloudTrail record contents").
func trailRecord(account string, e *TrailEvent) json.RawMessage {
	identity := map[string]any{"type": e.IdentityType, "accountId": account, "principalId": account}
	if e.IdentityARN != "" {
		identity["arn"] = e.IdentityARN
	}
	identity["accessKeyId"] = e.AccessKeyID
	if e.IdentityType == "IAMUser" {
		identity["userName"] = e.Username
	}
	eventType := "AwsApiCall"
	if e.Source == "signin.amazonaws.com" {
		eventType = "AwsConsoleSignIn"
	}
	rec := map[string]any{
		"eventVersion":       "1.11",
		"userIdentity":       identity,
		"eventTime":          e.Time.Format(time.RFC3339),
		"eventSource":        e.Source,
		"eventName":          e.Name,
		"awsRegion":          e.Region,
		"sourceIPAddress":    e.SourceIP,
		"userAgent":          e.UserAgent,
		"requestParameters":  nil,
		"responseElements":   nil,
		"eventID":            e.ID,
		"readOnly":           e.ReadOnly,
		"eventType":          eventType,
		"managementEvent":    true,
		"recipientAccountId": account,
		"eventCategory":      "Management",
	}
	if e.ErrorCode != "" {
		rec["errorCode"] = e.ErrorCode
	}
	data, err := json.Marshal(rec)
	if err != nil {
		panic("awsemu: encode CloudTrail record: " + err.Error())
	}
	return data
}

// AddTrailEvents appends events to an account's event history, as the
// World's CloudTrail field does at start.
func (s *Server) AddTrailEvents(accountID string, events ...TrailEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return fmt.Errorf("awsemu: no account %s", accountID)
	}
	var errs []string
	validateTrail(func(f string, args ...any) { errs = append(errs, fmt.Sprintf(f, args...)) }, "account "+accountID, events)
	if len(errs) > 0 {
		return fmt.Errorf("awsemu: %s", strings.Join(errs, "; "))
	}
	add := append([]TrailEvent(nil), events...)
	for i := range add {
		add[i].Record = append(json.RawMessage(nil), add[i].Record...)
	}
	offset := len(a.CloudTrail)
	a.CloudTrail = append(a.CloudTrail, add...)
	normalizeTrail(s.world.Partition, a, a.CloudTrail[offset:])
	return nil
}

type trailEventJSON struct {
	EventId         string              `json:"EventId"`
	EventName       string              `json:"EventName"`
	ReadOnly        string              `json:"ReadOnly"`
	AccessKeyId     string              `json:"AccessKeyId,omitempty"`
	EventTime       epochTime           `json:"EventTime"`
	EventSource     string              `json:"EventSource"`
	Username        string              `json:"Username,omitempty"`
	Resources       []trailResourceJSON `json:"Resources,omitempty"`
	CloudTrailEvent string              `json:"CloudTrailEvent"`
}

type trailResourceJSON struct {
	ResourceType string `json:"ResourceType"`
	ResourceName string `json:"ResourceName"`
}

// trailLookupEvents serves the caller's account's event history in the
// Region the request was signed for.
func (s *Server) trailLookupEvents(r *request) (any, *apiError) {
	var in struct {
		LookupAttributes []struct {
			AttributeKey   string `json:"AttributeKey"`
			AttributeValue string `json:"AttributeValue"`
		} `json:"LookupAttributes"`
		StartTime     *float64 `json:"StartTime"`
		EndTime       *float64 `json:"EndTime"`
		EventCategory string   `json:"EventCategory"`
		MaxResults    *int     `json:"MaxResults"`
		NextToken     string   `json:"NextToken"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if r.region == "" {
		return nil, newError("UnrecognizedClientException", "The request was not signed for a Region.")
	}
	if len(in.LookupAttributes) > 1 {
		return nil, newError("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
	}
	limit := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, newError("InvalidMaxResultsException", "MaxResults must be from 1 to 50.")
		}
		limit = *in.MaxResults
	}
	switch in.EventCategory {
	case "":
	case "insight":
		return struct {
			Events []trailEventJSON `json:"Events"`
		}{[]trailEventJSON{}}, nil
	default:
		return nil, newError("InvalidEventCategoryException", "Event category %s is not valid.", in.EventCategory)
	}
	oldest := r.now.Add(-TrailRetention)
	newest := r.now
	if in.StartTime != nil {
		if t := epochSeconds(*in.StartTime); t.After(oldest) {
			oldest = t
		}
	}
	if in.EndTime != nil {
		newest = epochSeconds(*in.EndTime)
	}
	if in.StartTime != nil && in.EndTime != nil && epochSeconds(*in.StartTime).After(epochSeconds(*in.EndTime)) {
		return nil, newError("InvalidTimeRangeException", "Start time must not be after end time.")
	}
	var match func(e *TrailEvent) bool
	if len(in.LookupAttributes) == 1 {
		a := in.LookupAttributes[0]
		v := a.AttributeValue
		switch a.AttributeKey {
		case "AccessKeyId":
			match = func(e *TrailEvent) bool { return e.AccessKeyID == v }
		case "EventId":
			match = func(e *TrailEvent) bool { return e.ID == v }
		case "EventName":
			match = func(e *TrailEvent) bool { return e.Name == v }
		case "EventSource":
			match = func(e *TrailEvent) bool { return e.Source == v }
		case "Username":
			match = func(e *TrailEvent) bool { return e.Username == v }
		case "ReadOnly":
			match = func(e *TrailEvent) bool { return strconv.FormatBool(e.ReadOnly) == v }
		case "ResourceName", "ResourceType":
			match = func(e *TrailEvent) bool {
				for _, res := range e.Resources {
					if a.AttributeKey == "ResourceName" && res.Name == v || a.AttributeKey == "ResourceType" && res.Type == v {
						return true
					}
				}
				return false
			}
		default:
			return nil, newError("InvalidLookupAttributesException", "Lookup attribute key %s is not valid.", a.AttributeKey)
		}
		if v == "" {
			return nil, newError("InvalidLookupAttributesException", "A lookup attribute value is required.")
		}
	}

	var found []*TrailEvent
	events := r.caller.account.CloudTrail
	for i := range events {
		e := &events[i]
		if e.Region != r.region || e.Time.Before(oldest) || e.Time.After(newest) {
			continue
		}
		if match != nil && !match(e) {
			continue
		}
		found = append(found, e)
	}
	sort.SliceStable(found, func(i, j int) bool {
		if !found[i].Time.Equal(found[j].Time) {
			return found[i].Time.After(found[j].Time)
		}
		return found[i].ID < found[j].ID
	})

	// The token is the offset into this (stable) answer.
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "trail-"))
		if err != nil || !strings.HasPrefix(in.NextToken, "trail-") || n < 0 || n > len(found) {
			return nil, newError("InvalidNextTokenException", "Invalid NextToken.")
		}
		start = n
	}
	end := min(start+limit, len(found))
	out := []trailEventJSON{}
	for _, e := range found[start:end] {
		j := trailEventJSON{EventId: e.ID, EventName: e.Name, ReadOnly: strconv.FormatBool(e.ReadOnly), AccessKeyId: e.AccessKeyID,
			EventTime: epochTime(e.Time), EventSource: e.Source, Username: e.Username, CloudTrailEvent: string(e.Record)}
		for _, res := range e.Resources {
			j.Resources = append(j.Resources, trailResourceJSON{res.Type, res.Name})
		}
		out = append(out, j)
	}
	resp := struct {
		Events    []trailEventJSON `json:"Events"`
		NextToken string           `json:"NextToken,omitempty"`
	}{Events: out}
	if end < len(found) {
		resp.NextToken = "trail-" + strconv.Itoa(end)
	}
	return resp, nil
}

func epochSeconds(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}
