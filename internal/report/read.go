package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// ReadJSON reads a document WriteJSON wrote (vigil scan --format json),
// so that every other format can be rebuilt from it with no AWS call
// (vigil report convert). name names the input in errors, which give the
// line and column of what is wrong.
//
// A saved file is outside input: it may have been edited, or made by
// hand. ReadJSON holds it to what Build guarantees the writers: the known
// schema and version, no unknown field, statuses and severities Vigil
// has, results whose counts match the summary, every free-text field
// cleaned and redacted again (a no-op on a file Vigil wrote), and results
// and accounts in Build's order. A document Vigil wrote reads back to
// one every writer renders exactly as it rendered the original.
func ReadJSON(r io.Reader, name string, limit int64) (*Document, error) {
	data, err := input.ReadAll(r, name, limit)
	if input.IsTooLarge(err) {
		return nil, fmt.Errorf("report %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", name, err)
	}
	var head struct {
		Schema  string `json:"schema"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("report %s: %s", name, snapshot.JSONError(data, err))
	}
	switch {
	case head.Schema == snapshot.Schema:
		return nil, fmt.Errorf("report %s: this is a snapshot (%q), not a report: evaluate it with vigil scan --from %s", name, head.Schema, name)
	case head.Schema != Schema:
		return nil, fmt.Errorf("report %s: not a Vigil JSON report (schema %s, want %q; vigil scan --format json writes one)", name, input.Quote(head.Schema), Schema)
	case head.Version != Version:
		return nil, fmt.Errorf("report %s: version %d is not supported (this Vigil reads version %d)", name, head.Version, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("report %s: %s", name, snapshot.JSONError(data, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("report %s: %s: unexpected data after the document", name, position(data, dec.InputOffset()))
	}
	if err := d.check(); err != nil {
		return nil, fmt.Errorf("report %s: %w", name, err)
	}
	d.reclean()
	return &d, nil
}

// position is "line L, column C" of a byte offset.
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// check holds the document to what Build makes.
func (d *Document) check() error {
	if d.Accounts == nil {
		return fmt.Errorf(`"accounts" is missing`)
	}
	if d.Results == nil {
		return fmt.Errorf(`"results" is missing`)
	}
	var c Counts
	for i := range d.Results {
		if d.Results[i].Meta == nil {
			// A result with none of the metadata's fields: encoding/json
			// allocates a Meta only for a field it finds.
			d.Results[i].Meta = &rule.Meta{}
		}
		r := d.Results[i]
		if r.RuleID == "" || strings.IndexFunc(r.RuleID, func(c rune) bool { return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') }) >= 0 {
			return fmt.Errorf("results[%d]: rule_id %s is not a rule ID (lower-case letters, digits and hyphens)", i, input.Quote(r.RuleID))
		}
		if !slices.Contains(rule.Statuses, r.Status) {
			return fmt.Errorf("results[%d] (%s): status %s is not one of PASS, FAIL, UNKNOWN, NOT_APPLICABLE", i, r.RuleID, input.Quote(string(r.Status)))
		}
		if r.AccountID == "" {
			return fmt.Errorf("results[%d] (%s): account_id is missing", i, r.RuleID)
		}
		c.add(r.Status)
	}
	if c != d.Summary.Counts || len(d.Results) != d.Summary.Results {
		return fmt.Errorf("the summary (%d results: %+v) does not match the results (%d: %+v); was the file edited?", d.Summary.Results, d.Summary.Counts, len(d.Results), c)
	}
	return nil
}

// reclean puts the document back in Build's shape: free text cleaned and
// redacted, lists in Build's order. Each step is a no-op on a document
// Build made.
func (d *Document) reclean() {
	d.Source.Detail = label(d.Source.Detail)
	d.SnapshotFile = label(d.SnapshotFile)
	d.Tool.Name, d.Tool.Version = label(d.Tool.Name), label(d.Tool.Version)
	if d.Incomplete != nil {
		d.Incomplete.Reason = clean(d.Incomplete.Reason)
	}
	if o := d.Organization; o != nil {
		o.ID, o.ManagementAccountID, o.Caller, o.AccessMode, o.Scope = label(o.ID), label(o.ManagementAccountID), label(o.Caller), label(o.AccessMode), clean(o.Scope)
		for i := range o.Skipped {
			s := &o.Skipped[i]
			s.Name, s.Reason, s.State = label(s.Name), clean(s.Reason), label(s.State)
		}
		slices.SortStableFunc(o.Skipped, func(a, b snapshot.SkippedAccount) int { return strings.Compare(a.AccountID, b.AccountID) })
		o.Gaps = recleanGaps(o.Gaps)
	}
	for i := range d.Unreached {
		u := &d.Unreached[i]
		u.Target = label(u.Target)
		u.Gap = recleanGaps([]snapshot.Gap{u.Gap})[0]
	}
	slices.SortStableFunc(d.Unreached, func(a, b snapshot.Unreached) int { return strings.Compare(a.Target, b.Target) })
	for i := range d.Accounts {
		a := &d.Accounts[i]
		a.AccountID, a.Name, a.Partition, a.Caller, a.OUPath = label(a.AccountID), label(a.Name), label(a.Partition), label(a.Caller), labels(a.OUPath)
		if a.Access != nil {
			a.Access.Note = clean(a.Access.Note)
			a.Access.RoleARN, a.Access.Profile = label(a.Access.RoleARN), label(a.Access.Profile)
		}
		a.Gaps = recleanGaps(a.Gaps)
	}
	slices.SortStableFunc(d.Accounts, func(a, b Account) int { return strings.Compare(a.AccountID, b.AccountID) })
	for i := range d.Results {
		// encoding/json gave each result a Meta of its own.
		r := d.Results[i].Meta
		r.RuleID, r.Title, r.Category, r.Service = label(r.RuleID), label(r.Title), label(r.Category), label(r.Service)
		r.AccountID, r.Partition = label(r.AccountID), label(r.Partition)
	}
	d.Results = redactResults(d.Results)
	rule.SortResults(d.Results)
	if c := d.Compliance; c != nil {
		c.Framework, c.Name, c.Version, c.Scope = label(c.Framework), label(c.Name), label(c.Version), clean(c.Scope)
		for i := range c.Controls {
			ctl := &c.Controls[i]
			ctl.ID, ctl.Title, ctl.Section, ctl.ManualCheck = label(ctl.ID), label(ctl.Title), label(ctl.Section), clean(ctl.ManualCheck)
			for j := range ctl.Rules {
				ra := &ctl.Rules[j]
				ra.RuleID, ra.Title, ra.NoResult = label(ra.RuleID), label(ra.Title), clean(ra.NoResult)
				for k := range ra.Results {
					f := &ra.Results[k]
					f.AccountID, f.Resource, f.Severity, f.Message = label(f.AccountID), label(f.Resource), label(f.Severity), clean(f.Message)
				}
			}
		}
	}
}

func recleanGaps(gaps []snapshot.Gap) []snapshot.Gap {
	out := redactGaps(gaps)
	for i := range out {
		out[i].Call, out[i].Code = label(out[i].Call), label(out[i].Code)
	}
	return out
}
