package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

const (
	srcSummary   = "iam:GetAccountSummary"
	srcReport    = "credential report"
	srcInventory = "root credential inventory"
	srcVirtual   = "iam:ListVirtualMFADevices"
	srcOrg       = "organizations:DescribeOrganization"
	srcFeatures  = "iam:ListOrganizationsFeatures"
)

// flag renders a summary value the way SummaryMap holds it.
func flag(b *bool) string {
	switch {
	case b == nil:
		return "absent from SummaryMap"
	case *b:
		return "1"
	default:
		return "0"
	}
}

func summaryEvidence(key string, v *bool) rule.Evidence {
	return rule.Evidence{Source: srcSummary, Key: key, Value: flag(v)}
}

// gapEvidence turns the recorded failures of the given sections into
// evidence, so an UNKNOWN result shows which call failed and how. A section
// with no recorded failure was simply not collected (a hand-made or partial
// snapshot), and the evidence says that. The AssumeRoot inventory is
// optional, so its absence is only evidence when it failed.
//
// When the account could not be reached at all (a denied role, a refused
// AssumeRoot, a timeout, a cancelled run), that failure explains every
// missing section and comes first.
func gapEvidence(a *snapshot.Account, sections ...string) []rule.Evidence {
	var ev []rule.Evidence
	access := accessGaps(a)
	for _, g := range access {
		ev = append(ev, rule.Evidence{Source: g.Call, Error: g.Text()})
	}
	for _, s := range sections {
		found := false
		for _, g := range a.Gaps {
			if g.Section != s {
				continue
			}
			found = true
			ev = append(ev, rule.Evidence{Source: g.Call, Error: g.Text()})
		}
		if !found && s != snapshot.SectionRootCredentials && len(access) == 0 {
			ev = append(ev, rule.Evidence{Source: sectionNames[s], Error: "not collected"})
		}
	}
	return ev
}

// accessGaps are the failures to reach the account at all.
func accessGaps(a *snapshot.Account) []snapshot.Gap {
	var out []snapshot.Gap
	for _, g := range a.Gaps {
		if g.Section == snapshot.SectionAccess {
			out = append(out, g)
		}
	}
	return out
}

// gapCode is a gap's code, for messages.
func gapCode(g snapshot.Gap) string {
	if g.Code != "" {
		return g.Code
	}
	return "failed"
}

// gapText summarises why sections are missing, for messages. An account
// that could not be reached is summarised by that alone.
func gapText(a *snapshot.Account, sections ...string) string {
	if access := accessGaps(a); len(access) > 0 {
		return "the account could not be reached: " + access[0].Call + ": " + gapCode(access[0])
	}
	var parts []string
	for _, s := range sections {
		if g := a.GapFor(s); g != nil {
			parts = append(parts, g.Call+": "+gapCode(*g))
		} else {
			parts = append(parts, sectionNames[s]+": not collected")
		}
	}
	return strings.Join(parts, "; ")
}

var sectionNames = map[string]string{
	snapshot.SectionSummary:          srcSummary,
	snapshot.SectionCredentialReport: srcReport,
	snapshot.SectionRootVirtualMFA:   srcVirtual,
	snapshot.SectionRootCredentials:  srcInventory,
	snapshot.SectionOrganization:     srcOrg,
	snapshot.SectionOrgFeatures:      srcFeatures,
	snapshot.SectionPasswordPolicy:   srcPasswordPolicy,
	snapshot.SectionIAM:              "iam:GetAccountAuthorizationDetails",
	// The regional sections (regional.go).
	snapshot.SectionRegions:            srcRegions,
	snapshot.SectionServerCertificates: srcServerCerts,
	snapshot.SectionAccessAnalyzer:     srcAnalyzers,
	snapshot.SectionInstances:          srcInstances,
	// The manual items' evidence (account_contacts.go).
	snapshot.SectionAlternateContact + snapshot.ContactSecurity:   srcContacts,
	snapshot.SectionAlternateContact + snapshot.ContactBilling:    srcContacts,
	snapshot.SectionAlternateContact + snapshot.ContactOperations: srcContacts,
	snapshot.SectionSAMLProviders:                                 srcSAML,
	snapshot.SectionOIDCProviders:                                 srcOIDC,
}

// report is the credential report's root row with its age, when usable.
//
// The age is exact when the generation time is known. Otherwise the
// newest time recorded in the report is a lower bound of the generation
// time, which makes the age computed from it an upper bound: a report
// whose newest entry is an hour old is at most an hour old and may
// support a PASS; one whose newest entry is 600 days old may be that
// old, and cannot.
type report struct {
	row    *snapshot.CredentialRow
	asOf   time.Time
	known  bool // asOf is known and not after the evaluation time
	bound  bool // asOf is a lower bound of the generation time
	future bool // asOf is after the evaluation time: the age is unknown
	source string
	age    time.Duration
}

func rootReport(in rule.Input) (report, bool) {
	cr := in.Account.CredentialReport
	if cr == nil || cr.Root == nil {
		return report{}, false
	}
	r := report{row: cr.Root, source: cr.TimeSource}
	if t, exact, ok := cr.AsOf(); ok {
		r.asOf, r.bound = t, !exact
		r.age = in.Now.Sub(t)
		// A report dated after the evaluation (beyond a clock difference
		// between AWS and this machine) has no age to judge by, and is
		// never "0s old".
		r.future = r.age < -snapshot.ClockSkew
		r.known = !r.future
		if r.age < 0 {
			r.age = 0
		}
	}
	return r, true
}

// describe says how old the report is, for messages.
func (r report) describe() string {
	at := r.asOf.UTC().Format(time.RFC3339)
	switch {
	case r.future:
		return fmt.Sprintf("the credential report dated %s (after the time it is judged at, so of unknown age)", at)
	case !r.known:
		return "the credential report (age unknown)"
	case r.bound:
		return fmt.Sprintf("the credential report generated at or after %s (at most %s old)", at, rule.Age(r.age))
	}
	return fmt.Sprintf("the credential report of %s (%s old)", at, rule.Age(r.age))
}

// fresh reports whether the report may support a PASS on its own. For a
// report known only by its newest entry the age is an upper bound, so
// the test is as strict as for a known age.
func (r report) fresh(opts rule.Options) bool {
	if opts.MaxReportAge == 0 {
		return true
	}
	return r.known && r.age <= opts.MaxReportAge
}

// staleText explains why a report-only PASS was refused.
func (r report) staleText(opts rule.Options) string {
	switch {
	case r.future:
		return fmt.Sprintf("the credential report is dated %s, after the time it is judged at, so its age is unknown and it cannot show that nothing changed since", r.asOf.UTC().Format(time.RFC3339))
	case !r.known:
		return "the credential report's age is unknown, so it cannot show that nothing changed since; give its generation time (vigil scan --report-time) or pass --max-report-age 0 to accept it anyway"
	case r.bound:
		return fmt.Sprintf("the credential report carries no generation time and the newest time it records is %s old, so it may be that old, older than --max-report-age %s, and cannot show that nothing changed since; give its generation time with vigil scan --report-time, or pass --max-report-age 0 to accept it anyway", rule.Age(r.age), rule.Age(opts.MaxReportAge))
	}
	return fmt.Sprintf("the credential report is %s old, older than --max-report-age %s, so it cannot show that nothing changed since", rule.Age(r.age), rule.Age(opts.MaxReportAge))
}

// The credential report columns each rule reads. A report of an older
// format (before 2015 it had no last-used columns) or a hand-made file can
// lack some (CredentialRow.Missing); a column the report does not have is
// unknown, never "none".
var (
	keyColumns  = []string{"access_key_1_active", "access_key_1_last_rotated", "access_key_2_active", "access_key_2_last_rotated"}
	certColumns = []string{"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"}
	mfaColumns  = []string{"mfa_active"}
	useColumns  = []string{"password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date"}
)

// lacks returns the columns of cols the report does not have.
func (r report) lacks(cols []string) []string {
	var out []string
	for _, c := range cols {
		if slices.Contains(r.row.Missing, c) {
			out = append(out, c)
		}
	}
	return out
}

// lackText says which columns the report lacks, for messages.
func (r report) lackText(cols []string) string {
	return r.describe() + " has no " + columnsText(cols)
}

func columnsText(cols []string) string {
	if len(cols) == 1 {
		return cols[0] + " column"
	}
	return strings.Join(cols, ", ") + " columns"
}

// lackEvidence records the columns the report lacks.
func (r report) lackEvidence(cols []string) rule.Evidence {
	e := r.evidence(strings.Join(cols, ", "), "")
	e.Error = "not in the report"
	return e
}

// ageEvidence is the report's age, for an answer that its age decided.
func (r report) ageEvidence() rule.Evidence {
	if !r.known {
		e := r.evidence("age", "")
		e.Error = "unknown"
		return e
	}
	return r.evidence("age", rule.Age(r.age))
}

func (r report) evidence(key, value string) rule.Evidence {
	e := rule.Evidence{Source: srcReport, Key: key, Value: value}
	if r.known || r.future {
		t := r.asOf.UTC()
		e.AsOf, e.AsOfSource = &t, r.source
	}
	return e
}

// noRootCredentials reports whether the account's root user provably has
// no credentials at all — the state centralised root access creates — and
// the evidence for it. Unknown password presence means "not proven".
func noRootCredentials(a *snapshot.Account) (bool, []rule.Evidence) {
	if inv := a.RootCredentials; inv != nil && inv.AccessKeys != nil && inv.SigningCertificates != nil && inv.MFADevices != nil && inv.LoginProfile != nil {
		if len(inv.AccessKeys) == 0 && len(inv.SigningCertificates) == 0 && len(inv.MFADevices) == 0 && !inv.LoginProfile.Present {
			return true, []rule.Evidence{{Source: srcInventory, Value: "no access keys, signing certificates, MFA devices or login profile"}}
		}
		return false, nil
	}
	s := a.Summary
	if s == nil || s.AccessKeysPresent == nil || s.MFAEnabled == nil || s.PasswordPresent == nil || s.SigningCertificatesPresent == nil {
		return false, nil
	}
	if *s.AccessKeysPresent || *s.MFAEnabled || *s.PasswordPresent || *s.SigningCertificatesPresent {
		return false, nil
	}
	return true, []rule.Evidence{
		summaryEvidence("AccountPasswordPresent", s.PasswordPresent),
		summaryEvidence("AccountAccessKeysPresent", s.AccessKeysPresent),
		summaryEvidence("AccountSigningCertificatesPresent", s.SigningCertificatesPresent),
		summaryEvidence("AccountMFAEnabled", s.MFAEnabled),
	}
}

const noCredentialsMessage = "The root user has no credentials at all (no password, access keys, signing certificates or MFA), the state centralised root access management leaves member accounts in; there is nothing to check."

func notApplicableNoCredentials(ev []rule.Evidence) rule.Outcome {
	return rule.Outcome{Status: rule.NotApplicable, Message: noCredentialsMessage, Evidence: ev}
}

// isGovCloud: the GovCloud (US) root user cannot sign in to the console and
// cannot hold MFA devices; only its access keys exist.
func isGovCloud(a *snapshot.Account) bool { return a.Partition == "aws-us-gov" }

func stamp(s snapshot.Stamp) string {
	if s.IsSet() {
		return s.Time().Format(time.RFC3339)
	}
	return s.String()
}
