package awsemu

import "strings"

// Mutating reports whether an operation changes AWS state. Tests use it to
// prove that a read-only command made no mutating call, so the rule errs on
// the side of "mutating": an operation it does not recognise counts as one.
//
// Reads are Get*, List*, Describe*, Lookup* (CloudTrail's event history),
// Simulate*, the report generators (Generate*: they build a report but
// change no configuration) and the STS calls that only issue or describe
// credentials.
func Mutating(service, action string) bool {
	switch service + ":" + action {
	case "sts:GetCallerIdentity", "sts:AssumeRole", "sts:AssumeRoot", "sts:AssumeRoleWithSAML",
		"sts:AssumeRoleWithWebIdentity", "sts:GetSessionToken", "sts:GetFederationToken",
		"sts:GetAccessKeyInfo", "sts:DecodeAuthorizationMessage":
		return false
	}
	for _, read := range []string{"Get", "List", "Describe", "Lookup", "Simulate", "Generate"} {
		if strings.HasPrefix(action, read) {
			return false
		}
	}
	return true
}
