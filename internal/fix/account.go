package fix

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// planner plans accounts as a run reaches them.
type planner struct {
	o *Options
}

// account plans one reached account. It never fails: what could not be
// read is in the account's Errors, and a path Vigil cannot take is a
// manual one with the reason.
func (p *planner) account(ctx context.Context, r fleet.Reach) *Account {
	a := &Account{ID: r.AccountID, Name: r.Name, Partition: r.Partition, Credentials: []*Credential{}, Steps: []change.Step{}}
	if r.Membership != nil {
		a.Role = r.Membership.Role
	}
	if p.o.Seen != nil && !p.o.Seen.Has(a.ID) {
		a.Path = PathNone
		a.Notes = append(a.Notes, "not in the "+p.o.Seen.Source+": nothing is done in it")
		return a
	}
	switch {
	case r.Unreachable != nil:
		p.unreachable(ctx, a, r)
	case r.Access.Method == snapshot.AccessAssumeRoot:
		p.member(ctx, a, r)
	default:
		p.direct(ctx, a, r)
	}
	return a
}

// unreachable explains an account the run may not enter.
func (p *planner) unreachable(ctx context.Context, a *Account, r fleet.Reach) {
	g := r.Unreachable
	switch {
	case a.Role == snapshot.RoleManagement:
		p.manual(ctx, a, r, nil, CaseManagementUnreachable,
			"this is the organisation's management account: sts:AssumeRoot cannot target it, no other principal can remove its root user's credentials, and this run (from "+orDash(r.RunCaller)+") cannot reach it; its root user must do it, signed in to the console or with one of its own access keys (then run vigil fix with that key)")
	case g.Code == fleet.CodeFeatureOff:
		p.manual(ctx, a, r, nil, CaseCentralOff,
			"centralised root access is off in this organisation (iam:ListOrganizationsFeatures lists neither RootCredentialsManagement nor RootSessions), so sts:AssumeRoot cannot reach member accounts; enable it (steps below), then run vigil fix --org again")
	case g.Call == "sts:AssumeRole":
		a.Path = PathNone
		a.Errors = append(a.Errors, *g)
		a.Notes = append(a.Notes, "the role could not be assumed, so nothing in the account was read")
	default:
		a.Path = PathNone
		a.Errors = append(a.Errors, *g)
	}
}

// direct plans an account reached with credentials of its own: one of
// the root user's access keys (the root-key path), or anything else
// (manual).
func (p *planner) direct(ctx context.Context, a *Account, r fleet.Reach) {
	arn := r.CallerARN
	if arn == "" {
		out, err := sts.NewFromConfig(r.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			a.Path = PathNone
			a.Errors = append(a.Errors, collect.NewGap(snapshot.SectionAccess, "sts:GetCallerIdentity", err))
			return
		}
		arn = aws.ToString(out.Arn)
	}
	a.Caller = arn
	if a.Partition == "" {
		a.Partition = collect.PartitionOf(arn)
	}
	if !strings.HasSuffix(arn, ":root") {
		p.manual(ctx, a, r, &r.Config, "", "")
		return
	}
	creds, err := r.Config.Credentials.Retrieve(ctx)
	if err != nil {
		a.Path = PathNone
		a.Errors = append(a.Errors, collect.NewGap(snapshot.SectionAccess, "credential chain", err))
		return
	}
	if !strings.HasPrefix(creds.AccessKeyID, "AKIA") {
		p.manual(ctx, a, r, nil, CaseTemporaryRoot,
			"the run is signed as the root user, but with temporary credentials ("+creds.AccessKeyID+"), not with one of root's own access keys; Vigil acts on root's keys only when one of them signs the run, since it must know which key it is signing with to handle that one last")
		return
	}
	p.rootKey(ctx, a, r.Config, creds.AccessKeyID)
}

// member plans a member account through an AssumeRoot session with the
// delete task policy. The same session reads and, when the plan is
// applied, deletes; it renews itself if the plan waits past its life.
func (p *planner) member(ctx context.Context, a *Account, r fleet.Reach) {
	a.Caller = r.RunCaller
	cfg, g := fleet.RootSession(ctx, r.Base, r.Partition, a.ID, DeleteTaskPolicy, p.o.RootSessionDuration)
	if g != nil {
		if collect.KindOf(g.Code) == collect.KindDenied || g.Code == "ValidationError" {
			p.manual(ctx, a, r, nil, CaseAssumeRootRefused, fmt.Sprintf("sts:AssumeRoot with %s was refused (%s: %s); the caller needs sts:AssumeRoot with that task policy (vigil policy --for fix), the organisation needs centralised root credentials management, and no SCP may deny the account's root user without exempting AssumeRoot sessions",
				DeleteTaskPolicy, g.Code, g.Message))
			return
		}
		a.Path = PathNone
		a.Errors = append(a.Errors, *g)
		return
	}
	a.Path = PathAssumeRoot
	a.Via = "sts:AssumeRoot session with " + DeleteTaskPolicy
	c := iam.NewFromConfig(cfg)
	inv, gaps := collect.RootInventory(ctx, c, true)
	a.Errors = append(a.Errors, gaps...)

	// CloudTrail: the task policy cannot read it; a role in the member
	// account can.
	var trailCfg *aws.Config
	trailWhy := "not read: the " + DeleteTaskPolicy + " task policy does not allow cloudtrail:LookupEvents; pass --role NAME (a role in each member account allowed it: vigil policy --for fix --member-role) to list what used each key"
	if p.o.TrailRole != nil {
		roleARN := p.o.TrailRole.RoleARN(a.Partition, a.ID)
		rc, rg := fleet.RoleSession(ctx, r.Base, *p.o.TrailRole, roleARN)
		if rg != nil {
			trailWhy = fmt.Sprintf("not read: sts:AssumeRole %s failed (%s: %s)", roleARN, rg.Code, rg.Message)
		} else {
			trailCfg = &rc
		}
	}
	if trailCfg == nil && len(inv.AccessKeys) > 0 {
		a.Notes = append(a.Notes, "CloudTrail "+trailWhy)
	}
	keys := p.keys(ctx, a, inv, gaps, trailCfg, "")
	certs := p.certificates(a, inv)
	password := p.password(ctx, a, inv, c)
	mfa := p.mfa(a, inv, password)

	via := a.Via
	step := func(cr *Credential, s change.Step) {
		s.Account, s.Via = a.ID, via
		cr.Step = s.ID
		a.Steps = append(a.Steps, s)
	}
	for _, cr := range keys {
		if cr.Action == ActDelete {
			id := cr.ID
			step(cr, change.Step{ID: "access-key/" + id, Action: "iam:DeleteAccessKey", Target: id,
				Description: fmt.Sprintf("delete root access key %s (%s; %s)", id, cr.Status, cr.Reason),
				Warning:     "irreversible: the task policy cannot deactivate, so the key is deleted, and a deleted key cannot be restored",
				Run: runner(cfg, "deleted", func(ctx context.Context) error {
					_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(id)})
					return err
				})})
		}
	}
	for _, cr := range certs {
		if cr.Action == ActDelete {
			step(cr, deleteCertificateStep(cfg, c, cr.ID))
		}
	}
	var passwordStep string
	if password != nil && password.Action == ActDelete {
		step(password, change.Step{ID: "console-password", Action: "iam:DeleteLoginProfile", Target: "console password",
			Description: "delete the root user's console password",
			Warning:     "irreversible: the root user can no longer sign in to the console, until the management account allows password recovery (IAMCreateRootUserPassword)",
			Run: runner(cfg, "deleted", func(ctx context.Context) error {
				_, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{})
				return err
			})})
		passwordStep = password.Step
	}
	for _, cr := range mfa {
		if cr.Action == ActDeactivate {
			serial := cr.ID
			desc := "deactivate the root user's MFA device " + serial
			if cr.MFAType == string(snapshot.MFAVirtual) {
				desc += " (the virtual device stays in the account, unassigned: the task policy cannot delete it)"
			}
			s := change.Step{ID: "mfa-device/" + serial, Action: "iam:DeactivateMFADevice", Target: serial,
				Description: desc,
				Run: runner(cfg, "deactivated", func(ctx context.Context) error {
					_, err := c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: aws.String(serial)})
					return err
				})}
			if passwordStep != "" {
				// The console password goes first: if it cannot be deleted,
				// the MFA that protects it stays.
				s.DependsOn = []string{passwordStep}
			}
			step(cr, s)
		}
	}
}

// rootKey plans an account signed with one of its root user's own
// access keys.
func (p *planner) rootKey(ctx context.Context, a *Account, cfg aws.Config, signing string) {
	a.Path = PathRootKey
	a.Via = "root access key " + signing
	c := iam.NewFromConfig(cfg)
	// Login profile: not asked. With root's own key AWS requires a user
	// name there, which would name an IAM user, never root.
	inv, gaps := collect.RootInventory(ctx, c, false)
	a.Errors = append(a.Errors, gaps...)
	keys := p.keys(ctx, a, inv, gaps, &cfg, signing)
	certs := p.certificates(a, inv)
	if p.o.Password {
		a.Notes = append(a.Notes, "--password: not possible signed with root's own access key (AWS lets only sts:AssumeRoot sessions omit the user name on DeleteLoginProfile); sign in to the console as root to remove the password")
	}
	for _, d := range inv.MFADevices {
		cr := &Credential{Kind: KindMFA, ID: d.Serial, MFAType: string(d.Type), Created: d.EnableDate, Action: ActLeave,
			Reason: "left alone: MFA is not removed with root's own key (AWS lets only sts:AssumeRoot sessions omit the user name on DeactivateMFADevice)"}
		p.seenMFA(a, cr)
		a.Credentials = append(a.Credentials, cr)
	}

	var others []*Credential
	var sign *Credential
	remaining := 0 // root keys that will still exist after this run, besides the signing one
	for _, cr := range keys {
		switch {
		case cr.Signing:
			sign = cr
		case cr.Action == ActDelete:
			others = append(others, cr)
		case cr.Action == ActDeactivate:
			others = append(others, cr)
			remaining++
		case cr.Action == ActGone:
		default:
			remaining++
		}
	}
	var prior []string
	addStep := func(cr *Credential, s change.Step) {
		s.Account, s.Via = a.ID, a.Via
		cr.Step = s.ID
		prior = append(prior, s.ID)
		a.Steps = append(a.Steps, s)
	}
	keyStep := func(cr *Credential, last bool) change.Step {
		id := cr.ID
		s := change.Step{ID: "access-key/" + id, Target: id}
		if cr.Action == ActDeactivate {
			s.Action = "iam:UpdateAccessKey"
			s.Description = fmt.Sprintf("deactivate root access key %s (%s); reversible with update-access-key --status Active; run vigil fix again to delete it once nothing has broken", id, cr.Reason)
			s.Run = runner(cfg, "deactivated", func(ctx context.Context) error {
				_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(id), Status: iamtypes.StatusTypeInactive})
				return err
			})
		} else {
			s.Action = "iam:DeleteAccessKey"
			s.Description = fmt.Sprintf("delete root access key %s (%s; %s)", id, cr.Status, cr.Reason)
			s.Warning = "irreversible: a deleted key cannot be restored"
			s.Run = runner(cfg, "deleted", func(ctx context.Context) error {
				_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(id)})
				return err
			})
		}
		if last {
			w := "this is the key the run signs with: after this step the run has no access to account " + a.ID + " and does nothing more in it"
			if cr.Action == ActDeactivate {
				w += "; with no active root key left, delete it in the console signed in as root, or reactivate it and run vigil fix --delete"
			}
			if s.Warning != "" {
				w = s.Warning + "; " + w
			}
			s.Warning = w
		}
		return s
	}
	for _, cr := range others {
		addStep(cr, keyStep(cr, false))
	}
	for _, cr := range certs {
		if cr.Action == ActDelete {
			addStep(cr, deleteCertificateStep(cfg, c, cr.ID))
		}
	}
	if sign == nil {
		if inv.AccessKeys != nil {
			a.Notes = append(a.Notes, "the run signs with "+signing+", which is not among root's access keys")
		}
		return
	}
	if sign.Action == ActDelete || sign.Action == ActDeactivate {
		if remaining > 0 {
			sign.Reason = "left for last: other root access keys remain after this run, and Vigil needs this one to deal with them on a later run"
			sign.Action = ActLeave
			return
		}
		s := keyStep(sign, true)
		// Last, and only when everything before it worked: if anything
		// failed, the key is still needed to finish the job.
		s.DependsOn = append([]string(nil), prior...)
		addStep(sign, s)
	}
}

// deleteCertificateStep deletes one of the root user's signing
// certificates, alike on the AssumeRoot and the root-key path.
func deleteCertificateStep(cfg aws.Config, c *iam.Client, id string) change.Step {
	return change.Step{ID: "signing-certificate/" + id, Action: "iam:DeleteSigningCertificate", Target: id,
		Description: "delete root signing certificate " + id, Warning: "irreversible: a deleted certificate cannot be restored",
		Run: runner(cfg, "deleted", func(ctx context.Context) error {
			_, err := c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: aws.String(id)})
			return err
		})}
}

// keys reads the access keys' last use and CloudTrail events, and judges
// each with the guard. signing is the key the run signs with, if any.
func (p *planner) keys(ctx context.Context, a *Account, inv *snapshot.RootCredentials, gaps []snapshot.Gap, trailCfg *aws.Config, signing string) []*Credential {
	if inv.AccessKeys == nil {
		return nil // ListAccessKeys failed: in a.Errors
	}
	lastUsedErr := ""
	for _, g := range gaps {
		if g.Call == "iam:GetAccessKeyLastUsed" {
			lastUsedErr = "iam:GetAccessKeyLastUsed: " + g.Text()
		}
	}
	sa := p.seen(a)
	var out []*Credential
	for _, k := range inv.AccessKeys {
		cr := &Credential{Kind: KindAccessKey, ID: k.ID, Status: k.Status, Created: k.CreateDate, Signing: k.ID == signing, LastUsed: keyUse(k.LastUsed)}
		if cr.LastUsed == nil {
			cr.LastUsedError = lastUsedErr
		}
		a.Credentials = append(a.Credentials, cr)
		out = append(out, cr)
		if sa != nil {
			seen, report, why := sa.matchKey(k.ID, k.CreateDate)
			cr.Report = report
			if !seen {
				cr.Action, cr.Reason = ActUnseen, "not in the "+p.o.Seen.Source+" ("+why+"): left alone"
				continue
			}
		}
		if trailCfg != nil {
			cr.Events, cr.Trail = trailEvents(ctx, *trailCfg, a.Partition, cr, p.o)
		}
		act := ActDelete
		if a.Path == PathRootKey && k.Status == string(iamtypes.StatusTypeActive) && !p.o.Delete {
			act = ActDeactivate
		}
		cr.Action, cr.Reason = guard(cr, act, p.o)
	}
	if sa != nil {
		for _, g := range sa.goneKeys(inv.AccessKeys) {
			a.Credentials = append(a.Credentials, g)
			out = append(out, g)
		}
	}
	return out
}

func (p *planner) seen(a *Account) *seenAccount {
	if p.o.Seen == nil {
		return nil
	}
	return p.o.Seen.accounts[a.ID]
}

func (p *planner) certificates(a *Account, inv *snapshot.RootCredentials) []*Credential {
	var out []*Credential
	sa := p.seen(a)
	for _, c := range inv.SigningCertificates {
		cr := &Credential{Kind: KindCertificate, ID: c.ID, Status: c.Status, Created: c.UploadDate, Action: ActDelete, Reason: "asked for with --certificates"}
		switch {
		case !p.o.Certificates:
			cr.Action, cr.Reason = ActLeave, "left alone (add --certificates)"
		case sa != nil:
			if ok, why := sa.matchCert(c.ID, c.UploadDate); !ok {
				cr.Action, cr.Reason = ActUnseen, "not in the "+p.o.Seen.Source+" ("+why+"): left alone"
			}
		}
		a.Credentials = append(a.Credentials, cr)
		out = append(out, cr)
	}
	return out
}

// password reads root's console password in a member session; nil when
// there is none (or it could not be read: then in a.Errors).
func (p *planner) password(ctx context.Context, a *Account, inv *snapshot.RootCredentials, c MemberIAM) *Credential {
	if inv.LoginProfile == nil || !inv.LoginProfile.Present {
		return nil
	}
	cr := &Credential{Kind: KindPassword, Created: inv.LoginProfile.CreateDate, Action: ActDelete, Reason: "asked for with --password"}
	// Its last use is the last console sign-in, shown for the reader; the
	// guard is about access keys.
	if out, err := c.GetUser(ctx, &iam.GetUserInput{}); err == nil && out.User != nil {
		cr.LastUsed = &Use{Date: out.User.PasswordLastUsed, Source: "iam:GetUser (last console sign-in)"}
		if cr.LastUsed.Date != nil {
			t := cr.LastUsed.Date.UTC()
			cr.LastUsed.Date = &t
		}
	} else if err != nil {
		g := collect.NewGap(snapshot.SectionRootCredentials, "iam:GetUser", err)
		cr.LastUsedError = g.Text()
	}
	sa := p.seen(a)
	switch {
	case !p.o.Password:
		cr.Action, cr.Reason = ActLeave, "left alone (add --password)"
	case sa != nil:
		if ok, why := sa.matchPassword(); !ok {
			cr.Action, cr.Reason = ActUnseen, "not in the "+p.o.Seen.Source+" ("+why+"): left alone"
		}
	}
	a.Credentials = append(a.Credentials, cr)
	return cr
}

// mfa judges root's MFA devices in a member session. Deactivating MFA
// while a console password stays would leave the password alone on guard,
// so that is refused.
func (p *planner) mfa(a *Account, inv *snapshot.RootCredentials, password *Credential) []*Credential {
	var out []*Credential
	for _, d := range inv.MFADevices {
		cr := &Credential{Kind: KindMFA, ID: d.Serial, MFAType: string(d.Type), Created: d.EnableDate, Action: ActDeactivate, Reason: "asked for with --mfa"}
		switch {
		case !p.o.MFA:
			cr.Action, cr.Reason = ActLeave, "left alone (add --mfa)"
		case password != nil && password.Action != ActDelete:
			cr.Action, cr.Reason = ActRefuse, "refused: the console password stays, and removing its MFA would leave it unprotected; add --password to remove both (the password goes first)"
		case inv.LoginProfile == nil:
			cr.Action, cr.Reason = ActRefuse, "refused: whether root has a console password could not be read, and removing MFA from one would leave it unprotected"
		default:
			p.seenMFA(a, cr)
		}
		a.Credentials = append(a.Credentials, cr)
		out = append(out, cr)
	}
	return out
}

func (p *planner) seenMFA(a *Account, cr *Credential) {
	if sa := p.seen(a); sa != nil && cr.Action == ActDeactivate {
		if ok, why := sa.matchMFA(cr.ID); !ok {
			cr.Action, cr.Reason = ActUnseen, "not in the "+p.o.Seen.Source+" ("+why+"): left alone"
		}
	}
}

// manual plans an account Vigil cannot fix: why, and what it holds as
// far as the run can see (the account summary and credential report, read
// with cfg when there is one; else what the snapshot recorded).
func (p *planner) manual(ctx context.Context, a *Account, r fleet.Reach, cfg *aws.Config, c Case, why string) {
	a.Path = PathManual
	var evidence *snapshot.Account
	if cfg != nil {
		copts := p.o.Collect
		copts.Membership = r.Membership
		// The evidence is for the reader; nothing is planned from it, so
		// what cannot be read is a note, not a failure of the run.
		// Root's state is all the evidence needs: the regional reads would
		// cost a call per region, and they and the alternate contacts
		// permissions the fix's policy does not ask for.
		clients := collect.NewClients(*cfg)
		clients.EC2, clients.Analyzer, clients.Account = nil, nil, nil
		got, err := collect.Account(ctx, clients, copts)
		if err != nil {
			g := collect.NewGap(snapshot.SectionAccess, "sts:GetCallerIdentity", err)
			a.Notes = append(a.Notes, "what the root user holds could not be read: "+g.Call+": "+g.Text())
		} else {
			evidence = &got
			for _, g := range got.Gaps {
				if g.Section == snapshot.SectionSummary || g.Section == snapshot.SectionCredentialReport {
					a.Notes = append(a.Notes, "not read: "+g.Call+": "+g.Text())
				}
			}
			if a.Role == snapshot.RoleUnknown {
				a.Role = got.Role()
			}
		}
	}
	if c == "" {
		c, why = p.ownCase(a, evidence)
	}
	a.Manual = &Manual{Case: c, Why: why}
	switch sa := p.seen(a); {
	case evidence != nil:
		a.Credentials = append(a.Credentials, evidenceOf(evidence)...)
	case sa != nil:
		a.Notes = append(a.Notes, "what its root user holds is shown as the "+p.o.Seen.Source+" recorded it")
		a.Credentials = append(a.Credentials, evidenceOf(sa.acct)...)
	default:
		a.Notes = append(a.Notes, "this run cannot read the account, so what its root user holds is not shown; vigil scan run inside it says")
	}
}

// ownCase decides why an account reached with an IAM principal of its own
// cannot be fixed from there.
func (p *planner) ownCase(a *Account, acct *snapshot.Account) (Case, string) {
	who := "this run signs as " + a.Caller + ", not as the root user"
	switch {
	case a.Partition == "aws-us-gov":
		return CaseGovCloud, who + "; in AWS GovCloud (US) the root user cannot sign in to the console and holds only access keys, so only those keys can remove them: run vigil fix signed with one of them"
	case a.Role == snapshot.RoleMember:
		org := ""
		if acct != nil && acct.Org != nil && acct.Org.ManagementAccountID != "" {
			org = " (" + acct.Org.ManagementAccountID + ")"
		}
		return CaseMemberFromInside, who + "; this member account's root credentials can be removed centrally: from the management account" + org + " or the IAM delegated administrator, run vigil fix --org --accounts " + a.ID
	case a.Role == snapshot.RoleManagement:
		return CaseOwnAccount, who + "; sts:AssumeRoot cannot target an organisation's management account, so only its root user can remove them: signed in to the console, or with one of its access keys (then run vigil fix with that key)"
	}
	return CaseOwnAccount, who + "; only the root user can remove its own credentials, signed in to the console or with one of its access keys (then run vigil fix with that key)"
}

// evidenceOf lists what an account summary and credential report say the
// root user holds, for an account Vigil cannot fix.
func evidenceOf(acct *snapshot.Account) []*Credential {
	if acct == nil {
		return nil
	}
	var out []*Credential
	if inv := acct.RootCredentials; inv != nil && inv.AccessKeys != nil {
		for _, k := range inv.AccessKeys {
			out = append(out, &Credential{Kind: KindAccessKey, ID: k.ID, Status: k.Status, Created: k.CreateDate, LastUsed: keyUse(k.LastUsed), Action: ActManual})
		}
		return out
	}
	reported := false
	if cr := acct.CredentialReport; cr != nil && cr.Root != nil {
		src := cr.Label()
		for i, k := range cr.Root.AccessKeys {
			if !k.Present() {
				continue
			}
			reported = true
			c := &Credential{Kind: KindAccessKey, Slot: i + 1, Status: "Inactive", Action: ActManual, Report: &Use{Source: src, Region: k.LastUsedRegion, Service: k.LastUsedService}}
			if k.Active {
				c.Status = "Active"
			}
			if k.LastRotated.IsSet() {
				t := k.LastRotated.Time()
				c.Created = &t
			}
			if k.LastUsedDate.IsSet() {
				t := k.LastUsedDate.Time()
				c.Report.Date = &t
			}
			out = append(out, c)
		}
	}
	if s := acct.Summary; s != nil && s.AccessKeysPresent != nil && *s.AccessKeysPresent && !reported {
		out = append(out, &Credential{Kind: KindAccessKey, Action: ActManual, Reason: "the account summary says root holds access keys (AccountAccessKeysPresent = 1)"})
	}
	return out
}

// runner wraps a change: an answer that the credential is already gone is
// success (a second run finishes a first one's work), and the detail names
// the session that signed the change, so the member account's CloudTrail
// (userIdentity.type Root, accessKeyId ASIA…) can be matched to this run.
func runner(cfg aws.Config, done string, call func(context.Context) error) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		signer := ""
		if cfg.Credentials != nil {
			if creds, err := cfg.Credentials.Retrieve(ctx); err == nil {
				signer = " (signed by " + creds.AccessKeyID + ")"
			}
		}
		err := call(ctx)
		var none *iamtypes.NoSuchEntityException
		switch {
		case errors.As(err, &none):
			return "already gone: nothing to do" + signer, nil
		case err != nil:
			g := collect.NewGap("", "", err)
			msg := g.Text()
			if g.RequestID != "" {
				msg += " (request " + g.RequestID + ")"
			}
			return "", errors.New(msg)
		}
		return done + signer, nil
	}
}

func orDash(s string) string {
	if s == "" {
		return "another account"
	}
	return s
}
