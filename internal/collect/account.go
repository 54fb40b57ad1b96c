package collect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Options tune a collection.
type Options struct {
	// ReportWait caps the time spent waiting for a credential report.
	ReportWait time.Duration
	// ReportFirstDelay and ReportMaxDelay bound the polling backoff.
	ReportFirstDelay, ReportMaxDelay time.Duration
	// Now and Sleep are injected so tests control time.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
	// Membership, when set, is the account's organisation membership as
	// an organisation scan already discovered it: the account's own
	// organizations:DescribeOrganization and iam:ListOrganizationsFeatures
	// calls are then skipped (a member account cannot read the features
	// anyway), so a member role needs neither permission.
	Membership *snapshot.Membership
	// Identity, when set, is who the clients sign as, as the caller
	// already learnt it (an organisation scan knows its own identity and
	// each role session's from the sts:AssumeRole answer): the account's
	// sts:GetCallerIdentity is then skipped, one call in five.
	Identity *Identity
}

// Identity is what sts:GetCallerIdentity says of a caller.
type Identity struct {
	Account, ARN, UserID string
}

// AccountOfARN is the account ID field of an ARN, or "".
func AccountOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// DefaultOptions are the settings used by the CLI unless told otherwise.
func DefaultOptions() Options {
	return Options{ReportWait: 60 * time.Second, ReportFirstDelay: 250 * time.Millisecond, ReportMaxDelay: 5 * time.Second}
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o Options) sleep(ctx context.Context, d time.Duration) error {
	if o.Sleep != nil {
		return o.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Account collects one account's root-credential state.
//
// All independent calls start at once: the caller identity, the account
// summary, the credential report, the virtual MFA devices, the
// authorization details, the password policy, the server certificates,
// the regions (then every enabled region's analyzers and instances), the
// alternate contacts, the identity providers and the organisation, so the
// scan's wall time is its longest chain of dependent round trips (usually
// the credential report), not the sum of its calls.
//
// The returned error is non-nil only when the account cannot be identified
// at all (no or rejected credentials); every other failure is a gap.
func Account(ctx context.Context, c Clients, o Options) (snapshot.Account, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		acct     snapshot.Account
		caller   *sts.GetCallerIdentityOutput
		callErr  error
		devices  []iamtypes.VirtualMFADevice
		devErr   error
		features *snapshot.OrgFeatures
	)
	addGap := func(g snapshot.Gap) {
		mu.Lock()
		acct.AddGap(g)
		mu.Unlock()
	}
	run := func(f func()) {
		wg.Add(1)
		spawn(func() { defer wg.Done(); f() })
	}

	if id := o.Identity; id != nil {
		caller = &sts.GetCallerIdentityOutput{Account: aws.String(id.Account), Arn: aws.String(id.ARN), UserId: aws.String(id.UserID)}
	} else {
		run(func() { caller, callErr = c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}) })
	}
	run(func() {
		out, err := c.IAM.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			addGap(gap(snapshot.SectionSummary, "iam:GetAccountSummary", err))
			return
		}
		acct.Summary = summaryFrom(out.SummaryMap)
	})
	run(func() {
		cr, g := credentialReport(ctx, c.IAM, o)
		acct.CredentialReport = cr
		if g != nil {
			addGap(*g)
		}
	})
	run(func() { devices, devErr = listVirtualMFA(ctx, c.IAM) })
	run(func() {
		d, g := IAMDetails(ctx, c.IAM)
		acct.IAM = d
		if g != nil {
			addGap(*g)
		}
	})
	run(func() {
		sc, g := ServerCertificates(ctx, c.IAM)
		acct.ServerCertificates = sc
		if g != nil {
			addGap(*g)
		}
	})
	if c.EC2 != nil && c.Analyzer != nil {
		run(func() {
			regions, gaps := Regions(ctx, c.EC2, c.Analyzer)
			acct.Regions = regions
			for _, g := range gaps {
				addGap(g)
			}
		})
	}
	run(func() {
		ip, gaps := IdentityProviders(ctx, c.IAM)
		acct.IdentityProviders = ip
		for _, g := range gaps {
			addGap(g)
		}
	})
	if c.Account != nil {
		run(func() {
			ac, gaps := AlternateContacts(ctx, c.Account)
			acct.AlternateContacts = ac
			for _, g := range gaps {
				addGap(g)
			}
		})
	}
	run(func() {
		pp, g := PasswordPolicy(ctx, c.IAM)
		acct.PasswordPolicy = pp
		if g != nil {
			addGap(*g)
		}
	})
	if o.Membership != nil {
		m := *o.Membership
		acct.Org = &m
	} else {
		run(func() {
			m, g := membership(ctx, c.Orgs)
			acct.Org = m
			if g != nil {
				addGap(*g)
			}
		})
		run(func() {
			f, g := OrgFeatures(ctx, c.IAM)
			features = f
			if g != nil {
				addGap(*g)
			}
		})
	}
	wg.Wait()
	if devErr != nil {
		// Recorded before the identity is checked, so that an account that
		// could not be identified still names every call that failed.
		acct.AddGap(gap(snapshot.SectionRootVirtualMFA, "iam:ListVirtualMFADevices", devErr))
	}

	if callErr != nil {
		switch kind, code := Classify(callErr); kind {
		case KindCredentials:
			return acct, &CredentialError{Call: "sts:GetCallerIdentity", Code: code, Err: callErr}
		case KindCancelled:
			return acct, callErr
		case KindTimeout:
			return acct, fmt.Errorf("cannot identify the account: %w", &CallError{Call: "sts:GetCallerIdentity", Err: callErr})
		}
		return acct, Explain("cannot identify the account (sts:GetCallerIdentity)", callErr)
	}
	arn := aws.ToString(caller.Arn)
	acct.ID = aws.ToString(caller.Account)
	acct.Partition = PartitionOf(arn)
	acct.Caller = &snapshot.Caller{ARN: arn, UserID: aws.ToString(caller.UserId), IsRoot: strings.HasSuffix(arn, ":root")}
	if acct.Org != nil && acct.Org.Role == snapshot.RoleUnknown {
		acct.Org.Role = snapshot.RoleMember
		if acct.Org.ManagementAccountID == acct.ID {
			acct.Org.Role = snapshot.RoleManagement
		}
	}
	if acct.Org != nil && features != nil {
		acct.Org.Features = features
	}

	if devErr == nil {
		acct.RootVirtualMFA = rootVirtualMFA(devices, acct.RootARN())
	}

	// Signed by root itself: its own credentials can be listed exactly.
	if acct.Caller.IsRoot {
		inv, gaps := RootInventory(ctx, c.IAM, false)
		acct.RootCredentials = inv
		for _, g := range gaps {
			acct.AddGap(g)
		}
	}
	return acct, nil
}

// PartitionOf reads the partition from an ARN ("" when arn is not one);
// it is never assumed to be "aws", because GovCloud and China accounts
// differ in what applies.
func PartitionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" {
		return ""
	}
	return parts[1]
}

func summaryFrom(m map[string]int32) *snapshot.Summary {
	get := func(k iamtypes.SummaryKeyType) *bool {
		v, ok := m[string(k)]
		if !ok {
			return nil
		}
		b := v > 0
		return &b
	}
	return &snapshot.Summary{
		AccessKeysPresent:          get(iamtypes.SummaryKeyTypeAccountAccessKeysPresent),
		MFAEnabled:                 get(iamtypes.SummaryKeyTypeAccountMFAEnabled),
		PasswordPresent:            get(iamtypes.SummaryKeyTypeAccountPasswordPresent),
		SigningCertificatesPresent: get(iamtypes.SummaryKeyTypeAccountSigningCertificatesPresent),
	}
}

// iamMaxItems is the largest page IAM's list calls return.
const iamMaxItems = 1000

func listVirtualMFA(ctx context.Context, c IAM) ([]iamtypes.VirtualMFADevice, error) {
	var all []iamtypes.VirtualMFADevice
	// One device per user with virtual MFA: IAM's largest page (1,000,
	// against a default of 100) keeps the calls per account from growing
	// with users.
	p := iam.NewListVirtualMFADevicesPaginator(c, &iam.ListVirtualMFADevicesInput{AssignmentStatus: iamtypes.AssignmentStatusTypeAssigned, MaxItems: aws.Int32(iamMaxItems)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, page.VirtualMFADevices...)
	}
	return all, nil
}

// rootVirtualMFA keeps the devices assigned to the root user, matched by
// the root ARN. Matching by name would be wrong twice: root has no user
// name, and an IAM user may be called "root".
func rootVirtualMFA(devices []iamtypes.VirtualMFADevice, rootARN string) *snapshot.RootVirtualMFA {
	out := &snapshot.RootVirtualMFA{Devices: []snapshot.MFADevice{}}
	for _, d := range devices {
		if d.User == nil || aws.ToString(d.User.Arn) != rootARN {
			continue
		}
		out.Devices = append(out.Devices, snapshot.MFADevice{Serial: aws.ToString(d.SerialNumber), Type: snapshot.MFAVirtual, EnableDate: utc(d.EnableDate)})
	}
	return out
}

func membership(ctx context.Context, c Organizations) (*snapshot.Membership, *snapshot.Gap) {
	out, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		var notInUse *orgtypes.AWSOrganizationsNotInUseException
		if errors.As(err, &notInUse) {
			return &snapshot.Membership{Role: snapshot.RoleStandalone}, nil
		}
		g := gap(snapshot.SectionOrganization, "organizations:DescribeOrganization", err)
		return nil, &g
	}
	// The caller's account is not known yet; Account resolves the role.
	org := out.Organization
	return &snapshot.Membership{OrganizationID: aws.ToString(org.Id), ManagementAccountID: aws.ToString(org.MasterAccountId)}, nil
}

// OrgFeatures reads the organisation's centralised root access features.
// Without trusted access for IAM neither feature can be on, which is an
// answer, not a gap; outside an organisation there is nothing to read.
func OrgFeatures(ctx context.Context, c OrgFeaturesIAM) (*snapshot.OrgFeatures, *snapshot.Gap) {
	out, err := c.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
	if err != nil {
		var noAccess *iamtypes.ServiceAccessNotEnabledException
		var noOrg *iamtypes.OrganizationNotFoundException
		switch {
		case errors.As(err, &noAccess):
			// Without trusted access for IAM neither feature can be on.
			off := false
			return &snapshot.OrgFeatures{TrustedAccessIAM: &off}, nil
		case errors.As(err, &noOrg):
			return nil, nil
		}
		g := gap(snapshot.SectionOrgFeatures, "iam:ListOrganizationsFeatures", err)
		return nil, &g
	}
	on := true
	f := &snapshot.OrgFeatures{TrustedAccessIAM: &on}
	for _, feat := range out.EnabledFeatures {
		switch feat {
		case iamtypes.FeatureTypeRootCredentialsManagement:
			f.RootCredentialsManagement = true
		case iamtypes.FeatureTypeRootSessions:
			f.RootSessions = true
		}
	}
	return f, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// SingleAccountDocument wraps one collected account in a snapshot. When the
// account is its organisation's management account, the organisation's own
// settings were readable from it, so they become the document's
// organisation and the organisation-level rules can run.
func SingleAccountDocument(acct snapshot.Account, collectedAt time.Time, toolVersion string, src snapshot.Source) *snapshot.Document {
	doc := snapshot.New(collectedAt, toolVersion, src)
	doc.Accounts = append(doc.Accounts, acct)
	if m := acct.Org; m != nil && m.Role == snapshot.RoleManagement {
		doc.Organization = &snapshot.Organization{ID: m.OrganizationID, ManagementAccountID: acct.ID, Features: m.Features}
		if g := acct.GapFor(snapshot.SectionOrgFeatures); g != nil {
			doc.Organization.Gaps = append(doc.Organization.Gaps, *g)
		}
	}
	return doc
}
