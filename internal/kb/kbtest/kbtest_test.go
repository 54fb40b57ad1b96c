package kbtest

import (
	"testing"
	"time"
)

// The helpers judge the pages; they must themselves be right.

func TestSCPDenies(t *testing.T) {
	policy := `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"Null":{"aws:AssumedRoot":"true"}}}]}`
	for _, tc := range []struct {
		ctx  map[string]string
		deny bool
	}{
		{map[string]string{"aws:PrincipalArn": "arn:aws:iam::222222222222:root"}, true},
		{map[string]string{"aws:PrincipalArn": "arn:aws-us-gov:iam::222222222222:root"}, true},
		{map[string]string{"aws:PrincipalArn": "arn:aws:iam::222222222222:root", "aws:AssumedRoot": "true"}, false},
		{map[string]string{"aws:PrincipalArn": "arn:aws:iam::222222222222:user/root"}, false},
		{map[string]string{"aws:PrincipalArn": "arn:aws:iam::222222222222:role/Admin"}, false},
	} {
		got, err := SCPDenies(policy, tc.ctx)
		if err != nil || got != tc.deny {
			t.Errorf("%v: deny = %v, %v; want %v", tc.ctx, got, err, tc.deny)
		}
	}
	if !glob("a*b?", "axx/yb!") || glob("a*b", "ab/c") || arnLike("arn:*:iam::*:root", "arn:aws:iam::1:role/x:root") {
		t.Error("glob or arnLike is wrong")
	}
}

func TestPatternMatches(t *testing.T) {
	at := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	root := EventBridge(RootConsoleLogin("1", at, "198.51.100.1", false))
	user := EventBridge(UserConsoleLogin("1", "alice", at))
	p := `{"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}`
	if m, err := PatternMatches(p, root); err != nil || !m {
		t.Errorf("root sign-in: %v, %v", m, err)
	}
	if m, _ := PatternMatches(p, user); m {
		t.Error("user sign-in matched")
	}
	if m, _ := PatternMatches(`{"source":["aws.cloudtrail"]}`, root); m {
		t.Error("a CloudTrail-delivered event has the service's source, not aws.cloudtrail")
	}
	if _, err := PatternMatches(`{"detail":{"x":"y"}}`, root); err == nil {
		t.Error("a scalar leaf was accepted")
	}
}
