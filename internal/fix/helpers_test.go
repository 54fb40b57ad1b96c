package fix_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/fix"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// The test estate: an organisation whose members hold the root
// credentials the fixer must handle, and a standalone account whose root
// user signs the root-key path with its own keys.
const (
	mgmtID     = "111122223333"
	idleID     = "444455556666" // root: an idle active key, an unused inactive key, a certificate, a password, MFA
	busyID     = "555566667777" // root: a key used three days ago
	unusedID   = "666677778888" // root: a key never used
	cleanID    = "777788889999" // nothing
	standalone = "999988887777" // not in the organisation

	mgmtAdmin  = "AKIAMGMTADMIN0000001"
	mgmtRoot   = "AKIAMGMTROOTKEY00001"
	idleKey    = "AKIAIDLEROOTKEY00001"
	idleKey2   = "AKIAIDLEROOTKEY00002"
	busyKey    = "AKIABUSYROOTKEY00001"
	unusedKey  = "AKIAUNUSEDROOTKEY001"
	saKey1     = "AKIASTANDALONEROOT01" // signs the root-key path
	saKey2     = "AKIASTANDALONEROOT02"
	saOps      = "AKIASTANDALONEOPS001" // an IAM user of the standalone account
	trailRole  = "VigilTrailReader"
	idleSerial = "arn:aws:iam::" + idleID + ":mfa/root-account-mfa-device"
)

var day = 24 * time.Hour

// now is the estate's present, the tests' reference time: the world is
// dated relative to it, and the emulator's clock and the fixer's start at
// it and run in real time, so that sessions still expire.
func estate(now time.Time) *awsemu.World {
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	used := func(d time.Duration, region, service string) *awsemu.KeyLastUsed {
		return &awsemu.KeyLastUsed{Date: ago(d), Region: region, Service: service}
	}
	roles := []awsemu.Role{{Name: trailRole}}
	return &awsemu.World{
		Organization: &awsemu.Organization{ID: "o-aa111bb222", ManagementAccountID: mgmtID, RootID: "r-ab12",
			TrustedAccess: []string{"iam.amazonaws.com"}, RootCredentialsManagement: true, RootSessions: true},
		Accounts: []*awsemu.Account{
			{ID: mgmtID, Name: "management",
				Root:  awsemu.Root{AccessKeys: []awsemu.AccessKey{{ID: mgmtRoot, Secret: "mgmt-root-secret-value", CreateDate: ago(900 * day), LastUsed: used(2*day, "us-east-1", "ec2")}}},
				Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: mgmtAdmin, Secret: "mgmt-admin-secret-value"}}}}},
			{ID: idleID, Name: "idle", Roles: roles, Root: awsemu.Root{
				Password: true, PasswordLastUsed: tp(ago(300 * day)), CreateDate: ago(1000 * day),
				AccessKeys: []awsemu.AccessKey{
					{ID: idleKey, CreateDate: ago(800 * day), LastUsed: used(100*day, "eu-west-1", "s3")},
					{ID: idleKey2, Status: awsemu.StatusInactive, CreateDate: ago(700 * day)},
				},
				SigningCertificates: []awsemu.Cert{{ID: "IDLECERT0000000000001", UploadDate: ago(600 * day)}},
				MFADevices:          []awsemu.MFADevice{{EnableDate: ago(999 * day)}},
			}},
			{ID: busyID, Name: "busy", Roles: roles, Root: awsemu.Root{AccessKeys: []awsemu.AccessKey{
				{ID: busyKey, CreateDate: ago(400 * day), LastUsed: used(3*day, "eu-west-1", "ec2")}}},
				CloudTrail: []awsemu.TrailEvent{
					{Time: ago(3 * day), Region: "eu-west-1", Source: "ec2.amazonaws.com", Name: "RunInstances", AccessKeyID: busyKey, SourceIP: "203.0.113.7", UserAgent: "backup-script/1.0"},
					{Time: ago(4 * day), Region: "eu-west-1", Source: "ec2.amazonaws.com", Name: "DescribeInstances", AccessKeyID: busyKey, ReadOnly: true},
					{Time: ago(5 * day), Region: "us-east-1", Source: "iam.amazonaws.com", Name: "ListUsers", AccessKeyID: busyKey, ReadOnly: true},
					{Time: ago(100 * day), Region: "eu-west-1", Source: "ec2.amazonaws.com", Name: "StopInstances", AccessKeyID: busyKey},
				}},
			{ID: unusedID, Name: "unused", Roles: roles, Root: awsemu.Root{AccessKeys: []awsemu.AccessKey{{ID: unusedKey, CreateDate: ago(10 * day)}}}},
			{ID: cleanID, Name: "clean", Roles: roles},
			{ID: standalone, Name: "lonely", Standalone: true,
				Root: awsemu.Root{
					Password:            true,
					AccessKeys:          []awsemu.AccessKey{{ID: saKey1, Secret: "standalone-root-secret-1", CreateDate: ago(500 * day), LastUsed: used(60*day, "us-east-1", "iam")}, {ID: saKey2, Secret: "standalone-root-secret-2", CreateDate: ago(400 * day), LastUsed: used(200*day, "eu-central-1", "s3")}},
					SigningCertificates: []awsemu.Cert{{ID: "STANDALONECERT000001", UploadDate: ago(300 * day)}},
					MFADevices:          []awsemu.MFADevice{{EnableDate: ago(450 * day)}},
				},
				Users: []awsemu.User{{Name: "ops", AccessKeys: []awsemu.AccessKey{{ID: saOps, Secret: "ops-secret-value"}}}},
				CloudTrail: []awsemu.TrailEvent{
					{Time: ago(60 * day), Region: "us-east-1", Source: "iam.amazonaws.com", Name: "ListAccessKeys", AccessKeyID: saKey1, ReadOnly: true},
				}},
		},
	}
}

func tp(t time.Time) *time.Time { return &t }

// quickRetries keeps the SDK's retry classification with no backoff.
func quickRetries(o *config.LoadOptions) error {
	o.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 4
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	return nil
}

type env struct {
	t     *testing.T
	srv   *awsemu.Server
	now   time.Time
	clock func() time.Time // the emulator's and the fixer's
}

func start(t *testing.T, mutate ...func(*awsemu.World)) *env {
	t.Helper()
	now := testclock.Ref().Truncate(time.Second)
	w := estate(now)
	for _, m := range mutate {
		m(w)
	}
	clock := testclock.Running()
	return &env{t: t, srv: awsemutest.Start(t, w, awsemu.WithClock(clock)), now: now, clock: clock}
}

func (e *env) cfg(key string) aws.Config { return awsemutest.ConfigFor(e.t, e.srv, key, quickRetries) }

func (e *env) opts(mod ...func(*fix.Options)) fix.Options {
	o := fix.Options{MinIdle: fix.DefaultMinIdle, Now: e.clock}
	// The emulator's report is ready after a fixed number of polls; the
	// wait only bounds a bug, so it is far beyond what a busy machine
	// needs.
	o.Collect.ReportWait, o.Collect.Now = 10*time.Minute, e.clock
	o.Collect.ReportFirstDelay, o.Collect.ReportMaxDelay = time.Millisecond, 10*time.Millisecond
	for _, m := range mod {
		m(&o)
	}
	return o
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (e *env) planOrg(mod ...func(*fix.Options)) *fix.Plan {
	e.t.Helper()
	p, err := fix.PlanOrg(e.t.Context(), e.cfg(mgmtAdmin), fleet.Options{Logger: quiet()}, e.opts(mod...))
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) planAccount(key string, mod ...func(*fix.Options)) *fix.Plan {
	e.t.Helper()
	p, err := fix.PlanAccount(e.t.Context(), e.cfg(key), e.opts(mod...))
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// apply applies a plan with an audit log in a temporary directory and
// returns the log's path.
func (e *env) apply(p *fix.Plan) string {
	e.t.Helper()
	path := filepath.Join(e.t.TempDir(), "audit.jsonl")
	log, err := change.OpenAuditLog(path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer log.Close()
	if err := fix.Apply(e.t.Context(), p, fix.ApplyOptions{Audit: log, RunID: "test-run", Now: e.clock}); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// mutations are the mutating calls the emulator served, as
// "account action target".
func (e *env) mutations() []string {
	var out []string
	for _, c := range e.srv.Calls() {
		if !awsemu.Mutating(c.Service, c.Action) {
			continue
		}
		target := c.Params["AccessKeyId"] + c.Params["CertificateId"] + c.Params["SerialNumber"]
		if c.Action == "DeleteLoginProfile" {
			target = "console password"
		}
		out = append(out, c.CallerAccount+" "+c.Service+":"+c.Action+" "+target)
	}
	slices.Sort(out)
	return out
}

// planned lists a plan's steps in the same form.
func planned(p *fix.Plan) []string {
	var out []string
	for _, a := range p.Accounts {
		for _, s := range a.Steps {
			out = append(out, a.ID+" "+s.Action+" "+s.Target)
		}
	}
	slices.Sort(out)
	return out
}

func account(t *testing.T, p *fix.Plan, id string) *fix.Account {
	t.Helper()
	for _, a := range p.Accounts {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("account %s not in the plan", id)
	return nil
}

func credential(t *testing.T, a *fix.Account, id string) *fix.Credential {
	t.Helper()
	for _, c := range a.Credentials {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("credential %s not in account %s: %+v", id, a.ID, a.Credentials)
	return nil
}

func rootKeys(t *testing.T, srv *awsemu.Server, id string) map[string]string {
	t.Helper()
	a, ok := srv.Account(id)
	if !ok {
		t.Fatalf("no account %s", id)
	}
	out := map[string]string{}
	for _, k := range a.Root.AccessKeys {
		out[k.ID] = k.Status
	}
	return out
}

// render is everything a plan shows or stores: the text, the JSON.
func render(t *testing.T, p *fix.Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := fix.WriteText(&b, p, fix.TextOptions{Now: testclock.Ref()}); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b.String() + string(j)
}

func contains(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("missing %q in:\n%s", w, s)
		}
	}
}
