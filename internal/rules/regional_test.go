package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// resourceStatuses runs a rule and returns the status of each resource it
// judged, by resource.
func resourceStatuses(t *testing.T, r rule.Rule, a *snapshot.Account) (rule.Outcome, map[string]rule.Status) {
	t.Helper()
	doc := &snapshot.Document{Accounts: []snapshot.Account{*a}}
	out := r.Check(rule.Input{Account: &doc.Accounts[0], Doc: doc, Now: now, Options: rule.DefaultOptions()})
	got := map[string]rule.Status{}
	for _, ro := range out.PerResource() {
		if ro.Message == "" || len(ro.Evidence) == 0 {
			t.Errorf("%s: result without message or evidence: %+v", ro.Resource, ro)
		}
		if _, dup := got[ro.Resource]; dup {
			t.Errorf("resource %s judged twice", ro.Resource)
		}
		got[ro.Resource] = ro.Status
	}
	return out, got
}

func cert(name string, expires time.Time) snapshot.ServerCertificate {
	up := expires.AddDate(-1, 0, 0)
	return snapshot.ServerCertificate{Name: name, ID: "ASCA" + name, ARN: "arn:aws:iam::111122223333:server-certificate/" + name, Expiration: &expires, UploadDate: &up}
}

func certARN(name string) string { return "arn:aws:iam::111122223333:server-certificate/" + name }

func TestIAMExpiredServerCertificate(t *testing.T) {
	withCerts := func(cs ...snapshot.ServerCertificate) *snapshot.Account {
		return account(func(a *snapshot.Account) {
			a.ServerCertificates = &snapshot.ServerCertificates{Certificates: append([]snapshot.ServerCertificate{}, cs...), Pages: 1}
		})
	}
	runCases(t, IAMExpiredServerCertificate, []ruleCase{
		{name: "none stored passes", status: rule.Pass, contains: []string{"No SSL/TLS certificate"}, acct: withCerts()},
		{name: "valid passes", status: rule.Pass, acct: withCerts(cert("www", now.AddDate(0, 3, 0)))},
		{name: "expired fails", status: rule.Fail, acct: withCerts(cert("www", now.AddDate(0, 3, 0)), cert("old", now.AddDate(0, 0, -10)))},
		// Expiry at this very second: the certificate is no longer valid.
		{name: "expiring now fails", status: rule.Fail, acct: withCerts(cert("edge", now))},
		{name: "no expiry is unknown", status: rule.Unknown, acct: withCerts(snapshot.ServerCertificate{Name: "x", ARN: certARN("x")})},
		{name: "denied is unknown", status: rule.Unknown, contains: []string{"iam:ListServerCertificates: AccessDenied"}, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionServerCertificates, "iam:ListServerCertificates", "AccessDenied"))
		})},
		{name: "not collected is unknown", status: rule.Unknown, acct: account(nil)},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})

	_, got := resourceStatuses(t, IAMExpiredServerCertificate, withCerts(cert("www", now.AddDate(0, 3, 0)), cert("old", now.AddDate(0, 0, -10)), cert("edge", now.Add(time.Second))))
	want := map[string]rule.Status{certARN("www"): rule.Pass, certARN("old"): rule.Fail, certARN("edge"): rule.Pass}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("per certificate (-want +got):\n%s", diff)
	}
}

func analyzer(name, typ, status string) snapshot.Analyzer {
	return snapshot.Analyzer{Name: name, ARN: "arn:aws:access-analyzer:x:111122223333:analyzer/" + name, Type: typ, Status: status}
}

func region(name, optIn string, analyzers []snapshot.Analyzer, instances []snapshot.Instance) snapshot.Region {
	return snapshot.Region{Name: name, OptInStatus: optIn, Analyzers: analyzers, Instances: instances}
}

func aaARN(region string) string {
	return "arn:aws:access-analyzer:" + region + ":111122223333:analyzer"
}

func TestIAMAccessAnalyzer(t *testing.T) {
	active := []snapshot.Analyzer{analyzer("ext", "ACCOUNT", "ACTIVE")}
	withRegions := func(rs ...snapshot.Region) *snapshot.Account {
		return account(func(a *snapshot.Account) { a.Regions = rs })
	}
	runCases(t, IAMAccessAnalyzer, []ruleCase{
		{name: "every region active", status: rule.Pass, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, active, nil), region("eu-west-1", snapshot.OptInNotRequired, active, nil))},
		{name: "organization analyzer counts", status: rule.Pass, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, []snapshot.Analyzer{analyzer("org", "ORGANIZATION", "ACTIVE")}, nil))},
		{name: "one region missing fails", status: rule.Fail, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, active, nil), region("eu-west-1", snapshot.OptInNotRequired, []snapshot.Analyzer{}, nil))},
		// Prowler passes any ACTIVE analyzer; an unused-access analyzer
		// looks for nothing external.
		{name: "unused-access analyzer alone fails", status: rule.Fail, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, []snapshot.Analyzer{analyzer("unused", "ACCOUNT_UNUSED_ACCESS", "ACTIVE")}, nil))},
		{name: "disabled analyzer fails", status: rule.Fail, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, []snapshot.Analyzer{analyzer("ext", "ACCOUNT", "DISABLED")}, nil))},
		// A region the account has not opted into is not failed.
		{name: "disabled opt-in region not failed", status: rule.Pass, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, active, nil), region("af-south-1", snapshot.NotOptedIn, nil, nil))},
		{name: "opted-in region judged", status: rule.Fail, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, active, nil), region("af-south-1", snapshot.OptedIn, []snapshot.Analyzer{}, nil))},
		// Denied in one region: that region is UNKNOWN, never PASS.
		{name: "denied region is unknown", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.Regions = []snapshot.Region{region("us-east-1", snapshot.OptInNotRequired, active, nil), region("eu-west-1", snapshot.OptInNotRequired, nil, nil)}
			a.AddGap(snapshot.Gap{Section: snapshot.SectionAccessAnalyzer, Call: "access-analyzer:ListAnalyzers", Region: "eu-west-1", Code: "AccessDeniedException", Message: "denied"})
		})},
		{name: "regions unknown", status: rule.Unknown, contains: []string{"ec2:DescribeRegions: UnauthorizedOperation"}, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionRegions, "ec2:DescribeRegions", "UnauthorizedOperation"))
		})},
		{name: "not collected is unknown", status: rule.Unknown, acct: account(nil)},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})

	a := account(func(a *snapshot.Account) {
		a.Regions = []snapshot.Region{
			region("us-east-1", snapshot.OptInNotRequired, active, nil),
			region("eu-west-1", snapshot.OptInNotRequired, nil, nil),
			region("eu-west-2", snapshot.OptInNotRequired, []snapshot.Analyzer{}, nil),
			region("af-south-1", snapshot.NotOptedIn, nil, nil),
		}
		a.AddGap(snapshot.Gap{Section: snapshot.SectionAccessAnalyzer, Call: "access-analyzer:ListAnalyzers", Region: "eu-west-1", Code: "AccessDeniedException", Message: "denied"})
	})
	out, got := resourceStatuses(t, IAMAccessAnalyzer, a)
	want := map[string]rule.Status{aaARN("us-east-1"): rule.Pass, aaARN("eu-west-1"): rule.Unknown, aaARN("eu-west-2"): rule.Fail, aaARN("af-south-1"): rule.NotApplicable}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("per region (-want +got):\n%s", diff)
	}
	for _, ro := range out.PerResource() {
		if ro.Resource == aaARN("eu-west-1") && (len(ro.Evidence) == 0 || ro.Evidence[0].Error == "" || ro.Evidence[0].Value != "eu-west-1") {
			t.Errorf("denied region's evidence = %+v, want the error and the region", ro.Evidence)
		}
	}
}

func instance(id, state, profile string) snapshot.Instance {
	return snapshot.Instance{ID: id, ARN: "arn:aws:ec2:us-east-1:111122223333:instance/" + id, State: state, InstanceProfileARN: profile}
}

func TestEC2InstanceRole(t *testing.T) {
	profile := "arn:aws:iam::111122223333:instance-profile/app"
	withRegions := func(rs ...snapshot.Region) *snapshot.Account {
		return account(func(a *snapshot.Account) { a.Regions = rs })
	}
	runCases(t, EC2InstanceRole, []ruleCase{
		{name: "no instances passes", status: rule.Pass, contains: []string{"No EC2 instance"}, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, nil, []snapshot.Instance{}))},
		{name: "with role passes", status: rule.Pass, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, nil, []snapshot.Instance{instance("i-1", "running", profile)}))},
		{name: "without role fails", status: rule.Fail, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, nil, []snapshot.Instance{instance("i-1", "running", profile), instance("i-2", "stopped", "")}))},
		{name: "terminated not judged", status: rule.Pass, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, nil, []snapshot.Instance{instance("i-1", "terminated", "")}))},
		{name: "unread region is unknown", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.Regions = []snapshot.Region{region("us-east-1", snapshot.OptInNotRequired, nil, []snapshot.Instance{instance("i-1", "running", profile)}), region("eu-west-1", snapshot.OptInNotRequired, nil, nil)}
			a.AddGap(snapshot.Gap{Section: snapshot.SectionInstances, Call: "ec2:DescribeInstances", Region: "eu-west-1", Code: "UnauthorizedOperation", Message: "denied"})
		})},
		{name: "disabled region skipped", status: rule.Pass, acct: withRegions(region("us-east-1", snapshot.OptInNotRequired, nil, []snapshot.Instance{}), region("af-south-1", snapshot.NotOptedIn, nil, nil))},
		{name: "regions unknown", status: rule.Unknown, acct: account(func(a *snapshot.Account) {
			a.AddGap(gap(snapshot.SectionRegions, "ec2:DescribeRegions", "UnauthorizedOperation"))
		})},
		{name: "assume-root session", status: rule.NotApplicable, acct: account(func(a *snapshot.Account) {
			a.Access = &snapshot.Access{Method: snapshot.AccessAssumeRoot}
		})},
	})
}

func TestEC2InstanceRolePerInstance(t *testing.T) {
	profile := "arn:aws:iam::111122223333:instance-profile/app"
	a := account(func(a *snapshot.Account) {
		a.Regions = []snapshot.Region{
			region("us-east-1", snapshot.OptInNotRequired, nil, []snapshot.Instance{instance("i-1", "running", profile), instance("i-2", "stopped", ""), instance("i-3", "terminated", "")}),
			region("eu-west-1", snapshot.OptInNotRequired, nil, nil),
			region("af-south-1", snapshot.NotOptedIn, nil, nil),
		}
		a.AddGap(snapshot.Gap{Section: snapshot.SectionInstances, Call: "ec2:DescribeInstances", Region: "eu-west-1", Code: "UnauthorizedOperation", Message: "denied"})
	})
	_, got := resourceStatuses(t, EC2InstanceRole, a)
	want := map[string]rule.Status{
		"arn:aws:ec2:us-east-1:111122223333:instance/i-1": rule.Pass,
		"arn:aws:ec2:us-east-1:111122223333:instance/i-2": rule.Fail,
		"arn:aws:ec2:eu-west-1:111122223333:instance":     rule.Unknown,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("per instance (-want +got):\n%s", diff)
	}
}
