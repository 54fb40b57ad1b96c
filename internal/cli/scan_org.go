package cli

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/internal/fleet"
)

// orgFlags are how an organisation scan reaches member accounts.
type orgFlags struct {
	assumeRoot      bool
	role            string
	roleSet         bool // --role given explicitly
	externalID      string
	sessionName     string
	sessionDuration time.Duration
}

func addOrgFlags(f *pflag.FlagSet, m *orgFlags) {
	m.role, m.sessionName, m.sessionDuration = fleet.DefaultRoleName, fleet.DefaultSessionName, fleet.DefaultRoleDuration
	f.BoolVar(&m.assumeRoot, "assume-root", false, "with --org: reach member accounts through sts:AssumeRoot (IAMAuditRootUserCredentials), no role needed in them")
	f.StringVar(&m.role, "role", m.role, "with --org: the read-only role to assume in each account (name, or path/name); with --assume-root, used only for the management account")
	f.StringVar(&m.externalID, "external-id", "", "with --org: the external ID the role's trust policy requires")
	f.StringVar(&m.sessionName, "session-name", m.sessionName, "with --org: the role session name (shows in the accounts' CloudTrail)")
	f.Var(newDuration(&m.sessionDuration, rangeSessionDuration), "session-duration", "with --org: role session length, "+rangeSessionDuration.String()+" (sessions are renewed when an account takes longer)")
}

// validate checks the organisation flags against the scope and the rest
// of the command line. Mistakes are usage errors (exit code 2).
func (m *orgFlags) validate(s *scopeFlags, a *awsFlags, changed func(string) bool) error {
	m.roleSet = changed("role")
	for _, name := range []string{"assume-root", "role", "external-id", "session-name", "session-duration", "ou", "accounts", "exclude"} {
		if changed(name) && !s.org {
			return usagef("--%s needs --org", name)
		}
	}
	if err := s.validate(a.profiles, changed); err != nil {
		return err
	}
	if (s.targets != "" || len(a.profiles) > 1) && changed("demo") {
		return usagef("--demo scans the built-in organisation; use it with --org, not with --targets or several --profile")
	}
	if s.org {
		opts := m.options(s)
		if err := opts.Validate(); err != nil {
			return usagef("%v", err)
		}
	}
	return nil
}

// options are the fleet options of the flags (progress, logger and clock
// are the scan's).
func (m *orgFlags) options(s *scopeFlags) fleet.Options {
	o := s.fleetOptions()
	o.Mode = fleet.ModeRole
	if m.assumeRoot {
		o.Mode = fleet.ModeRoot
	}
	o.Role = fleet.Role{Name: m.role, ExternalID: m.externalID, SessionName: m.sessionName, Duration: m.sessionDuration}
	o.RoleForManagement = m.assumeRoot && m.roleSet
	return o
}
