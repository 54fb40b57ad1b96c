package kbtest

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// The helpers judge the pages; they must themselves be right.

// TestSCPCoverage: the judge of the pages' SCP commands must itself tell a
// covered organisation from an uncovered one.
func TestSCPCoverage(t *testing.T) {
	now := testclock.Ref()
	judge := func(o Options) rule.Result {
		t.Helper()
		return SCPCoverage(t, awsemutest.Start(t, World(now, o)), now)
	}
	if r := judge(Options{NoSCPs: true}); r.Status != rule.Fail || !strings.Contains(r.Message, "not enabled on the root "+RootID) {
		t.Errorf("SCPs disabled: %s %s", r.Status, r.Message)
	}
	// FullAWSAccess alone restricts nobody.
	if r := judge(Options{}); r.Status != rule.Fail || !strings.Contains(r.Message, "2 of 2 member accounts") ||
		!strings.Contains(r.Message, MemberID) || !strings.Contains(r.Message, CleanID) {
		t.Errorf("FullAWSAccess only: %s %s", r.Status, r.Message)
	}
	// Attached to one account only: the other stays uncovered.
	if r := judge(Options{SCPs: []awsemu.Policy{DenyRootSCP(CleanID)}}); r.Status != rule.Fail ||
		!strings.Contains(r.Message, "1 of 2 member accounts has no SCP") || !strings.Contains(r.Message, MemberID) || strings.Contains(r.Message, "sandbox") {
		t.Errorf("one account covered: %s %s", r.Status, r.Message)
	}
	if r := judge(Options{SCPs: []awsemu.Policy{DenyRootSCP(RootID)}}); r.Status != rule.Pass || !strings.Contains(r.Message, "all 2 active member accounts") {
		t.Errorf("deny-all at the root: %s %s", r.Status, r.Message)
	}
	if r := judge(Options{SCPs: []awsemu.Policy{RootKeysSCP(OUID)}}); r.Status != rule.Pass || !strings.Contains(r.Message, "only root access key creation is denied") {
		t.Errorf("keys only: %s %s", r.Status, r.Message)
	}
}

func TestPatternMatches(t *testing.T) {
	at := testclock.Ref()
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
