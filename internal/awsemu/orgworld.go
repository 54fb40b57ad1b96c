package awsemu

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Keys that sign as the generated organisation's auditors.
const (
	// OrgWorldAdminKey is IAM user "vigil-admin" in the management account.
	OrgWorldAdminKey = "AKIAORGWORLDADMIN001"
	// OrgWorldDelegatedKey is IAM user "secops" in the IAM delegated
	// administrator account (the first member), when OrgWorldOptions asks
	// for one.
	OrgWorldDelegatedKey = "AKIAORGWORLDDELEG001"
)

// OrgWorldOptions shapes a generated organisation. Apart from Now, the
// zero value is a sensible default: two levels of four OUs, a read-only audit role named
// VigilAudit in every account, centralised root credentials management on,
// and a fresh credential report in every account.
type OrgWorldOptions struct {
	// Now dates everything (tests pass their reference time,
	// testclock.Ref). It is required: a world dated from a fixed day while
	// its scan runs on another clock would make results depend on the day
	// a test runs.
	Now time.Time
	// Seed picks each account's root-credential state; runs with the same
	// seed produce the same world.
	Seed uint64
	// Depth and Fanout shape the OU tree: Fanout OUs under the root, and
	// Fanout under each of those, Depth levels deep (defaults 2 and 4:
	// 20 OUs). Accounts are spread over the root and every OU.
	Depth, Fanout int
	// RoleName is the audit role created in every account ("VigilAudit"
	// unless set). NoRole lists accounts that lack it.
	RoleName string
	NoRole   []string
	// Suspended and Closed are how many of the members (taken from the
	// end of the list) are SUSPENDED or CLOSED.
	Suspended, Closed int
	// FeaturesOff leaves centralised root access off (trusted access for
	// IAM stays on, so the features can be read).
	FeaturesOff bool
	// RootSessions turns the RootSessions feature on too.
	RootSessions bool
	// DelegatedAdmin registers the first member as the IAM delegated
	// administrator, with an IAM user signing as OrgWorldDelegatedKey.
	DelegatedAdmin bool
	// StaleReports leaves accounts without a credential report, so a
	// scan must have each generated (the default is a report an hour old,
	// which a scan reuses in one call).
	StaleReports bool
}

// OrgWorldManagementID is the generated organisation's management account.
const OrgWorldManagementID = "100000000000"

// OrgWorldAccountID is the ID of the i-th member (0-based) of a generated
// organisation.
func OrgWorldAccountID(i int) string { return fmt.Sprintf("%012d", 200000000000+i) }

// Root-credential profiles of generated accounts, with their weights out
// of 100: what an organisation that adopted centralised root access a
// while ago looks like, plus the stragglers Vigil exists to find.
var orgWorldProfiles = []struct {
	name   string
	weight int
}{
	{"no-credentials", 40},       // created or cleaned up under centralised root access
	{"password-virtual-mfa", 22}, // the usual pre-2024 account
	{"password-hardware-mfa", 10},
	{"password-no-mfa", 10},
	{"active-key", 8}, // the critical finding, often with recent use
	{"inactive-key", 5},
	{"signing-certificate", 5},
}

// OrgWorld generates an organisation of n member accounts plus the
// management account, cheaply enough for thousands: OUs, a deterministic
// mix of root-credential states, an audit role in every account, and
// fresh credential reports. Tests and benchmarks scan it with the real
// SDK; OrgWorldProfile says which state an account was given.
func OrgWorld(n int, o OrgWorldOptions) *World {
	if o.Now.IsZero() {
		panic("awsemu: OrgWorldOptions.Now is required")
	}
	if o.Depth <= 0 {
		o.Depth = 2
	}
	if o.Fanout <= 0 {
		o.Fanout = 4
	}
	if o.RoleName == "" {
		o.RoleName = "VigilAudit"
	}
	now := o.Now.UTC().Truncate(time.Second)
	day := 24 * time.Hour
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed))

	org := &Organization{
		ID:                        "o-orgworld01",
		ManagementAccountID:       OrgWorldManagementID,
		RootID:                    "r-orgw",
		TrustedAccess:             []string{iamServicePrincipal},
		RootCredentialsManagement: !o.FeaturesOff,
		RootSessions:              !o.FeaturesOff && o.RootSessions,
	}
	parents := []string{org.RootID}
	level := []string{org.RootID}
	names := []string{"Security", "Infrastructure", "Workloads", "Sandbox", "Shared", "Policy-Staging", "Exceptions", "Deployments"}
	for d := 0; d < o.Depth; d++ {
		var next []string
		for _, p := range level {
			for f := 0; f < o.Fanout; f++ {
				id := fmt.Sprintf("ou-orgw-%08d", len(org.OUs)+1)
				name := names[f%len(names)]
				if d > 0 {
					name = fmt.Sprintf("%s-%d", name, f+1)
				}
				org.OUs = append(org.OUs, OU{ID: id, Name: name, ParentID: p})
				next = append(next, id)
				parents = append(parents, id)
			}
		}
		level = next
	}

	noRole := map[string]bool{}
	for _, id := range o.NoRole {
		noRole[id] = true
	}
	roles := func(id string) []Role {
		if noRole[id] {
			return nil
		}
		return []Role{{Name: o.RoleName}}
	}
	report := func(a *Account) {
		if !o.StaleReports {
			a.Report.Existing = &ExistingReport{GeneratedAt: now.Add(-time.Hour)}
		}
	}

	mgmt := &Account{
		ID: OrgWorldManagementID, Name: "management", Email: "aws-management@example.com",
		JoinedTimestamp: now.Add(-6 * 365 * day),
		Root: Root{CreateDate: now.Add(-6 * 365 * day), Password: true, PasswordLastUsed: ptr(now.Add(-90 * day)),
			MFADevices: []MFADevice{{Type: MFAHardware, Serial: "GAHT00000000", EnableDate: now.Add(-6 * 365 * day)}}},
		Users: []User{{Name: "vigil-admin", CreateDate: now.Add(-300 * day),
			AccessKeys: []AccessKey{{ID: OrgWorldAdminKey, CreateDate: now.Add(-300 * day)}}}},
		Roles: roles(OrgWorldManagementID),
	}
	report(mgmt)
	w := &World{Organization: org, Accounts: []*Account{mgmt}}

	for i := 0; i < n; i++ {
		id := OrgWorldAccountID(i)
		created := now.Add(-time.Duration(30+rng.IntN(2000)) * day)
		a := &Account{
			ID: id, Name: fmt.Sprintf("account-%05d", i), Email: fmt.Sprintf("aws+%05d@example.com", i),
			ParentID: parents[i%len(parents)], JoinedTimestamp: created,
			Root:  orgWorldRoot(OrgWorldProfile(o.Seed, i), i, created, now, rng),
			Roles: roles(id),
		}
		switch {
		case i >= n-o.Closed:
			a.State = StateClosed
		case i >= n-o.Closed-o.Suspended:
			a.State = StateSuspended
		}
		if i == 0 && o.DelegatedAdmin {
			org.DelegatedAdmins = []string{id}
			a.Users = []User{{Name: "secops", CreateDate: created,
				AccessKeys: []AccessKey{{ID: OrgWorldDelegatedKey, CreateDate: created}}}}
		}
		report(a)
		// Two enabled Regions and one not opted into: the regional reads
		// are exercised (five calls an account) without the default 17
		// Regions' 35 calls multiplying over thousands of accounts.
		a.Regions = []Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: NotOptedIn}}
		w.Accounts = append(w.Accounts, a)
	}
	return w
}

// OrgWorldProfile is the root-credential state OrgWorld gives the i-th
// member for a seed: one of "no-credentials", "password-virtual-mfa",
// "password-hardware-mfa", "password-no-mfa", "active-key",
// "inactive-key" and "signing-certificate". It depends on nothing else, so
// a benchmark can tell an account's expected call chain without the world.
func OrgWorldProfile(seed uint64, i int) string {
	r := rand.New(rand.NewPCG(seed^uint64(i)*0x9e3779b97f4a7c15, uint64(i)))
	pick := r.IntN(100)
	for _, p := range orgWorldProfiles {
		if pick < p.weight {
			return p.name
		}
		pick -= p.weight
	}
	return orgWorldProfiles[0].name
}

func orgWorldRoot(profile string, i int, created, now time.Time, rng *rand.Rand) Root {
	day := 24 * time.Hour
	r := Root{CreateDate: created}
	virtual := func() { r.MFADevices = []MFADevice{{Type: MFAVirtual, EnableDate: created.Add(day)}} }
	switch profile {
	case "no-credentials":
		return r
	case "password-virtual-mfa":
		r.Password = true
		virtual()
	case "password-hardware-mfa":
		r.Password = true
		r.MFADevices = []MFADevice{{Type: MFAHardware, Serial: fmt.Sprintf("GAHT%08d", i), EnableDate: created.Add(day)}}
	case "password-no-mfa":
		r.Password = true
	case "active-key":
		r.Password = true
		virtual()
		r.AccessKeys = []AccessKey{{ID: fmt.Sprintf("AKIAORGW%012d", i), CreateDate: created.Add(2 * day),
			LastUsed: &KeyLastUsed{Date: now.Add(-time.Duration(1+rng.IntN(200)) * day), Region: "us-east-1", Service: "ec2"}}}
	case "inactive-key":
		r.Password = true
		virtual()
		r.AccessKeys = []AccessKey{{ID: fmt.Sprintf("AKIAORGW%012d", i), Status: StatusInactive, CreateDate: created.Add(2 * day)}}
	case "signing-certificate":
		r.Password = true
		virtual()
		r.SigningCertificates = []Cert{{ID: fmt.Sprintf("ORGWCERT%012d", i), UploadDate: created.Add(3 * day)}}
	}
	if r.Password && rng.IntN(4) == 0 {
		r.PasswordLastUsed = ptr(now.Add(-time.Duration(1+rng.IntN(400)) * day))
	}
	return r
}

func ptr[T any](v T) *T { return &v }
