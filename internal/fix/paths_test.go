package fix_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fix"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// TestRootKeyDeactivateThenDelete: signed with one of root's own keys, the
// first run deactivates the other key and leaves the signing key for
// last; the second deletes the now inactive key and deactivates the
// signing key, as the very last call signed with it.
func TestRootKeyDeactivateThenDelete(t *testing.T) {
	e := start(t)
	p := e.planAccount(saKey1, func(o *fix.Options) { o.Certificates, o.Password, o.MFA = true, true, true })
	a := account(t, p, standalone)
	if a.Path != fix.PathRootKey || a.Via != "root access key "+saKey1 || a.Caller != "arn:aws:iam::"+standalone+":root" {
		t.Fatalf("path %s via %q caller %q", a.Path, a.Via, a.Caller)
	}
	k2 := credential(t, a, saKey2)
	if k2.Action != fix.ActDeactivate || k2.Signing {
		t.Errorf("other key %+v", k2)
	}
	k1 := credential(t, a, saKey1)
	if !k1.Signing || k1.Action != fix.ActLeave || !strings.Contains(k1.Reason, "left for last") {
		t.Errorf("signing key %+v", k1)
	}
	// CloudTrail, read with root's own key.
	if len(k1.Events) != 1 || k1.Events[0].Name != "ListAccessKeys" {
		t.Errorf("signing key events %+v (%s)", k1.Events, k1.Trail)
	}
	// Never the login profile or MFA calls with root's key: AWS refuses to
	// omit the user name there.
	notes := strings.Join(a.Notes, "\n")
	contains(t, notes, "--password: not possible signed with root's own access key")
	if m := credential(t, a, "arn:aws:iam::"+standalone+":mfa/root-account-mfa-device"); m.Action != fix.ActLeave || !strings.Contains(m.Reason, "AssumeRoot") {
		t.Errorf("MFA on the root-key path %+v", m)
	}
	noMutations(t, e) // the dry run of the root-key path
	want := []string{standalone + " iam:DeleteSigningCertificate STANDALONECERT000001", standalone + " iam:UpdateAccessKey " + saKey2}
	if diff := cmp.Diff(want, planned(p)); diff != "" {
		t.Errorf("run 1 (-want +got):\n%s", diff)
	}
	e.apply(p)
	if k := rootKeys(t, e.srv, standalone); k[saKey2] != awsemu.StatusInactive || k[saKey1] != awsemu.StatusActive {
		t.Fatalf("after run 1: %v", k)
	}

	e.srv.ResetCalls()
	p = e.planAccount(saKey1)
	a = account(t, p, standalone)
	if c := credential(t, a, saKey2); c.Action != fix.ActDelete {
		t.Errorf("run 2, the inactive idle key: %+v", c)
	}
	last := a.Steps[len(a.Steps)-1]
	if last.Target != saKey1 || last.Action != "iam:UpdateAccessKey" || !strings.Contains(last.Warning, "no access to account "+standalone) ||
		len(last.DependsOn) != 1 || last.DependsOn[0] != "access-key/"+saKey2 {
		t.Errorf("the signing key's step %+v", last)
	}
	e.apply(p)
	if k := rootKeys(t, e.srv, standalone); len(k) != 1 || k[saKey1] != awsemu.StatusInactive {
		t.Fatalf("after run 2: %v", k)
	}
	// The signing key's deactivation was the last call signed with it.
	calls := e.srv.Calls()
	lastUse := -1
	for i, c := range calls {
		if c.AccessKeyID == saKey1 {
			lastUse = i
		}
		for _, forbidden := range []string{"GetLoginProfile", "DeleteLoginProfile", "CreateLoginProfile", "DeactivateMFADevice"} {
			if c.Action == forbidden {
				t.Errorf("%s called on the root-key path", forbidden)
			}
		}
	}
	if c := calls[lastUse]; c.Action != "UpdateAccessKey" || c.Params["AccessKeyId"] != saKey1 {
		t.Errorf("last call signed with the key: %s %v", c.Action, c.Params)
	}
	// A third run cannot sign with it: the credentials are rejected, one
	// clear error.
	_, err := fix.PlanAccount(t.Context(), e.cfg(saKey1), e.opts())
	var ce *collect.CredentialError
	if !errors.As(err, &ce) {
		t.Errorf("third run: %v", err)
	}
}

// TestRootKeyDelete: --delete deletes at once, the signing key last.
func TestRootKeyDelete(t *testing.T) {
	e := start(t)
	p := e.planAccount(saKey1, func(o *fix.Options) { o.Delete = true })
	a := account(t, p, standalone)
	var order []string
	for _, s := range a.Steps {
		order = append(order, s.Action+" "+s.Target)
	}
	if diff := cmp.Diff([]string{"iam:DeleteAccessKey " + saKey2, "iam:DeleteAccessKey " + saKey1}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	e.srv.ResetCalls()
	e.apply(p)
	if k := rootKeys(t, e.srv, standalone); len(k) != 0 {
		t.Errorf("keys left: %v", k)
	}
	calls := e.srv.Calls()
	if c := calls[len(calls)-1]; c.Action != "DeleteAccessKey" || c.Params["AccessKeyId"] != saKey1 || c.AccessKeyID != saKey1 {
		t.Errorf("last call %s %v by %s", c.Action, c.Params, c.AccessKeyID)
	}
}

// TestRootKeySigningKeyStaysWhenAnotherFails: if an earlier step fails,
// the signing key is kept, since it is needed to finish the job.
func TestRootKeySigningKeyStaysWhenAnotherFails(t *testing.T) {
	e := start(t)
	p := e.planAccount(saKey1, func(o *fix.Options) { o.Delete = true })
	e.srv.AddFault(awsemu.Fault{Service: "iam", Action: "DeleteAccessKey", Code: "AccessDenied", Times: 1})
	e.apply(p)
	a := account(t, p, standalone)
	if len(a.Results) != 2 || a.Results[0].Status != change.Failed || a.Results[1].Status != change.Skipped {
		t.Errorf("results %+v", a.Results)
	}
	if k := rootKeys(t, e.srv, standalone); len(k) != 2 {
		t.Errorf("keys %v", k)
	}
}

// TestPartialFailure: one account's deletions fail; the others complete,
// the failure is recorded, and a second run finishes the job; a third
// plans nothing.
func TestPartialFailure(t *testing.T) {
	e := start(t)
	e.srv.AddFault(awsemu.Fault{Service: "iam", Action: "DeleteAccessKey", AccountID: idleID, Code: "AccessDenied"})
	p := e.planOrg()
	path := e.apply(p)
	out := p.Outcome()
	if out.Failed != 2 || out.Succeeded != 1 || len(out.FailedAccounts) != 1 || out.FailedAccounts[0] != idleID {
		t.Errorf("outcome %+v", out)
	}
	if k := rootKeys(t, e.srv, unusedID); len(k) != 0 {
		t.Errorf("the other account was not fixed: %v", k)
	}
	failed := 0
	for _, l := range readAudit(t, path) {
		if l["result"] == "failed" {
			failed++
			if !strings.Contains(l["error"].(string), "AccessDenied") || l["account"] != idleID {
				t.Errorf("failure line %v", l)
			}
		}
	}
	if failed != 2 {
		t.Errorf("%d failed audit lines", failed)
	}
	e.srv.ClearFaults()
	p2 := e.planOrg()
	if diff := cmp.Diff([]string{idleID + " iam:DeleteAccessKey " + idleKey, idleID + " iam:DeleteAccessKey " + idleKey2}, planned(p2)); diff != "" {
		t.Errorf("second plan (-want +got):\n%s", diff)
	}
	e.apply(p2)
	if o := p2.Outcome(); o.Failed+o.Skipped != 0 {
		t.Errorf("second run: %+v", o)
	}
	if n := e.planOrg().StepCount(); n != 0 {
		t.Errorf("third run plans %d changes", n)
	}
}

// TestAlreadyGone: a key deleted between plan and apply is reported as
// done, not as an error.
func TestAlreadyGone(t *testing.T) {
	e := start(t)
	p := e.planOrg()
	// Someone else deletes the key first, through their own session.
	sess := rootSession(t, e, unusedID)
	if _, err := iam.NewFromConfig(sess).DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(unusedKey)}); err != nil {
		t.Fatal(err)
	}
	e.apply(p)
	a := account(t, p, unusedID)
	if len(a.Results) != 1 || a.Results[0].Status != change.Succeeded || !strings.Contains(a.Results[0].Detail, "already gone") {
		t.Errorf("results %+v", a.Results)
	}
}

func rootSession(t *testing.T, e *env, id string) aws.Config {
	t.Helper()
	out, err := sts.NewFromConfig(e.cfg(mgmtAdmin)).AssumeRoot(t.Context(), &sts.AssumeRootInput{TargetPrincipal: aws.String(id),
		TaskPolicyArn: &ststypes.PolicyDescriptorType{Arn: aws.String("arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials")}})
	if err != nil {
		t.Fatal(err)
	}
	return awsemutest.ConfigFor(t, e.srv, aws.ToString(out.Credentials.AccessKeyId), quickRetries)
}

// TestSessionRenewedPastItsLife: a plan applied after its root sessions
// expired opens new ones; it never uses a session past its life.
func TestSessionRenewedPastItsLife(t *testing.T) {
	e := start(t)
	// A session of 61 seconds, which the credential cache (renewing a
	// minute early) already treats as expired one second later.
	p := e.planOrg(func(o *fix.Options) { o.RootSessionDuration = 61 * time.Second })
	planSessions := map[string]bool{}
	for _, c := range e.srv.Calls() {
		if c.Service == "iam" && c.CallerAccount == unusedID {
			planSessions[c.AccessKeyID] = true
		}
	}
	time.Sleep(1100 * time.Millisecond)
	e.srv.ResetCalls()
	e.apply(p)
	for _, c := range e.srv.Calls() {
		if c.Action == "DeleteAccessKey" && (planSessions[c.AccessKeyID] || c.Status != 200) {
			t.Errorf("DeleteAccessKey with session %s (used in planning: %v), status %d", c.AccessKeyID, planSessions[c.AccessKeyID], c.Status)
		}
	}
	if e.srv.CallCount("sts", "AssumeRoot") == 0 {
		t.Error("no new session was opened")
	}
	if o := p.Outcome(); o.Failed+o.Skipped != 0 || o.Succeeded != 3 {
		t.Errorf("outcome %+v", o)
	}
}

// TestManualCases: what Vigil cannot fix, it says why and names the case.
func TestManualCases(t *testing.T) {
	t.Run("IAM principal of a standalone account", func(t *testing.T) {
		e := start(t)
		p := e.planAccount(saOps)
		a := account(t, p, standalone)
		if a.Path != fix.PathManual || a.Manual.Case != fix.CaseOwnAccount || !strings.Contains(a.Manual.Why, "user/ops") || len(a.Steps) != 0 {
			t.Errorf("%+v %+v", a, a.Manual)
		}
		// The evidence: both report slots, with their last use.
		if len(a.Credentials) != 2 || a.Credentials[1].Report == nil || a.Credentials[1].Report.Region != "eu-central-1" {
			t.Errorf("evidence %+v", a.Credentials)
		}
		noMutations(t, e)
	})
	t.Run("IAM principal of a member account", func(t *testing.T) {
		e := start(t, func(w *awsemu.World) {
			w.Accounts[1].Users = []awsemu.User{{Name: "dev", AccessKeys: []awsemu.AccessKey{{ID: "AKIAIDLEDEVUSER00001"}}}}
		})
		a := account(t, e.planAccount("AKIAIDLEDEVUSER00001"), idleID)
		if a.Manual == nil || a.Manual.Case != fix.CaseMemberFromInside || !strings.Contains(a.Manual.Why, "vigil fix --org --accounts "+idleID) ||
			!strings.Contains(a.Manual.Why, mgmtID) {
			t.Errorf("%+v", a.Manual)
		}
		noMutations(t, e)
	})
	t.Run("centralised root access off", func(t *testing.T) {
		e := start(t, func(w *awsemu.World) {
			w.Organization.RootCredentialsManagement, w.Organization.RootSessions = false, false
		})
		p := e.planOrg()
		for _, id := range []string{idleID, busyID, unusedID} {
			if a := account(t, p, id); a.Manual == nil || a.Manual.Case != fix.CaseCentralOff || len(a.Steps) != 0 {
				t.Errorf("%s: %+v", id, a)
			}
		}
		if n := e.srv.CallCount("sts", "AssumeRoot"); n != 0 {
			t.Errorf("%d AssumeRoot calls with the feature off", n)
		}
		noMutations(t, e)
	})
	t.Run("AssumeRoot refused", func(t *testing.T) {
		// Root sessions on, credentials management off: the delete task
		// policy is refused (the emulator's reading of which feature gates
		// which task).
		e := start(t, func(w *awsemu.World) { w.Organization.RootCredentialsManagement = false })
		a := account(t, e.planOrg(), idleID)
		if a.Manual == nil || a.Manual.Case != fix.CaseAssumeRootRefused || !strings.Contains(a.Manual.Why, "AccessDenied") {
			t.Errorf("%+v", a.Manual)
		}
		noMutations(t, e)
	})
	t.Run("management account from the delegated administrator", func(t *testing.T) {
		e := start(t, func(w *awsemu.World) {
			w.Organization.DelegatedAdmins = []string{cleanID}
			w.Accounts[4].Users = []awsemu.User{{Name: "secops", AccessKeys: []awsemu.AccessKey{{ID: "AKIADELEGATEDADMIN01"}}}}
		})
		p, err := fix.PlanOrg(t.Context(), e.cfg("AKIADELEGATEDADMIN01"), fleet.Options{Logger: quiet()}, e.opts())
		if err != nil {
			t.Fatal(err)
		}
		a := account(t, p, mgmtID)
		if a.Manual == nil || a.Manual.Case != fix.CaseManagementUnreachable || len(a.Credentials) != 0 {
			t.Errorf("%+v %+v", a, a.Manual)
		}
		if len(account(t, p, idleID).Steps) != 2 {
			t.Error("the delegated administrator did not plan the members")
		}
		for _, c := range e.srv.Calls() {
			if c.Action == "AssumeRoot" && c.Params["TargetPrincipal"] == mgmtID {
				t.Error("AssumeRoot on the management account")
			}
		}
	})
	t.Run("temporary root credentials", func(t *testing.T) {
		e := start(t)
		// A session of root itself (as GetSessionToken would give): an
		// extra identity signing as root with an ASIA key.
		e2 := start(t, func(w *awsemu.World) {
			w.Credentials = append(w.Credentials, awsemu.Credential{AccessKeyID: "ASIASTANDALONEROOT01", AccountID: standalone, Principal: "root"})
		})
		_ = e
		a := account(t, e2.planAccount("ASIASTANDALONEROOT01"), standalone)
		if a.Manual == nil || a.Manual.Case != fix.CaseTemporaryRoot {
			t.Errorf("%+v", a.Manual)
		}
		noMutations(t, e2)
	})
	t.Run("GovCloud", func(t *testing.T) {
		e := start(t, func(w *awsemu.World) { w.Partition = "aws-us-gov" })
		a := account(t, e.planAccount(saOps), standalone)
		if a.Manual == nil || a.Manual.Case != fix.CaseGovCloud || !strings.Contains(a.Manual.Why, "GovCloud") {
			t.Errorf("%+v", a.Manual)
		}
	})
}

func noMutations(t *testing.T, e *env) {
	t.Helper()
	for _, c := range e.srv.Calls() {
		if awsemu.Mutating(c.Service, c.Action) {
			t.Errorf("mutating call %s:%s", c.Service, c.Action)
		}
	}
}

// TestFromSnapshot: with a saved scan, only what it recorded is acted on:
// a key added since is left alone, one gone since is reported, and
// accounts outside it are not touched.
func TestFromSnapshot(t *testing.T) {
	e := start(t)
	doc, err := fleet.Scan(t.Context(), e.cfg(mgmtAdmin), fleet.Options{Mode: fleet.ModeRoot, Logger: quiet(), Accounts: []string{idleID, busyID, mgmtID}})
	if err != nil {
		t.Fatal(err)
	}
	// Since the scan: one key gone, a new one in its place.
	if _, err := iam.NewFromConfig(rootSession(t, e, idleID)).DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(idleKey2)}); err != nil {
		t.Fatal(err)
	}
	created, err := iam.NewFromConfig(e.cfg(idleKey)).CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	newKey := aws.ToString(created.AccessKey.AccessKeyId)
	e.srv.ResetCalls()
	seen := fix.NewSeen(doc, "seen.json")
	p := e.planOrg(func(o *fix.Options) { o.Seen = seen; o.Force = true })
	if diff := cmp.Diff([]string{idleID + " iam:DeleteAccessKey " + idleKey, busyID + " iam:DeleteAccessKey " + busyKey}, planned(p)); diff != "" {
		t.Errorf("planned (-want +got):\n%s", diff)
	}
	a := account(t, p, idleID)
	if c := credential(t, a, newKey); c.Action != fix.ActUnseen || !strings.Contains(c.Reason, "seen.json") {
		t.Errorf("the new key %+v", c)
	}
	if c := credential(t, a, idleKey2); c.Action != fix.ActGone {
		t.Errorf("the deleted key %+v", c)
	}
	for _, acct := range p.Accounts {
		if acct.ID == unusedID || acct.ID == cleanID {
			t.Errorf("account %s, not in the snapshot, was planned", acct.ID)
		}
	}
	skipped := map[string]string{}
	for _, s := range p.Skipped {
		skipped[s.AccountID] = s.Reason
	}
	if !strings.Contains(skipped[unusedID], "not in the snapshot seen.json") {
		t.Errorf("skipped %v", skipped)
	}
	noMutations(t, e)
	e.apply(p)
	if k := rootKeys(t, e.srv, idleID); len(k) != 1 || k[newKey] == "" {
		t.Errorf("idle account keys after apply: %v", k)
	}
	if k := rootKeys(t, e.srv, unusedID); len(k) != 1 {
		t.Errorf("an account outside the snapshot was touched: %v", k)
	}
}

// TestFromCredentialReport: a snapshot holding only a credential report
// knows keys by slot; they are matched by creation time.
func TestFromCredentialReport(t *testing.T) {
	e := start(t)
	acct, err := collect.Account(t.Context(), collect.NewClients(e.cfg(saOps)), e.opts().Collect)
	if err != nil {
		t.Fatal(err)
	}
	acct.RootCredentials = nil // as a scan by an IAM user records it
	doc := collect.SingleAccountDocument(acct, e.now, "test", snapshot.Source{Kind: snapshot.SourceAWS})
	// A key created after the report.
	if _, err := iam.NewFromConfig(e.cfg(saKey1)).DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(saKey2)}); err != nil {
		t.Fatal(err)
	}
	created, err := iam.NewFromConfig(e.cfg(saKey1)).CreateAccessKey(t.Context(), &iam.CreateAccessKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCalls()
	p := e.planAccount(saKey1, func(o *fix.Options) { o.Seen = fix.NewSeen(doc, "report.json"); o.Delete, o.Force = true, true })
	a := account(t, p, standalone)
	if c := credential(t, a, aws.ToString(created.AccessKey.AccessKeyId)); c.Action != fix.ActUnseen {
		t.Errorf("new key %+v", c)
	}
	k1 := credential(t, a, saKey1)
	if k1.Report == nil || k1.Report.Region != "us-east-1" || !strings.Contains(k1.Report.Source, "credential report") {
		t.Errorf("signing key's report evidence %+v", k1.Report)
	}
	// The new key, unseen, stays: so the signing key is kept for last.
	if k1.Action != fix.ActLeave {
		t.Errorf("signing key %+v", k1)
	}
	gone := 0
	for _, c := range a.Credentials {
		if c.Action == fix.ActGone && c.Slot == 2 {
			gone++
		}
	}
	if gone != 1 {
		t.Errorf("the deleted key's slot is not reported gone: %+v", a.Credentials)
	}
	noMutations(t, e)
}

// TestOrgAsRoot: an organisation run signed as root stops at once, with
// what to do instead.
func TestOrgAsRoot(t *testing.T) {
	e := start(t)
	_, err := fix.PlanOrg(t.Context(), e.cfg(mgmtRoot), fleet.Options{Logger: quiet()}, e.opts())
	if err == nil || !strings.Contains(err.Error(), "run vigil fix without --org") {
		t.Errorf("err = %v", err)
	}
	noMutations(t, e)
}

// TestTargets: a list of profiles and roles, each account once, each on
// its path: root's own key, an IAM user, a role in a member account.
func TestTargets(t *testing.T) {
	e := start(t)
	base := e.cfg(mgmtAdmin)
	targets := []fleet.Target{
		{Label: "profile lonely-root", Config: e.cfg(saKey1)},
		{Label: "profile mgmt", Config: base},
		{Label: "role in idle", Config: base, RoleARN: "arn:aws:iam::" + idleID + ":role/" + trailRole},
		{Label: "role nowhere", Config: base, RoleARN: "arn:aws:iam::" + unusedID + ":role/Missing"},
		{Label: "profile ops, same account", Config: e.cfg(saOps)},
	}
	p, err := fix.PlanTargets(t.Context(), targets, fleet.TargetOptions{Logger: quiet()}, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]fix.Path{}
	for _, a := range p.Accounts {
		paths[a.ID] = a.Path
	}
	want := map[string]fix.Path{standalone: fix.PathRootKey, mgmtID: fix.PathManual, idleID: fix.PathManual, unusedID: fix.PathNone}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if a := account(t, p, idleID); a.Manual.Case != fix.CaseMemberFromInside {
		t.Errorf("role in a member: %+v", a.Manual)
	}
	if a := account(t, p, unusedID); len(a.Errors) != 1 || a.Errors[0].Call != "sts:AssumeRole" || !p.Failed() {
		t.Errorf("denied role: %+v", a.Errors)
	}
	noMutations(t, e)
}

// TestManualEvidenceUnreadable: an account Vigil cannot fix, whose
// summary and report cannot be read either, is still explained; the gap
// is a note, and the run does not fail for it.
func TestManualEvidenceUnreadable(t *testing.T) {
	e := start(t)
	e.srv.AddFault(awsemu.Fault{Service: "iam", Action: "GetAccountSummary", Code: "AccessDenied"})
	e.srv.AddFault(awsemu.Fault{Service: "iam", Action: "GenerateCredentialReport", Code: "AccessDenied"})
	p := e.planAccount(saOps)
	a := account(t, p, standalone)
	if a.Manual == nil || p.Failed() || !strings.Contains(strings.Join(a.Notes, "\n"), "not read: iam:GetAccountSummary: AccessDenied") {
		t.Errorf("%+v notes %v", a.Manual, a.Notes)
	}
}

// TestFromSnapshotNoOverlap: --accounts and the snapshot share no
// account: nothing is planned, and no account is entered.
func TestFromSnapshotNoOverlap(t *testing.T) {
	e := start(t)
	doc, err := fleet.Scan(t.Context(), e.cfg(mgmtAdmin), fleet.Options{Mode: fleet.ModeRoot, Logger: quiet(), Accounts: []string{idleID}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCalls()
	p, err := fix.PlanOrg(t.Context(), e.cfg(mgmtAdmin), fleet.Options{Logger: quiet(), Accounts: []string{busyID}}, e.opts(func(o *fix.Options) { o.Seen = fix.NewSeen(doc, "one.json") }))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Accounts) != 0 || len(p.Skipped) != 1 || p.Skipped[0].AccountID != busyID || e.srv.CallCount("sts", "AssumeRoot") != 0 {
		t.Errorf("plan %+v", p)
	}
}
