package fix

import (
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fleet"
)

// Defaults and limits of the guard and the CloudTrail lookups.
const (
	// DefaultMinIdle: a key used within the last thirty days is in use.
	DefaultMinIdle = 30 * 24 * time.Hour
	// MaxLookback is how far back CloudTrail's event history reaches.
	MaxLookback = 90 * 24 * time.Hour
	// DefaultMaxEvents is how many of a key's events the plan shows.
	DefaultMaxEvents = 10
	// MaxEvents is the most one LookupEvents page returns; the plan reads
	// one page per Region.
	MaxEvents = 50
)

// Options are the choices of one vigil fix run.
type Options struct {
	// MinIdle: an access key used more recently than this is refused.
	MinIdle time.Duration
	// Force acts on keys the guard refuses: recently used, or of unknown
	// last use.
	Force bool
	// Delete deletes active keys at once on the root-key path, instead of
	// deactivating them first.
	Delete bool
	// Certificates, Password and MFA add root's signing certificates, its
	// console password and its MFA devices (deactivation) to what is
	// removed. Access keys are always in scope.
	Certificates, Password, MFA bool

	// Lookback bounds the CloudTrail lookups (at most 90 days); MaxEvents
	// is how many of a key's events are kept, newest first.
	Lookback  time.Duration
	MaxEvents int
	// TrailRole, when set, is a role in each member account allowed
	// cloudtrail:LookupEvents: the delete task policy cannot read
	// CloudTrail.
	TrailRole *fleet.Role

	// Seen, when set, limits the run to what a saved snapshot recorded.
	Seen *Seen

	// RootSessionDuration is how long each sts:AssumeRoot session is asked
	// to last (default and maximum: 15 minutes). A session is re-assumed
	// when it expires, never used past its life.
	RootSessionDuration time.Duration

	// Collect tunes the read of an account Vigil cannot fix (its account
	// summary and credential report, for the evidence).
	Collect collect.Options
	// Now is the clock the guard measures idleness with; Clock.Now when
	// nil.
	Now func() time.Time
	// AccountTimeout bounds the reading of the account of a single-account
	// run (PlanAccount); organisation and target runs take theirs from
	// the fleet run's options. fleet.DefaultAccountTimeout when 0.
	AccountTimeout time.Duration
	// Clock runs that deadline; the wall clock when nil.
	Clock clock.Clock
}

// Validate checks the options and fills in defaults. Errors name the
// setting, for the CLI to report as usage errors.
func (o *Options) Validate() error {
	if o.MinIdle < 0 {
		return fmt.Errorf("min-idle %s: must not be negative", o.MinIdle)
	}
	switch {
	case o.Lookback == 0:
		o.Lookback = MaxLookback
	case o.Lookback < 0 || o.Lookback > MaxLookback:
		return fmt.Errorf("lookback %s: want up to 90d, as far back as CloudTrail's event history reaches", o.Lookback)
	}
	switch {
	case o.MaxEvents == 0:
		o.MaxEvents = DefaultMaxEvents
	case o.MaxEvents < 0 || o.MaxEvents > MaxEvents:
		return fmt.Errorf("events %d: want 1 to %d", o.MaxEvents, MaxEvents)
	}
	if o.RootSessionDuration < 0 || o.RootSessionDuration > fleet.MaxRootDuration {
		return fmt.Errorf("root session duration %s: want at most 15m", o.RootSessionDuration)
	}
	if o.TrailRole != nil {
		if err := o.TrailRole.Validate(); err != nil {
			return err
		}
	}
	if o.AccountTimeout < 0 {
		return fmt.Errorf("account timeout %s: must be positive", o.AccountTimeout)
	}
	if o.AccountTimeout == 0 {
		o.AccountTimeout = fleet.DefaultAccountTimeout
	}
	if o.Clock == nil {
		o.Clock = clock.Wall{}
	}
	if o.Now == nil {
		o.Now = o.Clock.Now
	}
	if o.Collect.ReportWait == 0 {
		c := collect.DefaultOptions()
		c.Now = o.Collect.Now
		o.Collect = c
	}
	return nil
}
