package fix

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// TextOptions tune WriteText.
type TextOptions struct {
	// Now is the time ages are measured from.
	Now time.Time
	// Apply: the plan is about to be applied (after confirmation), so it
	// is not a dry run.
	Apply bool
	// Steps renders the manual steps of a case (from the knowledge base);
	// nil leaves them out.
	Steps func(Case) (string, error)
}

// WriteText writes a plan for people: every account with what its root
// user holds, the evidence the guard used and what will be done with
// each credential; the changes in order with their warnings; then the
// manual steps for the accounts Vigil cannot fix, once per case.
func WriteText(w io.Writer, p *Plan, o TextOptions) error {
	pw := &printer{w: w}
	pw.printf("Vigil fix — %s\n", p.Scope)
	if p.Caller != "" {
		pw.printf("Caller:   %s\n", p.Caller)
	}
	force := ""
	if p.Guard.Force {
		force = " (--force: the guard is overridden)"
	}
	pw.printf("Guard:    access keys used within the last %dd, or whose last use cannot be read, are refused%s\n", p.Guard.MinIdleDays, force)
	pw.printf("          CloudTrail is searched %dd back where it can be read\n", p.Guard.LookbackDays)
	if p.Snapshot != "" {
		pw.printf("Snapshot: only what the %s recorded is acted on\n", p.Snapshot)
	}

	var clean []*Account
	manual := map[Case][]string{}
	for _, a := range p.Accounts {
		if a.Path != PathManual && len(a.Credentials) == 0 && len(a.Errors) == 0 && len(a.Notes) == 0 && a.Path != PathNone {
			clean = append(clean, a)
			continue
		}
		if a.Manual != nil {
			manual[a.Manual.Case] = append(manual[a.Manual.Case], a.ID)
		}
		writeAccount(pw, a, o)
	}
	if len(clean) > 0 {
		pw.printf("\nNo root credentials to remove (%d):\n", len(clean))
		for _, a := range clean {
			pw.printf("  %s\n", accountTitle(a))
		}
	}
	if len(p.Skipped) > 0 {
		pw.printf("\nSkipped (%d):\n", len(p.Skipped))
		for _, s := range p.Skipped {
			name := ""
			if s.Name != "" {
				name = " " + s.Name
			}
			pw.printf("  %s%s: %s\n", s.AccountID, name, s.Reason)
		}
	}
	for _, u := range p.Unreached {
		pw.printf("\nNot reached: %s: %s: %s\n", u.Target, u.Gap.Call, u.Gap.Text())
	}
	if p.Incomplete != "" {
		pw.printf("\nINCOMPLETE: %s\n", p.Incomplete)
	}

	pw.printf("\n%s\n", summary(p))
	if n := p.StepCount(); n > 0 && !o.Apply {
		pw.printf("This was a dry run: nothing was changed. Run with --apply to make these changes.\n")
	}

	if len(manual) > 0 && o.Steps != nil {
		pw.printf("\nManual steps\n")
		for _, c := range Cases() {
			ids := manual[c]
			if len(ids) == 0 {
				continue
			}
			steps, err := o.Steps(c)
			if err != nil {
				return err
			}
			pw.printf("\n=== %s: %s ===\n\n", strings.Join(ids, ", "), c.Title())
			pw.printf("%s\n", strings.TrimRight(steps, "\n"))
		}
	}
	return pw.err
}

func accountTitle(a *Account) string {
	parts := []string{a.ID}
	if a.Name != "" {
		parts[0] += " " + a.Name
	}
	switch a.Role {
	case snapshot.RoleManagement:
		parts = append(parts, "management account")
	case snapshot.RoleMember:
		parts = append(parts, "member account")
	case snapshot.RoleStandalone:
		parts = append(parts, "standalone account")
	}
	if len(a.OUPath) > 0 {
		parts = append(parts, strings.Join(a.OUPath, "/"))
	}
	return strings.Join(parts, " · ")
}

func writeAccount(pw *printer, a *Account, o TextOptions) {
	pw.printf("\nAccount %s\n", accountTitle(a))
	switch a.Path {
	case PathAssumeRoot:
		pw.printf("  Via:  %s, opened by %s\n", a.Via, orUnknown(a.Caller))
	case PathRootKey:
		pw.printf("  Via:  %s (the run signs as the root user)\n", a.Via)
	case PathManual:
		pw.printf("  Vigil cannot remove these: %s.\n", a.Manual.Why)
		pw.printf("  See the manual steps at the end (%s).\n", a.Manual.Case.Title())
	case PathNone:
		if len(a.Errors) > 0 {
			pw.printf("  Not planned: the account could not be read.\n")
		}
	}
	for _, n := range a.Notes {
		pw.printf("  Note: %s\n", n)
	}
	for _, g := range a.Errors {
		pw.printf("  ERROR: %s: %s\n", g.Call, g.Text())
	}
	if len(a.Credentials) == 0 && len(a.Errors) == 0 && a.Path != PathNone {
		pw.printf("  No root credentials.\n")
	}
	for _, c := range a.Credentials {
		writeCredential(pw, c, o.Now)
	}
	if len(a.Steps) > 0 {
		pw.printf("  Changes, in order:\n")
		results := map[string]change.Result{}
		for _, r := range a.Results {
			results[r.Step] = r
		}
		for i, s := range a.Steps {
			pw.printf("    %d. %s %s\n", i+1, s.Action, s.Target)
			pw.printf("       %s\n", s.Description)
			if len(s.DependsOn) > 0 {
				pw.printf("       only after: %s\n", strings.Join(s.DependsOn, ", "))
			}
			if s.Warning != "" {
				pw.printf("       WARNING: %s\n", s.Warning)
			}
			if r, ok := results[s.ID]; ok {
				line := strings.ToUpper(string(r.Status))
				if r.Detail != "" {
					line += ": " + r.Detail
				}
				if r.Error != "" {
					line += ": " + r.Error
				}
				pw.printf("       → %s\n", line)
			}
		}
	}
}

func writeCredential(pw *printer, c *Credential, now time.Time) {
	head := "  - " + c.Label()
	var facts []string
	if c.Status != "" {
		facts = append(facts, c.Status)
	}
	if c.MFAType != "" {
		facts = append(facts, c.MFAType)
	}
	if c.Created != nil {
		facts = append(facts, "created "+day(*c.Created))
	}
	if c.Signing {
		facts = append(facts, "signs this run")
	}
	if len(facts) > 0 {
		head += "  (" + strings.Join(facts, ", ") + ")"
	}
	pw.printf("%s\n", head)
	if c.LastUsed != nil {
		pw.printf("      %s\n", useText(c.LastUsed, now, c.Kind))
	} else if c.LastUsedError != "" {
		pw.printf("      last use unknown: %s\n", c.LastUsedError)
	}
	if c.Report != nil {
		pw.printf("      %s\n", useText(c.Report, now, c.Kind))
	}
	if c.Trail != "" {
		pw.printf("      %s\n", c.Trail)
	}
	for _, e := range c.Events {
		line := fmt.Sprintf("        %s  %s %s  %s", stamp(e.Time), e.Source, e.Name, e.Region)
		if e.SourceIP != "" {
			line += "  from " + e.SourceIP
		}
		if e.UserAgent != "" {
			line += "  " + e.UserAgent
		}
		if e.Error != "" {
			line += "  (failed: " + e.Error + ")"
		}
		pw.printf("%s\n", line)
	}
	verb := map[Action]string{ActDelete: "DELETE", ActDeactivate: "DEACTIVATE", ActRefuse: "REFUSED", ActLeave: "left alone",
		ActGone: "gone", ActUnseen: "not in the snapshot", ActManual: "manual"}[c.Action]
	switch {
	case c.Action == ActManual && c.Reason == "":
		return
	case c.Action == ActManual:
		pw.printf("      %s\n", c.Reason)
	case slices.Contains([]Action{ActDelete, ActDeactivate}, c.Action):
		pw.printf("      → %s: %s\n", verb, c.Reason)
	case strings.HasPrefix(c.Reason, "refused: "):
		pw.printf("      → REFUSED: %s\n", strings.TrimPrefix(c.Reason, "refused: "))
	default:
		pw.printf("      → %s\n", c.Reason)
	}
}

func useText(u *Use, now time.Time, k Kind) string {
	what := "last used"
	if k == KindPassword {
		what = "last console sign-in"
	}
	if u.Date == nil {
		return fmt.Sprintf("%s: never recorded  [%s]", what, u.Source)
	}
	s := fmt.Sprintf("%s %s (%s ago)", what, stamp(*u.Date), ago(now, *u.Date))
	if u.Region != "" && u.Region != "N/A" {
		s += " in " + u.Region
	}
	if u.Service != "" && u.Service != "N/A" {
		s += " for " + u.Service
	}
	return s + "  [" + u.Source + "]"
}

// summary is the plan's last word: what it would do or did.
func summary(p *Plan) string {
	var changes, accounts, manual, refused, failed int
	for _, a := range p.Accounts {
		if len(a.Steps) > 0 {
			accounts++
			changes += len(a.Steps)
		}
		if a.Path == PathManual {
			manual++
		}
		if len(a.Errors) > 0 {
			failed++
		}
		for _, c := range a.Credentials {
			if c.Action == ActRefuse {
				refused++
			}
		}
	}
	parts := []string{fmt.Sprintf("Planned: %d change(s) in %d account(s)", changes, accounts)}
	parts = append(parts, fmt.Sprintf("%d account(s) need manual steps", manual), fmt.Sprintf("%d credential(s) refused by the guard", refused))
	if failed > 0 {
		parts = append(parts, fmt.Sprintf("%d account(s) could not be read in full", failed))
	}
	return strings.Join(parts, "; ") + "."
}

func orUnknown(s string) string {
	if s == "" {
		return "the caller"
	}
	return s
}

func day(t time.Time) string   { return t.UTC().Format("2006-01-02") }
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
