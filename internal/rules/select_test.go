package rules

import (
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	all, err := Select(nil, nil)
	if err != nil || len(all) != len(All()) {
		t.Fatalf("no selection: %d rules, %v", len(all), err)
	}
	got, err := Select([]string{"iam-access-analyzer", "root-mfa"}, nil)
	if err != nil || len(got) != 2 || got[0].ID != "root-mfa" || got[1].ID != "iam-access-analyzer" {
		t.Errorf("only two, in catalog order: %v, %v", got, err)
	}
	got, err = Select(nil, []string{"root-mfa"})
	if err != nil || len(got) != len(All())-1 {
		t.Errorf("skip one: %d, %v", len(got), err)
	}
	for _, r := range got {
		if r.ID == "root-mfa" {
			t.Error("skipped rule selected")
		}
	}
	if _, err := Select([]string{"root-mfa"}, []string{"root-mfa"}); err == nil || !strings.Contains(err.Error(), "no rule") {
		t.Errorf("empty selection: %v", err)
	}
	_, err = Select([]string{"root-mfaa"}, []string{"nope"})
	if err == nil || !strings.Contains(err.Error(), `unknown rules "root-mfaa", "nope"`) || !strings.Contains(err.Error(), "valid rules: root-access-key, ") {
		t.Errorf("unknown names: %v", err)
	}
}
