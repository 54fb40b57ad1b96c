package rules

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Security Hub judges the password policy twice more, each time as a whole
// against a set of settings: IAM.7 (FSBP) and IAM.10 (PCI DSS 3.2.1). The
// single-setting rules cannot decide them: iam-password-length asks for 14
// characters, where IAM.7 asks for 8 and IAM.10 for 7, and iam-password-reuse
// asks for 24 remembered passwords, where IAM.10 asks for 4. So each control
// has a rule of its own that reads every setting and names those that fall
// short.

// IAMPasswordStrong fails a password policy weaker than Security Hub IAM.7
// with its default parameters.
var IAMPasswordStrong = rule.Rule{
	ID:       "iam-password-strong",
	Title:    "IAM password policy is weaker than Security Hub IAM.7 asks",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    iam7.check,
}

// IAMPasswordPCI fails a password policy weaker than PCI DSS 3.2.1 asks, as
// Security Hub IAM.10 reads it.
var IAMPasswordPCI = rule.Rule{
	ID:       "iam-password-pci",
	Title:    "IAM password policy is weaker than PCI DSS 3.2.1 asks (Security Hub IAM.10)",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    iam10.check,
}

// passwordStandard is what one control asks of the password policy. A zero
// threshold is a setting the control does not judge.
type passwordStandard struct {
	control                        string // as the messages name it
	upper, lower, symbols, numbers bool   // character types required
	minLength, minReuse, maxAge    int
	unjudged                       string // why the settings it does not judge are shown anyway
	pass                           func(*snapshot.PasswordPolicy) string
}

// iam7 is IAM.7 with Security Hub's default parameters. PasswordReusePrevention
// and MaxPasswordAge have no default there, and Security Hub ignores them
// unless a user sets them; Vigil judges the defaults.
var iam7 = passwordStandard{
	control: "Security Hub IAM.7",
	upper:   true, lower: true, symbols: true, numbers: true,
	minLength: 8,
	unjudged:  "not judged: IAM.7 checks it only when its parameter is set, and its default sets none",
	pass: func(pp *snapshot.PasswordPolicy) string {
		return fmt.Sprintf("every character type is required, and passwords of %d characters at least", pp.MinimumPasswordLength)
	},
}

// iam10 is IAM.10: PCI DSS 3.2.1's letters and numbers (Security Hub
// requires both cases of letter), 7 characters, the last 4 passwords not
// reused, expiry within 90 days. It has no parameters, and does not ask
// for symbols.
var iam10 = passwordStandard{
	control: "PCI DSS 3.2.1 (Security Hub IAM.10)",
	upper:   true, lower: true, numbers: true,
	minLength: 7, minReuse: 4, maxAge: 90,
	unjudged: "not judged: PCI DSS 3.2.1 does not ask for symbols",
	pass: func(pp *snapshot.PasswordPolicy) string {
		return fmt.Sprintf("upper and lowercase letters and numbers are required, passwords of %d characters at least, the last %d not reused, and expiry after %d days",
			pp.MinimumPasswordLength, pp.PasswordReusePrevention, pp.MaxPasswordAge)
	},
}

// setting is one value read from the policy and the standard's verdict on it.
type setting struct {
	key, value string
	judged     bool
	short      string // why it falls short; empty when it does not
}

func (s passwordStandard) settings(pp *snapshot.PasswordPolicy) []setting {
	class := func(key string, asked, have bool) setting {
		st := setting{key: key, value: fmt.Sprint(have), judged: asked}
		if asked && !have {
			st.short = key + " is false"
		}
		return st
	}
	length := setting{key: "MinimumPasswordLength", value: fmt.Sprint(pp.MinimumPasswordLength), judged: true}
	if pp.MinimumPasswordLength < s.minLength {
		length.short = fmt.Sprintf("MinimumPasswordLength is %d, below %d", pp.MinimumPasswordLength, s.minLength)
	}
	reuse := setting{key: "PasswordReusePrevention", value: reuseText(pp.PasswordReusePrevention), judged: s.minReuse > 0}
	if reuse.judged && pp.PasswordReusePrevention < s.minReuse {
		reuse.short = fmt.Sprintf("PasswordReusePrevention is %d, below %d", pp.PasswordReusePrevention, s.minReuse)
	}
	age := setting{key: "MaxPasswordAge", value: ageText(pp.MaxPasswordAge), judged: s.maxAge > 0}
	switch {
	case !age.judged:
	case pp.MaxPasswordAge <= 0:
		age.short = fmt.Sprintf("passwords never expire (MaxPasswordAge unset), where %d days is the most", s.maxAge)
	case pp.MaxPasswordAge > s.maxAge:
		age.short = fmt.Sprintf("MaxPasswordAge is %d days, above %d", pp.MaxPasswordAge, s.maxAge)
	}
	return []setting{
		class("RequireUppercaseCharacters", s.upper, pp.RequireUppercaseCharacters),
		class("RequireLowercaseCharacters", s.lower, pp.RequireLowercaseCharacters),
		class("RequireSymbols", s.symbols, pp.RequireSymbols),
		class("RequireNumbers", s.numbers, pp.RequireNumbers),
		length, reuse, age,
	}
}

func reuseText(n int) string {
	if n <= 0 {
		return "0 (any earlier password may be reused)"
	}
	return fmt.Sprint(n)
}

func ageText(days int) string {
	if days <= 0 {
		return "0 (passwords never expire)"
	}
	return fmt.Sprintf("%d days", days)
}

func (s passwordStandard) check(in rule.Input) rule.Outcome {
	pp, o := passwordPolicy(in)
	if o != nil {
		if o.Status == rule.Fail {
			// No policy at all: IAM's default asks for 8 characters and a
			// mix of types, but none of the settings a standard reads, and
			// Security Hub fails the account for it.
			o.Message = fmt.Sprintf("The account has no IAM password policy, so IAM's default applies, which requires no character type in particular, remembers no earlier password and never expires one: it does not meet %s.", s.control)
		}
		return *o
	}
	var ev []rule.Evidence
	var short []string
	for _, st := range s.settings(pp) {
		verdict := "meets " + s.control
		switch {
		case !st.judged:
			verdict = s.unjudged
		case st.short != "":
			verdict = "FAILS " + s.control
			short = append(short, st.short)
		}
		ev = append(ev, rule.Evidence{Source: srcPasswordPolicy, Key: st.key, Value: st.value + "; " + verdict})
	}
	if len(short) > 0 {
		return rule.Outcome{Status: rule.Fail, Evidence: ev,
			Message: fmt.Sprintf("The password policy falls short of %s on %d of its settings: %s.", s.control, len(short), strings.Join(short, "; "))}
	}
	return rule.Outcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("The password policy meets %s: %s.", s.control, s.pass(pp))}
}
