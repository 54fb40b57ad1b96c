package rules

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// SCP evaluation for one member account, the way AWS Organizations applies
// SCPs: a request is denied when any SCP attached to the account, to an OU
// above it or to the root explicitly denies it, or when at any one of those
// levels no attached SCP allows it (the allow-list strategy). Only what the
// snapshot shows is trusted: a level with no known attachment, a policy
// whose text or targets could not be read, or a condition on a key the
// request does not describe makes the answer Unknown, never "allowed".

// scpSet is the collected SCPs, parsed once.
type scpSet struct {
	controls *snapshot.OrgControls
	policies []parsedSCP
}

type parsedSCP struct {
	*snapshot.OrgPolicy
	doc *iampolicy.Document // nil when the text is missing or does not parse
	err error               // why doc is nil
}

func newSCPSet(c *snapshot.OrgControls) *scpSet {
	s := &scpSet{controls: c}
	for i := range c.SCPs {
		p := parsedSCP{OrgPolicy: &c.SCPs[i]}
		switch {
		case p.Content == "":
			p.err = fmt.Errorf("its text could not be read")
		default:
			p.doc, p.err = iampolicy.Parse([]byte(p.Content), iampolicy.SCP)
			if p.err != nil {
				p.err = fmt.Errorf("its text does not parse: %v", firstLine(p.err.Error()))
			}
		}
		s.policies = append(s.policies, p)
	}
	return s
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// decision is the answer for one request, with why.
type decision struct {
	verdict iampolicy.Verdict
	// deniedBy names what denies the request: "p-… (Name)" for an explicit
	// deny, or "allow list at <target>" for an implicit one.
	deniedBy []string
	// unknown says why the answer could not be decided.
	unknown []string
}

// request builds the request a member account's root user makes. The keys
// described are the ones Vigil knows for such a request; any other key a
// policy conditions on leaves the answer Unknown.
func rootRequest(partition, orgID, account, action, resource string, assumedRoot bool) iampolicy.Request {
	r := iampolicy.Request{Action: action, Resource: resource, Context: map[string][]string{
		"aws:PrincipalArn":          {snapshot.RootARN(partition, account)},
		"aws:PrincipalAccount":      {account},
		"aws:PrincipalType":         {"Account"},
		"aws:userid":                {account},
		"aws:PrincipalIsAWSService": {"false"},
	}}
	if orgID != "" {
		r.Context["aws:PrincipalOrgID"] = []string{orgID}
	}
	if assumedRoot {
		r.Context["aws:AssumedRoot"] = []string{"true"}
	} else {
		r.Absent = append(r.Absent, "aws:AssumedRoot")
	}
	return r
}

// evaluate decides whether the SCPs reaching account deny r.
func (s *scpSet) evaluate(account string, r iampolicy.Request) decision {
	var d decision
	unknown := map[string]bool{}
	for _, p := range s.policies {
		if p.Targets == nil {
			if p.doc == nil || mayDeny(p.doc, r) {
				unknown[fmt.Sprintf("the targets of %s could not be read", policyName(p.OrgPolicy))] = true
			}
		}
	}
	for _, level := range s.controls.Chain(account) {
		attached := 0
		allowed := iampolicy.NoMatch
		for _, p := range s.policies {
			if !slices.Contains(p.Targets, level) {
				continue
			}
			attached++
			if p.doc == nil {
				unknown[fmt.Sprintf("%s is attached to %s but %v", policyName(p.OrgPolicy), level, p.err)] = true
				if allowed == iampolicy.NoMatch {
					allowed = iampolicy.Unknown
				}
				continue
			}
			dec, _ := p.doc.Denies(r)
			switch dec.Verdict {
			case iampolicy.Match:
				d.deniedBy = append(d.deniedBy, policyName(p.OrgPolicy))
			case iampolicy.Unknown:
				unknown[fmt.Sprintf("%s denies root only under conditions on %s, which Vigil cannot evaluate", policyName(p.OrgPolicy), strings.Join(dec.UnknownKeys, ", "))] = true
			}
			if allowed != iampolicy.Match {
				if a := allows(p.doc, r); a != iampolicy.NoMatch {
					allowed = a
				}
			}
		}
		switch {
		case attached == 0:
			// AWS keeps at least one SCP on every root, OU and account, so
			// none here means the snapshot is incomplete.
			unknown[fmt.Sprintf("no SCP attachment to %s was collected", level)] = true
		case allowed == iampolicy.NoMatch:
			d.deniedBy = append(d.deniedBy, "allow list at "+level)
		}
	}
	switch {
	case len(d.deniedBy) > 0:
		d.verdict = iampolicy.Match
		d.deniedBy = uniqueSorted(d.deniedBy)
	case len(unknown) > 0:
		d.verdict = iampolicy.Unknown
		d.unknown = slices.Sorted(maps.Keys(unknown))
	default:
		d.verdict = iampolicy.NoMatch
	}
	return d
}

// mayDeny reports whether a policy could deny r (certainly or maybe).
func mayDeny(doc *iampolicy.Document, r iampolicy.Request) bool {
	dec, _ := doc.Denies(r)
	return dec.Verdict != iampolicy.NoMatch
}

// allows says whether any Allow statement of the policy matches r.
func allows(doc *iampolicy.Document, r iampolicy.Request) iampolicy.Verdict {
	out := iampolicy.NoMatch
	for _, st := range doc.Statement {
		if st.Effect != iampolicy.Allow {
			continue
		}
		switch st.Matches(r).Verdict {
		case iampolicy.Match:
			return iampolicy.Match
		case iampolicy.Unknown:
			out = iampolicy.Unknown
		}
	}
	return out
}

func policyName(p *snapshot.OrgPolicy) string {
	if p.Name == "" {
		return p.ID
	}
	return p.ID + " (" + p.Name + ")"
}

func uniqueSorted(s []string) []string {
	sort.Strings(s)
	return slices.Compact(s)
}
