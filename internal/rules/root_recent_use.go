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
			uses = append(uses, rootUse{what: "password (console sign-in)", when: r.PasswordLastUsed.Time})
		}
		for i, k := range r.AccessKeys {
			if !k.Present() && !k.LastUsedDate.IsSet() {
				continue
			}
			ev = append(ev, rep.evidence(fmt.Sprintf("access_key_%d_last_used_date", i+1), stamp(k.LastUsedDate)))
			if k.LastUsedDate.IsSet() {
				uses = append(uses, rootUse{what: fmt.Sprintf("access key %d", i+1), when: k.LastUsedDate.Time, where: where(k.LastUsedRegion, k.LastUsedService)})
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

	last := "no recorded use"
	if len(uses) > 0 {
		last = fmt.Sprintf("last use: %s on %s", uses[0].what, uses[0].when.UTC().Format(time.RFC3339))
	}
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
				Message: fmt.Sprintf("No root use in the %s before %s recorded in the columns it has, but it has no %s, so other use cannot be ruled out; %s.", rule.Age(window), rep.describe(), columnsText(lacks), last)}
		}
		ev = append(ev, gapEvidence(a, snapshot.SectionCredentialReport)...)
		return rule.Outcome{Status: rule.Unknown, Evidence: ev,
			Message: "Root sign-ins are only recorded in the credential report, which is unavailable (" + gapText(a, snapshot.SectionCredentialReport) + "); " + last + "."}
	}
	if !rep.fresh(in.Options) {
		return rule.Outcome{Status: rule.Unknown, Evidence: ev,
			Message: fmt.Sprintf("No root use in the %s before %s, but %s.", rule.Age(window), rep.describe(), rep.staleText(in.Options))}
	}
	return rule.Outcome{Status: rule.Pass, Evidence: ev,
		Message: fmt.Sprintf("No root sign-in or access key use in the last %s according to %s (%s). Use in the time since the report would not show.", rule.Age(window), rep.describe(), last)}
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
