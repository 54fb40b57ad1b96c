package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The access key and MFA rules read the credential report's user rows,
// one result per user, like the other IAM user rules: the report carries
// both key slots of every user (a user can hold at most two keys), so no
// per-user ListAccessKeys is needed.

// IAMUserOneActiveKey fails a user with two active access keys (CIS: one
// active key per user). Two keys are meant to overlap only during a
// rotation; left active, each is a long-term secret to lose.
var IAMUserOneActiveKey = rule.Rule{
	ID:       "iam-user-one-active-key",
	Title:    "IAM user has two active access keys",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMUserOneActiveKey,
}

var oneKeyColumns = []string{"access_key_1_active", "access_key_1_last_rotated", "access_key_2_active", "access_key_2_last_rotated"}

func checkIAMUserOneActiveKey(in rule.Input) rule.Outcome {
	u, o := usersFromReport(in)
	if o != nil {
		return *o
	}
	return u.judge(in, oneKeyColumns, func(row *snapshot.CredentialRow) rule.ResourceOutcome {
		ev := []rule.Evidence{{Source: srcReport, Key: "access_key_1_active", Value: fmt.Sprint(row.AccessKeys[0].Active)},
			{Source: srcReport, Key: "access_key_2_active", Value: fmt.Sprint(row.AccessKeys[1].Active)}}
		active := 0
		for _, k := range row.AccessKeys {
			if k.Active {
				active++
			}
		}
		switch active {
		case 2:
			return rule.ResourceOutcome{Status: rule.Fail, Evidence: ev,
				Message: fmt.Sprintf("User %s has two active access keys (created %s and %s); deactivate the one no longer in use.",
					row.User, stamp(row.AccessKeys[0].LastRotated), stamp(row.AccessKeys[1].LastRotated))}
		case 1:
			return rule.ResourceOutcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("User %s has one active access key.", row.User)}
		}
		return rule.ResourceOutcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("User %s has no active access key.", row.User)}
	})
}

// IAMAccessKeyRotation fails a user with an active access key made more
// than 90 days ago (CIS, Security Hub IAM.3). The key's age is its
// access_key_N_last_rotated column, which is when the key was created: a
// key cannot be changed, only replaced. An inactive key is not judged.
var IAMAccessKeyRotation = rule.Rule{
	ID:       "iam-access-key-rotation",
	Title:    "IAM user access key not rotated for more than 90 days",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMAccessKeyRotation,
}

// rotateAfter is CIS's and Security Hub's limit (maxAccessKeyAge 90).
const rotateAfter = 90 * 24 * time.Hour

func checkIAMAccessKeyRotation(in rule.Input) rule.Outcome {
	u, o := usersFromReport(in)
	if o != nil {
		return *o
	}
	return u.judge(in, oneKeyColumns, func(row *snapshot.CredentialRow) rule.ResourceOutcome {
		var old, fine, unknown []string
		var ev []rule.Evidence
		for i, k := range row.AccessKeys {
			if !k.Active {
				continue
			}
			name := fmt.Sprintf("access key %d", i+1)
			ev = append(ev, rule.Evidence{Source: srcReport, Key: fmt.Sprintf("access_key_%d_last_rotated", i+1), Value: stamp(k.LastRotated)})
			if !k.LastRotated.IsSet() {
				unknown = append(unknown, name+" is active but the report gives no creation date")
				continue
			}
			age := in.Now.Sub(k.LastRotated.Time)
			text := fmt.Sprintf("%s created %s (%d days ago)", name, stamp(k.LastRotated), days(age))
			if age > rotateAfter {
				old = append(old, text)
			} else {
				fine = append(fine, text)
			}
		}
		switch {
		case len(old) > 0:
			return rule.ResourceOutcome{Status: rule.Fail, Evidence: ev,
				Message: fmt.Sprintf("User %s: %s; rotate it: create a new key, move its users over, then deactivate and delete the old one.", row.User, strings.Join(old, "; "))}
		case len(unknown) > 0:
			return rule.ResourceOutcome{Status: rule.Unknown, Evidence: ev, Message: fmt.Sprintf("User %s: %s.", row.User, strings.Join(unknown, "; "))}
		case len(fine) == 0:
			return rule.ResourceOutcome{Status: rule.NotApplicable,
				Evidence: []rule.Evidence{{Source: srcReport, Key: "access_key_1_active", Value: "false"}, {Source: srcReport, Key: "access_key_2_active", Value: "false"}},
				Message:  fmt.Sprintf("User %s has no active access key.", row.User)}
		}
		return rule.ResourceOutcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("User %s: %s.", row.User, strings.Join(fine, "; "))}
	})
}

// IAMUserMFA fails an IAM user without an MFA device, console user or not
// (Security Hub IAM.19). An access-key-only user cannot use MFA to sign
// API calls unless its policies demand it, which is why CIS asks only for
// console users (iam-user-console-mfa); IAM.19 asks for every user.
var IAMUserMFA = rule.Rule{
	ID:       "iam-user-mfa",
	Title:    "IAM user has no MFA device",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMUserMFA,
}

var userMFAColumns = []string{"password_enabled", "mfa_active"}

func checkIAMUserMFA(in rule.Input) rule.Outcome {
	u, o := usersFromReport(in)
	if o != nil {
		return *o
	}
	return u.judge(in, userMFAColumns, func(row *snapshot.CredentialRow) rule.ResourceOutcome {
		ev := []rule.Evidence{{Source: srcReport, Key: "mfa_active", Value: fmt.Sprint(row.MFAActive)}, {Source: srcReport, Key: "password_enabled", Value: row.PasswordEnabled}}
		if row.MFAActive {
			return rule.ResourceOutcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("User %s has an MFA device.", row.User)}
		}
		what := "no console password"
		if row.PasswordEnabled == "true" {
			what = "a console password"
		}
		var keys []string
		for i, k := range row.AccessKeys {
			if k.Active {
				keys = append(keys, fmt.Sprintf("access key %d", i+1))
			}
		}
		if len(keys) > 0 {
			what += " and active " + strings.Join(keys, ", ")
		}
		return rule.ResourceOutcome{Status: rule.Fail, Evidence: ev, Message: fmt.Sprintf("User %s has no MFA device (%s).", row.User, what)}
	})
}
