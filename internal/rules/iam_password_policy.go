package rules

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The password policy rules read iam:GetAccountPasswordPolicy. An account
// without a policy fails both: IAM then applies its default, which asks
// for eight characters and remembers no earlier password.

// IAMPasswordLength fails when the policy lets IAM users choose passwords
// shorter than 14 characters.
var IAMPasswordLength = rule.Rule{
	ID:       "iam-password-length",
	Title:    "IAM password policy allows passwords shorter than 14 characters",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMPasswordLength,
}

// IAMPasswordReuse fails when the policy does not stop users reusing any
// of their last 24 passwords.
var IAMPasswordReuse = rule.Rule{
	ID:       "iam-password-reuse",
	Title:    "IAM password policy does not prevent reusing the last 24 passwords",
	Severity: rule.Low,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMPasswordReuse,
}

const (
	minPasswordLength = 14
	reuseRemembered   = 24
)

func passwordPolicy(in rule.Input) (*snapshot.PasswordPolicy, *rule.Outcome) {
	a := in.Account
	if o, na := assumeRootOnly(a); na {
		return nil, &o
	}
	pp := a.PasswordPolicy
	if pp == nil {
		return nil, &rule.Outcome{Status: rule.Unknown, Evidence: gapEvidence(a, snapshot.SectionPasswordPolicy),
			Message: fmt.Sprintf("Cannot read the account's password policy (%s).", gapText(a, snapshot.SectionPasswordPolicy))}
	}
	if !pp.Present {
		return nil, &rule.Outcome{Status: rule.Fail, Evidence: []rule.Evidence{{Source: srcPasswordPolicy, Error: "NoSuchEntity: the account has no password policy"}},
			Message: "The account has no IAM password policy, so IAM's default applies: passwords of 8 characters, and any earlier password may be reused."}
	}
	return pp, nil
}

func checkIAMPasswordLength(in rule.Input) rule.Outcome {
	pp, o := passwordPolicy(in)
	if o != nil {
		return *o
	}
	ev := []rule.Evidence{{Source: srcPasswordPolicy, Key: "MinimumPasswordLength", Value: fmt.Sprint(pp.MinimumPasswordLength)}}
	if pp.MinimumPasswordLength < minPasswordLength {
		return rule.Outcome{Status: rule.Fail, Evidence: ev,
			Message: fmt.Sprintf("The password policy asks for %d characters at least; CIS asks for %d.", pp.MinimumPasswordLength, minPasswordLength)}
	}
	return rule.Outcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("The password policy asks for %d characters at least.", pp.MinimumPasswordLength)}
}

func checkIAMPasswordReuse(in rule.Input) rule.Outcome {
	pp, o := passwordPolicy(in)
	if o != nil {
		return *o
	}
	ev := []rule.Evidence{{Source: srcPasswordPolicy, Key: "PasswordReusePrevention", Value: fmt.Sprint(pp.PasswordReusePrevention)}}
	switch {
	case pp.PasswordReusePrevention == 0:
		return rule.Outcome{Status: rule.Fail, Evidence: ev, Message: fmt.Sprintf("The password policy lets users reuse any earlier password; CIS asks that the last %d be refused.", reuseRemembered)}
	case pp.PasswordReusePrevention < reuseRemembered:
		return rule.Outcome{Status: rule.Fail, Evidence: ev,
			Message: fmt.Sprintf("The password policy refuses only the last %d passwords; CIS asks for %d.", pp.PasswordReusePrevention, reuseRemembered)}
	}
	return rule.Outcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("The password policy refuses the last %d passwords.", pp.PasswordReusePrevention)}
}
