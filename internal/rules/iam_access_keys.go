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

func checkIAMUserOneActiveKey(in rule.Input) rule.Outcome { return oneActiveKey.check(in) }

var oneActiveKey = newUserRule("iam-user-one-active-key", oneKeyColumns, func(u userReport, in rule.Input) userJudgement {
	twoKeys := newDayShares()
	return func(sh *sharedUsers, row *snapshot.CredentialRow) userVerdict {
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
		// Shared by users whose keys were made on the same days.
		k1, k2 := row.AccessKeys[0].LastRotated, row.AccessKeys[1].LastRotated
		return twoKeys.get(sh, dayKey{slots: 3, d1: dayOf(k1), d2: dayOf(k2)}, func() (string, []rule.Evidence) {
			return fmt.Sprintf("Two active access keys (created %s and %s); deactivate the one no longer in use.", dayText(k1), dayText(k2)),
				[]rule.Evidence{u.rep.evidence("access_key_1_active, access_key_2_active", "true"),
					u.rep.evidence("access_key_1_last_rotated, access_key_2_last_rotated", dayText(k1)+", "+dayText(k2))}
		})
	}
})

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
	return keyRotation.check(in)
}

var keyRotation = newUserRule("iam-access-key-rotation", oneKeyColumns, func(u userReport, in rule.Input) userJudgement {
	oldKeys := newDayShares()
	today := in.Now.UTC().Truncate(24 * time.Hour)
	// A key made before cutoff is older than rotateAfter (now.Sub(made) >
	// rotateAfter, compared in seconds rather than through a time.Time
	// per key).
	cutoff := in.Now.Add(-rotateAfter)
	return func(sh *sharedUsers, row *snapshot.CredentialRow) userVerdict {
		active, old, undated := 0, false, false
		for _, k := range row.AccessKeys {
			if !k.Active {
				continue
			}
			active++
			switch {
			case !k.LastRotated.IsSet():
				undated = true
			case k.LastRotated.Before(cutoff):
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
		// A failure names the old keys and the days they were made; users
		// whose old keys were made on the same days share it, so 100,000
		// users with old keys cost a few thousand messages, not 100,000.
		key := dayKey{d1: -1, d2: -1}
		for i, k := range row.AccessKeys {
			if k.Active && k.LastRotated.Before(cutoff) {
				key.slots |= 1 << i
				if i == 0 {
					key.d1 = dayOf(k.LastRotated)
				} else {
					key.d2 = dayOf(k.LastRotated)
				}
			}
		}
		return oldKeys.get(sh, key, func() (string, []rule.Evidence) {
			var texts []string
			var ev []rule.Evidence
			for i, k := range row.AccessKeys {
				if key.slots&(1<<i) == 0 {
					continue
				}
				created := time.Unix(dayOf(k.LastRotated)*86400, 0).UTC()
				texts = append(texts, fmt.Sprintf("access key %d created %s (%d days ago)", i+1, dayText(k.LastRotated), days(today.Sub(created))))
				ev = append(ev, u.rep.evidence(fmt.Sprintf("access_key_%d_last_rotated", i+1), dayText(k.LastRotated)))
			}
			return capitalize(strings.Join(texts, "; ")) + "; rotate it: create a new key, move its users over, then deactivate and delete the old one.", ev
		})
	}
})

// dayKey names a failure shared by users whose keys (the slots set in
// slots) were made on the same days (dayOf; -1 where a slot is unset): a
// comparable struct, so looking one up allocates nothing.
type dayKey struct {
	slots  uint8
	d1, d2 int64
}

// dayShares holds a rule's failures shared by key-creation days.
//
// Keyed by the dayKey packed into a number where it fits (every day of
// years 1 to 9999 does): a user with old keys asks once per row, and
// hashing the 24-byte struct was most of the rule's time per user.
type dayShares struct {
	packed map[uint64]rule.Shared
	other  map[dayKey]rule.Shared
}

func newDayShares() *dayShares {
	return &dayShares{packed: map[uint64]rule.Shared{}} // other made when first needed
}

// pack is k as a number, one for each key whose days are within
// ±dayRange of 1970; ok is false for a key outside.
func (k dayKey) pack() (uint64, bool) {
	const dayRange = 1 << 27 // 367,000 years; 28 bits a day, 8 the slots
	if k.d1 < -dayRange || k.d1 >= dayRange || k.d2 < -dayRange || k.d2 >= dayRange {
		return 0, false
	}
	return uint64(k.slots)<<56 | uint64(k.d1+dayRange)<<28 | uint64(k.d2+dayRange), true
}

func (m *dayShares) get(sh *sharedUsers, k dayKey, build func() (string, []rule.Evidence)) userVerdict {
	p, packed := k.pack()
	var h rule.Shared
	var ok bool
	if packed {
		h, ok = m.packed[p]
	} else {
		h, ok = m.other[k]
	}
	if !ok {
		msg, ev := build()
		h = sh.set.Share(rule.Fail, msg, ev)
		if packed {
			m.packed[p] = h
		} else {
			if m.other == nil {
				m.other = map[dayKey]rule.Shared{}
			}
			m.other[k] = h
		}
	}
	return userVerdict{shared: h}
}

// dayOf is the day a stamp's time falls on (days since 1970, floored, so
// a time of 1969 is not taken for 1970-01-01), or, for a cell without a
// time, a number no day has, one for each sentinel: two users whose keys
// differ only in the sentinel their report wrote must not share the
// failure that quotes the first one's.
func dayOf(s snapshot.Stamp) int64 {
	if !s.IsSet() {
		const noDay = -1 << 40 // outside dayKey.pack's range: such keys go to dayShares.other
		switch s.Sentinel() {
		case snapshot.NotApplicable:
			return noDay - 1
		case snapshot.NoInformation:
			return noDay - 2
		case snapshot.NotSupported:
			return noDay - 3
		}
		return noDay
	}
	sec := s.Unix()
	d := sec / 86400
	if sec%86400 < 0 {
		d--
	}
	return d
}

// dayText is a stamp's date, or its sentinel.
func dayText(s snapshot.Stamp) string {
	if !s.IsSet() {
		return s.String()
	}
	return s.Time().Format(time.DateOnly)
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

func checkIAMUserMFA(in rule.Input) rule.Outcome { return userMFA.check(in) }

var userMFA = newUserRule("iam-user-mfa", userMFAColumns, func(u userReport, in rule.Input) userJudgement {
	return func(sh *sharedUsers, row *snapshot.CredentialRow) userVerdict {
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
	}
})
