package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPackageBoundaries holds the layout the style guide describes: the
// snapshot, rules and writers never depend on the AWS SDK (so rules stay
// pure functions of a snapshot and run offline), and the collector never
// depends on the rules or the writers (data flows one way).
func TestPackageBoundaries(t *testing.T) {
	const mod = "github.com/vigil-sec/vigil/internal/"
	sdk := []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}
	cases := []struct {
		pkg       string
		forbidden []string
	}{
		{"snapshot", sdk},
		{"credreport", sdk},
		{"input", sdk},
		{"rule", sdk},
		{"rules", sdk},
		{"report", sdk},
		{"compliance", sdk},
		{"iampolicy", sdk},
		{"prevent", sdk},
		{"change", sdk},
		{"collect", []string{mod + "rule", mod + "rules", mod + "report", mod + "cli"}},
		{"fleet", []string{mod + "rule", mod + "rules", mod + "report", mod + "cli"}},
		{"awsemu", []string{mod + "collect", mod + "rules", mod + "fleet", mod + "fix"}},
	}
	for _, c := range cases {
		out, err := exec.Command("go", "list", "-deps", mod+c.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", c.pkg, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 2 {
			t.Fatalf("go list %s listed nothing", c.pkg)
		}
		for _, d := range deps {
			for _, f := range c.forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("internal/%s depends on %s", c.pkg, d)
				}
			}
		}
	}
}
