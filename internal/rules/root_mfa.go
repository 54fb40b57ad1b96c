package rules

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// RootMFA fails when the root user has no MFA device: then a leaked or
// phished root password alone opens the whole account.
var RootMFA = rule.Rule{
	ID:       "root-mfa",
	Title:    "Root user has no MFA",
	Severity: rule.Critical,
	Category: "Security",
	Service:  "iam",
	RootUser: true,
	Check:    checkRootMFA,
}

const govCloudMFA = "In AWS GovCloud (US) the root user cannot sign in to the console and cannot have MFA devices; its only credentials are access keys (see root-access-key)."

// rootMFAState is what the sources say about root MFA: enabled or not,
// with the evidence and any disagreement.
type rootMFAState struct {
	enabled, known bool
	source         string
	evidence       []rule.Evidence
	note           string
}

func rootMFA(in rule.Input) rootMFAState {
	a := in.Account
	rep, haveRep := rootReport(in)
	var st rootMFAState
	var repEv []rule.Evidence
	var lacks []string
	if haveRep {
		if lacks = rep.lacks(mfaColumns); len(lacks) > 0 {
			// Without mfa_active the report says nothing about MFA.
			haveRep = false
			repEv = []rule.Evidence{rep.lackEvidence(lacks)}
		} else {
			repEv = []rule.Evidence{rep.evidence("mfa_active", fmt.Sprint(rep.row.MFAActive))}
		}
	}
	switch {
	case a.RootCredentials != nil && a.RootCredentials.MFADevices != nil:
		devs := a.RootCredentials.MFADevices
		st = rootMFAState{enabled: len(devs) > 0, known: true, source: "exact inventory"}
		st.evidence = append([]rule.Evidence{{Source: srcInventory, Key: "mfa devices", Value: mfaList(devs)}}, repEv...)
	case a.Summary != nil && a.Summary.MFAEnabled != nil:
		st = rootMFAState{enabled: *a.Summary.MFAEnabled, known: true, source: "account summary, real time"}
		st.evidence = append([]rule.Evidence{summaryEvidence("AccountMFAEnabled", a.Summary.MFAEnabled)}, repEv...)
	case haveRep:
		st = rootMFAState{enabled: rep.row.MFAActive, known: true, source: rep.describe()}
		st.evidence = append(repEv, gapEvidence(a, snapshot.SectionSummary)...)
		if !st.enabled || rep.fresh(in.Options) {
			return st
		}
		// MFA on in a stale report: it may have been removed since.
		st.known = false
		st.note = capitalise(rep.describe()) + " shows MFA, but " + rep.staleText(in.Options)
		return st
	case len(lacks) > 0:
		st.evidence = append(gapEvidence(a, snapshot.SectionSummary), repEv...)
		st.note = "Cannot tell whether the root user has MFA: the real-time account summary is unavailable (" + gapText(a, snapshot.SectionSummary) + ") and " + rep.lackText(lacks)
		return st
	default:
		st.evidence = gapEvidence(a, snapshot.SectionSummary, snapshot.SectionCredentialReport, snapshot.SectionRootCredentials)
		return st
	}
	if haveRep && rep.row.MFAActive != st.enabled {
		st.note = fmt.Sprintf(" The sources disagree: %s says mfa_active=%v; trusting the %s.", rep.describe(), rep.row.MFAActive, st.source)
	}
	return st
}

func checkRootMFA(in rule.Input) rule.Outcome {
	a := in.Account
	if isGovCloud(a) {
		return rule.Outcome{Status: rule.NotApplicable, Message: govCloudMFA, Evidence: []rule.Evidence{{Source: "snapshot", Key: "partition", Value: a.Partition}}}
	}
	if none, ev := noRootCredentials(a); none {
		return notApplicableNoCredentials(ev)
	}
	st := rootMFA(in)
	switch {
	case !st.known && st.note != "":
		return rule.Outcome{Status: rule.Unknown, Message: st.note + ".", Evidence: st.evidence}
	case !st.known:
		return rule.Outcome{Status: rule.Unknown, Evidence: st.evidence,
			Message: "Cannot tell whether the root user has MFA: no source could be read (" + gapText(a, snapshot.SectionSummary, snapshot.SectionCredentialReport) + ")."}
	case st.enabled:
		return rule.Outcome{Status: rule.Pass, Evidence: st.evidence, Message: "The root user has MFA (" + st.source + ")." + st.note}
	}
	return rule.Outcome{Status: rule.Fail, Evidence: st.evidence,
		Message: "The root user has no MFA device (" + st.source + "): its password alone is enough to sign in as root." + st.note}
}

func mfaList(devs []snapshot.MFADevice) string {
	if len(devs) == 0 {
		return "none"
	}
	var parts []string
	for _, d := range devs {
		parts = append(parts, d.Serial+" ("+string(d.Type)+")")
	}
	return strings.Join(parts, "; ")
}
