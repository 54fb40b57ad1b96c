package scan_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/scan"
	"github.com/vigil-sec/vigil/internal/snapshot"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// verdict finds one rule's result for one account.
func verdict(t *testing.T, res []rule.Result, ruleID, account string) rule.Result {
	t.Helper()
	for _, r := range res {
		if r.RuleID == ruleID && r.AccountID == account {
			return r
		}
	}
	t.Fatalf("no %s result for account %s", ruleID, account)
	return rule.Result{}
}

func demoServer(t *testing.T) *awsemu.Server {
	t.Helper()
	return awsemutest.Start(t, awsemu.DemoWorld(testclock.Ref()))
}

func request(src scan.Source) scan.Request {
	return scan.Request{
		Source:  src,
		Rules:   rule.DefaultOptions(),
		Clock:   clock.Pinned{T: testclock.Ref()},
		Version: "test",
	}
}

// One account over the wire: the demo's management account has an active
// root key used two days ago, which must FAIL with the API's evidence, and
// the report is dated by the injected clock, not the wall clock.
func TestRunAccount(t *testing.T) {
	srv := demoServer(t)
	cfg := awsemutest.ConfigFor(t, srv, awsemu.DemoManagementAdminKey)
	got, err := scan.Run(context.Background(), request(scan.Account{Config: cfg}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Snapshot.Incomplete != nil {
		t.Fatalf("incomplete: %+v", got.Snapshot.Incomplete)
	}
	if len(got.Report.Accounts) != 1 || got.Report.Accounts[0].AccountID != "111111111111" {
		t.Fatalf("accounts = %+v, want the management account only", got.Report.Accounts)
	}
	r := verdict(t, got.Results, "root-access-key", "111111111111")
	if r.Status != rule.Fail {
		t.Fatalf("root-access-key = %s (%s), want FAIL", r.Status, r.Message)
	}
	if len(r.Evidence) == 0 {
		t.Fatal("FAIL without evidence")
	}
	if !got.Report.GeneratedAt.Equal(testclock.Ref()) {
		t.Errorf("report dated %s, want the injected clock's %s", got.Report.GeneratedAt, testclock.Ref())
	}
	if len(got.Report.Results) != len(got.Results) {
		t.Errorf("report holds %d results, the scan %d", len(got.Report.Results), len(got.Results))
	}
}

// The organisation source reaches every active account through the role
// and says which it could not; the suspended account is not scanned.
func TestRunOrganization(t *testing.T) {
	srv := demoServer(t)
	cfg := awsemutest.ConfigFor(t, srv, awsemu.DemoManagementAdminKey)
	got, err := scan.Run(context.Background(), request(scan.Organization{
		Config:  cfg,
		Options: fleet.Options{Mode: fleet.ModeRole, Role: fleet.Role{Name: "VigilAudit"}, Parallel: 4},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Report.Organization == nil {
		t.Fatal("no organisation in the report")
	}
	seen := map[string]bool{}
	for _, a := range got.Report.Accounts {
		seen[a.AccountID] = true
	}
	for _, id := range []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"} {
		if !seen[id] {
			t.Errorf("account %s missing from the organisation scan (have %v)", id, seen)
		}
	}
	if seen["666666666666"] {
		t.Error("the suspended account was scanned")
	}
	// Every rule that applies to an account gave it a verdict: nothing
	// silently dropped between fleet and the report.
	perAccount := map[string]int{}
	for _, r := range got.Results {
		perAccount[r.AccountID]++
	}
	for id := range seen {
		if perAccount[id] == 0 {
			t.Errorf("account %s has no results", id)
		}
	}
}

// A saved snapshot re-evaluated later gives the same verdicts as the live
// scan (rules judge as of collection time), and the report names the file.
func TestRunSnapshotFileEqualsLive(t *testing.T) {
	srv := demoServer(t)
	cfg := awsemutest.ConfigFor(t, srv, awsemu.DemoManagementAdminKey)
	live, err := scan.Run(context.Background(), request(scan.Account{Config: cfg}))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "snap.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := snapshot.Encode(f, live.Snapshot); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// A year later: the verdicts must not move.
	req := request(scan.SnapshotFile{Path: path})
	req.Clock = clock.Pinned{T: testclock.Ref().AddDate(1, 0, 0)}
	again, err := scan.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if again.Report.SnapshotFile != path {
		t.Errorf("SnapshotFile = %q, want %q", again.Report.SnapshotFile, path)
	}
	if len(again.Results) != len(live.Results) {
		t.Fatalf("%d results from the file, %d live", len(again.Results), len(live.Results))
	}
	for i := range live.Results {
		a, b := live.Results[i], again.Results[i]
		if a.RuleID != b.RuleID || a.AccountID != b.AccountID || a.Status != b.Status || a.Message != b.Message {
			t.Errorf("result %d: live %s/%s %s %q, from file %s/%s %s %q", i,
				a.RuleID, a.AccountID, a.Status, a.Message, b.RuleID, b.AccountID, b.Status, b.Message)
		}
	}
}

// A credential report from an auditor: an active root key FAILs, on the
// report's own date.
func TestRunCredentialReport(t *testing.T) {
	ref := testclock.Ref().UTC()
	created := ref.AddDate(-2, 0, 0).Format(time.RFC3339)
	used := ref.Add(-48 * time.Hour).Format(time.RFC3339)
	header := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
	row := "<root_account>,arn:aws:iam::123456789012:root," + created + ",not_supported," + used + ",not_supported,not_supported,true,true," + created + "," + used + ",us-east-1,iam,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	at := ref.Add(-time.Hour)
	req := request(scan.CredentialReport{Path: "-", Stdin: strings.NewReader(header + "\n" + row + "\n"), GeneratedAt: &at})
	got, err := scan.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	r := verdict(t, got.Results, "root-access-key", "123456789012")
	if r.Status != rule.Fail {
		t.Fatalf("root-access-key = %s (%s), want FAIL", r.Status, r.Message)
	}
}

// Inputs that give no state at all are errors naming what failed; they
// never become an empty, passing report.
func TestRunErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.json")
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("{\"schema\": 12"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		src  scan.Source
		want string
	}{
		"no source":       {nil, "no source"},
		"missing file":    {scan.SnapshotFile{Path: missing}, "nope.json"},
		"truncated file":  {scan.SnapshotFile{Path: bad}, "bad.json"},
		"empty report":    {scan.CredentialReport{Path: "-", Stdin: strings.NewReader("")}, ""},
		"garbage report":  {scan.CredentialReport{Path: "-", Stdin: strings.NewReader("not,a\nreport\n")}, ""},
		"oversized input": {scan.CredentialReport{Path: "-", Stdin: strings.NewReader(strings.Repeat("x", 4096)), MaxSize: 1024}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := scan.Run(context.Background(), request(tc.src))
			if err == nil {
				t.Fatalf("no error; got %d results", len(got.Results))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

// Credentials the emulator does not know end the scan with an error, not
// a report of an account nobody could read.
func TestRunAccountBadCredentials(t *testing.T) {
	srv := demoServer(t)
	cfg := awsemutest.ConfigFor(t, srv, "AKIAUNKNOWNKEY000000")
	got, err := scan.Run(context.Background(), request(scan.Account{Config: cfg}))
	if err == nil {
		t.Fatalf("no error; report has %d accounts", len(got.Report.Accounts))
	}
}

// With a framework asked for, the report carries the assessment built
// from its results.
func TestRunCompliance(t *testing.T) {
	srv := demoServer(t)
	cfg := awsemutest.ConfigFor(t, srv, awsemu.DemoManagementAdminKey)
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	cat, err := compliance.Default(ids)
	if err != nil {
		t.Fatal(err)
	}
	v, err := cat.Resolve("cis-aws:5.0.0")
	if err != nil {
		t.Fatal(err)
	}
	req := request(scan.Account{Config: cfg})
	req.Catalog, req.Compliance = cat, v
	got, err := scan.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got.Report.Compliance == nil {
		t.Fatal("no compliance assessment")
	}
}
