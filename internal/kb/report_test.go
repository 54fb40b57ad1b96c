package kb

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/rules"
)

// TestReportKnowledge: every rule gets its page, a risk paragraph, both
// remediation openings (plain paragraphs, no heading, no code) and its
// framework controls with their titles.
func TestReportKnowledge(t *testing.T) {
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	cat, err := compliance.Default(ids)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := Load(rules.All(), cat)
	if err != nil {
		t.Fatal(err)
	}
	k := ReportKnowledge(pages, cat)
	if len(k) != len(ids) {
		t.Fatalf("knowledge of %d rules, want %d", len(k), len(ids))
	}
	for _, id := range ids {
		rk := k[id]
		if !strings.HasPrefix(rk.Help, "# ") || !strings.Contains(rk.Help, "\n## Risk\n") || !strings.Contains(rk.Help, "\n## Remediation\n") {
			t.Errorf("%s: help is not the page", id)
		}
		for what, s := range map[string]string{"summary": rk.Summary, "remediation": rk.Remediation, "member remediation": rk.RemediationMember} {
			if len(s) < 40 || strings.Contains(s, "\n#") || strings.HasPrefix(s, "#") || strings.Contains(s, "```") {
				t.Errorf("%s: %s is not an opening paragraph: %q", id, what, s)
			}
		}
		if len(rk.Controls) == 0 || len(rk.Controls) != len(cat.RuleMappings(id)) {
			t.Errorf("%s: %d controls, the catalog maps %d", id, len(rk.Controls), len(cat.RuleMappings(id)))
		}
		for _, c := range rk.Controls {
			if c.Title == "" || c.FrameworkName == c.Framework || c.ID == "" {
				t.Errorf("%s: control %+v lacks its title or framework name", id, c)
			}
		}
	}
}
