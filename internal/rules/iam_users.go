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

// userVerdict is a rule's judgement of one user: one of the outcomes
// the rule shares between users (its PASS and NOT_APPLICABLE answers,
// built once per account, which the user's ARN as resource makes about
// that user) or, when the reasons are the user's own (a FAIL naming its
// dates), an outcome of its own.
type userVerdict struct {
	shared rule.Shared
	own    *rule.ResourceOutcome
}

// sharedUsers builds a rule's shared outcomes once per account.
type sharedUsers struct {
	set   *rule.ResourceSet
	byKey map[shareKey]rule.Shared
	// last is the key looked up last: users in a row mostly share it,
	// and comparing it costs less than hashing it.
	last    shareKey
	lastH   rule.Shared
	hasLast bool
}

// shareKey names a shared outcome: a kind of answer and the report values
// it quotes. A struct, so that looking one up allocates nothing.
type shareKey struct {
	kind, value string
	flag        bool
}

// get returns the shared outcome named key, building it the first time.
func (s *sharedUsers) get(key shareKey, build func() (rule.Status, string, []rule.Evidence)) userVerdict {
	if s.hasLast && key == s.last {
		return userVerdict{shared: s.lastH}
	}
	h, ok := s.byKey[key]
	if !ok {
		st, msg, ev := build()
		h = s.set.Share(st, msg, ev)
		s.byKey[key] = h
	}
	s.last, s.lastH, s.hasLast = key, h, true
	return userVerdict{shared: h}
}

// userJudgement judges one user row for a rule; sh holds the rule's shared
// outcomes.
type userJudgement func(sh *sharedUsers, row *snapshot.CredentialRow) userVerdict

// userRule is a rule judged per user row: id is the rule's ID, cols are
// the report columns it reads, judgement makes its judgement for one
// account (with whatever state the rule keeps across that account's
// users).
type userRule struct {
	id        string
	cols      []string
	judgement func(u userReport, in rule.Input) userJudgement
}

// userRules are every userRule, judged together in one pass over an
// account's rows (see check).
var userRules []*userRule

func newUserRule(id string, cols []string, judgement func(u userReport, in rule.Input) userJudgement) *userRule {
	r := &userRule{id: id, cols: cols, judgement: judgement}
	userRules = append(userRules, r)
	return r
}

type userPassKey struct{}

// check is the rule's outcome for the account. Within one Evaluate the
// first per-user rule judges the rows for every per-user rule being run
// at once and the others take their outcome from it: each rule reading 100,000 rows
// of 320 bytes in a pass of its own brought every row in from memory six
// times, which cost more than the rules' own questions. What one rule
// concludes never depends on another's, so the outcomes are those each
// would reach alone.
func (r *userRule) check(in rule.Input) rule.Outcome {
	u, o := usersFromReport(in)
	if o != nil {
		return *o
	}
	if !in.Shares() {
		return u.judge(in, []*userRule{r})[0]
	}
	pass := in.Shared(userPassKey{}, func() any {
		var rs []*userRule
		for _, ur := range userRules {
			if in.Evaluating(ur.id) {
				rs = append(rs, ur)
			}
		}
		outs := u.judge(in, rs)
		m := make(map[*userRule]rule.Outcome, len(outs))
		for k, ur := range rs {
			m[ur] = outs[k]
		}
		return m
	}).(map[*userRule]rule.Outcome)
	if o, ok := pass[r]; ok {
		return o
	}
	return u.judge(in, []*userRule{r})[0]
}

// judge gives each rule one result per user, held compactly
// (rule.ResourceSet): most users share one of a few outcomes, so that a
// report of 100,000 users costs 100,000 small entries, not 100,000
// messages and evidence lists. A stale report cannot show a user is fine
// now, so its PASS becomes UNKNOWN (a shared outcome too).
func (u userReport) judge(in rule.Input, rs []*userRule) []rule.Outcome {
	ix := u.index(in)
	js := make([]userJudge, len(rs))
	for k, r := range rs {
		set := rule.NewResourceSetOver(ix.arns)
		js[k] = userJudge{u: u, in: in, missing: ix.missing, cols: r.cols, each: r.judgement(u, in),
			set: set, sh: &sharedUsers{set: set, byKey: map[shareKey]rule.Shared{}}, fresh: u.rep.fresh(in.Options)}
	}
	for i := range u.rows {
		row := &u.rows[i]
		for k := range js {
			js[k].add(row)
		}
	}
	out := make([]rule.Outcome, len(js))
	for k := range js {
		out[k] = js[k].outcome()
	}
	return out
}

// userJudge is one rule's judgement of an account's users in progress.
type userJudge struct {
	u       userReport
	in      rule.Input
	missing bool
	cols    []string
	each    userJudgement
	set     *rule.ResourceSet
	sh      *sharedUsers
	fresh   bool
	lacks   missingCache
	// stale[h]-1 is what a stale report makes of the shared outcome h:
	// the UNKNOWN made of a PASS, h itself otherwise (0: not found yet);
	// a slice, as there are a handful of them.
	stale []rule.Shared
}

// add judges the next user row. What is rare (a missing column, a user's
// own outcome, a stale report) is in methods of its own: add runs six
// times per user, and copying the judge's fields each time showed.
func (j *userJudge) add(row *snapshot.CredentialRow) {
	var v userVerdict
	if lack := j.lacking(row); len(lack) > 0 {
		v = j.lacks.verdict(j, lack)
	} else {
		v = j.each(j.sh, row)
	}
	if v.own != nil {
		j.addOwn(row, *v.own)
		return
	}
	h := v.shared
	if !j.fresh {
		h = j.staleOf(h)
	}
	j.set.AddShared(row.ARN, h)
}

// lacking is which of the rule's columns the row lacks.
func (j *userJudge) lacking(row *snapshot.CredentialRow) []string {
	if !j.missing {
		return nil
	}
	return j.lacks.of(row, j.cols)
}

// addOwn adds a user with an outcome of its own.
func (j *userJudge) addOwn(row *snapshot.CredentialRow, ro rule.ResourceOutcome) {
	ro.Resource = row.ARN
	if ro.Status == rule.Pass && !j.fresh {
		ro.Status = rule.Unknown
		ro.Message += " But " + j.u.rep.staleText(j.in.Options) + "."
	}
	ro.Evidence = append([]rule.Evidence{j.u.rep.evidence("user", row.User)}, ro.Evidence...)
	j.set.Add(ro)
}

// staleOf is the shared outcome h on a stale report: the UNKNOWN made of
// a PASS, h itself otherwise.
//
// Found once per shared outcome: asked for every user of a stale report,
// reading the outcome's status each time cost more than the answer.
func (j *userJudge) staleOf(h rule.Shared) rule.Shared {
	if int(h) < len(j.stale) && j.stale[h] != 0 {
		return j.stale[h] - 1
	}
	for int(h) >= len(j.stale) {
		j.stale = append(j.stale, 0)
	}
	set := j.set
	if o := set.SharedOutcome(h); o.Status != rule.Pass {
		j.stale[h] = 1 + h
	} else {
		j.stale[h] = 1 + set.Share(rule.Unknown, o.Message+" But "+j.u.rep.staleText(j.in.Options)+".", append(slices.Clip(o.Evidence), j.u.rep.ageEvidence()))
	}
	return j.stale[h] - 1
}

// outcome is the rule's outcome once every row is added.
func (j *userJudge) outcome() rule.Outcome {
	u, set := j.u, j.set
	fails, unknown := set.Count(rule.Fail), set.Count(rule.Unknown)
	out := rule.Outcome{Set: set, Status: rule.Pass}
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

// userIndex is what the per-user rules of one account share about its
// users (rule.Input.Shared), found in one pass over the rows rather than
// one per rule: the ARNs every rule's results name (100,000 of them are
// 1.6 MB a list), and whether any row lacks a column (the list of what
// is missing sits at the end of a row, a cache line the rules' own
// questions never touch).
type userIndex struct {
	arns    []string
	missing bool
}

type userIndexKey struct{}

// index is the account's userIndex, built by the first per-user rule.
func (u userReport) index(in rule.Input) userIndex {
	ix := in.Shared(userIndexKey{}, func() any { return newUserIndex(u.rows) }).(userIndex)
	if len(ix.arns) != len(u.rows) {
		// Not the rows the index was built from: a rule's own rows.
		return newUserIndex(u.rows)
	}
	return ix
}

func newUserIndex(rows []snapshot.CredentialRow) userIndex {
	ix := userIndex{arns: make([]string, len(rows))}
	for i := range rows {
		ix.arns[i] = rows[i].ARN
		ix.missing = ix.missing || len(rows[i].Missing) > 0
	}
	return ix
}

// missingCache is missingOf for rows that share their Missing list (a
// parsed report gives every row the same one), computed once per list.
type missingCache struct {
	from *string
	n    int
	lack []string
}

func (c *missingCache) of(row *snapshot.CredentialRow, cols []string) []string {
	if len(row.Missing) == 0 {
		return nil
	}
	if c.from != &row.Missing[0] || c.n != len(row.Missing) {
		c.from, c.n = &row.Missing[0], len(row.Missing)
		c.lack = missingOf(row, cols)
	}
	return c.lack
}

// verdict is the shared UNKNOWN of a user lacking the columns lack.
func (c *missingCache) verdict(j *userJudge, lack []string) userVerdict {
	text := columnsText(lack)
	return j.sh.get(shareKey{kind: "lacks", value: text}, func() (rule.Status, string, []rule.Evidence) {
		return rule.Unknown, fmt.Sprintf("The credential report has no %s, so this user cannot be judged.", text), []rule.Evidence{j.u.rep.lackEvidence(lack)}
	})
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
// access key has gone 45 days or more without use (CIS from v1.4.0,
// Security Hub IAM.22). A credential never used counts from when it was
// made: a key created 90 days ago and never used is unused, which is
// exactly the case Prowler passes.
var IAMUnusedCredentials = rule.Rule{
	ID:       "iam-unused-credentials",
	Title:    "IAM user credentials unused for 45 days or more are still enabled",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    unusedCredentials("iam-unused-credentials", 45),
}

// IAMUnusedCredentials90d is the same judgement at 90 days: Security Hub
// IAM.8 (its Config rule's maxCredentialUsageAge, fixed at 90) and CIS
// v1.2.0 item 1.3, which later CIS versions tightened to 45. Two rules
// rather than one with a setting, so that each framework's control maps
// to the rule that judges it at its own limit and both can be read in one
// report.
var IAMUnusedCredentials90d = rule.Rule{
	ID:       "iam-unused-credentials-90d",
	Title:    "IAM user credentials unused for 90 days or more are still enabled",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	Check:    unusedCredentials("iam-unused-credentials-90d", 90),
}

var unusedColumns = []string{"password_enabled", "password_last_used", "password_last_changed",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date"}

// unusedCredentials judges every user's enabled password and active keys
// against a limit in whole days, one result per user. Only what is
// enabled is judged: an inactive key or a user without a password has
// nothing there that could be used.
func unusedCredentials(id string, limitDays int) func(rule.Input) rule.Outcome {
	limit := time.Duration(limitDays) * 24 * time.Hour
	return newUserRule(id, unusedColumns, func(u userReport, in rule.Input) userJudgement {
		// A credential idle since cutoff or before has gone limit or more
		// unused: one comparison of seconds per stamp, where subtracting
		// each stamp's time from now cost more than the rest of the rule.
		cutoff := in.Now.Add(-limit)
		return func(sh *sharedUsers, row *snapshot.CredentialRow) userVerdict {
			password := row.PasswordEnabled == "true"
			enabled, old := 0, false
			if password {
				enabled++
				old = old || idleTooLong(row.PasswordLastUsed, row.PasswordLastChanged, row.CreationTime, cutoff)
			}
			for _, k := range row.AccessKeys {
				if k.Active {
					enabled++
					old = old || idleTooLong(k.LastUsedDate, k.LastRotated, row.CreationTime, cutoff)
				}
			}
			switch {
			case enabled == 0:
				return sh.get(shareKey{kind: "none", value: row.PasswordEnabled}, func() (rule.Status, string, []rule.Evidence) {
					return rule.Pass, "No enabled password and no active access key.", []rule.Evidence{u.rep.evidence("password_enabled", row.PasswordEnabled),
						u.rep.evidence("access_key_1_active, access_key_2_active", "false")}
				})
			case !old:
				return sh.get(shareKey{kind: "in use"}, func() (rule.Status, string, []rule.Evidence) {
					return rule.Pass, fmt.Sprintf("Every enabled credential (console password, active access keys) was used less than %d days ago, or set less than %d days ago and not used since.", limitDays, limitDays),
						[]rule.Evidence{u.rep.evidence("password_last_used, access_key_1_last_used_date, access_key_2_last_used_date", fmt.Sprintf("less than %d days ago", limitDays))}
				})
			}
			// A failure names the user's own dates: the last use, and for a
			// credential never used the date its idleness counts from.
			var stale []string
			var ev []rule.Evidence
			judge := func(what, usedKey, setKey string, lastUsed, since snapshot.Stamp) {
				ev = append(ev, rule.Evidence{Source: srcReport, Key: usedKey, Value: stamp(lastUsed)})
				if !lastUsed.IsSet() {
					switch from, label := idleFrom(lastUsed, since, row.CreationTime); label {
					case "set":
						ev = append(ev, rule.Evidence{Source: srcReport, Key: setKey, Value: stamp(from)})
					case "user created":
						ev = append(ev, rule.Evidence{Source: srcReport, Key: "user_creation_time", Value: stamp(from)})
					}
				}
				if text, old := idle(what, lastUsed, since, row.CreationTime, in.Now, cutoff); old {
					stale = append(stale, text)
				}
			}
			if password {
				judge("password", "password_last_used", "password_last_changed", row.PasswordLastUsed, row.PasswordLastChanged)
			}
			for i, k := range row.AccessKeys {
				if k.Active {
					n := i + 1
					judge(fmt.Sprintf("access key %d", n), fmt.Sprintf("access_key_%d_last_used_date", n), fmt.Sprintf("access_key_%d_last_rotated", n), k.LastUsedDate, k.LastRotated)
				}
			}
			return userVerdict{own: &rule.ResourceOutcome{Status: rule.Fail, Evidence: ev,
				Message: fmt.Sprintf("User %s: %s; disable or remove what is not needed.", row.User, strings.Join(stale, "; "))}}
		}
	}).check
}

// idleFrom is when a credential was last used or, never used, when it
// was set (the password's last change, the key's creation), or the user's
// creation when the report has neither: the time its idleness counts
// from, unset when unknown.
func idleFrom(lastUsed, since, created snapshot.Stamp) (snapshot.Stamp, string) {
	switch {
	case lastUsed.IsSet():
		return lastUsed, "last used"
	case since.IsSet():
		return since, "set"
	case created.IsSet():
		return created, "user created"
	}
	return snapshot.Stamp{}, ""
}

// idleTooLong says whether a credential has gone unused since cutoff
// (now less the limit) or before, or for a time that is unknown:
// now.Sub(from) >= limit, which saturates, agrees with it for every time.
func idleTooLong(lastUsed, since, created snapshot.Stamp, cutoff time.Time) bool {
	from, _ := idleFrom(lastUsed, since, created)
	return !from.IsSet() || from.AtOrBefore(cutoff)
}

// idle says how long a credential has gone unused and whether that is
// since cutoff or before (idleTooLong).
func idle(what string, lastUsed, since, created snapshot.Stamp, now, cutoff time.Time) (string, bool) {
	from, label := idleFrom(lastUsed, since, created)
	old := idleTooLong(lastUsed, since, created, cutoff)
	switch {
	case label == "last used":
		return fmt.Sprintf("%s last used %s (%d days ago)", what, stamp(from), days(now.Sub(from.Time()))), old
	case !from.IsSet():
		return fmt.Sprintf("%s never used, and when it was set is unknown", what), old
	}
	return fmt.Sprintf("%s never used, %s %s (%d days ago)", what, label, stamp(from), days(now.Sub(from.Time()))), old
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

func checkIAMUserConsoleMFA(in rule.Input) rule.Outcome { return consoleMFA.check(in) }

var consoleMFA = newUserRule("iam-user-console-mfa", consoleMFAColumns, func(u userReport, in rule.Input) userJudgement {
	return func(sh *sharedUsers, row *snapshot.CredentialRow) userVerdict {
		ev := func() []rule.Evidence {
			return []rule.Evidence{u.rep.evidence("password_enabled", row.PasswordEnabled), u.rep.evidence("mfa_active", fmt.Sprint(row.MFAActive))}
		}
		switch {
		case row.PasswordEnabled != "true":
			return sh.get(shareKey{kind: "no password", value: row.PasswordEnabled, flag: row.MFAActive}, func() (rule.Status, string, []rule.Evidence) {
				return rule.NotApplicable, "No console password: the user cannot sign in to the console.", ev()
			})
		case row.MFAActive:
			return sh.get(shareKey{kind: "mfa"}, func() (rule.Status, string, []rule.Evidence) {
				return rule.Pass, "A console password and an MFA device.", ev()
			})
		}
		msg := fmt.Sprintf("User %s can sign in to the console with a password alone: no MFA device.", row.User)
		if row.PasswordLastUsed.IsSet() {
			msg += " The password was last used " + stamp(row.PasswordLastUsed) + "."
		}
		return userVerdict{own: &rule.ResourceOutcome{Status: rule.Fail, Evidence: []rule.Evidence{{Source: srcReport, Key: "password_enabled", Value: row.PasswordEnabled},
			{Source: srcReport, Key: "mfa_active", Value: "false"}}, Message: msg}}
	}
})
