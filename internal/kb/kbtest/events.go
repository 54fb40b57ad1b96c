package kbtest

import (
	"encoding/json"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

// CloudTrail records as AWS writes them, for seeding the emulator's
// LookupEvents (Services.Seed) and for matching EventBridge patterns.
// Field names follow the CloudTrail record format; the values are the test
// estate's.

// Event is a CloudTrail event in one account's event history.
type Event struct {
	Account string
	awsemu.TrailEvent
}

func event(account string, e awsemu.TrailEvent, record map[string]any) Event {
	data, err := json.Marshal(record)
	if err != nil {
		panic("kbtest: encode CloudTrail record: " + err.Error())
	}
	e.Record = data
	return Event{Account: account, TrailEvent: e}
}

// RootConsoleLogin is a root user's console sign-in.
func RootConsoleLogin(account string, at time.Time, sourceIP string, mfa bool) Event {
	used := "No"
	if mfa {
		used = "Yes"
	}
	return event(account, awsemu.TrailEvent{
		Time: at, Region: "us-east-1", Source: "signin.amazonaws.com", Name: "ConsoleLogin",
		IdentityType: "Root", IdentityARN: "arn:aws:iam::" + account + ":root", Username: "root", SourceIP: sourceIP,
	}, map[string]any{
		"eventVersion": "1.09", "eventTime": at.UTC().Format(time.RFC3339),
		"userIdentity":        map[string]any{"type": "Root", "principalId": account, "arn": "arn:aws:iam::" + account + ":root", "accountId": account, "accessKeyId": ""},
		"eventSource":         "signin.amazonaws.com",
		"eventName":           "ConsoleLogin",
		"awsRegion":           "us-east-1",
		"sourceIPAddress":     sourceIP,
		"userAgent":           "Mozilla/5.0 (X11; Linux x86_64)",
		"responseElements":    map[string]any{"ConsoleLogin": "Success"},
		"additionalEventData": map[string]any{"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": used},
		"eventType":           "AwsConsoleSignIn",
		"recipientAccountId":  account,
	})
}

// UserConsoleLogin is an IAM user's console sign-in.
func UserConsoleLogin(account, user string, at time.Time) Event {
	e := RootConsoleLogin(account, at, "192.0.2.44", true)
	var rec map[string]any
	_ = json.Unmarshal(e.Record, &rec)
	rec["userIdentity"] = map[string]any{"type": "IAMUser", "principalId": "AIDAKBTEST" + user, "arn": "arn:aws:iam::" + account + ":user/" + user, "accountId": account, "userName": user}
	e.IdentityType, e.IdentityARN, e.Username = "IAMUser", "arn:aws:iam::"+account+":user/"+user, user
	return event(account, e.TrailEvent, rec)
}

// APICall is an API call made with an access key.
func APICall(account, identityType, arn, keyID, region, source, name, sourceIP string, at time.Time) Event {
	return event(account, awsemu.TrailEvent{
		Time: at, Region: region, Source: source, Name: name, AccessKeyID: keyID,
		IdentityType: identityType, IdentityARN: arn, SourceIP: sourceIP,
	}, map[string]any{
		"eventVersion": "1.09", "eventTime": at.UTC().Format(time.RFC3339),
		"userIdentity":       map[string]any{"type": identityType, "principalId": account, "arn": arn, "accountId": account, "accessKeyId": keyID},
		"eventSource":        source,
		"eventName":          name,
		"awsRegion":          region,
		"sourceIPAddress":    sourceIP,
		"userAgent":          "aws-cli/2.15.30 md/command#" + name,
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": account,
	})
}

// EventBridge wraps a CloudTrail record in the envelope EventBridge matches
// rules against: sign-ins and API calls have different detail types, and
// the source is the service called, never aws.cloudtrail.
func EventBridge(e Event) map[string]any {
	detailType := "AWS API Call via CloudTrail"
	if e.Name == "ConsoleLogin" {
		detailType = "AWS Console Sign In via CloudTrail"
	}
	source := "aws." + e.Source[:len(e.Source)-len(".amazonaws.com")]
	// Decode the record so that values have the types JSON decoding
	// gives, as EventBridge sees them.
	var detail map[string]any
	_ = json.Unmarshal(e.Record, &detail)
	return map[string]any{
		"version": "0", "id": "kbtest", "detail-type": detailType, "source": source,
		"account": detail["recipientAccountId"], "time": e.Time.UTC().Format(time.RFC3339), "region": e.Region,
		"resources": []any{}, "detail": detail,
	}
}
