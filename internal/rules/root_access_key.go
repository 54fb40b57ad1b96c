package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// RootAccessKey fails when the root user holds an access key, active or
// inactive: CIS counts both, because an inactive key can be switched back on
// by whoever controls the root user, and a key is a permanent password to
// the whole account.
var RootAccessKey = rule.Rule{
	ID:       "root-access-key",
	Title:    "Root user has access keys",
	Severity: rule.Critical,
	Category: "Security",
	Service:  "iam",
	RootUser: true,
	Check:    checkRootAccessKey,
}

func checkRootAccessKey(in rule.Input) rule.Outcome {
	a := in.Account
	var inv []snapshot.AccessKey
	if a.RootCredentials != nil {
		inv = a.RootCredentials.AccessKeys
	}
	var sum *bool
	if a.Summary != nil {
		sum = a.Summary.AccessKeysPresent
	}
	rep, haveRep := rootReport(in)
	var slots, lacks []string
	if haveRep {
		lacks = rep.lacks(keyColumns)
		for i, k := range rep.row.AccessKeys {
			if k.Present() {
				slots = append(slots, keySlotText(i, k))
			}
		}
	}
	return presence{
		noun:       "access key",
		nouns:      "access keys",
		summaryKey: "AccountAccessKeysPresent",
		summary:    sum,
		invKnown:   inv != nil,
		inv:        keyInventoryText(inv),
		rep:        rep,
		haveRep:    haveRep,
		repSlots:   slots,
		repLacks:   lacks,
		repColumn:  "access_key_N_active / access_key_N_last_rotated",
	}.evaluate(in)
}

// presence is the shared judgement of "does root hold a credential of this
// kind", used for access keys and signing certificates.
type presence struct {
	noun, nouns string
	summaryKey  string
	summary     *bool
	invKnown    bool
	inv         []string
	rep         report
	haveRep     bool
	repSlots    []string
	// repLacks are the columns of this kind the report does not have:
	// without them it cannot show that there is none.
	repLacks  []string
	repColumn string
}

func (p presence) evaluate(in rule.Input) rule.Outcome {
	a := in.Account
	if none, ev := noRootCredentials(a); none {
		return notApplicableNoCredentials(ev)
	}
	var ev []rule.Evidence
	repText := ""
	if p.haveRep {
		switch {
		case len(p.repSlots) > 0:
			ev = append(ev, p.rep.evidence(p.repColumn, strings.Join(p.repSlots, "; ")))
		case len(p.repLacks) == 0:
			ev = append(ev, p.rep.evidence(p.repColumn, "none"))
		}
		if len(p.repLacks) > 0 {
			ev = append(ev, p.rep.lackEvidence(p.repLacks))
		}
		repText = p.rep.describe()
	}

	// 1. An exact inventory (AssumeRoot audit or root's own session) wins.
	if p.invKnown {
		ev = append([]rule.Evidence{{Source: srcInventory, Key: p.nouns, Value: listOrNone(p.inv)}}, ev...)
		if len(p.inv) > 0 {
			return rule.Outcome{Status: rule.Fail, Evidence: ev,
				Message: fmt.Sprintf("The root user has %s: %s.", rule.Plural(len(p.inv), p.noun, p.nouns), strings.Join(p.inv, "; "))}
		}
		msg := fmt.Sprintf("The root user has no %s (exact inventory).", p.nouns)
		if len(p.repSlots) > 0 {
			msg += fmt.Sprintf(" %s still lists %s; it was removed since.", capitalise(repText), strings.Join(p.repSlots, "; "))
		}
		return rule.Outcome{Status: rule.Pass, Message: msg, Evidence: ev}
	}

	// 2. The account summary is real time and counts inactive credentials;
	// it decides presence, the report adds the details.
	if p.summary != nil {
		ev = append([]rule.Evidence{summaryEvidence(p.summaryKey, p.summary)}, ev...)
		if *p.summary {
			what := article(p.noun) + " " + p.noun
			if len(p.repSlots) > 1 {
				what = rule.Plural(len(p.repSlots), p.noun, p.nouns)
			}
			msg := fmt.Sprintf("The root user has %s (account summary, real time: %s=1).", what, p.summaryKey)
			switch {
			case len(p.repSlots) > 0:
				msg += fmt.Sprintf(" From %s: %s.", repText, strings.Join(p.repSlots, "; "))
			case p.haveRep && len(p.repLacks) > 0:
				msg += fmt.Sprintf(" Which slot, its status and its last use are unknown: %s.", p.rep.lackText(p.repLacks))
			case p.haveRep:
				msg += fmt.Sprintf(" The sources disagree: %s shows no root %s, so it was probably created after the report; trusting the real-time summary. Its status and last use are unknown until the report is regenerated.", repText, p.noun)
			default:
				msg += fmt.Sprintf(" Which slot, its status and its last use are unknown: the credential report is unavailable (%s).", gapText(a, snapshot.SectionCredentialReport))
				ev = append(ev, gapEvidence(a, snapshot.SectionCredentialReport)...)
			}
			return rule.Outcome{Status: rule.Fail, Message: msg, Evidence: ev}
		}
		msg := fmt.Sprintf("The root user has no %s (account summary, real time: %s=0).", p.nouns, p.summaryKey)
		if len(p.repSlots) > 0 {
			msg += fmt.Sprintf(" The sources disagree: %s still lists %s; it was removed since the report was generated. Trusting the real-time summary.", repText, strings.Join(p.repSlots, "; "))
		}
		return rule.Outcome{Status: rule.Pass, Message: msg, Evidence: ev}
	}

	// 3. Only the credential report is left.
	if p.haveRep {
		ev = append(ev, gapEvidence(a, snapshot.SectionSummary)...)
		if len(p.repSlots) > 0 {
			return rule.Outcome{Status: rule.Fail, Evidence: ev,
				Message: fmt.Sprintf("The root user has %s according to %s: %s.", p.nouns, repText, strings.Join(p.repSlots, "; "))}
		}
		if len(p.repLacks) > 0 {
			return rule.Outcome{Status: rule.Unknown, Evidence: ev,
				Message: fmt.Sprintf("Cannot tell whether the root user has %s: %s, and the real-time account summary is unavailable (%s).", p.nouns, p.rep.lackText(p.repLacks), gapText(a, snapshot.SectionSummary))}
		}
		if !p.rep.fresh(in.Options) {
			return rule.Outcome{Status: rule.Unknown, Evidence: ev,
				Message: fmt.Sprintf("%s shows no root %s, but %s; the real-time account summary is unavailable (%s).", capitalise(repText), p.noun, p.rep.staleText(in.Options), gapText(a, snapshot.SectionSummary))}
		}
		return rule.Outcome{Status: rule.Pass, Evidence: ev,
			Message: fmt.Sprintf("The root user has no %s according to %s. The real-time account summary is unavailable (%s), so one created since the report would not show.", p.nouns, repText, gapText(a, snapshot.SectionSummary))}
	}

	ev = append(ev, gapEvidence(a, snapshot.SectionSummary, snapshot.SectionCredentialReport, snapshot.SectionRootCredentials)...)
	return rule.Outcome{Status: rule.Unknown, Evidence: ev,
		Message: fmt.Sprintf("Cannot tell whether the root user has %s: no source could be read (%s).", p.nouns, gapText(a, snapshot.SectionSummary, snapshot.SectionCredentialReport))}
}

// keySlotText describes a credential report key slot.
func keySlotText(i int, k snapshot.KeySlot) string {
	state := "active"
	if !k.Active {
		state = "inactive"
	}
	s := fmt.Sprintf("key %d %s, last rotated %s", i+1, state, stamp(k.LastRotated))
	switch {
	case k.LastUsedDate.IsSet():
		s += ", last used " + stamp(k.LastUsedDate) + where(k.LastUsedRegion, k.LastUsedService)
	case k.LastUsedDate.Sentinel() == snapshot.NotApplicable:
		s += ", never used"
	case k.LastUsedDate.Sentinel() == snapshot.NoInformation:
		s += ", no use recorded"
	default:
		s += ", last use not in this report's columns"
	}
	return s
}

func where(region, service string) string {
	s := ""
	if region != "" && region != snapshot.NotApplicable {
		s += " in " + region
	}
	if service != "" && service != snapshot.NotApplicable {
		s += " for " + service
	}
	return s
}

func keyInventoryText(keys []snapshot.AccessKey) []string {
	if keys == nil {
		return nil
	}
	out := []string{}
	for _, k := range keys {
		s := k.ID + " (" + strings.ToLower(k.Status)
		if k.CreateDate != nil {
			s += ", created " + k.CreateDate.UTC().Format(time.RFC3339)
		}
		switch u := k.LastUsed; {
		case u == nil:
			s += ", last use unknown"
		case u.Date == nil:
			s += ", never used"
		default:
			s += ", last used " + u.Date.UTC().Format(time.RFC3339) + where(u.Region, u.Service)
		}
		out = append(out, s+")")
	}
	return out
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, "; ")
}

func article(noun string) string {
	if strings.IndexAny(noun[:1], "aeiou") == 0 {
		return "an"
	}
	return "a"
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
