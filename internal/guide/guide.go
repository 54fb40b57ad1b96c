// Package guide holds what the writers that carry advice (asff, html)
// say about each rule beyond the result itself: how to fix it, in a few
// sentences, and the compliance requirements it maps to. The command line
// fills a Guides from the knowledge base and the compliance catalog
// (internal/cli), so the writers stay views of the report.Document and of
// this static text, and import neither the knowledge base nor the catalog.
package guide

import "sort"

// Guide is the advice for one rule.
type Guide struct {
	// Fix is how to fix a failure, as plain text of a few sentences (the
	// first paragraph of the knowledge base page's remediation).
	Fix string
	// Requirements are the compliance controls the rule maps to, as
	// "Framework Version/Control" ("CIS AWS Foundations Benchmark 5.0.0/1.4"),
	// in catalog order.
	Requirements []string
}

// Guides are the guides by rule ID. A rule without one is shown without
// advice beyond pointing at `vigil explain`.
type Guides map[string]Guide

// For returns the guide of a rule, the zero Guide when there is none.
func (g Guides) For(ruleID string) Guide { return g[ruleID] }

// Explain is the command that prints a rule's whole page.
func Explain(ruleID string) string { return "vigil explain " + ruleID }

// Frameworks lists the distinct framework names of every guide's
// requirements (the part before the last "/"), sorted.
func (g Guides) Frameworks() []string {
	seen := map[string]bool{}
	for _, gd := range g {
		for _, r := range gd.Requirements {
			seen[Framework(r)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Framework is the framework part of a requirement.
func Framework(requirement string) string {
	for i := len(requirement) - 1; i >= 0; i-- {
		if requirement[i] == '/' {
			return requirement[:i]
		}
	}
	return requirement
}

// Latest is g's requirements of the latest version of each framework
// only (the catalog lists versions oldest first), in their order: what a
// reader needs, where every version would drown it.
func (g Guide) Latest() []string {
	latest := map[string]string{} // framework name → its latest version
	for _, r := range g.Requirements {
		name, version := SplitFramework(Framework(r))
		latest[name] = version
	}
	var out []string
	for _, r := range g.Requirements {
		name, version := SplitFramework(Framework(r))
		if latest[name] == version {
			out = append(out, r)
		}
	}
	return out
}

// SplitFramework splits a framework version, "Name Version", at its last
// space.
func SplitFramework(fw string) (name, version string) {
	for i := len(fw) - 1; i >= 0; i-- {
		if fw[i] == ' ' {
			return fw[:i], fw[i+1:]
		}
	}
	return fw, ""
}
