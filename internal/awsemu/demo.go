package awsemu

import "time"

// Demo access keys: sign as these to explore DemoWorld.
const (
	DemoManagementRootKey  = "AKIADEMOMGMTROOT0001" // the management account's root user (active key)
	DemoManagementAdminKey = "AKIADEMOMGMTADMIN001" // IAM user "vigil-admin" in the management account
)

// DemoWorld is a small organization with the root-credential situations
// Vigil exists to find, dated relative to now so "last used" reads as
// recent: a management account whose root has an active key and a virtual
// MFA; a production member whose root has an inactive key and a password
// but no MFA, beside an IAM user named "root"; a member cleaned up under
// centralized root access; a legacy member with a hardware MFA and a
// signing certificate; a suspended account; and a delegated administrator.
// Centralized root credentials management is on; root sessions are off.
// The binary's --demo mode and examples use it.
func DemoWorld(now time.Time) *World {
	now = now.UTC().Truncate(time.Second)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	day := 24 * time.Hour
	at := func(d time.Duration) *time.Time { t := ago(d); return &t }
	w := &World{
		Organization: &Organization{
			ID:                        "o-demo1234567",
			ManagementAccountID:       "111111111111",
			RootID:                    "r-demo",
			OUs:                       []OU{{ID: "ou-demo-workload1", Name: "Workloads", ParentID: "r-demo"}},
			TrustedAccess:             []string{"iam.amazonaws.com"},
			RootCredentialsManagement: true,
			DelegatedAdmins:           []string{"222222222222"},
		},
		Accounts: []*Account{
			{
				ID: "111111111111", Name: "management", Email: "aws-management@example.com", Alias: "example-mgmt",
				JoinedTimestamp: ago(5 * 365 * day),
				Root: Root{
					CreateDate: ago(5 * 365 * day), Password: true, PasswordLastUsed: at(40 * day),
					AccessKeys: []AccessKey{{
						ID: DemoManagementRootKey, CreateDate: ago(5*365*day - time.Hour),
						LastUsed: &KeyLastUsed{Date: ago(2 * day), Region: "us-east-1", Service: "ec2"},
					}},
					MFADevices: []MFADevice{{Type: MFAVirtual, EnableDate: ago(5*365*day - 2*time.Hour)}},
				},
				Users: []User{{
					Name: "vigil-admin", CreateDate: ago(300 * day),
					AccessKeys: []AccessKey{{ID: DemoManagementAdminKey, CreateDate: ago(300 * day),
						LastUsed: &KeyLastUsed{Date: ago(time.Hour), Region: "us-east-1", Service: "iam"}}},
				}},
				Roles: []Role{{Name: "VigilAudit"}},
			},
			{
				ID: "222222222222", Name: "security", Email: "aws-security@example.com", ParentID: "ou-demo-workload1",
				JoinedTimestamp: ago(4 * 365 * day),
				Root:            Root{CreateDate: ago(4 * 365 * day), Password: true, MFADevices: []MFADevice{{Type: MFAVirtual, EnableDate: ago(4 * 365 * day)}}},
				Roles:           []Role{{Name: "OrganizationAccountAccessRole"}, {Name: "VigilAudit"}},
			},
			{
				ID: "333333333333", Name: "production", Email: "aws-prod@example.com", ParentID: "ou-demo-workload1",
				JoinedTimestamp: ago(3 * 365 * day),
				Root: Root{
					CreateDate: ago(3 * 365 * day), Password: true, PasswordLastUsed: at(200 * day),
					AccessKeys: []AccessKey{{ID: "AKIADEMOPRODROOT0001", Status: StatusInactive, CreateDate: ago(3*365*day - day),
						LastUsed: &KeyLastUsed{Date: ago(400 * day), Region: "eu-west-1", Service: "s3"}}},
				},
				Users: []User{
					{Name: "root", CreateDate: ago(500 * day), Password: true, PasswordLastUsed: at(3 * day)},
					{Name: "ci-deployer", CreateDate: ago(700 * day), AccessKeys: []AccessKey{
						{ID: "AKIADEMOPRODCI000001", CreateDate: ago(700 * day), LastUsed: &KeyLastUsed{Date: ago(day), Region: "eu-west-1", Service: "cloudformation"}},
						{ID: "AKIADEMOPRODCI000002", CreateDate: ago(90 * day)},
					}},
				},
				Roles: []Role{{Name: "OrganizationAccountAccessRole"}, {Name: "VigilAudit"}},
			},
			{
				ID: "444444444444", Name: "sandbox", Email: "aws-sandbox@example.com", ParentID: "ou-demo-workload1",
				JoinedTimestamp: ago(200 * day),
				Root:            Root{CreateDate: ago(200 * day)},
				Roles:           []Role{{Name: "OrganizationAccountAccessRole"}, {Name: "VigilAudit"}},
			},
			{
				ID: "555555555555", Name: "legacy", Email: "aws-legacy@example.com",
				JoinedMethod: "INVITED", JoinedTimestamp: ago(6 * 365 * day),
				Root: Root{
					CreateDate: ago(8 * 365 * day), Password: true, PasswordLastUsed: at(900 * day),
					MFADevices:          []MFADevice{{Type: MFAHardware, Serial: "GAHT12345678", EnableDate: ago(7 * 365 * day)}},
					SigningCertificates: []Cert{{ID: "DEMOLEGACYCERT000001", UploadDate: ago(7 * 365 * day)}},
				},
				Roles: []Role{{Name: "OrganizationAccountAccessRole"}, {Name: "VigilAudit"}},
			},
			{
				ID: "666666666666", Name: "closed-project", Email: "aws-closed@example.com", State: StateSuspended,
				ParentID: "ou-demo-workload1", JoinedTimestamp: ago(1000 * day),
				Root: Root{CreateDate: ago(1000 * day)},
			},
		},
	}
	demoRegional(w, now)
	return w
}
