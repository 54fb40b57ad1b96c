package notify

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/vigil-sec/vigil/internal/rule"
)

// Subject is a one-line summary of d for an email subject or an SNS
// subject: the finding itself when there is one, else the count of each
// transition. It holds no line break.
func Subject(d Delivery) string {
	events := Ordered(d.Events)
	if len(events) == 1 && events[0].Activity != nil {
		return OneLine("Vigil: " + events[0].Finding.Message)
	}
	if len(events) == 1 {
		e := events[0]
		return OneLine(fmt.Sprintf("Vigil: %s %s: %s in %s", e.Transition, e.Finding.Severity, e.Finding.RuleID, AccountLabel(e.Finding)))
	}
	if s, ok := burstSubject(events); ok {
		return s
	}
	return OneLine(fmt.Sprintf("Vigil: %d changes (%s)", len(events), Counts(events)))
}

// burstSubject is the subject of a burst of root events (the root-events
// consumer sends one account's together): how many, where, and the
// first few event names.
func burstSubject(events []Event) (string, bool) {
	accounts := map[string]bool{}
	var names []string
	seen := map[string]bool{}
	for _, e := range events {
		if e.Activity == nil {
			return "", false
		}
		accounts[e.Finding.AccountID] = true
		if n := e.Activity.EventName; !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	where := AccountLabel(events[0].Finding)
	if len(accounts) > 1 {
		where = fmt.Sprintf("%d accounts", len(accounts))
	}
	if len(names) > 3 {
		names = append(names[:3], "…")
	}
	return OneLine(fmt.Sprintf("Vigil: %d root events in %s: %s", len(events), where, strings.Join(names, ", "))), true
}

// Counts says how many events of each transition there are, in the order
// of Transitions: "3 new, 1 resolved".
func Counts(events []Event) string {
	n := map[Transition]int{}
	for _, e := range events {
		n[e.Transition]++
	}
	var parts []string
	for _, t := range Transitions {
		if n[t] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[t], strings.ReplaceAll(string(t), "_", " ")))
		}
	}
	return strings.Join(parts, ", ")
}

// Label is the transition as a heading: "SUPPRESSION EXPIRED".
func (t Transition) Label() string { return strings.ToUpper(strings.ReplaceAll(string(t), "_", " ")) }

// AccountLabel is "name (id)", or the ID alone when the name is unknown.
func AccountLabel(f Finding) string {
	if f.AccountName == "" || f.AccountName == f.AccountID {
		return f.AccountID
	}
	return f.AccountName + " (" + f.AccountID + ")"
}

// EvidenceLine writes one fact: "iam:GetAccountSummary AccountAccessKeysPresent=1".
func EvidenceLine(e rule.Evidence) string {
	s := e.Source
	switch {
	case e.Error != "":
		s += ": " + e.Error
	case e.Key != "" && e.Value != "":
		s += " " + e.Key + "=" + e.Value
	case e.Key != "":
		s += " " + e.Key
	}
	if e.AsOf != nil {
		s += " (as of " + e.AsOf.UTC().Format("2006-01-02 15:04 MST") + ")"
	}
	return OneLine(s)
}

// TextDetailed is how many events Text (and the email channel) shows in
// full; the rest get one line each, so that a digest of thousands stays a
// message a mail server takes and a person can scroll.
const TextDetailed = 200

// CompactLine is one event on one line: transition, severity, rule,
// account, resource.
func CompactLine(e Event) string {
	f := e.Finding
	if e.Activity != nil {
		return OneLine(fmt.Sprintf("%s  %s  %s", e.Transition.Label(), f.Severity, f.Message))
	}
	s := fmt.Sprintf("%s  %s  %s  %s", e.Transition.Label(), f.Severity, f.RuleID, AccountLabel(f))
	if f.Resource != "" {
		s += "  " + f.Resource
	}
	return OneLine(s)
}

// Text is d as plain text: a line of counts, then every event with its
// finding's account, rule, resource, message, evidence and link (past
// TextDetailed events, one line each).
func Text(d Delivery) string {
	var b strings.Builder
	events := Ordered(d.Events)
	fmt.Fprintf(&b, "Vigil alert for %s: %s\n", OneLine(d.Channel), Counts(events))
	for i, e := range events {
		if i >= TextDetailed {
			if i == TextDetailed {
				fmt.Fprintf(&b, "\nAnd %d more:\n", len(events)-TextDetailed)
			}
			fmt.Fprintf(&b, "  %s\n", CompactLine(e))
			continue
		}
		f := e.Finding
		if a := e.Activity; a != nil {
			writeActivity(&b, e, a)
			continue
		}
		fmt.Fprintf(&b, "\n%s  %s  %s  %s\n", e.Transition.Label(), f.Severity, OneLine(f.RuleID), OneLine(AccountLabel(f)))
		if f.Title != "" {
			fmt.Fprintf(&b, "  %s\n", OneLine(f.Title))
		}
		if f.Resource != "" {
			fmt.Fprintf(&b, "  resource: %s\n", OneLine(f.Resource))
		}
		if f.Message != "" {
			fmt.Fprintf(&b, "  %s\n", OneLine(f.Message))
		}
		for _, ev := range f.Evidence {
			fmt.Fprintf(&b, "  evidence: %s\n", EvidenceLine(ev))
		}
		if e.Detail != "" {
			fmt.Fprintf(&b, "  %s\n", OneLine(e.Detail))
		}
		if f.Regressions > 0 {
			fmt.Fprintf(&b, "  regressions: %d\n", f.Regressions)
		}
		if !e.At.IsZero() {
			fmt.Fprintf(&b, "  at: %s\n", e.At.UTC().Format("2006-01-02 15:04:05 MST"))
		}
		if f.Link != "" {
			fmt.Fprintf(&b, "  link: %s\n", OneLine(f.Link))
		}
	}
	fmt.Fprintf(&b, "\nDelivery %s\n", OneLine(d.ID))
	return b.String()
}

// OneLine makes outside text safe for one line of a message: control
// characters (line breaks, escape sequences that would drive a terminal,
// CR/LF that would add a mail header) become spaces, and invalid UTF-8
// becomes U+FFFD.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// writeActivity is one root event in full: what, where, from where.
func writeActivity(b *strings.Builder, e Event, a *Activity) {
	f := e.Finding
	fmt.Fprintf(b, "\n%s  %s  %s  %s\n", e.Transition.Label(), f.Severity, OneLine(a.EventName), OneLine(AccountLabel(f)))
	fmt.Fprintf(b, "  %s\n", OneLine(f.Message))
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(b, "  %s: %s\n", k, OneLine(v))
		}
	}
	line("region", a.Region)
	line("source IP", a.SourceIP)
	line("user agent", a.UserAgent)
	line("access key", a.AccessKeyID)
	line("MFA", a.MFA)
	line("error", a.ErrorCode)
	line("new access key", a.NewAccessKeyID)
	line("session opened by", a.SessionPrincipal)
	line("CloudTrail event", a.EventID)
	if !a.Time.IsZero() {
		fmt.Fprintf(b, "  at: %s\n", a.Time.UTC().Format("2006-01-02 15:04:05 MST"))
	}
}
