package rules

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// RootRecentUse fails when the root user signed in or used an access key
// within the configured window. Day-to-day work as root bypasses every
// permission boundary, and unexpected root use is a classic sign of a
// compromised account.
var RootRecentUse = rule.Rule{
	ID:       "root-recent-use",
	Title:    "Root user used recently",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "iam",
	RootUser: true,
	Check:    checkRootRecentUse,
}

type rootUse struct {
	what  string
	when  time.Time
	where string
}

func checkRootRecentUse(in rule.Input) rule.Outcome {
	a := in.Account
	window := in.Options.RootUseWindow
	rep, haveRep := rootReport(in)
	var uses []rootUse
	var ev []rule.Evidence
	var lacks []string
	if haveRep {
		if lacks = rep.lacks(useColumns); len(lacks) > 0 {
			ev = append(ev, rep.lackEvidence(lacks))
		}
		r := rep.row
		ev = append(ev, rep.evidence("password_last_used", stamp(r.PasswordLastUsed)))
		if r.PasswordLastUsed.IsSet() {
			uses = append(uses, rootUse{what: "password (console sign-in)", when: r.PasswordLastUsed.Time()})
		}
		for i, k := range r.AccessKeys {
			if !k.Present() && !k.LastUsedDate.IsSet() {
				continue
			}
			ev = append(ev, rep.evidence(fmt.Sprintf("access_key_%d_last_used_date", i+1), stamp(k.LastUsedDate)))
			if k.LastUsedDate.IsSet() {
				uses = append(uses, rootUse{what: fmt.Sprintf("access key %d", i+1), when: k.LastUsedDate.Time(), where: where(k.LastUsedRegion, k.LastUsedService)})
			}
		}
	}
	// Inside an AssumeRoot session, GetUser gives root's last console
	// sign-in and GetAccessKeyLastUsed each key's last use, both in real
	// time: together they replace the report's columns.
	var user *snapshot.RootUser
	if a.RootCredentials != nil {
		user = a.RootCredentials.User
	}
	if user != nil {
		v := "none recorded"
		if user.PasswordLastUsed != nil {
			v = user.PasswordLastUsed.UTC().Format(time.RFC3339)
			uses = append(uses, rootUse{what: "password (console sign-in)", when: *user.PasswordLastUsed})
		}
		ev = append(ev, rule.Evidence{Source: "iam:GetUser", Key: "PasswordLastUsed", Value: v})
	}
	invKeys := a.RootCredentials != nil && a.RootCredentials.AccessKeys != nil
	if invKeys {
		for _, k := range a.RootCredentials.AccessKeys {
			if k.LastUsed != nil && k.LastUsed.Date != nil {
				uses = append(uses, rootUse{what: "access key " + k.ID, when: *k.LastUsed.Date, where: where(k.LastUsed.Region, k.LastUsed.Service)})
				ev = append(ev, rule.Evidence{Source: "iam:GetAccessKeyLastUsed", Key: k.ID, Value: k.LastUsed.Date.UTC().Format(time.RFC3339)})
			}
		}
	}
	sort.SliceStable(uses, func(i, j int) bool { return uses[i].when.After(uses[j].when) })

	var recent []string
	for _, u := range uses {
		if in.Now.Sub(u.when) <= window {
			recent = append(recent, fmt.Sprintf("%s used %s (%s ago)%s", u.what, u.when.UTC().Format(time.RFC3339), rule.Age(max(in.Now.Sub(u.when), 0)), u.where))
		}
	}
	if len(recent) > 0 {
		return rule.Outcome{Status: rule.Fail, Evidence: ev,
			Message: fmt.Sprintf("The root user was used in the last %s: %s.", rule.Age(window), strings.Join(recent, "; "))}
	}

	// "No recorded use" is said only where every source was read; an
	// UNKNOWN says what could not be read instead, and the latest use
	// that could.
	last := "no recorded use"
	latest := ""
	if len(uses) > 0 {
		last = fmt.Sprintf("last use: %s on %s", uses[0].what, uses[0].when.UTC().Format(time.RFC3339))
		latest = fmt.Sprintf(" The latest use that could be read: %s on %s.", uses[0].what, uses[0].when.UTC().Format(time.RFC3339))
	}
	unknown := fmt.Sprintf("Whether the root user was used in the last %s is unknown: ", rule.Age(window))
	if !haveRep || len(lacks) > 0 {
		// A report without its last-use columns cannot rule use out: the
		// real-time sources must. Judged like the report: a root user
		// without credentials today may still have been used within the
		// window.
		if user != nil && invKeys && keyUsesKnown(a.RootCredentials.AccessKeys) {
			return rule.Outcome{Status: rule.Pass, Evidence: ev,
				Message: fmt.Sprintf("No root sign-in or access key use in the last %s (%s; iam:GetUser and iam:GetAccessKeyLastUsed in an AssumeRoot session, real time).", rule.Age(window), last)}
		}
		if none, nev := noRootCredentials(a); none {
			return notApplicableNoCredentials(nev)
		}
		if len(lacks) > 0 {
			return rule.Outcome{Status: rule.Unknown, Evidence: ev,
				Message: fmt.Sprintf("%s%s has no %s, so use recorded only there cannot be ruled out; what could be read shows none in that time.%s", unknown, rep.describe(), columnsText(lacks), latest)}
		}
		ev = append(ev, gapEvidence(a, snapshot.SectionCredentialReport)...)
		if len(accessGaps(a)) > 0 {
			return rule.Outcome{Status: rule.Unknown, Evidence: ev, Message: unknown + gapText(a) + "."}
		}
		var unread []string
		if user == nil {
			unread = append(unread, "console sign-ins")
		}
		if !invKeys {
			unread = append(unread, "access key use")
		}
		if len(unread) > 0 {
			return rule.Outcome{Status: rule.Unknown, Evidence: ev,
				Message: fmt.Sprintf("%sits %s could be read only from the credential report, which is unavailable (%s).%s", unknown, strings.Join(unread, " and "), gapText(a, snapshot.SectionCredentialReport), latest)}
		}
		// An AssumeRoot session read sign-ins and the keys, but not when
		// every key was last used.
		ev = append(ev, gapEvidence(a, snapshot.SectionRootCredentials)...)
		return rule.Outcome{Status: rule.Unknown, Evidence: ev,
			Message: fmt.Sprintf("%swhen access key %s was last used could not be read (%s), and the credential report, the other record of it, is unavailable (%s).%s",
				unknown, strings.Join(unreadKeys(a.RootCredentials.AccessKeys), ", "), gapText(a, snapshot.SectionRootCredentials), gapText(a, snapshot.SectionCredentialReport), latest)}
	}
	if !rep.fresh(in.Options) {
		return rule.Outcome{Status: rule.Unknown, Evidence: ev,
			Message: fmt.Sprintf("No root use in the %s before %s, but %s.", rule.Age(window), rep.describe(), rep.staleText(in.Options))}
	}
	return rule.Outcome{Status: rule.Pass, Evidence: ev,
		Message: fmt.Sprintf("No root sign-in or access key use in the last %s according to %s (%s). Use in the time since the report would not show.", rule.Age(window), rep.describe(), last)}
}

// unreadKeys lists the keys whose last use was not read.
func unreadKeys(keys []snapshot.AccessKey) []string {
	var ids []string
	for _, k := range keys {
		if k.LastUsed == nil {
			ids = append(ids, k.ID)
		}
	}
	return ids
}

// keyUsesKnown reports whether the last use of every key was read.
func keyUsesKnown(keys []snapshot.AccessKey) bool {
	for _, k := range keys {
		if k.LastUsed == nil {
			return false
		}
	}
	return true
}
