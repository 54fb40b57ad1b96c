// Package events owns what Vigil understands of the root events CloudTrail
// delivers through EventBridge: reading one message body (Parse), saying
// what it is (Kind), and the words an alert uses for it (Summary). It
// reads outside data, so it bounds what it reads and never panics; it
// imports neither the AWS SDK nor the store.
//
// A message is the EventBridge envelope ("detail-type", "source",
// "account", "time", "region", "detail") around a CloudTrail record in
// "detail". Vigil wants two kinds of record: calls and console sign-ins
// whose userIdentity.type is "Root" (the CIS root-usage filter, less the
// calls a service makes on root's behalf), and the sts:AssumeRoot calls
// of the management or delegated-admin account, whose response names the
// key of the root session it opened.
package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MaxBody is the largest message Parse reads: SQS's own limit is 1 MiB,
// and a CloudTrail record is a few kilobytes.
const MaxBody = 1 << 20

// The EventBridge detail-types CloudTrail uses. AWS's EventBridge guide
// spells the sign-in one both "Sign In" and "Signin"; the events carry
// "Sign In".
const (
	DetailAPICall        = "AWS API Call via CloudTrail"
	DetailConsoleSignIn  = "AWS Console Sign In via CloudTrail"
	detailConsoleSignin2 = "AWS Console Signin via CloudTrail"
)

// Kind is what an event is to Vigil.
type Kind string

// The kinds. Every Root kind alerts as root_activity; AssumeRoot labels a
// session; NotRoot is a well-formed event Vigil does not act on.
const (
	RootAccessKeyCreated   Kind = "root_access_key_created"
	RootSigningCertificate Kind = "root_signing_certificate_uploaded"
	RootPasswordCreated    Kind = "root_password_created"
	RootMFARemoved         Kind = "root_mfa_removed"
	RootConsoleLogin       Kind = "root_console_login"
	RootConsoleLoginFailed Kind = "root_console_login_failed"
	RootAPICall            Kind = "root_api_call"
	RootServiceCall        Kind = "root_service_call" // a service acting for root (invokedBy, AwsServiceEvent): recorded, not alerted
	AssumeRoot             Kind = "assume_root"       // the call that opened a root session in a member account
	NotRoot                Kind = "not_root"
	RootAccessKeyChanged   Kind = "root_access_key_changed" // Update/DeleteAccessKey by root
)

// Root reports whether the kind is root acting (and so alerts).
func (k Kind) Root() bool {
	switch k {
	case RootAccessKeyCreated, RootSigningCertificate, RootPasswordCreated, RootMFARemoved,
		RootConsoleLogin, RootConsoleLoginFailed, RootAPICall, RootAccessKeyChanged:
		return true
	}
	return false
}

// Severity is how urgent the kind is: "critical" for a new long-term
// credential, a password, MFA removed or a successful sign-in, "high" for
// a failed sign-in and other root calls.
func (k Kind) Severity() string {
	switch k {
	case RootAccessKeyCreated, RootSigningCertificate, RootPasswordCreated, RootMFARemoved, RootConsoleLogin:
		return "critical"
	case RootConsoleLoginFailed, RootAPICall, RootAccessKeyChanged:
		return "high"
	}
	return "info"
}

// Event is one CloudTrail event as Vigil keeps it.
type Event struct {
	// ID is CloudTrail's eventID: the same event delivered twice has the
	// same ID, which is how duplicates are dropped.
	ID         string
	Kind       Kind
	DetailType string
	Account    string // the account the call was made in (recipientAccountId, else the envelope's)
	Region     string // awsRegion
	Time       time.Time
	Source     string // eventSource, e.g. iam.amazonaws.com
	Name       string // eventName, e.g. CreateAccessKey
	// IdentityType and IdentityARN are userIdentity.type and .arn.
	IdentityType, IdentityARN string
	SourceIP                  string
	UserAgent                 string
	// AccessKeyID signed the call: root's long-term key (AKIA…), a
	// console or AssumeRoot session's key (ASIA…), or empty (sign-in).
	AccessKeyID string
	// MFA is "yes", "no", or "" when the event does not say.
	MFA          string
	ErrorCode    string
	ErrorMessage string
	// AssumedRoot is sessionContext.assumedRoot: the call was made in an
	// sts:AssumeRoot session.
	AssumedRoot bool
	// NewAccessKeyID is the key a CreateAccessKey created.
	NewAccessKeyID string
	// Session is set for an AssumeRoot event: the session it opened.
	Session *Session
}

// Session is a root session opened by sts:AssumeRoot.
type Session struct {
	// Principal is the ARN of who called AssumeRoot.
	Principal     string
	TargetAccount string
	TaskPolicy    string
	// AccessKeyID is the session's key, which its calls in the member
	// account are signed with.
	AccessKeyID string
}

// ErrMalformed wraps every reason a body is not an event Vigil reads.
var ErrMalformed = errors.New("malformed event")

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

type envelope struct {
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Detail     json.RawMessage `json:"detail"`
}

type stringBool string

// UnmarshalJSON takes "true"/"false" strings (what CloudTrail writes) and
// JSON booleans alike.
func (b *stringBool) UnmarshalJSON(raw []byte) error {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		*b = stringBool(s)
		return nil
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	*b = stringBool(fmt.Sprint(v))
	return nil
}

type record struct {
	EventID      string `json:"eventID"`
	EventTime    string `json:"eventTime"`
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	EventType    string `json:"eventType"`
	AWSRegion    string `json:"awsRegion"`
	SourceIP     string `json:"sourceIPAddress"`
	UserAgent    string `json:"userAgent"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	Recipient    string `json:"recipientAccountId"`
	UserIdentity struct {
		Type           string `json:"type"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		AccessKeyID    string `json:"accessKeyId"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext *struct {
			Attributes struct {
				MFAAuthenticated stringBool `json:"mfaAuthenticated"`
			} `json:"attributes"`
			AssumedRoot stringBool `json:"assumedRoot"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	AdditionalEventData struct {
		MFAUsed string `json:"MFAUsed"`
	} `json:"additionalEventData"`
	RequestParameters json.RawMessage `json:"requestParameters"`
	ResponseElements  json.RawMessage `json:"responseElements"`
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Parse reads one message body. An error wraps ErrMalformed: the body is
// not a CloudTrail event delivered by EventBridge (not JSON, too large, an
// unknown detail-type, no event ID, no time). A well-formed event that is
// neither root nor AssumeRoot parses with Kind NotRoot.
func Parse(body []byte) (Event, error) {
	if len(body) > MaxBody {
		return Event{}, malformed("%d bytes, more than %d", len(body), MaxBody)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Event{}, malformed("not an EventBridge event: %v", err)
	}
	switch env.DetailType {
	case DetailAPICall, DetailConsoleSignIn, detailConsoleSignin2:
	default:
		return Event{}, malformed("detail-type %q is not a CloudTrail event", clip(env.DetailType))
	}
	if len(bytes.TrimSpace(env.Detail)) == 0 || bytes.Equal(bytes.TrimSpace(env.Detail), []byte("null")) {
		return Event{}, malformed("no detail")
	}
	var rec record
	if err := json.Unmarshal(env.Detail, &rec); err != nil {
		return Event{}, malformed("detail is not a CloudTrail record: %v", err)
	}
	if rec.EventID == "" || len(rec.EventID) > 128 {
		return Event{}, malformed("no eventID")
	}
	if rec.EventName == "" || rec.EventSource == "" {
		return Event{}, malformed("event %s has no eventName or eventSource", clip(rec.EventID))
	}
	at, err := time.Parse(time.RFC3339, rec.EventTime)
	if err != nil {
		if at, err = time.Parse(time.RFC3339, env.Time); err != nil {
			return Event{}, malformed("event %s has no time", clip(rec.EventID))
		}
	}
	account := rec.Recipient
	if account == "" {
		account = env.Account
	}
	if !accountID.MatchString(account) {
		return Event{}, malformed("event %s names no account", clip(rec.EventID))
	}
	region := rec.AWSRegion
	if region == "" {
		region = env.Region
	}
	id := rec.UserIdentity
	e := Event{
		ID: rec.EventID, DetailType: env.DetailType, Account: account, Region: clip(region), Time: at.UTC(),
		Source: clip(rec.EventSource), Name: clip(rec.EventName),
		IdentityType: clip(id.Type), IdentityARN: clip(id.ARN),
		SourceIP: clip(rec.SourceIP), UserAgent: clip(rec.UserAgent), AccessKeyID: clip(id.AccessKeyID),
		ErrorCode: clip(rec.ErrorCode), ErrorMessage: clip(rec.ErrorMessage),
	}
	if sc := id.SessionContext; sc != nil {
		e.AssumedRoot = sc.AssumedRoot == "true"
		switch sc.Attributes.MFAAuthenticated {
		case "true":
			e.MFA = "yes"
		case "false":
			e.MFA = "no"
		}
	} else if strings.HasPrefix(e.AccessKeyID, "AKIA") {
		// A long-term key carries no MFA.
		e.MFA = "no"
	}
	switch rec.AdditionalEventData.MFAUsed {
	case "Yes":
		e.MFA = "yes"
	case "No":
		e.MFA = "no"
	}
	e.Kind = classify(rec, &e)
	return e, nil
}

func classify(rec record, e *Event) Kind {
	if e.Name == "AssumeRoot" && e.Source == "sts.amazonaws.com" {
		var req struct {
			TargetPrincipal string `json:"targetPrincipal"`
			TaskPolicyArn   struct {
				Arn string `json:"arn"`
			} `json:"taskPolicyArn"`
		}
		var resp struct {
			Credentials struct {
				AccessKeyID string `json:"accessKeyId"`
			} `json:"credentials"`
		}
		_ = json.Unmarshal(rec.RequestParameters, &req)
		_ = json.Unmarshal(rec.ResponseElements, &resp)
		target := req.TargetPrincipal
		// The target may be an account ID or the account's root ARN.
		if m := rootARNAccount.FindStringSubmatch(target); m != nil {
			target = m[1]
		}
		e.Session = &Session{Principal: e.IdentityARN, TargetAccount: clip(target),
			TaskPolicy: clip(req.TaskPolicyArn.Arn), AccessKeyID: clip(resp.Credentials.AccessKeyID)}
		return AssumeRoot
	}
	if e.IdentityType != "Root" {
		return NotRoot
	}
	if rec.UserIdentity.InvokedBy != "" || rec.EventType == "AwsServiceEvent" {
		return RootServiceCall
	}
	switch e.Name {
	case "ConsoleLogin":
		var resp struct {
			ConsoleLogin string `json:"ConsoleLogin"`
		}
		_ = json.Unmarshal(rec.ResponseElements, &resp)
		if resp.ConsoleLogin == "Success" && e.ErrorMessage == "" {
			return RootConsoleLogin
		}
		return RootConsoleLoginFailed
	case "CreateAccessKey":
		var resp struct {
			AccessKey struct {
				AccessKeyID string `json:"accessKeyId"`
			} `json:"accessKey"`
		}
		_ = json.Unmarshal(rec.ResponseElements, &resp)
		e.NewAccessKeyID = clip(resp.AccessKey.AccessKeyID)
		return RootAccessKeyCreated
	case "UploadSigningCertificate":
		return RootSigningCertificate
	case "CreateLoginProfile", "UpdateLoginProfile":
		return RootPasswordCreated
	case "DeactivateMFADevice", "DeleteVirtualMFADevice":
		return RootMFARemoved
	case "UpdateAccessKey", "DeleteAccessKey":
		return RootAccessKeyChanged
	}
	return RootAPICall
}

var rootARNAccount = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):root$`)

// clip bounds a field taken from outside so one event cannot fill the
// store or an alert.
func clip(s string) string {
	const max = 512
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}

// Summary is the one line an alert leads with: what root did, where and
// from where. "root CreateAccessKey in 444455556666 (us-east-1) from
// 203.0.113.7, aws-cli/2.22.4".
func (e Event) Summary() string {
	var b strings.Builder
	switch e.Kind {
	case RootConsoleLogin:
		b.WriteString("root console sign-in")
	case RootConsoleLoginFailed:
		b.WriteString("failed root console sign-in")
	default:
		b.WriteString("root " + e.Name)
	}
	if e.Source != "" && e.Kind == RootAPICall {
		b.WriteString(" (" + strings.TrimSuffix(e.Source, ".amazonaws.com") + ")")
	}
	fmt.Fprintf(&b, " in %s (%s)", e.Account, e.Region)
	if e.SourceIP != "" {
		b.WriteString(" from " + e.SourceIP)
	}
	if ua := shortAgent(e.UserAgent); ua != "" {
		b.WriteString(", " + ua)
	}
	if e.MFA != "" {
		b.WriteString(", MFA " + e.MFA)
	}
	if e.ErrorCode != "" {
		b.WriteString(", failed: " + e.ErrorCode)
	}
	if e.NewAccessKeyID != "" {
		b.WriteString(", new key " + e.NewAccessKeyID)
	}
	return b.String()
}

// shortAgent is the first word of a user agent ("aws-cli/2.22.4"), which
// is what a reader needs to tell the CLI from a browser.
func shortAgent(ua string) string {
	ua = strings.TrimSpace(ua)
	if i := strings.IndexByte(ua, ' '); i > 0 {
		ua = ua[:i]
	}
	if len(ua) > 64 {
		ua = ua[:64]
	}
	return ua
}
