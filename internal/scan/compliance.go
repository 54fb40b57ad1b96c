package scan

import (
	"slices"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// assessCompliance judges the results against the framework version. A
// mapped rule without results is explained from what was scanned: an
// organisation rule cannot apply to accounts that are in no organisation,
// and is unknown when the organisation's settings were not collected.
func assessCompliance(cat *compliance.Catalog, v *compliance.Version, doc *snapshot.Document, results []rule.Result, selected []rule.Rule) *compliance.Assessment {
	titles := map[string]string{}
	for _, r := range rules.All() {
		titles[r.ID] = r.Title
	}
	missing := func(id string) (rule.Status, string) {
		r, ok := rules.ByID(id)
		if !ok {
			return rule.Unknown, "the rule is not in this build"
		}
		if selected != nil && !slices.ContainsFunc(selected, func(s rule.Rule) bool { return s.ID == id }) {
			// Left out by --rules or --skip-rules: nothing was judged.
			return rule.Unknown, "the rule was not selected for this scan (--rules, --skip-rules)"
		}
		if len(doc.Accounts) == 0 {
			return rule.Unknown, "no account was scanned"
		}
		if r.Scope == rule.OrganizationScope {
			standalone := true
			for i := range doc.Accounts {
				if doc.Accounts[i].Role() != snapshot.RoleStandalone {
					standalone = false
				}
			}
			if standalone {
				return rule.NotApplicable, "the scanned account is in no organisation"
			}
			return rule.Unknown, "the organisation's settings were not collected: scan the management account or the IAM delegated administrator"
		}
		return rule.Unknown, "the rule produced no result for this scan"
	}
	a := cat.Assess(v, results, titles, missing)
	return &a
}
