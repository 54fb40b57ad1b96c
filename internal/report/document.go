package report

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/redact"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Schema and Version identify the JSON result format (docs/json-report.md).
const (
	Schema  = "vigil.report"
	Version = 1
)

// Document is the result of one evaluation.
type Document struct {
	Schema      string    `json:"schema"`
	Version     int       `json:"version"`
	Tool        Tool      `json:"tool"`
	GeneratedAt time.Time `json:"generated_at"`
	// CollectedAt is when the evaluated state was collected; it differs
	// from GeneratedAt when a saved snapshot is re-evaluated.
	CollectedAt time.Time       `json:"collected_at"`
	Source      snapshot.Source `json:"source"`
	// SnapshotFile is the saved snapshot this document evaluates (scan
	// --from), when it does; Source is then where that snapshot was
	// collected, which may be long gone (the demo's emulator).
	SnapshotFile string               `json:"snapshot_file,omitempty"`
	Incomplete   *snapshot.Incomplete `json:"incomplete,omitempty"`
	Organization *Organization        `json:"organization,omitempty"`
	Accounts     []Account            `json:"accounts"`
	// Unreached are targets of a multi-account run that yielded no
	// account at all, with the reason.
	Unreached []snapshot.Unreached `json:"unreached,omitempty"`
	Summary   Summary              `json:"summary"`
	Results   []rule.Result        `json:"results"`
	// Compliance is the results judged against one framework version,
	// when the scan asked for it (--compliance). The caller sets it after
	// Build, from the document's Results, which Build has redacted.
	Compliance *compliance.Assessment `json:"compliance,omitempty"`
}

// Tool names the program that wrote the document.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Organization is the organisation-level context of the results.
type Organization struct {
	ID                  string `json:"id"`
	ManagementAccountID string `json:"management_account_id"`
	// Caller, AccessMode and Scope describe an organisation scan: who ran
	// it, how member accounts were reached, and what was selected.
	Caller     string                    `json:"caller_arn,omitempty"`
	AccessMode string                    `json:"access_mode,omitempty"`
	Scope      string                    `json:"scope,omitempty"`
	Features   *snapshot.OrgFeatures     `json:"features,omitempty"`
	Skipped    []snapshot.SkippedAccount `json:"skipped,omitempty"`
	Gaps       []snapshot.Gap            `json:"gaps,omitempty"`
}

// Account is one scanned account and what could not be collected there.
type Account struct {
	AccountID string           `json:"account_id"`
	Name      string           `json:"name,omitempty"`
	Partition string           `json:"partition,omitempty"`
	Role      snapshot.OrgRole `json:"organization_role,omitempty"`
	OUPath    []string         `json:"ou_path,omitempty"`
	Access    *snapshot.Access `json:"access,omitempty"`
	Caller    string           `json:"caller_arn,omitempty"`
	// ReportTime is when the credential report was generated or, with
	// ReportTimeLowerBound, the newest time it records (it was generated
	// at or after it). ReportTimeSource says where the time came from
	// (snapshot.TimeFrom…).
	ReportTime           *time.Time     `json:"credential_report_time,omitempty"`
	ReportTimeLowerBound bool           `json:"credential_report_time_lower_bound,omitempty"`
	ReportTimeSource     string         `json:"credential_report_time_source,omitempty"`
	Gaps                 []snapshot.Gap `json:"gaps,omitempty"`
	Counts               Counts         `json:"counts"`
	// Status is the account at a glance: "failing" (a FAIL), "unknown"
	// (no FAIL, an UNKNOWN) or "clean" (only PASS and NOT_APPLICABLE).
	Status string `json:"status"`
}

// Account statuses.
const (
	StatusFailing = "failing"
	StatusUnknown = "unknown"
	StatusClean   = "clean"
)

func (a Account) status() string {
	switch {
	case a.Counts.Fail > 0:
		return StatusFailing
	case a.Counts.Unknown > 0:
		return StatusUnknown
	}
	return StatusClean
}

// Counts tallies results by status.
type Counts struct {
	Fail          int `json:"fail"`
	Unknown       int `json:"unknown"`
	Pass          int `json:"pass"`
	NotApplicable int `json:"not_applicable"`
}

func (c *Counts) add(s rule.Status) {
	switch s {
	case rule.Fail:
		c.Fail++
	case rule.Unknown:
		c.Unknown++
	case rule.Pass:
		c.Pass++
	case rule.NotApplicable:
		c.NotApplicable++
	}
}

// Summary is the whole run at a glance.
type Summary struct {
	Accounts int    `json:"accounts"`
	Results  int    `json:"results"`
	Counts   Counts `json:"counts"`
	// FailedBySeverity counts failures per severity name.
	FailedBySeverity map[string]int `json:"failed_by_severity"`
	// AccountStatus counts accounts by status, for documents of more than
	// one account or of an organisation scan.
	AccountStatus *AccountStatus `json:"account_status,omitempty"`
}

// AccountStatus counts the accounts of a multi-account run.
type AccountStatus struct {
	Failing int `json:"failing"`
	// Critical counts the failing accounts with a critical failure.
	Critical int `json:"critical"`
	Unknown  int `json:"unknown"`
	Clean    int `json:"clean"`
	// Skipped were discovered but not scanned (suspended, excluded…);
	// Unreached yielded no account at all.
	Skipped   int `json:"skipped"`
	Unreached int `json:"unreached"`
}

// Build assembles the document from a snapshot and the rules' results.
// The document is sorted whatever order its inputs come in (accounts,
// skipped accounts and unreached targets as snapshot.Document.Sort orders
// them, results as rule.SortResults), and every free-text field has been
// through redact.Text, so no writer can print a credential that an error
// message quoted. Build reads its inputs and never changes them: the
// document holds copies of what it redacts or reorders.
func Build(doc *snapshot.Document, results []rule.Result, tool Tool, generatedAt time.Time) *Document {
	results = redactResults(results)
	rule.SortResults(results)
	d := &Document{
		Schema:      Schema,
		Version:     Version,
		Tool:        tool,
		GeneratedAt: generatedAt.UTC(),
		CollectedAt: doc.CollectedAt.UTC(),
		Source:      snapshot.Source{Kind: doc.Source.Kind, Detail: label(redact.Locator(doc.Source.Detail))},
		Accounts:    []Account{},
		Results:     results,
	}
	if doc.Incomplete != nil {
		d.Incomplete = &snapshot.Incomplete{Reason: clean(doc.Incomplete.Reason)}
	}
	if o := doc.Organization; o != nil {
		skipped := slices.Clone(o.Skipped)
		for i := range skipped {
			skipped[i].Reason, skipped[i].Name = clean(skipped[i].Reason), label(skipped[i].Name)
		}
		slices.SortStableFunc(skipped, func(a, b snapshot.SkippedAccount) int { return strings.Compare(a.AccountID, b.AccountID) })
		d.Organization = &Organization{ID: o.ID, ManagementAccountID: o.ManagementAccountID, Caller: o.Caller, AccessMode: o.AccessMode,
			Scope: o.Scope, Features: o.Features, Skipped: skipped, Gaps: redactGaps(o.Gaps)}
	}
	if doc.Unreached != nil {
		d.Unreached = slices.Clone(doc.Unreached)
		for i := range d.Unreached {
			d.Unreached[i].Gap.Message = clean(d.Unreached[i].Gap.Message)
		}
		slices.SortStableFunc(d.Unreached, func(a, b snapshot.Unreached) int { return strings.Compare(a.Target, b.Target) })
	}
	index := map[string]int{}
	for _, a := range doc.Accounts {
		ra := Account{AccountID: a.ID, Name: label(a.Name), Partition: a.Partition, Role: a.Role(), OUPath: labels(a.OUPath), Gaps: redactGaps(a.Gaps)}
		if a.Access != nil {
			ac := *a.Access
			ac.Note = clean(ac.Note)
			ra.Access = &ac
		}
		if a.Caller != nil {
			ra.Caller = label(a.Caller.ARN)
		}
		if cr := a.CredentialReport; cr != nil {
			if t, exact, ok := cr.AsOf(); ok {
				ra.ReportTime, ra.ReportTimeLowerBound, ra.ReportTimeSource = &t, !exact, cr.TimeSource
			}
		}
		d.Accounts = append(d.Accounts, ra)
	}
	slices.SortStableFunc(d.Accounts, func(a, b Account) int { return strings.Compare(a.AccountID, b.AccountID) })
	for i, a := range d.Accounts {
		index[a.AccountID] = i
	}
	critical := map[string]bool{}
	d.Summary = Summary{Accounts: len(d.Accounts), Results: len(results), FailedBySeverity: map[string]int{}}
	for _, s := range rule.Severities {
		d.Summary.FailedBySeverity[s.String()] = 0
	}
	for _, r := range results {
		d.Summary.Counts.add(r.Status)
		if r.Status == rule.Fail {
			d.Summary.FailedBySeverity[r.Severity.String()]++
		}
		if i, ok := index[r.AccountID]; ok && !IsOrganizationResult(r) {
			d.Accounts[i].Counts.add(r.Status)
			if r.Status == rule.Fail && r.Severity == rule.Critical {
				critical[r.AccountID] = true
			}
		}
	}
	multi := len(d.Accounts) > 1 || len(d.Unreached) > 0 || d.Organization != nil && d.Organization.AccessMode != ""
	var st AccountStatus
	for i := range d.Accounts {
		a := &d.Accounts[i]
		a.Status = a.status()
		switch a.Status {
		case StatusFailing:
			st.Failing++
			if critical[a.AccountID] {
				st.Critical++
			}
		case StatusUnknown:
			st.Unknown++
		default:
			st.Clean++
		}
	}
	if d.Organization != nil {
		st.Skipped = len(d.Organization.Skipped)
	}
	st.Unreached = len(d.Unreached)
	if multi {
		d.Summary.AccountStatus = &st
	}
	return d
}

// redactGaps is a redacted copy of gaps (nil stays nil, for omitempty).
func redactGaps(gaps []snapshot.Gap) []snapshot.Gap {
	out := slices.Clone(gaps)
	for i := range out {
		out[i].Message = clean(out[i].Message)
	}
	return out
}

// redactResults is a redacted copy of results, never nil (the document's
// results are a list even when empty).
func redactResults(results []rule.Result) []rule.Result {
	out := make([]rule.Result, len(results))
	// A rule about many resources shares its messages and evidence between
	// them (rule.ResourceSet): each is redacted once, and the results that
	// shared it share the redacted copy.
	texts := map[string]string{}
	cleanOnce := func(s string) string {
		if v, ok := texts[s]; ok {
			return v
		}
		v := clean(s)
		if len(texts) < 4096 {
			texts[s] = v
		}
		return v
	}
	type evidenceKey struct {
		first *rule.Evidence
		n     int
	}
	shared := map[evidenceKey][]rule.Evidence{}
	// The results of a rule in an account share their metadata
	// (rule.Meta), and come in blocks: the account name is checked once
	// per block, and copied only when it needs cleaning, as the input's
	// metadata must not change.
	var metaIn, metaOut *rule.Meta
	for i, r := range results {
		if r.Meta != metaIn {
			metaIn, metaOut = r.Meta, r.Meta
			if m := r.Meta; m != nil {
				if name := label(m.AccountName); name != m.AccountName {
					c := *m
					c.AccountName = name
					metaOut = &c
				}
			}
		}
		r.Meta = metaOut
		r.Message, r.Resource = cleanOnce(r.Message), label(r.Resource)
		if r.Evidence != nil {
			key := evidenceKey{n: len(r.Evidence)}
			if len(r.Evidence) > 0 {
				key.first = &r.Evidence[0]
			}
			ev, ok := shared[key]
			if !ok {
				ev = make([]rule.Evidence, len(r.Evidence))
				for k, e := range r.Evidence {
					e.Value, e.Error = cleanOnce(e.Value), cleanOnce(e.Error)
					ev[k] = e
				}
				if len(shared) < 4096 {
					shared[key] = ev
				}
			}
			r.Evidence = ev
		}
		out[i] = r
	}
	return out
}

// clean is free text from outside (error messages, names in messages) as
// a document may hold it: without a credential it quotes (redact.Text),
// and without control characters, which a crafted snapshot could use to
// drive the terminal that shows a text report (an escape sequence that
// rewrites the screen or the window title); line breaks and tabs stay.
func clean(s string) string { return printable(redact.Text(s), false) }

// label is a one-line value from outside (a name, an ARN): clean, and
// kept on one line.
func label(s string) string { return printable(s, true) }

func labels(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = label(s)
	}
	return out
}

// printable replaces control characters (C0, DEL, C1) and bytes that are
// not UTF-8 with U+FFFD, the replacement character, so that what was
// there still shows.
func printable(s string, oneLine bool) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && (oneLine || r != '\n' && r != '\t') {
			return '\uFFFD'
		}
		return r
	}, s)
}

// IsOrganizationResult tells organisation-level results (filed under the
// management account's ID) from that account's own.
func IsOrganizationResult(r rule.Result) bool { return strings.Contains(r.Resource, ":organization/") }

// Failures counts results failing at or above min; a suppressed result
// does not count.
func (d *Document) Failures(min rule.Severity) int {
	n := 0
	for _, r := range d.Results {
		if r.Failed(min) && r.Suppression == nil {
			n++
		}
	}
	return n
}
