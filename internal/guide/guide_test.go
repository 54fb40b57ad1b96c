package guide

import (
	"slices"
	"testing"
)

func TestLatest(t *testing.T) {
	g := Guide{Requirements: []string{"CIS AWS 1.4.0/1.4", "CIS AWS 5.0.0/1.3", "CIS AWS 5.0.0/1.4", "PCI DSS 3.2.1/8.1", "PCI DSS 4.0/8.2.2", "SOC 2 2017/CC6.1"}}
	want := []string{"CIS AWS 5.0.0/1.3", "CIS AWS 5.0.0/1.4", "PCI DSS 4.0/8.2.2", "SOC 2 2017/CC6.1"}
	if got := g.Latest(); !slices.Equal(got, want) {
		t.Errorf("Latest() = %v, want %v", got, want)
	}
	if got := (Guides{"a": g}).Frameworks(); !slices.Equal(got, []string{"CIS AWS 1.4.0", "CIS AWS 5.0.0", "PCI DSS 3.2.1", "PCI DSS 4.0", "SOC 2 2017"}) {
		t.Errorf("Frameworks() = %v", got)
	}
	if Framework("No slash") != "No slash" || (Guides{}).For("x").Fix != "" {
		t.Errorf("edge cases")
	}
}
