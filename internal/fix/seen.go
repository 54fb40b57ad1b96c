package fix

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Seen is what a saved snapshot recorded of each account's root
// credentials. A run limited by it acts only on credentials the snapshot
// recorded: one that appeared since is left alone and named, one that is
// gone is reported as done.
//
// Credentials are matched by ID when the snapshot holds an exact inventory
// (read in an sts:AssumeRoot session or with root's own key). A snapshot
// that holds only a credential report knows keys and certificates by
// their slot, so they are matched by creation time, which the report
// gives to the second as last_rotated (root keys cannot be rotated in
// place, so a key's last_rotated is its creation); a snapshot that holds
// only the account summary knows that keys exist, not which, and matches
// none.
type Seen struct {
	// Source names the snapshot for people: its file and collection time.
	Source   string
	accounts map[string]*seenAccount
	order    []string
	// orgs are the organisations the snapshot records, sorted.
	orgs []string
}

// ErrSnapshotMismatch is returned when a snapshot is not of what the
// run's credentials reach: acting on another organisation's or account's
// record would be acting on a guess.
var ErrSnapshotMismatch = errors.New("the snapshot is not of what these credentials reach")

// checkOrganization refuses a snapshot that records organisations, none
// of them orgID, the organisation of the caller.
func (s *Seen) checkOrganization(orgID string) error {
	if len(s.orgs) == 0 || slices.Contains(s.orgs, orgID) {
		return nil
	}
	return fmt.Errorf("%w: the %s is of organization %s, but these credentials are of organization %s; nothing was changed: scan this organisation (vigil scan --org --save) and use that snapshot",
		ErrSnapshotMismatch, s.Source, strings.Join(s.orgs, ", "), orgID)
}

// checkReached refuses a run none of whose accounts is in the snapshot:
// there would be nothing it may do, and the likelier story is the wrong
// file or the wrong credentials.
func (s *Seen) checkReached(ids []string) error {
	for _, id := range ids {
		if s.Has(id) {
			return nil
		}
	}
	what := "no account"
	if len(ids) > 0 {
		what = "account(s) " + strings.Join(ids, ", ")
	}
	return fmt.Errorf("%w: the %s holds account(s) %s, but these credentials reach %s; nothing was changed",
		ErrSnapshotMismatch, s.Source, strings.Join(s.order, ", "), what)
}

type seenAccount struct {
	acct       *snapshot.Account
	exactKeys  map[string]snapshot.AccessKey // nil unless the inventory was read
	exactCerts map[string]bool
	exactMFA   map[string]bool
	password   *bool
	// From the credential report, when there was no inventory.
	reportKeys  []reportSlot
	reportCerts []reportSlot
	reportAt    string
	// From the account summary.
	keysPresent, certsPresent *bool
}

type reportSlot struct {
	slot    int
	created time.Time
	active  bool
	use     *Use
}

// NewSeen reads what a snapshot recorded. name is how to call it (the
// file).
func NewSeen(doc *snapshot.Document, name string) *Seen {
	s := &Seen{Source: fmt.Sprintf("snapshot %s (collected %s)", name, doc.CollectedAt.UTC().Format(time.RFC3339)), accounts: map[string]*seenAccount{}}
	orgs := map[string]bool{}
	if doc.Organization != nil && doc.Organization.ID != "" {
		orgs[doc.Organization.ID] = true
	}
	for i := range doc.Accounts {
		a := &doc.Accounts[i]
		s.accounts[a.ID] = seenOf(a)
		s.order = append(s.order, a.ID)
		if a.Org != nil && a.Org.OrganizationID != "" {
			orgs[a.Org.OrganizationID] = true
		}
	}
	sort.Strings(s.order)
	for id := range orgs {
		s.orgs = append(s.orgs, id)
	}
	sort.Strings(s.orgs)
	return s
}

// AccountIDs are the accounts the snapshot holds, sorted.
func (s *Seen) AccountIDs() []string { return append([]string(nil), s.order...) }

// Has reports whether the snapshot holds an account.
func (s *Seen) Has(id string) bool { return s.accounts[id] != nil }

func seenOf(a *snapshot.Account) *seenAccount {
	sa := &seenAccount{acct: a}
	if s := a.Summary; s != nil {
		sa.keysPresent, sa.certsPresent, sa.password = s.AccessKeysPresent, s.SigningCertificatesPresent, s.PasswordPresent
	}
	if inv := a.RootCredentials; inv != nil {
		if inv.AccessKeys != nil {
			sa.exactKeys = map[string]snapshot.AccessKey{}
			for _, k := range inv.AccessKeys {
				sa.exactKeys[k.ID] = k
			}
		}
		if inv.SigningCertificates != nil {
			sa.exactCerts = map[string]bool{}
			for _, c := range inv.SigningCertificates {
				sa.exactCerts[c.ID] = true
			}
		}
		if inv.MFADevices != nil {
			sa.exactMFA = map[string]bool{}
			for _, d := range inv.MFADevices {
				sa.exactMFA[d.Serial] = true
			}
		}
		if inv.LoginProfile != nil {
			p := inv.LoginProfile.Present
			sa.password = &p
		}
	}
	if sa.exactMFA == nil && a.RootVirtualMFA != nil {
		// The virtual devices assigned to root, from ListVirtualMFADevices;
		// hardware devices are not listed there, so MFA is only known for
		// sure when the report says root has none.
		sa.exactMFA = map[string]bool{}
		for _, d := range a.RootVirtualMFA.Devices {
			sa.exactMFA[d.Serial] = true
		}
	}
	if cr := a.CredentialReport; cr != nil && cr.Root != nil {
		sa.reportAt = cr.Label()
		for i, k := range cr.Root.AccessKeys {
			if !k.Present() || !k.LastRotated.IsSet() {
				continue
			}
			rs := reportSlot{slot: i + 1, created: k.LastRotated.Time(), active: k.Active, use: &Use{Source: sa.reportAt}}
			if k.LastUsedDate.IsSet() {
				d := k.LastUsedDate.Time()
				rs.use.Date = &d
			}
			rs.use.Region, rs.use.Service = k.LastUsedRegion, k.LastUsedService
			sa.reportKeys = append(sa.reportKeys, rs)
		}
		for i, c := range cr.Root.Certificates {
			if c.Present() && c.LastRotated.IsSet() {
				sa.reportCerts = append(sa.reportCerts, reportSlot{slot: i + 1, created: c.LastRotated.Time(), active: c.Active})
			}
		}
		if !cr.Root.MFAActive && sa.exactMFA == nil {
			sa.exactMFA = map[string]bool{}
		}
	}
	return sa
}

// match says whether the snapshot recorded a live credential, and what it
// knew of it. reason explains a credential it did not record.
func (sa *seenAccount) matchKey(id string, created *time.Time) (seen bool, report *Use, reason string) {
	if sa.exactKeys != nil {
		_, ok := sa.exactKeys[id]
		return ok, nil, "the snapshot's inventory of root's keys does not list it"
	}
	if len(sa.reportKeys) > 0 || sa.reportAt != "" {
		for _, rs := range sa.reportKeys {
			if created != nil && rs.created.Equal(created.UTC().Truncate(time.Second)) {
				return true, rs.use, ""
			}
		}
		return false, nil, "no key created at that time in the snapshot's " + sa.reportAt
	}
	if sa.keysPresent != nil && *sa.keysPresent {
		return false, nil, "the snapshot knows only that root had access keys (account summary), not which; rescan with --assume-root or with root's own key, or run without --from"
	}
	return false, nil, "the snapshot recorded no root access key in this account"
}

func (sa *seenAccount) matchCert(id string, uploaded *time.Time) (bool, string) {
	if sa.exactCerts != nil {
		return sa.exactCerts[id], "the snapshot's inventory does not list it"
	}
	for _, rs := range sa.reportCerts {
		if uploaded != nil && rs.created.Equal(uploaded.UTC().Truncate(time.Second)) {
			return true, ""
		}
	}
	if sa.certsPresent != nil && *sa.certsPresent && len(sa.reportCerts) == 0 {
		return false, "the snapshot knows only that root had signing certificates, not which"
	}
	return false, "the snapshot recorded no such signing certificate"
}

func (sa *seenAccount) matchMFA(serial string) (bool, string) {
	if sa.exactMFA != nil && sa.exactMFA[serial] {
		return true, ""
	}
	if sa.exactMFA == nil {
		return false, "the snapshot does not say which MFA devices root had"
	}
	return false, "the snapshot recorded no such MFA device"
}

func (sa *seenAccount) matchPassword() (bool, string) {
	if sa.password != nil && *sa.password {
		return true, ""
	}
	if sa.password == nil {
		return false, "the snapshot does not say whether root had a console password"
	}
	return false, "the snapshot recorded no console password"
}

// gone lists what the snapshot recorded that the live account no longer
// holds: reported as done, never acted on.
func (sa *seenAccount) goneKeys(live []snapshot.AccessKey) []*Credential {
	var out []*Credential
	if sa.exactKeys != nil {
		ids := make([]string, 0, len(sa.exactKeys))
		for id := range sa.exactKeys {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			found := false
			for _, k := range live {
				if k.ID == id {
					found = true
				}
			}
			if !found {
				k := sa.exactKeys[id]
				out = append(out, &Credential{Kind: KindAccessKey, ID: id, Status: k.Status, Created: k.CreateDate, Action: ActGone,
					Reason: "recorded by the snapshot; no longer there (nothing to do)"})
			}
		}
		return out
	}
	for _, rs := range sa.reportKeys {
		found := false
		for _, k := range live {
			if k.CreateDate != nil && rs.created.Equal(k.CreateDate.UTC().Truncate(time.Second)) {
				found = true
			}
		}
		if !found {
			c := rs.created
			out = append(out, &Credential{Kind: KindAccessKey, Slot: rs.slot, Created: &c, Report: rs.use, Action: ActGone,
				Reason: "recorded by the snapshot's " + sa.reportAt + "; no longer there (nothing to do)"})
		}
	}
	return out
}
