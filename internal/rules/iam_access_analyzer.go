package rules

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// IAMAccessAnalyzer fails every enabled region without an ACTIVE external
// access analyzer (CIS "IAM External Access Analyzer is enabled for all
// regions", Security Hub IAM.28). Analyzers are regional: one in
// us-east-1 says nothing about a bucket shared from eu-west-1. Where
// peers go wrong: an unused-access or internal-access analyzer does not
// look for external access and does not count (Prowler passes any ACTIVE
// analyzer); a region the account has not opted into cannot hold
// resources and is NOT_APPLICABLE, not failed; a region whose analyzers
// could not be read is UNKNOWN, never passed.
var IAMAccessAnalyzer = rule.Rule{
	ID:       "iam-access-analyzer",
	Title:    "Enabled region has no active IAM Access Analyzer for external access",
	Severity: rule.High,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMAccessAnalyzer,
}

func checkIAMAccessAnalyzer(in rule.Input) rule.Outcome {
	a := in.Account
	regions, o := accountRegions(in)
	if o != nil {
		return *o
	}
	var out rule.Outcome
	for _, r := range regions {
		ro := judgeAnalyzers(a, r)
		ro.Resource = snapshot.RegionalARN(a.Partition, "access-analyzer", r.Name, a.ID, "analyzer")
		out.Resources = append(out.Resources, ro)
	}
	summarise(&out, "region")
	out.Evidence = []rule.Evidence{{Source: srcRegions, Key: "regions", Value: fmt.Sprint(len(regions))}}
	return out
}

func judgeAnalyzers(a *snapshot.Account, r snapshot.Region) rule.ResourceOutcome {
	optIn := rule.Evidence{Source: srcRegions, Key: "OptInStatus", Value: r.OptInStatus}
	if !r.Enabled() {
		return rule.ResourceOutcome{Status: rule.NotApplicable, Evidence: []rule.Evidence{optIn},
			Message: fmt.Sprintf("Region %s is an opt-in region the account has not enabled: nothing can be created there.", r.Name)}
	}
	if r.Analyzers == nil {
		return regionUnread(a, snapshot.SectionAccessAnalyzer, srcAnalyzers, r.Name, "its analyzers")
	}
	var active, inactive, other []string
	var ev []rule.Evidence
	for _, an := range r.Analyzers {
		ev = append(ev, rule.Evidence{Source: srcAnalyzers, Key: an.Name, Value: an.Type + " " + an.Status})
		switch {
		case !an.External():
			other = append(other, fmt.Sprintf("%s (%s)", an.Name, an.Type))
		case an.Status == "ACTIVE":
			active = append(active, an.Name)
		default:
			s := fmt.Sprintf("%s is %s", an.Name, an.Status)
			if an.StatusReason != "" {
				s += " (" + an.StatusReason + ")"
			}
			inactive = append(inactive, s)
		}
	}
	if len(active) > 0 {
		return rule.ResourceOutcome{Status: rule.Pass, Evidence: ev,
			Message: fmt.Sprintf("Region %s: external access analyzer %s is active.", r.Name, strings.Join(active, ", "))}
	}
	if len(r.Analyzers) == 0 {
		ev = []rule.Evidence{{Source: srcAnalyzers, Key: "analyzers", Value: "0"}}
	}
	msg := fmt.Sprintf("Region %s has no active external access analyzer", r.Name)
	var why []string
	if len(inactive) > 0 {
		why = append(why, "external access analyzer "+strings.Join(inactive, ", "))
	}
	if len(other) > 0 {
		why = append(why, "only analyzers that do not look for external access: "+strings.Join(other, ", "))
	}
	if len(why) > 0 {
		msg += ": " + strings.Join(why, "; ")
	}
	return rule.ResourceOutcome{Status: rule.Fail, Evidence: ev,
		Message: msg + ". Resources shared outside the account from this region go unnoticed."}
}
