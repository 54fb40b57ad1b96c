package cli

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/rules"
)

// TestReportGuides: every rule has a fix of plain text from its page,
// short enough to be a summary, and the compliance requirements of its
// mappings.
func TestReportGuides(t *testing.T) {
	g, err := reportGuides()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.All() {
		gd, ok := g[r.ID]
		if !ok || gd.Fix == "" {
			t.Errorf("%s: no fix", r.ID)
			continue
		}
		if strings.ContainsAny(gd.Fix, "`*\n") || strings.Contains(gd.Fix, "](") || len(gd.Fix) > 2000 {
			t.Errorf("%s: the fix is not a plain summary: %q", r.ID, gd.Fix)
		}
	}
	if reqs := g["root-access-key"].Requirements; len(reqs) == 0 || !strings.Contains(strings.Join(reqs, "\n"), "CIS") {
		t.Errorf("root-access-key requirements %v", reqs)
	}
}

func TestPlain(t *testing.T) {
	for in, want := range map[string]string{
		"See [root-mfa](root-mfa.md) and `aws iam`.": "See root-mfa and aws iam.",
		"**Security credentials**,\n  then":          "Security credentials, then",
	} {
		if got := plain(in); got != want {
			t.Errorf("plain(%q) = %q, want %q", in, got, want)
		}
	}
}
