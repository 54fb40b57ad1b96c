package rules

import (
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// Helpers of the rules that judge what was read region by region (Access
// Analyzer, EC2 instances) and the IAM server certificates.

const (
	srcRegions      = "ec2:DescribeRegions"
	srcAnalyzers    = "access-analyzer:ListAnalyzers"
	srcInstances    = "ec2:DescribeInstances"
	srcServerCerts  = "iam:ListServerCertificates"
	timeLayoutShort = "2006-01-02"
)

// accountRegions is the account's regions, or the account-wide outcome
// when they are not known: without the list of enabled regions no region
// can be said to be covered, so nothing passes.
func accountRegions(in rule.Input) ([]snapshot.Region, *rule.Outcome) {
	a := in.Account
	if o, na := assumeRootOnly(a); na {
		return nil, &o
	}
	if a.Regions == nil {
		return nil, &rule.Outcome{Status: rule.Unknown, Evidence: gapEvidence(a, snapshot.SectionRegions),
			Message: fmt.Sprintf("Cannot tell which regions the account has enabled (%s), so no region can be judged.", gapText(a, snapshot.SectionRegions))}
	}
	if len(a.Regions) == 0 {
		return nil, &rule.Outcome{Status: rule.Unknown, Evidence: []rule.Evidence{{Source: srcRegions, Key: "regions", Value: "0", Error: "no region listed"}},
			Message: "ec2:DescribeRegions listed no region at all, so no region can be judged."}
	}
	return a.Regions, nil
}

// regionUnread is the UNKNOWN of one region whose call failed (or that a
// partial snapshot does not hold).
func regionUnread(a *snapshot.Account, section, call, region, what string) rule.ResourceOutcome {
	ev := rule.Evidence{Source: call, Key: "region", Value: region, Error: "not collected"}
	text := "not collected"
	if g := a.RegionGap(section, region); g != nil {
		ev.Source, ev.Error = g.Call, g.Text()
		text = g.Call + ": " + gapCode(*g)
	} else if acc := accessGaps(a); len(acc) > 0 {
		ev.Source, ev.Error = acc[0].Call, acc[0].Text()
		text = "the account could not be reached"
	}
	return rule.ResourceOutcome{Status: rule.Unknown, Evidence: []rule.Evidence{ev},
		Message: fmt.Sprintf("Region %s: cannot read %s (%s).", region, what, text)}
}

// summarise sets the rule's overall status and message from its
// per-resource outcomes: any failure fails, then any unknown, then any
// pass; all not applicable is NOT_APPLICABLE.
func summarise(o *rule.Outcome, noun string) {
	var fail, unknown, pass, na int
	for _, r := range o.Resources {
		switch r.Status {
		case rule.Fail:
			fail++
		case rule.Unknown:
			unknown++
		case rule.Pass:
			pass++
		default:
			na++
		}
	}
	switch {
	case fail > 0:
		o.Status = rule.Fail
	case unknown > 0:
		o.Status = rule.Unknown
	case pass > 0:
		o.Status = rule.Pass
	default:
		o.Status = rule.NotApplicable
	}
	o.Message = fmt.Sprintf("%s judged: %d failed, %d unknown, %d passed, %d not applicable.", rule.Plural(len(o.Resources), noun, noun+"s"), fail, unknown, pass, na)
}

// daysText says how far a time is from now in whole days.
func daysText(t, now time.Time) string {
	d := t.Sub(now)
	switch n := days(absDuration(d)); {
	case n == 0 && d < 0:
		return "today"
	case n == 0:
		return "within a day"
	case d < 0:
		return fmt.Sprintf("%s ago", rule.Plural(n, "day", "days"))
	default:
		return fmt.Sprintf("in %s", rule.Plural(n, "day", "days"))
	}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
