package rules

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The password policy rules of Security Hub that are not CIS items today
// (IAM.11 to IAM.14 and IAM.17, from CIS v1.2.0): one rule per setting, so
// each control is decided by the rule that judges exactly it. An account
// without a password policy fails them all: IAM's default asks for none of
// these.

func passwordClassRule(id, title, class, field string, get func(*snapshot.PasswordPolicy) bool) rule.Rule {
	return rule.Rule{
		ID:       id,
		Title:    title,
		Severity: rule.Medium,
		Category: "Security",
		Service:  "iam",
		Check: func(in rule.Input) rule.Outcome {
			pp, o := passwordPolicy(in)
			if o != nil {
				return *o
			}
			ev := []rule.Evidence{{Source: srcPasswordPolicy, Key: field, Value: fmt.Sprint(get(pp))}}
			if !get(pp) {
				return rule.Outcome{Status: rule.Fail, Evidence: ev,
					Message: fmt.Sprintf("The password policy does not require %s (%s is false).", class, field)}
			}
			return rule.Outcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("The password policy requires %s.", class)}
		},
	}
}

// IAMPasswordUppercase fails a policy that does not require an uppercase
// letter (Security Hub IAM.11).
var IAMPasswordUppercase = passwordClassRule("iam-password-uppercase", "IAM password policy does not require an uppercase letter",
	"at least one uppercase letter", "RequireUppercaseCharacters", func(p *snapshot.PasswordPolicy) bool { return p.RequireUppercaseCharacters })

// IAMPasswordLowercase fails a policy that does not require a lowercase
// letter (Security Hub IAM.12).
var IAMPasswordLowercase = passwordClassRule("iam-password-lowercase", "IAM password policy does not require a lowercase letter",
	"at least one lowercase letter", "RequireLowercaseCharacters", func(p *snapshot.PasswordPolicy) bool { return p.RequireLowercaseCharacters })

// IAMPasswordSymbols fails a policy that does not require a symbol
// (Security Hub IAM.13).
var IAMPasswordSymbols = passwordClassRule("iam-password-symbols", "IAM password policy does not require a symbol",
	"at least one symbol", "RequireSymbols", func(p *snapshot.PasswordPolicy) bool { return p.RequireSymbols })

// IAMPasswordNumbers fails a policy that does not require a number
// (Security Hub IAM.14).
var IAMPasswordNumbers = passwordClassRule("iam-password-numbers", "IAM password policy does not require a number",
	"at least one number", "RequireNumbers", func(p *snapshot.PasswordPolicy) bool { return p.RequireNumbers })

// IAMPasswordExpiry fails a policy that lets passwords live longer than
// 90 days (Security Hub IAM.17, CIS v1.2.0 1.11). Later CIS versions and
// NIST SP 800-63B dropped periodic expiry; the rule is here for the
// standards that still ask for it, and its page says so.
var IAMPasswordExpiry = rule.Rule{
	ID:       "iam-password-expiry",
	Title:    "IAM password policy does not expire passwords within 90 days",
	Severity: rule.Low,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMPasswordExpiry,
}

const maxPasswordAge = 90

func checkIAMPasswordExpiry(in rule.Input) rule.Outcome {
	pp, o := passwordPolicy(in)
	if o != nil {
		return *o
	}
	ev := []rule.Evidence{{Source: srcPasswordPolicy, Key: "MaxPasswordAge", Value: fmt.Sprint(pp.MaxPasswordAge)},
		{Source: srcPasswordPolicy, Key: "ExpirePasswords", Value: fmt.Sprint(pp.ExpirePasswords)}}
	switch {
	case pp.MaxPasswordAge <= 0:
		return rule.Outcome{Status: rule.Fail, Evidence: ev, Message: fmt.Sprintf("The password policy never expires passwords; the standards that ask for expiry want %d days or less.", maxPasswordAge)}
	case pp.MaxPasswordAge > maxPasswordAge:
		return rule.Outcome{Status: rule.Fail, Evidence: ev, Message: fmt.Sprintf("The password policy expires passwords after %d days; the standards that ask for expiry want %d or less.", pp.MaxPasswordAge, maxPasswordAge)}
	}
	return rule.Outcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("The password policy expires passwords after %d days.", pp.MaxPasswordAge)}
}
