package rules

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/rule"
)

// IAMPolicyServiceWildcard fails a customer-managed policy with an Allow
// statement granting every action of a service ("s3:*", "*", or NotAction),
// Security Hub IAM.21. Like Security Hub it judges every customer-managed
// policy, attached or not, and neither AWS-managed nor inline policies.
var IAMPolicyServiceWildcard = rule.Rule{
	ID:       "iam-policy-service-wildcard",
	Title:    "Customer-managed IAM policy allows every action of a service",
	Severity: rule.Low,
	Category: "Security",
	Service:  "iam",
	Check:    checkIAMPolicyServiceWildcard,
}

func checkIAMPolicyServiceWildcard(in rule.Input) rule.Outcome {
	d, o := iamDetails(in)
	if o != nil {
		return *o
	}
	holders := policyHolders(d)
	set := rule.NewResourceSet(len(d.Policies))
	var narrow rule.Shared = -1
	for _, p := range d.Policies {
		if p.AWSManaged {
			continue
		}
		ro := rule.ResourceOutcome{Resource: p.ARN, Evidence: []rule.Evidence{{Source: srcDetails, Key: "AttachmentCount", Value: fmt.Sprint(p.AttachmentCount)}}}
		var doc iampolicy.Document
		switch {
		case strings.TrimSpace(p.Document) == "":
			ro.Status, ro.Message = rule.Unknown, fmt.Sprintf("Customer-managed policy %s: IAM sent no document.", p.Name)
		case json.Unmarshal([]byte(p.Document), &doc) != nil:
			ro.Status, ro.Message = rule.Unknown, fmt.Sprintf("Customer-managed policy %s: its document is not a policy document.", p.Name)
		default:
			found := doc.ServiceWildcards()
			if len(found) == 0 {
				if narrow < 0 {
					narrow = set.Share(rule.Pass, "Grants no service in full: no Allow statement with service:*, * or NotAction.",
						[]rule.Evidence{{Source: "policy document", Key: "service wildcards", Value: "none"}})
				}
				set.AddShared(p.ARN, narrow)
				continue
			}
			var parts []string
			for _, w := range found {
				if w.NotAction {
					parts = append(parts, fmt.Sprintf("statement %d allows every action it does not list (NotAction)", w.Statement+1))
				} else {
					parts = append(parts, fmt.Sprintf("statement %d allows %s", w.Statement+1, strings.Join(w.Patterns, ", ")))
				}
			}
			where := "attached to nothing"
			if h := holders[p.ARN]; len(h) > 0 {
				where = "attached to " + holderText(h)
			} else if p.AttachmentCount > 0 {
				where = "attached to " + rule.Plural(p.AttachmentCount, "identity", "identities")
			}
			ro.Status = rule.Fail
			ro.Message = fmt.Sprintf("Customer-managed policy %s: %s (%s). List the actions its holders use instead.", p.Name, strings.Join(parts, "; "), where)
			ro.Evidence = append(ro.Evidence, rule.Evidence{Source: "policy document", Key: "service wildcards", Value: strings.Join(parts, "; ")})
		}
		set.Add(ro)
	}
	if set.Len() == 0 {
		return rule.Outcome{Status: rule.Pass, Evidence: []rule.Evidence{{Source: srcDetails, Key: "Policies", Value: "no customer-managed policy"}},
			Message: "The account has no customer-managed policy."}
	}
	return setOutcome(set, "customer-managed policy", "customer-managed policies", srcDetails)
}
