package text

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/muesli/termenv"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// manyResources is one account with a rule about 30 instances (25 pass,
// 3 fail, 2 unknown) and an account-level rule that passes.
func manyResources() *report.Document {
	now := testclock.Ref()
	snap := snapshot.New(now, "test", snapshot.Source{Kind: snapshot.SourceAWS})
	snap.Accounts = []snapshot.Account{{ID: "111122223333", Partition: "aws", Org: &snapshot.Membership{Role: snapshot.RoleStandalone}}}
	results := []rule.Result{{Meta: &rule.Meta{RuleID: "root-mfa", Title: "Root user has no MFA", RuleSeverity: rule.Critical, AccountID: "111122223333"},
		Status: rule.Pass, Severity: rule.Critical, Resource: "arn:aws:iam::111122223333:root", Message: "The root user has MFA."}}
	for i := range 30 {
		st := rule.Pass
		switch {
		case i >= 27:
			st = rule.Fail
		case i >= 25:
			st = rule.Unknown
		}
		results = append(results, rule.Result{Meta: &rule.Meta{RuleID: "ec2-instance-role", Title: "EC2 instance runs without an IAM role", RuleSeverity: rule.Medium, AccountID: "111122223333"},
			Status: st, Severity: rule.Medium, Resource: fmt.Sprintf("arn:aws:ec2:us-east-1:111122223333:instance/i-%02d", i), Message: fmt.Sprintf("Instance i-%02d.", i)})
	}
	return report.Build(snap, results, report.Tool{Name: "vigil", Version: "test"}, now)
}

func render(t *testing.T, o Options, d *report.Document) string {
	t.Helper()
	o.Profile = termenv.Ascii
	var buf bytes.Buffer
	if err := New(o).Write(&buf, d); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestGroupedByRule(t *testing.T) {
	out := render(t, Options{Show: ShowAll, Width: 200}, manyResources())
	head := strings.Index(out, "ec2-instance-role")
	if head < 0 || strings.Count(out, "ec2-instance-role") != 1 {
		t.Fatalf("the rule should head its group once:\n%s", out)
	}
	if mfa := strings.Index(out, "root-mfa"); mfa < head {
		t.Errorf("the failing rule should come before the passing one:\n%s", out)
	}
	for _, want := range []string{"30 resources: 3 FAIL, 2 UNKNOWN, 25 PASS", "… and 20 PASS more (-v shows them all"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	// Failures first, then unknowns, then passes; at most ten shown.
	fail, unknown, pass := strings.Index(out, "instance/i-27"), strings.Index(out, "instance/i-25"), strings.Index(out, "instance/i-00")
	if fail < 0 || unknown < 0 || pass < 0 || !(fail < unknown && unknown < pass) {
		t.Errorf("resource order wrong (fail %d, unknown %d, pass %d):\n%s", fail, unknown, pass, out)
	}
	if strings.Contains(out, "instance/i-24") {
		t.Errorf("more than 10 resources shown without -v:\n%s", out)
	}
	if all := render(t, Options{Show: ShowAll, Width: 200, Verbose: true}, manyResources()); !strings.Contains(all, "instance/i-24") || strings.Contains(all, "more (-v") {
		t.Errorf("-v should show every resource:\n%s", all)
	}

	// --show issues: the failing and unknown resources, the counts of all,
	// and the passing rule listed once.
	issues := render(t, Options{Show: ShowIssues, Width: 200}, manyResources())
	if strings.Contains(issues, "instance/i-00") || !strings.Contains(issues, "instance/i-27") || !strings.Contains(issues, "30 resources: 3 FAIL, 2 UNKNOWN, 25 PASS") {
		t.Errorf("--show issues:\n%s", issues)
	}
	if strings.Count(issues, "ec2-instance-role") != 1 || !strings.Contains(issues, "  PASS               root-mfa") {
		t.Errorf("--show issues lists a rule twice or misses the passing one:\n%s", issues)
	}
}
