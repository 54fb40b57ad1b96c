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
	return u.judge(in, oneKeyColumns, func(sh *sharedUsers, row *snapshot.CredentialRow) userVerdict {
		active := 0
		for _, k := range row.AccessKeys {
			if k.Active {
				active++
			}
		}
		if active < 2 {
			return sh.get(shareKey{kind: "at most one key"}, func() (rule.Status, string, []rule.Evidence) {
				return rule.Pass, "At most one active access key.", []rule.Evidence{u.rep.evidence("access_key_1_active, access_key_2_active", "not both true")}
			})
		}
		return userVerdict{own: &rule.ResourceOutcome{Status: rule.Fail,
			Evidence: []rule.Evidence{{Source: srcReport, Key: "access_key_1_active", Value: "true"}, {Source: srcReport, Key: "access_key_2_active", Value: "true"}},
			Message: fmt.Sprintf("User %s has two active access keys (created %s and %s); deactivate the one no longer in use.",
				row.User, stamp(row.AccessKeys[0].LastRotated), stamp(row.AccessKeys[1].LastRotated))}}
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
	return u.judge(in, oneKeyColumns, func(sh *sharedUsers, row *snapshot.CredentialRow) userVerdict {
		active, old, undated := 0, false, false
		for _, k := range row.AccessKeys {
			if !k.Active {
				continue
			}
			active++
			switch {
			case !k.LastRotated.IsSet():
				undated = true
			case in.Now.Sub(k.LastRotated.Time) > rotateAfter:
				old = true
			}
		}
		switch {
		case active == 0:
			return sh.get(shareKey{kind: "no key"}, func() (rule.Status, string, []rule.Evidence) {
				return rule.NotApplicable, "No active access key.", []rule.Evidence{u.rep.evidence("access_key_1_active, access_key_2_active", "false")}
			})
		case !old && undated:
			return sh.get(shareKey{kind: "undated"}, func() (rule.Status, string, []rule.Evidence) {
				return rule.Unknown, "An active access key has no creation date (access_key_N_last_rotated) in the report.",
					[]rule.Evidence{u.rep.evidence("access_key_N_last_rotated", "N/A")}
			})
		case !old:
			return sh.get(shareKey{kind: "young"}, func() (rule.Status, string, []rule.Evidence) {
				return rule.Pass, "Every active access key was created 90 days ago or less.",
					[]rule.Evidence{u.rep.evidence("access_key_1_last_rotated, access_key_2_last_rotated", "90 days ago or less")}
			})
		}
		// A failure names the user's own keys and dates.
		var texts []string
		var ev []rule.Evidence
		for i, k := range row.AccessKeys {
			if !k.Active || !k.LastRotated.IsSet() {
				continue
			}
			age := in.Now.Sub(k.LastRotated.Time)
			ev = append(ev, rule.Evidence{Source: srcReport, Key: fmt.Sprintf("access_key_%d_last_rotated", i+1), Value: stamp(k.LastRotated)})
			if age > rotateAfter {
				texts = append(texts, fmt.Sprintf("access key %d created %s (%d days ago)", i+1, stamp(k.LastRotated), days(age)))
			}
		}
		return userVerdict{own: &rule.ResourceOutcome{Status: rule.Fail, Evidence: ev,
			Message: fmt.Sprintf("User %s: %s; rotate it: create a new key, move its users over, then deactivate and delete the old one.", row.User, strings.Join(texts, "; "))}}
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
	return u.judge(in, userMFAColumns, func(sh *sharedUsers, row *snapshot.CredentialRow) userVerdict {
		if row.MFAActive {
			return sh.get(shareKey{kind: "mfa"}, func() (rule.Status, string, []rule.Evidence) {
				return rule.Pass, "Has an MFA device.", []rule.Evidence{u.rep.evidence("mfa_active", "true")}
			})
		}
		// Few kinds of failure: shared by what the user can sign in with.
		password := row.PasswordEnabled == "true"
		k1, k2 := row.AccessKeys[0].Active, row.AccessKeys[1].Active
		kind := "no mfa, no key"
		switch {
		case k1 && k2:
			kind = "no mfa, keys 1 and 2"
		case k1:
			kind = "no mfa, key 1"
		case k2:
			kind = "no mfa, key 2"
		}
		return sh.get(shareKey{kind: kind, value: row.PasswordEnabled}, func() (rule.Status, string, []rule.Evidence) {
			what := "no console password"
			if password {
				what = "a console password"
			}
			var keys []string
			if k1 {
				keys = append(keys, "access key 1")
			}
			if k2 {
				keys = append(keys, "access key 2")
			}
			if len(keys) > 0 {
				what += " and active " + strings.Join(keys, ", ")
			}
			return rule.Fail, fmt.Sprintf("No MFA device (%s).", what),
				[]rule.Evidence{u.rep.evidence("mfa_active", "false"), u.rep.evidence("password_enabled", row.PasswordEnabled)}
		})
	})
}
