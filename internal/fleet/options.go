package fleet

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Mode is how member accounts are reached.
type Mode int

const (
	// ModeRole assumes a named role in each account and runs the full
	// single-account collection with it.
	ModeRole Mode = iota
	// ModeRoot calls sts:AssumeRoot with the IAMAuditRootUserCredentials
	// task policy: no role is needed in member accounts.
	ModeRoot
)

// Method is the snapshot access method of the mode.
func (m Mode) Method() string {
	if m == ModeRoot {
		return snapshot.AccessAssumeRoot
	}
	return snapshot.AccessAssumeRole
}

// Defaults. The role name follows the convention of naming a read-only
// audit role after the tool; OrganizationAccountAccessRole, which exists
// in every account created by Organizations, is an administrator role
// and the wrong thing to lend a scanner by default.
const (
	DefaultRoleName       = "VigilAudit"
	DefaultSessionName    = "vigil-scan"
	DefaultParallel       = 32
	DefaultAccountTimeout = 3 * time.Minute
	// DefaultRoleDuration is AssumeRole's minimum; sessions are renewed
	// (re-assumed) when an account takes longer.
	DefaultRoleDuration = 15 * time.Minute
	// MaxRootDuration is AssumeRoot's maximum session length.
	MaxRootDuration = 15 * time.Minute
	// DefaultMaxAttempts is the SDK attempt count an organisation scan
	// uses unless told otherwise. The SDK's default of 3 gives up on a
	// call after two throttles in a row; over thousands of calls under
	// throttling that happens to some account every run. Backoff grows
	// with each attempt (1 s base for throttles, 20 s cap), so 10
	// attempts ride out minutes of throttling.
	DefaultMaxAttempts = 10
)

// Structure is how much of the organisation a run reads besides the
// accounts it scans.
type Structure int

const (
	// StructureSelected, the default: a run that names its accounts
	// (Accounts) describes only those: organizations:DescribeAccount,
	// then ListParents and DescribeOrganizationalUnit up to the root for
	// the OU path, instead of listing every account and walking the
	// tree. Its Organizations calls grow with the accounts it names, not
	// with the organisation. The organisation's controls (the SCPs and
	// the tree) then cover the named accounts, so the organisation-level
	// rules judge that selection.
	StructureSelected Structure = iota
	// StructureWhole discovers the whole organisation even when Accounts
	// names a few, so that the organisation-level rules judge every
	// account (vigil serve's job for the management account, which
	// carries those rules' results).
	StructureWhole
	// StructureNone reads no more than reaching the accounts needs: the
	// SCPs are not read and the organisation's controls are left unknown
	// (a gap says why), so the organisation-level rules are UNKNOWN. For
	// callers that keep only the accounts' own results (vigil serve's job
	// for a member account).
	StructureNone
)

// Role says which role to assume in member accounts, and how.
type Role struct {
	// Name is the role's name, with its path if it has one
	// ("VigilAudit", "audit/VigilAudit").
	Name        string
	ExternalID  string
	SessionName string
	Duration    time.Duration
}

// Options tune an organisation scan.
type Options struct {
	Mode Mode
	Role Role
	// RoleForManagement, in ModeRoot, reaches the management account
	// through Role when the scan does not run from it (AssumeRoot cannot
	// target the management account).
	RoleForManagement bool
	// RootDuration is the AssumeRoot session length (at most 15 minutes).
	RootDuration time.Duration

	// OUs limits the scan to these organisational units and everything
	// below them: OU IDs, root IDs, or paths of OU names from the root
	// ("Workloads/Prod" or "Root/Workloads/Prod").
	OUs []string
	// Accounts limits the scan to these account IDs; Exclude leaves these
	// out. A run that names its accounts describes only those, unless
	// Structure says otherwise.
	Accounts, Exclude []string
	// Structure is how much of the organisation the run reads besides
	// its accounts.
	Structure Structure

	// Parallel is how many accounts are scanned at once.
	Parallel int
	// AccountTimeout bounds the scan of one account, access included.
	AccountTimeout time.Duration
	// Collect tunes the single-account collection (report waits, clock).
	Collect collect.Options

	// Progress, when set, is told about discovery and finished accounts.
	Progress Progress
	// Logger receives a warning per call that failed in an account;
	// slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock of the snapshot's collection time; Clock.Now when
	// nil.
	Now func() time.Time
	// Clock runs every deadline of the scan: each account's, and those of
	// setup, discovery and the organisation's own reads. The wall clock
	// when nil; tests pass a clock.Manual, so that a deadline passes when
	// the test says, not when a busy machine gets round to it.
	Clock clock.Clock

	// Shared, when set, is a reading of the organisation shared with
	// other runs (SharedReading): the run reads the organisation only if
	// none of them has, and visits its own selection of its accounts.
	Shared *SharedReading
}

// Progress is told how the scan advances. Calls come from several
// goroutines; implementations serialise themselves.
type Progress interface {
	// Add says that n more accounts were discovered and will be scanned.
	Add(n int)
	// DiscoveryDone says that no more accounts will be added.
	DiscoveryDone()
	// Done says an account finished; failed when it could not be read in
	// full (access denied, a call that failed, a timeout).
	Done(accountID string, failed bool)
}

var (
	// A role name with an optional path, as IAM allows them.
	roleNamePattern    = regexp.MustCompile(`^(?:[\x21-\x7e]+/)?[\w+=,.@-]{1,64}$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	ouIDPattern        = regexp.MustCompile(`^(?:ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$`)
)

// Validate checks the options a user chose and fills in defaults. Its
// errors name the setting, so the CLI can report them as usage errors.
func (o *Options) Validate() error {
	if o.Parallel == 0 {
		o.Parallel = DefaultParallel
	}
	if o.Parallel < 1 || o.Parallel > 1024 {
		return fmt.Errorf("parallel %d: want 1 to 1024 accounts at once", o.Parallel)
	}
	if o.AccountTimeout == 0 {
		o.AccountTimeout = DefaultAccountTimeout
	}
	if o.AccountTimeout < 0 {
		return fmt.Errorf("account timeout %s: must be positive", o.AccountTimeout)
	}
	if err := o.Role.validate(); err != nil {
		return err
	}
	switch {
	case o.RootDuration == 0:
		o.RootDuration = MaxRootDuration
	case o.RootDuration < time.Second || o.RootDuration > MaxRootDuration:
		return fmt.Errorf("AssumeRoot session duration %s: want at most 15m", o.RootDuration)
	}
	for _, id := range append(append([]string(nil), o.Accounts...), o.Exclude...) {
		if !snapshot.IsAccountID(id) {
			return fmt.Errorf("account %s: want a 12-digit AWS account ID", input.Quote(id))
		}
	}
	for _, ou := range o.OUs {
		if ou == "" {
			return fmt.Errorf("empty OU: want an OU ID (ou-…), a root ID (r-…) or a path of OU names")
		}
		if (len(ou) > 3 && ou[:3] == "ou-" || len(ou) > 2 && ou[:2] == "r-") && !ouIDPattern.MatchString(ou) {
			return fmt.Errorf("OU %q: not a valid OU ID (ou-xxxx-xxxxxxxx) or root ID (r-xxxx)", ou)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Clock, o.Now, o.Collect = runClock(o.Clock, o.Now, o.Collect)
	return nil
}

// Validate checks the role settings and fills in defaults.
func (r *Role) Validate() error { return r.validate() }

func (r *Role) validate() error {
	if r.Name == "" {
		r.Name = DefaultRoleName
	}
	if r.SessionName == "" {
		r.SessionName = DefaultSessionName
	}
	if r.Duration == 0 {
		r.Duration = DefaultRoleDuration
	}
	if !roleNamePattern.MatchString(r.Name) {
		return fmt.Errorf("role %q: want a role name, optionally with its path (audit/VigilAudit)", r.Name)
	}
	if !sessionNamePattern.MatchString(r.SessionName) {
		return fmt.Errorf("session name %q: want 2 to 64 letters, digits or +=,.@_-", r.SessionName)
	}
	if r.ExternalID != "" && (len(r.ExternalID) < 2 || len(r.ExternalID) > 1224 || !externalIDPattern.MatchString(r.ExternalID)) {
		return fmt.Errorf("external ID: want 2 to 1224 letters, digits or +=,.@:/_-")
	}
	if r.Duration < 15*time.Minute || r.Duration > 12*time.Hour {
		return fmt.Errorf("role session duration %s: want 15m to 12h", r.Duration)
	}
	return nil
}

// RoleARN is the ARN of the role in an account.
func (r Role) RoleARN(partition, accountID string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":iam::" + accountID + ":role/" + r.Name
}
