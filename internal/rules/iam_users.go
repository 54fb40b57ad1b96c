package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The rules about IAM users judge every user row of the credential
// report, one result per user. They share how the account-wide answers
// are reached: an AssumeRoot session cannot read IAM users at all, a
// missing report is UNKNOWN, and an account without users passes.

const srcPasswordPolicy = "iam:GetAccountPasswordPolicy"

// assumeRootOnly is the NOT_APPLICABLE answer of every IAM-wide rule in an
// account reached through sts:AssumeRoot: the audit task policy allows
// only calls about the root user, so nothing about IAM users, groups,
// roles or policies was read. It is not a PASS: nothing was judged.
func assumeRootOnly(a *snapshot.Account) (rule.Outcome, bool) {
	if a.Access == nil || a.Access.Method != snapshot.AccessAssumeRoot {
		return rule.Outcome{}, false
	}
	return rule.Outcome{Status: rule.NotApplicable,
		Message:  "Not judged: the account was reached through an sts:AssumeRoot audit session, which can read only the root user's credentials. Scan it through a role (vigil scan --org --role) to judge its IAM users, roles and policies.",
		Evidence: []rule.Evidence{{Source: "scan", Key: "access", Value: snapshot.AccessAssumeRoot}}}, true
}

// userReport is the credential report's user rows with the report's age,
// or the account-wide outcome when they cannot be judged.
type userReport struct {
	rep  report
	rows []snapshot.CredentialRow
}

func usersFromReport(in rule.Input) (userReport, *rule.Outcome) {
	a := in.Account
	if o, na := assumeRootOnly(a); na {
		return userReport{}, &o
	}
	cr := a.CredentialReport
	if cr == nil {
		return userReport{}, &rule.Outcome{Status: rule.Unknown, Evidence: gapEvidence(a, snapshot.SectionCredentialReport),
			Message: fmt.Sprintf("Cannot judge the IAM users: the credential report is unavailable (%s).", gapText(a, snapshot.SectionCredentialReport))}
	}
	if !cr.UserRowsKnown() {
		return userReport{}, &rule.Outcome{Status: rule.Unknown, Evidence: []rule.Evidence{{Source: srcReport, Key: "users", Value: fmt.Sprint(cr.Users), Error: "user rows not kept"}},
			Message: fmt.Sprintf("Cannot judge the IAM users: the snapshot counts %d users but does not hold their rows (written by an older Vigil); scan again.", cr.Users)}
	}
	r := report{row: &snapshot.CredentialRow{}, source: cr.TimeSource}
	if t, exact, ok := cr.AsOf(); ok {
		r.asOf, r.bound = t, !exact
		r.age = in.Now.Sub(t)
		r.future = r.age < -snapshot.ClockSkew
		r.known = !r.future
		r.age = max(r.age, 0)
	}
	if len(cr.UserRows) == 0 {
		if !r.fresh(in.Options) {
			return userReport{}, &rule.Outcome{Status: rule.Unknown, Evidence: []rule.Evidence{r.evidence("users", "0")},
				Message: fmt.Sprintf("The credential report lists no IAM users, but %s.", r.staleText(in.Options))}
		}
		return userReport{}, &rule.Outcome{Status: rule.Pass, Evidence: []rule.Evidence{r.evidence("users", "0")},
			Message: fmt.Sprintf("The account has no IAM users (%s).", r.describe())}
	}
	return userReport{rep: r, rows: cr.UserRows}, nil
}

// judge turns per-user outcomes into the rule's outcome: a stale report
// cannot show a user is fine now, so its PASS becomes UNKNOWN.
func (u userReport) judge(in rule.Input, cols []string, each func(row *snapshot.CredentialRow) rule.ResourceOutcome) rule.Outcome {
	var out rule.Outcome
	fails, unknown := 0, 0
	for i := range u.rows {
		row := &u.rows[i]
		var ro rule.ResourceOutcome
		if lack := missingOf(row, cols); len(lack) > 0 {
			ro = rule.ResourceOutcome{Status: rule.Unknown, Message: fmt.Sprintf("User %s: the credential report has no %s.", row.User, columnsText(lack))}
		} else {
			ro = each(row)
		}
		ro.Resource = row.ARN
		if ro.Status == rule.Pass && !u.rep.fresh(in.Options) {
			ro.Status = rule.Unknown
			ro.Message += " But " + u.rep.staleText(in.Options) + "."
		}
		ro.Evidence = append([]rule.Evidence{u.rep.evidence("user", row.User)}, ro.Evidence...)
		switch ro.Status {
		case rule.Fail:
			fails++
		case rule.Unknown:
			unknown++
		}
		out.Resources = append(out.Resources, ro)
	}
	out.Status = rule.Pass
	switch {
	case fails > 0:
		out.Status = rule.Fail
	case unknown > 0:
		out.Status = rule.Unknown
	}
	out.Message = fmt.Sprintf("%s judged from %s: %d failed, %d unknown.", rule.Plural(len(u.rows), "IAM user", "IAM users"), u.rep.describe(), fails, unknown)
	out.Evidence = []rule.Evidence{u.rep.evidence("users", fmt.Sprint(len(u.rows)))}
	return out
}

func missingOf(row *snapshot.CredentialRow, cols []string) []string {
	var out []string
	for _, c := range cols {
		if slices.Contains(row.Missing, c) {
			out = append(out, c)
		}
	}
	return out
}

func days(d time.Duration) int { return int(d.Hours() / 24) }

// IAMUnusedCredentials fails a user whose console password or active
// access key has gone 45 days or more without use (CIS). A credential
// never used counts from when it was made: a key created 90 days ago and
// never used is unused, which is exactly the case Prowler passes.
var IAMUnusedCredentials = rule.Rule{
	ID:       "iam-unused-credentials",
	Title:    "IAM user credentials unused for 45 days or more are still enabled",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMUnusedCredentials,
}

// unusedAfter is CIS's limit.
const unusedAfter = 45 * 24 * time.Hour

var unusedColumns = []string{"password_enabled", "password_last_used", "password_last_changed",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date"}

func checkIAMUnusedCredentials(in rule.Input) rule.Outcome {
	u, o := usersFromReport(in)
	if o != nil {
		return *o
	}
	return u.judge(in, unusedColumns, func(row *snapshot.CredentialRow) rule.ResourceOutcome {
		var stale, fine []string
		var ev []rule.Evidence
		if row.PasswordEnabled == "true" {
			ev = append(ev, rule.Evidence{Source: srcReport, Key: "password_last_used", Value: stamp(row.PasswordLastUsed)})
			text, old := idle("password", row.PasswordLastUsed, row.PasswordLastChanged, row.CreationTime, in.Now)
			if old {
				stale = append(stale, text)
			} else {
				fine = append(fine, text)
			}
		}
		for i, k := range row.AccessKeys {
			if !k.Active {
				continue
			}
			ev = append(ev, rule.Evidence{Source: srcReport, Key: fmt.Sprintf("access_key_%d_last_used_date", i+1), Value: stamp(k.LastUsedDate)})
			text, old := idle(fmt.Sprintf("access key %d", i+1), k.LastUsedDate, k.LastRotated, row.CreationTime, in.Now)
			if old {
				stale = append(stale, text)
			} else {
				fine = append(fine, text)
			}
		}
		switch {
		case len(stale) > 0:
			return rule.ResourceOutcome{Status: rule.Fail, Evidence: ev,
				Message: fmt.Sprintf("User %s: %s; disable or remove what is not needed.", row.User, strings.Join(stale, "; "))}
		case len(fine) == 0:
			return rule.ResourceOutcome{Status: rule.Pass, Evidence: []rule.Evidence{{Source: srcReport, Key: "password_enabled", Value: row.PasswordEnabled}},
				Message: fmt.Sprintf("User %s has no enabled password and no active access key.", row.User)}
		}
		return rule.ResourceOutcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("User %s: %s.", row.User, strings.Join(fine, "; "))}
	})
}

// idle says how long a credential has gone unused and whether that is 45
// days or more. Never used, it counts from when it was set (the password's
// last change, the key's creation), or from the user's creation when the
// report has neither.
func idle(what string, lastUsed, since, created snapshot.Stamp, now time.Time) (string, bool) {
	if lastUsed.IsSet() {
		d := now.Sub(lastUsed.Time)
		return fmt.Sprintf("%s last used %s (%d days ago)", what, stamp(lastUsed), days(d)), d >= unusedAfter
	}
	from, label := since, "set"
	if !from.IsSet() {
		from, label = created, "user created"
	}
	if !from.IsSet() {
		return fmt.Sprintf("%s never used, and when it was set is unknown", what), true
	}
	d := now.Sub(from.Time)
	return fmt.Sprintf("%s never used, %s %s (%d days ago)", what, label, stamp(from), days(d)), d >= unusedAfter
}

// IAMUserConsoleMFA fails a user who can sign in to the console with a
// password but has no MFA device. Users without a password are out of
// scope (NOT_APPLICABLE), never passed for it.
var IAMUserConsoleMFA = rule.Rule{
	ID:       "iam-user-console-mfa",
	Title:    "IAM user with a console password has no MFA",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMUserConsoleMFA,
}

var consoleMFAColumns = []string{"password_enabled", "mfa_active"}

func checkIAMUserConsoleMFA(in rule.Input) rule.Outcome {
	u, o := usersFromReport(in)
	if o != nil {
		return *o
	}
	return u.judge(in, consoleMFAColumns, func(row *snapshot.CredentialRow) rule.ResourceOutcome {
		ev := []rule.Evidence{{Source: srcReport, Key: "password_enabled", Value: row.PasswordEnabled}, {Source: srcReport, Key: "mfa_active", Value: fmt.Sprint(row.MFAActive)}}
		switch {
		case row.PasswordEnabled != "true":
			return rule.ResourceOutcome{Status: rule.NotApplicable, Evidence: ev, Message: fmt.Sprintf("User %s has no console password.", row.User)}
		case row.MFAActive:
			return rule.ResourceOutcome{Status: rule.Pass, Evidence: ev, Message: fmt.Sprintf("User %s has a console password and an MFA device.", row.User)}
		}
		msg := fmt.Sprintf("User %s can sign in to the console with a password alone: no MFA device.", row.User)
		if row.PasswordLastUsed.IsSet() {
			msg += " The password was last used " + stamp(row.PasswordLastUsed) + "."
		}
		return rule.ResourceOutcome{Status: rule.Fail, Evidence: ev, Message: msg}
	})
}
