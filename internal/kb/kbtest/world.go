package kbtest

import (
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

// The estate's accounts.
const (
	OrgID        = "o-kbtest12345"
	RootID       = "r-kb12"
	OUID         = "ou-kb12-workload1"
	ManagementID = "111111111111"
	MemberID     = "222222222222" // root holds every kind of credential
	CleanID      = "333333333333" // root holds nothing (centralised root access)
	StandaloneID = "444444444444" // not in the organisation

	// IdentityCenterSAML and GitHubOIDC are the management account's
	// identity providers.
	IdentityCenterSAML = "AWSSSO_0123456789abcdef_DO_NOT_DELETE"
	GitHubOIDC         = "token.actions.githubusercontent.com"
)

// Signing keys. Secrets are not checked by the emulator.
const (
	ManagementAdminKey = "AKIAKBMGMTADMIN00001" // IAM user "admin" in the management account
	ManagementRootKey  = "AKIAKBMGMTROOTKEY001" // root of ManagementID, with Options.ManagementRootKey
	MemberAuditorKey   = "AKIAKBMEMBERAUDIT001" // IAM user "auditor" in MemberID
	MemberRootKey      = "AKIAKBMEMBERROOT0001" // root of MemberID, active, used
	CleanAuditorKey    = "AKIAKBCLEANAUDIT0001"
	StandaloneAuditor  = "AKIAKBSTANDAUDIT0001" // IAM user "auditor" in StandaloneID
	StandaloneRootKey1 = "AKIAKBSTANDROOT00001" // root of StandaloneID, active, used recently
	StandaloneRootKey2 = "AKIAKBSTANDROOT00002" // root of StandaloneID, active, never used
	// StandaloneInternKey belongs to IAM user "intern" of StandaloneID,
	// created 100 days ago with a console password and no MFA; neither
	// the key nor the password was ever used.
	StandaloneInternKey = "AKIAKBSTANDINTERN001"
	MemberCertID        = "KBMEMBERROOTCERTIFICATE00001"
	StandaloneCertID    = "KBSTANDALONEROOTCERTIFICATE1"
	MemberMFASerial     = "arn:aws:iam::" + MemberID + ":mfa/root-account-mfa-device"
	StandaloneMFA       = "arn:aws:iam::" + StandaloneID + ":mfa/root-account-mfa-device"
	ManagementMFA       = "GAHT11112222"
	// KeyUseRegion is where StandaloneRootKey1 was last used.
	KeyUseRegion = "eu-west-1"

	// The standalone account's regional state (iam-access-analyzer,
	// iam-analyzer-tags, ec2-instance-role, iam-expired-server-certificate):
	// an external access analyzer in us-east-1 only, tagged with its owner
	// (eu-west-1 has an unused-access analyzer, which does not count, with
	// only a system tag of CloudFormation's), af-south-1 not opted into; in
	// us-east-1 an instance with a role and one without; an expired
	// certificate and a valid one.
	ExpiredCertificate = "shop-2023"
	ValidCertificate   = "shop-2027"
	InstanceWithRole   = "i-0a1b2c3d4e5f60001"
	InstanceNoRole     = "i-0a1b2c3d4e5f60002"
	InstanceProfile    = "web-app"
	// UntaggedAnalyzer is the eu-west-1 analyzer without a tag of its own.
	UntaggedAnalyzer = "arn:aws:access-analyzer:eu-west-1:" + StandaloneID + ":analyzer/unused"
)

// Options vary the estate.
type Options struct {
	// NoCentralRootAccess leaves IAM without trusted access and both
	// centralised root access features off.
	NoCentralRootAccess bool
	// Partition is "aws" unless set.
	Partition string
	// NoSCPs leaves the SERVICE_CONTROL_POLICY type disabled on the
	// organisation root, so no SCP exists, not even FullAWSAccess.
	NoSCPs bool
	// ManagementRootKey gives the management account's root user an
	// inactive access key (ManagementRootKey, never used), which only the
	// account's own credential report and summary show.
	ManagementRootKey bool
	// SCPs are service control policies of the organisation besides the
	// AWS managed FullAWSAccess, which is attached everywhere unless NoSCPs.
	SCPs []awsemu.Policy
	// IAMEstate gives the standalone account the users, groups and
	// policies the pages of the IAM policy and access key rules work on
	// (iamestate.go).
	IAMEstate bool
}

// World returns the estate, dated relative to now.
func World(now time.Time, o Options) *awsemu.World {
	now = now.UTC().Truncate(time.Second)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	at := func(d time.Duration) *time.Time { t := ago(d); return &t }
	day := 24 * time.Hour
	org := &awsemu.Organization{
		ID: OrgID, ManagementAccountID: ManagementID, RootID: RootID,
		OUs:                       []awsemu.OU{{ID: OUID, Name: "Workloads", ParentID: RootID}},
		TrustedAccess:             []string{"iam.amazonaws.com"},
		RootCredentialsManagement: true,
		RootSessions:              true,
	}
	if o.NoCentralRootAccess {
		org.TrustedAccess, org.RootCredentialsManagement, org.RootSessions = nil, false, false
	}
	if o.NoSCPs {
		org.PolicyTypes = &[]string{}
	}
	org.Policies = append(org.Policies, o.SCPs...)
	auditor := func(key string) awsemu.User {
		return awsemu.User{Name: "auditor", CreateDate: ago(400 * day), AccessKeys: []awsemu.AccessKey{{ID: key, CreateDate: ago(400 * day)}}}
	}
	// An IAM user named "root" with its own virtual MFA: it must never be
	// mistaken for the root user.
	decoy := awsemu.User{Name: "root", CreateDate: ago(300 * day), Password: true, MFADevices: []awsemu.MFADevice{{Type: awsemu.MFAVirtual}}}
	var managementKeys []awsemu.AccessKey
	if o.ManagementRootKey {
		managementKeys = []awsemu.AccessKey{{ID: ManagementRootKey, CreateDate: ago(1000 * day), Status: awsemu.StatusInactive}}
	}
	w := &awsemu.World{
		Partition:    o.Partition,
		Organization: org,
		Accounts: []*awsemu.Account{
			{
				ID: ManagementID, Name: "management", JoinedMethod: "INVITED", JoinedTimestamp: ago(6 * 365 * day),
				Root: awsemu.Root{
					CreateDate: ago(6 * 365 * day), Password: true, PasswordLastUsed: at(90 * day), AccessKeys: managementKeys,
					MFADevices: []awsemu.MFADevice{{Type: awsemu.MFAHardware, Serial: ManagementMFA, EnableDate: ago(6 * 365 * day)}},
				},
				Users: []awsemu.User{{Name: "admin", CreateDate: ago(500 * day), AccessKeys: []awsemu.AccessKey{{ID: ManagementAdminKey, CreateDate: ago(500 * day)}}}},
				// People come in through IAM Identity Center, CI through
				// GitHub's OIDC provider; the standalone account has neither.
				SAMLProviders: []awsemu.SAMLProvider{{Name: IdentityCenterSAML, CreateDate: ago(2 * 365 * day)}},
				OIDCProviders: []awsemu.OIDCProvider{{URL: GitHubOIDC, CreateDate: ago(365 * day)}},
			},
			{
				ID: MemberID, Name: "production", ParentID: OUID, JoinedTimestamp: ago(3 * 365 * day),
				Root: awsemu.Root{
					CreateDate: ago(3 * 365 * day), Password: true, PasswordLastUsed: at(5 * day),
					AccessKeys: []awsemu.AccessKey{{ID: MemberRootKey, CreateDate: ago(3 * 365 * day),
						LastUsed: &awsemu.KeyLastUsed{Date: ago(40 * day), Region: "us-east-1", Service: "s3"}}},
					SigningCertificates: []awsemu.Cert{{ID: MemberCertID, UploadDate: ago(3 * 365 * day)}},
					MFADevices:          []awsemu.MFADevice{{Type: awsemu.MFAVirtual, EnableDate: ago(3 * 365 * day)}},
				},
				Users: []awsemu.User{auditor(MemberAuditorKey), decoy},
			},
			{
				ID: CleanID, Name: "sandbox", ParentID: OUID, JoinedTimestamp: ago(100 * day),
				Root:  awsemu.Root{CreateDate: ago(100 * day)},
				Users: []awsemu.User{auditor(CleanAuditorKey)},
			},
			{
				ID: StandaloneID, Name: "standalone", Standalone: true,
				Root: awsemu.Root{
					CreateDate: ago(8 * 365 * day), Password: true, PasswordLastUsed: at(3 * day),
					AccessKeys: []awsemu.AccessKey{
						{ID: StandaloneRootKey1, CreateDate: ago(8 * 365 * day), LastUsed: &awsemu.KeyLastUsed{Date: ago(2 * day), Region: KeyUseRegion, Service: "ec2"}},
						{ID: StandaloneRootKey2, CreateDate: ago(2 * 365 * day)},
					},
					SigningCertificates: []awsemu.Cert{{ID: StandaloneCertID, UploadDate: ago(7 * 365 * day)}},
					MFADevices:          []awsemu.MFADevice{{Type: awsemu.MFAVirtual, EnableDate: ago(8 * 365 * day)}},
				},
				Users: []awsemu.User{auditor(StandaloneAuditor), decoy,
					{Name: "intern", CreateDate: ago(100 * day), Password: true, AccessKeys: []awsemu.AccessKey{{ID: StandaloneInternKey, CreateDate: ago(100 * day)}}}},
				ServerCertificates: []awsemu.ServerCertificate{
					{Name: ExpiredCertificate, UploadDate: ago(800 * day), Expiration: ago(400 * day)},
					{Name: ValidCertificate, UploadDate: ago(100 * day), Expiration: now.Add(200 * day)},
				},
				Regions: []awsemu.Region{
					{Name: "us-east-1", Analyzers: []awsemu.Analyzer{{Name: "external", CreatedAt: ago(300 * day),
						Tags: []awsemu.Tag{{Key: "owner", Value: "security"}}}}, Instances: []awsemu.Instance{
						{ID: InstanceWithRole, Name: "web", InstanceProfile: InstanceProfile, LaunchTime: ago(30 * day)},
						{ID: InstanceNoRole, Name: "batch", LaunchTime: ago(60 * day)},
					}},
					{Name: "eu-west-1", Analyzers: []awsemu.Analyzer{{Name: "unused", Type: "ACCOUNT_UNUSED_ACCESS", CreatedAt: ago(300 * day),
						Tags: []awsemu.Tag{{Key: "aws:cloudformation:stack-name", Value: "access-review"}}}}},
					{Name: "af-south-1", OptIn: awsemu.NotOptedIn},
				},
			},
		},
	}
	if o.IAMEstate {
		addIAMEstate(w.Accounts[3], now, o.Partition)
	}
	return w
}

// Service control policies a world can start with (Options.SCPs), in the
// form the pages teach: every action denied to member accounts' root users
// except in centralised root sessions, and the floor that denies them
// creating access keys.
const (
	DenyRootPolicyID = "p-kbdenyroot01"
	RootKeysPolicyID = "p-kbrootkeys01"
	DenyRootContent  = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRootUserExceptCentralRootSessions","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"Null":{"aws:AssumedRoot":"true"}}}]}`
	RootKeysContent  = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRootAccessKeyCreation","Effect":"Deny","Action":"iam:CreateAccessKey","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}}}]}`
)

// DenyRootSCP is the deny-all policy attached to the targets.
func DenyRootSCP(targets ...string) awsemu.Policy {
	return awsemu.Policy{ID: DenyRootPolicyID, Name: "kb-deny-root-user", Type: awsemu.PolicyTypeSCP, Content: DenyRootContent, Targets: targets}
}

// RootKeysSCP is the key-creation policy attached to the targets.
func RootKeysSCP(targets ...string) awsemu.Policy {
	return awsemu.Policy{ID: RootKeysPolicyID, Name: "kb-deny-root-access-keys", Type: awsemu.PolicyTypeSCP, Content: RootKeysContent, Targets: targets}
}
