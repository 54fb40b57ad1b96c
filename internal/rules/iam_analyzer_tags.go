package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// IAMAnalyzerTags fails an IAM Access Analyzer analyzer that carries no
// tag of its owner's (Security Hub IAM.23, tagged-accessanalyzer-analyzer,
// read as Security Hub does without its optional requiredTagKeys: any key
// counts except AWS's system keys beginning with "aws:"). Like the tag
// rules of users and roles it is about ownership, not access, and every
// analyzer counts, whatever its type or status. The tags come with each
// analyzer in access-analyzer:ListAnalyzers, so reading them costs no call.
//
// An enabled region without an analyzer has nothing to tag and is
// NOT_APPLICABLE (iam-access-analyzer fails it); a region not opted into
// is NOT_APPLICABLE too. A region whose analyzers could not be read, and an
// analyzer whose tags a snapshot did not record (one written before Vigil
// kept them), are UNKNOWN, never passed or failed.
var IAMAnalyzerTags = rule.Rule{
	ID:       "iam-analyzer-tags",
	Title:    "IAM Access Analyzer analyzer has no tags",
	Severity: rule.Low,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMAnalyzerTags,
}

// maxEvidenceKeys bounds the tag keys a PASS quotes: enough to show whose
// analyzer it is, short enough for a report line (AWS allows 50 tags).
const maxEvidenceKeys = 5

func checkIAMAnalyzerTags(in rule.Input) rule.Outcome {
	a := in.Account
	regions, o := accountRegions(in)
	if o != nil {
		return *o
	}
	var out rule.Outcome
	analyzers := 0
	for _, r := range regions {
		regional := snapshot.RegionalARN(a.Partition, "access-analyzer", r.Name, a.ID, "analyzer")
		switch {
		case !r.Enabled():
			out.Resources = append(out.Resources, rule.ResourceOutcome{Resource: regional, Status: rule.NotApplicable,
				Evidence: []rule.Evidence{{Source: srcRegions, Key: "OptInStatus", Value: r.OptInStatus}},
				Message:  fmt.Sprintf("Region %s is an opt-in region the account has not enabled: it holds no analyzer.", r.Name)})
		case r.Analyzers == nil:
			ro := regionUnread(a, snapshot.SectionAccessAnalyzer, srcAnalyzers, r.Name, "its analyzers or their tags")
			ro.Resource = regional
			out.Resources = append(out.Resources, ro)
		case len(r.Analyzers) == 0:
			out.Resources = append(out.Resources, rule.ResourceOutcome{Resource: regional, Status: rule.NotApplicable,
				Evidence: []rule.Evidence{{Source: srcAnalyzers, Key: "analyzers", Value: "0"}},
				Message:  fmt.Sprintf("Region %s has no analyzer to tag (iam-access-analyzer judges whether it needs one).", r.Name)})
		default:
			for _, an := range r.Analyzers {
				analyzers++
				ro := judgeAnalyzerTags(r.Name, an)
				if ro.Resource == "" {
					// ListAnalyzers always sends the ARN; a hand-made
					// snapshot may not, and a result needs a resource.
					ro.Resource = regional + "/" + an.Name
				}
				out.Resources = append(out.Resources, ro)
			}
		}
	}
	// Results are analyzers and, for regions without one, the region.
	summarise(&out, "result")
	out.Message = fmt.Sprintf("%s in %s; %s", rule.Plural(analyzers, "analyzer", "analyzers"), rule.Plural(len(regions), "region", "regions"), out.Message)
	out.Evidence = []rule.Evidence{{Source: srcRegions, Key: "regions", Value: fmt.Sprint(len(regions))}}
	return out
}

// judgeAnalyzerTags judges one analyzer, whose ARN is the resource.
func judgeAnalyzerTags(region string, an snapshot.Analyzer) rule.ResourceOutcome {
	ro := rule.ResourceOutcome{Resource: an.ARN}
	if an.Tags == nil {
		ro.Status = rule.Unknown
		ro.Evidence = []rule.Evidence{{Source: "snapshot", Key: "tags", Value: "not recorded"}}
		ro.Message = fmt.Sprintf("Region %s: the tags of analyzer %s were not recorded (a snapshot written before Vigil kept them), so whether it is tagged is unknown; scan again.", region, an.Name)
		return ro
	}
	var own, system []string
	for _, t := range an.Tags {
		if systemTag(t.Key) {
			system = append(system, t.Key)
		} else {
			own = append(own, t.Key)
		}
	}
	if len(own) > 0 {
		// Keys only: values say nothing the finding needs and make
		// evidence long.
		ro.Status = rule.Pass
		ro.Evidence = []rule.Evidence{{Source: srcAnalyzers, Key: "tag keys", Value: keyList(own)}}
		ro.Message = fmt.Sprintf("Region %s: analyzer %s carries %s of its own.", region, an.Name, rule.Plural(len(own), "tag", "tags"))
		return ro
	}
	ro.Status = rule.Fail
	value := "none"
	if len(system) > 0 {
		value = "only system tags: " + keyList(system)
	}
	ro.Evidence = []rule.Evidence{{Source: srcAnalyzers, Key: "tag keys", Value: value}}
	ro.Message = fmt.Sprintf("Region %s: analyzer %s (%s) carries no tag (keys beginning with aws: do not count): nothing says who owns it and reads its findings. Tag it with its owner and purpose.", region, an.Name, an.Type)
	return ro
}

// keyList is a short, sorted list of tag keys.
func keyList(keys []string) string {
	keys = append([]string(nil), keys...)
	sort.Strings(keys)
	if len(keys) > maxEvidenceKeys {
		return strings.Join(keys[:maxEvidenceKeys], ", ") + fmt.Sprintf(" and %d more", len(keys)-maxEvidenceKeys)
	}
	return strings.Join(keys, ", ")
}
