// Package csv writes a report as CSV (RFC 4180: comma-separated, fields
// quoted where needed, CRLF line ends, UTF-8 without a byte-order mark),
// one row per result, for spreadsheets and ad-hoc analysis.
//
// The columns, in order (Columns), are the result's account ID and name,
// partition, rule ID and title, status (PASS, FAIL, UNKNOWN or
// NOT_APPLICABLE), severity (raised for a management account) and the
// rule's own, category, service, the resource's ARN, whether the account
// is the organisation's management account, the message, the evidence
// (one line each, "source: key = value (as of …)" or "source: error"),
// and when the state was collected. The first row names them.
//
// A spreadsheet runs a cell that starts with =, +, -, @, a tab or a
// carriage return as a formula, and an account name or a message comes
// from outside: such a cell is written with a leading apostrophe, which
// spreadsheets show as text (OWASP's advice on CSV injection). The
// apostrophe is the only change made to a value.
package csv

import (
	"cmp"
	stdcsv "encoding/csv"
	"io"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
)

// Columns are the header row.
var Columns = []string{"account_id", "account_name", "partition", "rule_id", "title", "status", "severity", "rule_severity",
	"category", "service", "resource", "management_account", "message", "evidence", "collected_at"}

// Writer writes CSV.
type Writer struct{}

// New returns a CSV writer.
func New() Writer { return Writer{} }

// Write writes the header and a row per result.
func (Writer) Write(w io.Writer, d *report.Document) error {
	cw := stdcsv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(Columns); err != nil {
		return err
	}
	names := d.AccountNames()
	collected := d.CollectedAt.UTC().Format(time.RFC3339)
	row := make([]string, len(Columns))
	for i := range d.Results {
		r := &d.Results[i]
		mgmt := "false"
		if r.ManagementAccount {
			mgmt = "true"
		}
		row = append(row[:0], r.AccountID, cmp.Or(names[r.AccountID], r.AccountName), r.Partition, r.RuleID, r.Title, string(r.Status),
			r.Severity.String(), r.RuleSeverity.String(), r.Category, r.Service, r.Resource, mgmt, r.Message, evidence(r.Evidence), collected)
		for k := range row {
			row[k] = Neutralise(row[k])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// evidence is a result's evidence, a line each.
func evidence(ev []rule.Evidence) string {
	var b strings.Builder
	for i, e := range ev {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Source + ":")
		if e.Key != "" {
			b.WriteString(" " + e.Key + " =")
		}
		if e.Value != "" {
			b.WriteString(" " + e.Value)
		}
		if e.AsOf != nil {
			b.WriteString(" (as of " + e.AsOf.UTC().Format(time.RFC3339) + ")")
		}
		if e.Error != "" {
			b.WriteString(" error: " + e.Error)
		}
	}
	return b.String()
}

// Neutralise prefixes an apostrophe to a cell a spreadsheet would run as
// a formula.
func Neutralise(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
